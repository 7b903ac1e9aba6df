package tui

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestTmuxCore: `sgxdbg core FILE` on a terminal opens the UI on the
// core's stop, with the views and without the actions that need a live
// host; q leaves at once.
func TestTmuxCore(t *testing.T) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	core := t.TempDir() + "/pf.core"
	out, err := exec.Command(bin, "exec", "-x", "dump "+core+"; kill", "--", b+"/host", b+"/pf_untrusted.elf", b+"/pf_untrusted.elf.sig", "0", "0x10000").CombinedOutput()
	if !strings.Contains(string(out), "wrote "+core) {
		t.Fatalf("dump: %v\n%s", err, out)
	}
	tm := startTmux(t, 120, 40, []string{"TERM=xterm-256color"}, fmt.Sprintf("%s core %s", bin, core))
	s := tm.waitFor("AEX #PF page fault in fault_read_untrusted", "=> 0x", "? help  q quit", "core pf.core")
	bar := actionBar(strings.TrimRight(s, "\n"))
	for _, live := range []string{"ERESUME", "handler", "teardown", "skip", "stepi", "continue", "kill"} {
		if strings.Contains(bar, live) {
			t.Errorf("action bar %q offers %s on a core file", bar, live)
		}
	}
	tm.press(":")
	tm.press("eresume", "Enter")
	tm.waitFor("error: ")
	tm.press("q")
	tm.waitFor("sgxdbg exited with status 0")
}
