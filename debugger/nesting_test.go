package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// The backend contract: an action at a stop that causes another stop
// (the ERESUME it performs, the #DB of a step, the handler's EEXIT or its
// nested fault) is the next Wait's stop, never a call back into the
// session. Each story here deadlocked when stops were pushed by callbacks.

func policy(t *testing.T, words ...string) debugger.Policy {
	t.Helper()
	p, err := debugger.ParsePolicy(words)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// stopLine is a stop in a few words, for exact comparisons.
func stopLine(ev target.Event) string {
	switch ev.Kind {
	case target.EvAEX:
		return fmt.Sprintf("aex %s %s cssa %d rip %#x", ev.VectorName(), ev.ExitTypeName(), ev.CSSA, ev.RIP)
	case target.EvEENTER, target.EvERESUME:
		return fmt.Sprintf("%s cssa %d", ev.Kind, ev.CSSA)
	}
	return string(ev.Kind)
}

// TestNestedERESUMEStop: --stop-on aex eresume, then eresume at the #PF of
// pf_untrusted (the example): the ERESUME is a stop (CSSA 0 again),
// the enclave faults again at the same instruction, and the host ends as
// without a debugger (no handler: exit 2).
func TestNestedERESUMEStop(t *testing.T) {
	for _, vdso := range []bool{false, true} {
		t.Run(fmt.Sprintf("vdso=%v", vdso), func(t *testing.T) {
			flags := []string{"--no-vdso"}
			if vdso {
				flags = nil
			}
			r := startHost(t, policy(t, "aex", "eresume"), flags, "pf_untrusted", "0", "0x10000")
			ev := r.stop()
			pf := fmt.Sprintf("aex #PF hardware cssa 1 rip %#x", r.sym("fault_read_untrusted"))
			check(t, "first stop", stopLine(ev), pf)
			check(t, "eresume", r.exec("eresume"), fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 0"}`, r.tcs(0)))
			check(t, "eresume stop", stopLine(r.stop()), "eresume cssa 0")
			check(t, "continue", r.exec("continue"), `{"action":"continue","message":"continuing"}`)
			check(t, "the same fault", stopLine(r.stop()), pf)
			r.exec("continue")
			if st := r.end(); st != 2 {
				t.Errorf("host exit status %d, want 2", st)
			}
			check(t, "host stderr", r.stderr(), "unhandled enclave exception: #PF (SIGSEGV)\n")
		})
	}
}

// TestNestedStepStopOnAll: --stop-on all, int3 ecall 0. At the #BP: skip,
// step. The step's own ERESUME stops first (policy all); continuing it,
// the #DB of the step stops at the RET's target; continue ERESUMEs (the
// #DB was the debugger's), which stops again; then EEXIT, and the end.
func TestNestedStepStopOnAll(t *testing.T) {
	r := start(t, policy(t, "all"), nil, "int3", "0")
	check(t, "eenter", stopLine(r.stop()), "eenter cssa 0")
	rip := r.sym("trap_int3")
	ret := r.sym("enclave_ecall") + callReturn(t, r.elf, "enclave_ecall", "trap_int3")
	r.exec("continue")
	check(t, "#BP", stopLine(r.stop()), fmt.Sprintf("aex #BP software cssa 1 rip %#x", rip))
	r.exec("skip")
	check(t, "stepi", r.exec("stepi"), fmt.Sprintf(`{"action":"stepi","message":"stepping TCS %#x from %#x (DBGOPTIN set)"}`, r.tcs(0), rip+1))
	check(t, "the step's ERESUME", stopLine(r.stop()), "eresume cssa 0")
	r.exec("continue")
	check(t, "the step's #DB", stopLine(r.stop()), fmt.Sprintf("aex #DB hardware cssa 1 rip %#x", ret))
	check(t, "continue after the step", r.exec("continue"), `{"action":"continue","message":"ERESUME after the step"}`)
	check(t, "its ERESUME", stopLine(r.stop()), "eresume cssa 0")
	r.exec("continue")
	check(t, "eexit", stopLine(r.stop()), "eexit")
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 0 returned 0x0\n")
}

// TestNestedHandlerThenContinue: de ecall 1 (42 / 0), through the vDSO as
// the host prefers. eenter-handler runs the enclave's handler to its EEXIT
// (its EENTER and EEXIT are events, not stops, even under --stop-on all);
// it says handled, so continue ERESUMEs as the host would instead of
// delivering the #DE (which would run the handler a second time): the
// ecall returns the quotient the handler substituted.
func TestNestedHandlerThenContinue(t *testing.T) {
	for _, words := range [][]string{{"aex"}, {"all"}} {
		t.Run(fmt.Sprint(words), func(t *testing.T) {
			r := startHost(t, policy(t, words...), nil, "de", "1", "42", "0")
			ev := r.stop()
			for ev.Kind != target.EvAEX {
				r.exec("continue")
				ev = r.stop()
			}
			check(t, "#DE", stopLine(ev), fmt.Sprintf("aex #DE hardware cssa 1 rip %#x", ev.RIP))
			n := len(r.s.Timeline())
			var hv struct {
				Exited  bool   `json:"exited"`
				Handled bool   `json:"handled"`
				Status  string `json:"status"`
			}
			r.result("eenter-handler", &hv)
			if !hv.Exited || !hv.Handled || hv.Status != "handled: the host would ERESUME" {
				t.Errorf("eenter-handler: %+v", hv)
			}
			kinds := ""
			for _, e := range r.s.Timeline()[n:] {
				kinds += " " + string(e.Kind)
			}
			kinds = strings.TrimSpace(kinds)
			check(t, "events of the handler run", kinds, "eenter eexit")
			if !r.s.IsStopped() {
				t.Fatal("not stopped at the AEX after the handler run")
			}
			check(t, "continue", r.exec("continue"), `{"action":"continue","message":"the handler eenter-handler ran said handled: ERESUME, as the host would"}`)
			if words[0] == "all" {
				check(t, "eresume stop", stopLine(r.stop()), "eresume cssa 0")
				r.exec("continue")
				check(t, "eexit stop", stopLine(r.stop()), "eexit")
				r.exec("continue")
			}
			if st := r.end(); st != 0 {
				t.Errorf("host exit status %d, want 0; stderr %q", st, r.stderr())
			}
			check(t, "host stdout", r.stdout(), "ecall 1 returned 0xd15ab1ed\n")
		})
	}
}

// TestNestedHandlerUnhandledContinue: de ecall 0 registers no handler that
// skips: the handler answers unhandled, and continue delivers the #DE to
// the host, which answers it itself (exit 2, as without a debugger).
func TestNestedHandlerUnhandledContinue(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.stop()
	var hv struct {
		Exited  bool `json:"exited"`
		Handled bool `json:"handled"`
	}
	r.result("eenter-handler", &hv)
	if !hv.Exited || hv.Handled {
		t.Fatalf("eenter-handler: %+v", hv)
	}
	check(t, "continue", r.exec("continue"), `{"action":"continue","message":"the handler eenter-handler ran did not say handled (unhandled): continuing, the host gets the AEX (SIGFPE) and answers it itself"}`)
	if st := r.end(); st != 2 {
		t.Errorf("host exit status %d, want 2", st)
	}
}
