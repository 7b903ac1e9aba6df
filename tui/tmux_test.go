package tui

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// The end-to-end tests run the real sgxdbg binary in a detached tmux
// session (its own server socket) and read the screen with capture-pane.
// They never wait for a time: they poll the screen a bounded number of
// times for what must appear.

type tmux struct {
	t      *testing.T
	socket string
}

// startTmux runs the shell command line in a w×h detached tmux session.
// After the command the shell prints its status and the terminal's
// canonical and echo modes, then waits.
func startTmux(t *testing.T, w, h int, env []string, command string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the end-to-end test (.ci/run installs it): %v", err)
	}
	tm := &tmux{t: t, socket: fmt.Sprintf("sgxdbg-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"))}
	script := command + `; s=$?; echo "sgxdbg exited with status $s"; echo "tty: $(stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\n' ' ')"; exec sleep 600`
	args := []string{"-L", tm.socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "sh", "-c", script)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// capture is the screen as text (escapes: with its colours and styles).
func (tm *tmux) capture(escapes bool) string {
	args := []string{"capture-pane", "-p", "-t", "t"}
	if escapes {
		args = append(args, "-e")
	}
	return tm.run(args...)
}

// press sends keys as tmux names them ("e", "C-c").
func (tm *tmux) press(keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", "t"}, keys...)...)
}

// waitFor polls the screen until every want is on it; a bounded number of
// tries, each after a short pause, so a broken UI fails instead of hanging.
func (tm *tmux) waitFor(want ...string) string {
	tm.t.Helper()
	const tries = 300
	var screen string
	for i := 0; i < tries; i++ {
		screen = tm.capture(false)
		missing := false
		for _, w := range want {
			if !strings.Contains(screen, w) {
				missing = true
				break
			}
		}
		if !missing {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("after %d looks the screen still lacks one of %q:\n%s", tries, want, screen)
	return ""
}

// waitStopped is waitFor at a stop with no command running: only then
// does the action bar offer continue.
func (tm *tmux) waitStopped(want ...string) string {
	tm.t.Helper()
	return tm.waitFor(append(want, "c continue  K kill")...)
}

// TestTmuxPageFault is the #PF story in a real terminal: the AEX view,
// then the handler, ERESUME (the fault recurs), teardown with its
// confirmation, continue to the host's end, and the terminal given back
// with the host's output printed again.
func TestTmuxPageFault(t *testing.T) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	tm := startTmux(t, 100, 30, []string{"TERM=xterm-256color"}, fmt.Sprintf("%s exec -- %s/host %s/pf_untrusted.elf %s/pf_untrusted.elf.sig 0 0x10000", bin, b, b, b))

	s := tm.waitStopped("AEX #PF page fault in fault_read_untrusted", "stopped: AEX #PF")
	must(t, s, "#0 #PF page fault · hardware exception", "maddr 0x10000 · errcd 0x4",
		"enclave (SSA)", "host sees (synthetic)", "=> 0x", "mov (%rdi),%rax")
	// Both register columns: the enclave's rdi is the untrusted pointer;
	// the host sees RAX = 3 (ERESUME), as the architecture says.
	if !regexp.MustCompile(`(?m)^rdi +0x0000000000010000 +0x0000000000000000 ≠`).MatchString(s) {
		t.Errorf("no rdi row with the enclave's 0x10000 beside the host's 0:\n%s", s)
	}
	if !regexp.MustCompile(`(?m)^rax +0x0000000000000088 +0x0000000000000003 ≠`).MatchString(s) {
		t.Errorf("no rax row with the host's synthetic 3:\n%s", s)
	}
	must(t, actionBar(strings.TrimRight(s, "\n")), "e ERESUME", "H handler", "T teardown", "c continue", "K kill", "? help  q quit")
	// SGXDBG_TUI_CAPTURE=FILE keeps this screen (README.md shows it).
	if f := os.Getenv("SGXDBG_TUI_CAPTURE"); f != "" {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Error(err)
		}
	}

	tm.press("H")
	tm.waitStopped("handler: EEXIT RDI 0x3 RSI 0xe (unhandled)", "the handler changed nothing")

	tm.press("e")
	tm.waitStopped("(sgxdbg) eresume", "ERESUME TCS 0x", "stopped: AEX #PF", "AEX #PF page fault in fault_read_untrusted")

	tm.press("T")
	tm.waitFor("Tear down enclave 0x", "(y/n)")
	tm.press("y")
	s = tm.waitStopped("destroyed: its mappings are gone", "no enclaves")
	if bar := actionBar(strings.TrimRight(s, "\n")); strings.Contains(bar, "ERESUME") || !strings.Contains(bar, "c continue") {
		t.Errorf("action bar after teardown: %q", bar)
	}

	tm.press("c")
	tm.waitFor("exited with status 4", "enclave lost", "enclave-removed")

	tm.press("q")
	s = tm.waitFor("sgxdbg exited with status 4", "tty: ")
	must(t, s, "enclave lost", "sgxdbg: host exited with status 4", "tty: icanon echo")
	mustNot(t, s, "Registers")
}

// sgrColour matches an SGR sequence that sets a colour (39 and 49, the
// default colours, are not colours).
var sgrColour = regexp.MustCompile(`\x1b\[(?:[0-9]*[;:])*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:[;:][0-9;:]*)?m`)

// TestTmuxNoColorAndCtrlC checks NO_COLOR (no colour, the marks still
// there) against a colour run, and that Ctrl-C at a stop kills the host
// and restores the terminal.
func TestTmuxNoColorAndCtrlC(t *testing.T) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	cmd := fmt.Sprintf("%s exec -- %s/host %s/ud.elf %s/ud.elf.sig 0", bin, b, b, b)
	for _, noColor := range []bool{false, true} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			env := []string{"TERM=xterm-256color", "COLORTERM=truecolor"}
			if noColor {
				env = append(env, "NO_COLOR=1")
			}
			tm := startTmux(t, 100, 30, env, cmd)
			tm.waitStopped("AEX #UD invalid opcode", "stopped: AEX #UD")
			tm.press("H")
			tm.waitStopped("H rax")
			s := tm.capture(true)
			if got := sgrColour.MatchString(s); got == noColor {
				t.Errorf("NO_COLOR=%v: colour escapes on screen: %v", noColor, got)
			}
			must(t, tm.capture(false), "rax    0x0000000000005347  H", "≠", "=> 0x")

			tm.press("C-c")
			s = tm.waitFor("sgxdbg exited with status 130", "tty: ")
			must(t, s, "tty: icanon echo")
		})
	}
}

// panicSession is a session whose Wait panics, for the panic test.
type panicSession struct{}

func (panicSession) Wait() (debugger.Stopped, error)      { panic("test: a panic in a command") }
func (panicSession) Exec(string) (debugger.Result, error) { return nil, errors.New("no session") }
func (panicSession) IsStopped() bool                      { return false }

// TestMain lets the test binary play a UI whose command panics, for
// TestTmuxPanic.
func TestMain(m *testing.M) {
	if os.Getenv("SGXDBG_TUI_PANIC_HELPER") == "1" {
		_, err := Run(Config{Session: panicSession{}, Title: "panic"}, os.Stdin, os.Stdout)
		fmt.Println("Run returned:", err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// TestTmuxPanic: a panic inside the UI gives the terminal back (canonical
// mode, echo, the normal screen) and Run reports it.
func TestTmuxPanic(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tm := startTmux(t, 100, 30, []string{"SGXDBG_TUI_PANIC_HELPER=1"}, self)
	s := tm.waitFor("sgxdbg exited with status 3", "tty: ")
	must(t, s, "Caught panic", "test: a panic in a command", "Run returned: terminal UI:", "tty: icanon echo")
	if alt := strings.TrimSpace(tm.run("display-message", "-p", "-t", "t", "#{alternate_on}")); alt != "0" {
		t.Errorf("still on the alternate screen after the panic (alternate_on=%s)", alt)
	}
}
