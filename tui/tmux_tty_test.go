package tui

import (
	"fmt"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestTmuxTTY: with --tty the host reads the terminal. While it runs the
// UI gives the terminal back (the host's prompt and echo are on the
// normal screen); at its end the UI is back, and after q the host's
// output is on the terminal where it wrote it.
func TestTmuxTTY(t *testing.T) {
	bin := fixtures.Binary(t)
	cmd := fmt.Sprintf(`%s exec --tty -- /bin/sh -c 'printf "name? "; read x; echo "hello $x"'`, bin)
	tm := startTmux(t, 100, 30, []string{"TERM=xterm-256color"}, cmd)
	tm.waitFor("name?")
	tm.press("enclave", "Enter")
	tm.waitFor("exited with status 0", "q quit")
	tm.press("q")
	s := tm.waitFor("sgxdbg exited with status 0", "tty: ")
	must(t, s, "name? enclave", "hello enclave", "tty: icanon echo")
}
