package debugger_test

import (
	"fmt"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// TestThreadsAndTCS: two threads on two TCSs (the threads sample), both
// taking an INT3. info threads tells a thread at an AEX from one inside
// the enclave and one in host code; tcs and thread select what ssa and bt
// show.
func TestThreadsAndTCS(t *testing.T) {
	r := start(t, debugger.Policy{}, []string{"--threads", "2"}, "threads", "0")
	ev := r.stop()
	var th debugger.ThreadsResult
	r.result("info threads", &th)
	states := map[string]int{}
	for _, v := range th.Threads {
		states[v.State]++
		if v.Tid == ev.Tid && (v.State != "aex" || uint64(v.TCS) != ev.TCS || !v.Stopped) {
			t.Errorf("the stopped thread: %+v (stop %s)", v, ev)
		}
	}
	if len(th.Threads) != 3 || states["aex"] < 1 || states["host"] < 1 {
		t.Errorf("info threads: %s", jsonOf(t, th))
	}
	other := r.tcs(0)
	if other == ev.TCS {
		other = r.tcs(1)
	}
	var tcs debugger.TCSResult
	r.result(fmt.Sprintf("tcs %#x", other), &tcs)
	var ssa struct {
		TCS Hex `json:"tcs"`
	}
	r.result("ssa", &ssa)
	check(t, "ssa after tcs", hx(uint64(ssa.TCS)), hx(other))
	expectErrors(t, r, []errCase{
		{"thread 1", "thread: no thread 1", debugger.CodeNoSymbol},
		{"tcs 0x10", `tcs: no TCS 0x10`, debugger.CodeNoFrame},
	})
	r.exec(fmt.Sprintf("thread %d", ev.Tid))
	r.result("ssa", &ssa)
	check(t, "ssa after thread", hx(uint64(ssa.TCS)), hx(ev.TCS))
	for {
		r.exec("continue")
		st, err := r.wait()
		if err != nil {
			t.Fatal(err)
		}
		if st.Exited {
			if st.Status != 0 {
				t.Errorf("host status %d", st.Status)
			}
			break
		}
	}
}

// Hex mirrors debugger.Hex for decoding.
type Hex = debugger.Hex
