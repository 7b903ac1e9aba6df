package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestTmuxPromptInterrupt: Ctrl-C at the line prompt while a long run of
// ecalls goes on (stop-on none) interrupts the host instead of killing it:
// the prompt comes back at the interrupt stop, and continue runs the host
// to its end with every ecall done.
func TestTmuxPromptInterrupt(t *testing.T) {
	const calls = 30000
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	out := filepath.Join(t.TempDir(), "host.out")
	env := []string{"TERM=xterm-256color", "XDG_STATE_HOME=" + t.TempDir()}
	// The pane's shell must outlive the Ctrl-C (it gets the SIGINT too):
	// a handler, not SIG_IGN, so that sgxdbg starts with the default.
	cmd := fmt.Sprintf("trap : INT; %s exec --no-tui --stop-on none --host-output %s -- %s/host --repeat %d %s/clean.elf %s/clean.elf.sig 0 1 2 3",
		bin, out, b, calls, b, b)
	tm := startTmux(t, 120, 40, env, cmd)
	// Wait until the host is well into its ecalls.
	for range 600 {
		if data, _ := os.ReadFile(out); strings.Count(string(data), "\n") > 100 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.press("C-c")
	s := tm.waitFor("(sgxdbg)")
	if !strings.Contains(s, "interrupted: thread ") {
		t.Fatalf("no interrupt stop on screen:\n%s", s)
	}
	if data, _ := os.ReadFile(out); strings.Count(string(data), "\n") >= calls {
		t.Fatalf("the host had finished before the interrupt")
	}
	tm.press("continue", "Enter")
	// The rest of the run takes seconds: look for its end a while longer
	// than waitFor does (a bounded number of looks).
	for range 1200 {
		if strings.Contains(tm.capture(false), "sgxdbg exited with status") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := tm.capture(false); !strings.Contains(s, "sgxdbg exited with status 0") {
		t.Fatalf("sgxdbg did not end with status 0:\n%s", s)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "ecall 0 returned 0x6\n"); got != calls {
		t.Errorf("%d ecalls returned 6, want %d", got, calls)
	}
}
