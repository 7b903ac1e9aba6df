package debugger_test

import (
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// TestComplete: commands, subcommands, flags, registers and the matched
// image's symbols (pf_untrusted, by nm).
func TestComplete(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "pf_untrusted", "0", "0x10000")
	r.stop()
	for _, c := range []struct{ line, want string }{
		{"st", "step|stepi|stop-on"},
		{"info en", "info enclaves"},
		{"i r", "i registers"},
		{"help e", "help eenter-handler|help enable|help eresume|help events"},
		{"x/4xg fault_r", "x/4xg fault_read_untrusted"},
		{"disas fault_w", "disas fault_write_untrusted"},
		{"set $rs", "set $rsi|set $rsp"},
		{"set ssa.rip fault_read", "set ssa.rip fault_read_untrusted"},
		{"eenter-handler --abi i", "eenter-handler --abi intel-sdk"},
		{"eenter-handler --r", "eenter-handler --rdi|eenter-handler --rdx|eenter-handler --rsi"},
		{"stop-on aex ee", "stop-on aex eenter|stop-on aex eexit"},
		{"bogus x", ""},
		{"regs ", ""},
	} {
		if got := strings.Join(r.s.Complete(c.line), "|"); got != c.want {
			t.Errorf("Complete(%q) = %q, want %q", c.line, got, c.want)
		}
	}
	if n := len(r.s.Complete("")); n < 20 {
		t.Errorf("Complete(\"\") gives %d names", n)
	}
}
