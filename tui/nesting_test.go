package tui

import (
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

func stopOn(t *testing.T, words ...string) debugger.Policy {
	t.Helper()
	p, err := debugger.ParsePolicy(words)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// statusLine is the screen's last line.
func statusLine(screen string) string {
	lines := strings.Split(screen, "\n")
	return lines[len(lines)-1]
}

// TestNestedKeys: actions whose consequence is another stop, from the keys
// and from the prompt, under --stop-on aex eresume. None hangs (the harness
// crashes a story that does), and each stop is the next one on screen.
func TestNestedKeys(t *testing.T) {
	for _, how := range []string{"key", "prompt"} {
		t.Run(how, func(t *testing.T) {
			st := newStoryOn(t, 100, 30, stopOn(t, "aex", "eresume"), "pf_untrusted", "0", "0x10000")
			must(t, st.screen(), "stopped: AEX #PF")
			if how == "key" {
				st.key("e")
			} else {
				st.key(":")
				st.typeText("eresume")
				st.key("enter")
			}
			s := st.screen()
			if got := statusLine(s); !strings.HasPrefix(got, "stopped: ERESUME · TCS 0x7f0000000000 · CSSA 0") {
				t.Errorf("after eresume (%s): status %q, want the ERESUME stop\n%s", how, got, s)
			}
			st.key("c")
			must(t, statusLine(st.screen()), "stopped: AEX #PF")
			st.key("c")
			if st.m.state != stateExited || st.m.status != 2 {
				t.Errorf("state %v status %d, want the host's end with 2", st.m.state, st.m.status)
			}
		})
	}
}

// TestNestedStepKey: --stop-on all on int3: skip, then step; the step's
// ERESUME stops, then its #DB.
func TestNestedStepKey(t *testing.T) {
	st := newStoryOn(t, 100, 30, stopOn(t, "all"), "int3", "0")
	must(t, statusLine(st.screen()), "stopped: EENTER")
	st.key("c")
	must(t, statusLine(st.screen()), "stopped: AEX #BP")
	st.key("J")
	st.key("I")
	must(t, statusLine(st.screen()), "stopped: ERESUME")
	st.key("c")
	// The step's #DB: the top bar has the AEX, the status line the
	// step's reason (where it stopped, as gdb says it).
	s := st.screen()
	must(t, strings.Split(s, "\n")[0], "AEX #DB debug in enclave_ecall")
	must(t, statusLine(s), "enclave_ecall () at samples/int3.c:34 · 34 *ret = breakpoints_seen - before;")
	for st.m.state != stateExited {
		st.key("c")
	}
	if st.m.status != 0 {
		t.Errorf("host status %d, want 0", st.m.status)
	}
	st.feedOutput()
	must(t, st.hostOutput(), "ecall 0 returned 0x0")
}

// TestHandlerAnswered: after a handler run that reached its EEXIT the
// handler key is no longer offered, and continue ERESUMEs as the host
// would (the #DE sample's handler skips the IDIV).
func TestHandlerAnswered(t *testing.T) {
	st := newStory(t, 100, 30, "de", "1", "42", "0")
	if bar := actionBar(st.screen()); !strings.Contains(bar, "H handler") {
		t.Fatalf("action bar %q lacks the handler", bar)
	}
	st.key("H")
	s := st.screen()
	must(t, s, "handler returned through EEXIT")
	if bar := actionBar(s); strings.Contains(bar, "H handler") || !strings.Contains(bar, "c continue") {
		t.Errorf("after the handler run the action bar is %q", bar)
	}
	st.key("H")
	must(t, statusLine(st.screen()), "not available now")
	st.key("c")
	if st.m.state != stateExited || st.m.status != 0 {
		t.Fatalf("state %v status %d, want the host's end with 0", st.m.state, st.m.status)
	}
	st.feedOutput()
	must(t, st.hostOutput(), "ecall 1 returned 0xd15ab1ed")
}
