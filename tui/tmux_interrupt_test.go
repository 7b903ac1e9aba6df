package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestTmuxInterrupt: ctrl+c while the host runs a long series of ecalls
// (clean, --repeat) stops it: the UI shows the interrupt's stop and its
// reason; c lets it go on to its end, status 0, and every ecall's line is
// printed again when the UI ends.
func TestTmuxInterrupt(t *testing.T) {
	const calls = 20000
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	cmd := fmt.Sprintf("%s exec -- %s/host --repeat %d %s/clean.elf %s/clean.elf.sig 0 1 2 3", bin, b, calls, b, b)
	tm := startTmux(t, 100, 30, []string{"TERM=xterm-256color"}, cmd)
	// Everything the terminal gets, for the output printed after the UI.
	log := filepath.Join(t.TempDir(), "pane.log")
	tm.run("pipe-pane", "-t", "t", "-o", "cat >> "+log)

	tm.waitFor("running", "clean: summing 3 values")
	tm.press("C-c")
	s := tm.waitStopped("interrupted: thread ")
	if top := strings.SplitN(s, "\n", 2)[0]; !strings.Contains(top, "AEX (no valid EXITINFO)") && !strings.Contains(top, "stopped at interrupt") {
		t.Errorf("top bar %q: want the interrupt's stop (an AEX without EXITINFO, or host code)", top)
	}
	must(t, actionBar(strings.TrimRight(s, "\n")), "c continue")

	tm.press("c")
	tm.waitFor("exited with status 0")
	tm.press("q")
	s = tm.waitFor("sgxdbg exited with status 0", "tty: ")
	must(t, s, "ecall 0 returned 0x6", "tty: icanon echo")

	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// What follows the UI's alternate screen is the host's output, again.
	after := string(raw)
	if i := strings.LastIndex(after, "\x1b[?1049l"); i >= 0 {
		after = after[i:]
	} else {
		t.Fatalf("the UI never left the alternate screen:\n%q", after[max(0, len(after)-500):])
	}
	if n := strings.Count(after, "ecall 0 returned 0x6"); n != calls {
		t.Errorf("%d lines \"ecall 0 returned 0x6\" printed after the UI, want %d", n, calls)
	}
	if n := strings.Count(after, "clean: summing 3 values"); n != calls {
		t.Errorf("%d lines \"clean: summing 3 values\" printed after the UI, want %d", n, calls)
	}
}
