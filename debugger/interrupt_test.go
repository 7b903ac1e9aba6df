package debugger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// TestInterrupt interrupts a long run of ecalls (clean, --repeat) until
// one interrupt finds the thread inside the enclave: that stop is the AEX
// of an interrupt (EXITINFO not valid, CSSA+1, nothing for the host), and
// continuing it resumes the enclave transparently; an interrupt in host
// code is an interrupt stop. The host's output is complete and exact.
func TestInterrupt(t *testing.T) {
	const calls = 4000
	r := start(t, debugger.Policy{NoAEX: true}, []string{"--repeat", "4000"}, "clean", "0", "1", "2", "3")
	if err := r.s.Interrupt(); !errors.Is(err, debugger.ErrNotRunning) {
		t.Errorf("Interrupt before Wait: %v, want ErrNotRunning", err)
	}
	inEnclave, inHost := 0, 0
	for try := 0; try < 200 && inEnclave == 0; try++ {
		done := make(chan struct{})
		var st debugger.Stopped
		var err error
		go func() {
			defer close(done)
			st, err = r.s.Wait()
		}()
		time.Sleep(10 * time.Millisecond)
		ierr := r.s.Interrupt()
		select {
		case <-done:
		case <-time.After(hangLimit):
			t.Fatal("the interrupted Wait hangs")
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Exited {
			t.Fatalf("the host ended (status %d) before an interrupt found it in the enclave (%d in host code)", st.Status, inHost)
		}
		if ierr != nil {
			t.Fatalf("interrupt: %v", ierr)
		}
		ev := st.Event
		if st.Reason == nil || st.Reason.Kind != "interrupt" {
			t.Fatalf("stop %s with reason %+v, want the interrupt", ev, st.Reason)
		}
		switch ev.Kind {
		case target.EvInterrupt:
			inHost++
			if !strings.HasPrefix(st.Reason.Message, "interrupted: thread ") {
				t.Errorf("reason %q", st.Reason.Message)
			}
		case target.EvAEX:
			inEnclave++
			if ev.Valid || ev.VectorName() != "none" || ev.CSSA != ev.SSA+1 || ev.Delivery != (target.Delivery{}) {
				t.Errorf("interrupt AEX %s", ev)
			}
			var ssa struct {
				Frames []struct {
					Valid bool `json:"valid"`
				} `json:"frames"`
			}
			r.result("ssa", &ssa)
			if n := len(ssa.Frames); n == 0 || ssa.Frames[n-1].Valid {
				t.Errorf("ssa after the interrupt: %+v", ssa)
			}
			if got := r.exec("eresume"); !strings.HasPrefix(got, `{"action":"eresume",`) {
				t.Errorf("eresume: %s", got)
			}
			continue
		default:
			t.Fatalf("interrupt stopped at %s", ev)
		}
		r.exec("continue")
	}
	if inEnclave == 0 {
		t.Fatalf("no interrupt found the thread in the enclave (%d in host code)", inHost)
	}
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
	if got := strings.Count(r.stdout(), "ecall 0 returned 0x6\n"); got != calls {
		t.Errorf("%d ecalls returned 6, want %d", got, calls)
	}
}
