package tui

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestTmuxLineEditor: the --no-tui prompt on a terminal edits lines.
// Tab completes a command and a subcommand, ↑ recalls history (no
// `unknown command "\x1b[A"`), Enter on an empty line repeats x after the
// last unit it showed, and the history outlives the session.
func TestTmuxLineEditor(t *testing.T) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	state := t.TempDir()
	env := []string{"TERM=xterm-256color", "XDG_STATE_HOME=" + state}
	cmd := fmt.Sprintf("%s exec --no-tui -- %s/host %s/de.elf %s/de.elf.sig 0 42 0", bin, b, b, b)

	tm := startTmux(t, 120, 50, env, cmd)
	tm.waitFor("(sgxdbg)")
	tm.press("inf", "Tab")
	tm.waitFor("(sgxdbg) info")
	tm.press(" en", "Tab")
	tm.waitFor("(sgxdbg) info enclaves")
	tm.press("Enter")
	tm.waitFor("mrenclave")
	tm.press("Up")
	s := tm.waitFor("(sgxdbg) info enclaves\n")
	mustNot(t, s, "unknown command")
	tm.press("C-u", "x/2xg $rsp", "Enter")
	tm.waitFor("(sgxdbg) x/2xg $rsp")
	tm.press("Enter")
	row := regexp.MustCompile(`(?m)^(0x[0-9a-f]+): 0x[0-9a-f]{16} 0x[0-9a-f]{16}$`)
	var rows [][]string
	for range 300 { // a bounded number of looks, as waitFor
		s = tm.capture(false)
		if rows = row.FindAllStringSubmatch(s, -1); len(rows) >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(rows) != 2 {
		t.Fatalf("want two x rows (the x and its repeat), got %q:\n%s", rows, s)
	}
	a0, _ := strconv.ParseUint(rows[0][1], 0, 64)
	a1, _ := strconv.ParseUint(rows[1][1], 0, 64)
	if a1 != a0+16 {
		t.Errorf("Enter after x/2xg at %#x showed %#x, want %#x", a0, a1, a0+16)
	}
	tm.press("q", "Enter")
	tm.waitFor("sgxdbg exited with status 130")
	hist, err := os.ReadFile(state + "/sgxdbg/history")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(hist); got != "info enclaves\nx/2xg $rsp\nq\n" {
		t.Errorf("history file %q", got)
	}
	if fi, err := os.Stat(state + "/sgxdbg/history"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v (%v), want 0600", fi.Mode(), err)
	}

	// A new session recalls the last one's lines.
	t.Run("next session", func(t *testing.T) { recallHistory(t, env, cmd) })
}

func recallHistory(t *testing.T, env []string, cmd string) {
	tm2 := startTmux(t, 120, 50, env, cmd)
	tm2.waitFor("(sgxdbg)")
	tm2.press("Up", "Up")
	s := tm2.waitFor("(sgxdbg) x/2xg $rsp")
	if strings.Contains(s, "unknown command") {
		t.Errorf("history recall ran a command:\n%s", s)
	}
	tm2.press("C-c")
	tm2.press("q", "Enter")
	tm2.waitFor("sgxdbg exited with status 130")
}
