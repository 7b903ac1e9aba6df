package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// TestBreakRuntimeAddr: at a stop, break *ADDR takes a run-time address
// in the enclave (as disas and the TUI show it), and a bare break the
// current instruction; both are inserted at that address, and the host
// stops there.
func TestBreakRuntimeAddr(t *testing.T) {
	r := start(t, debugger.Policy{NoAEX: true}, nil, "clean", "0", "1", "2", "3")
	r.exec("break sum_values")
	r.stopWhy()
	fn := r.sym("sum_values")
	var b debugger.BreakResult
	r.result(fmt.Sprintf("break *%#x", fn+0x10), &b)
	if len(b.Breakpoint.Inserted) != 1 || uint64(b.Breakpoint.Inserted[0]) != fn+0x10 {
		t.Errorf("break *%#x: %+v", fn+0x10, b)
	}
	r.result("break", &b)
	if b.Breakpoint.ID != 3 || len(b.Breakpoint.Inserted) != 1 || uint64(b.Breakpoint.Inserted[0]) != fn {
		t.Errorf("break at the stop: %+v", b)
	}
	r.exec("continue")
	ev, why := r.stopWhy()
	if ev.RIP != fn+0x10 || why != "Breakpoint 2, sum_values () at samples/clean.c:9\n9\t\t\tsum += v[i];" {
		t.Errorf("stop at %#x: %q", ev.RIP, why)
	}
}

// TestBreakNextInstruction: continuing from a breakpoint whose very next
// instruction holds another breakpoint stops at the second one (the step
// over the first lands on it: it is hit, not stepped over), and each
// counts one hit.
func TestBreakNextInstruction(t *testing.T) {
	r := start(t, debugger.Policy{NoAEX: true}, nil, "clean", "0", "1", "2", "3")
	r.exec("break sum_values")
	ev, why := r.stopWhy()
	fn := r.sym("sum_values")
	if ev.RIP != fn || !strings.HasPrefix(why, "Breakpoint 1, sum_values () at samples/clean.c:") {
		t.Fatalf("first stop at %#x: %q", ev.RIP, why)
	}
	r.exec(fmt.Sprintf("break *%#x", fn+3)) // je, right after test %rsi,%rsi
	r.exec("continue")
	ev, why = r.stopWhy()
	if ev.RIP != fn+3 || !strings.HasPrefix(why, "Breakpoint 2, ") {
		t.Fatalf("second stop at %#x: %q", ev.RIP, why)
	}
	var info debugger.BreakpointsResult
	r.result("info breakpoints", &info)
	for _, bp := range info.Breakpoints {
		if bp.Hits != 1 {
			t.Errorf("breakpoint %d: %d hits, want 1", bp.ID, bp.Hits)
		}
	}
}

// TestBreakpointsText: info breakpoints as gdb words it — hit counts,
// the ignore count, and a breakpoint whose enclave went away after hits
// is not called pending.
func TestBreakpointsText(t *testing.T) {
	for _, tt := range []struct {
		v    debugger.BreakView
		want string
	}{
		{debugger.BreakView{ID: 1, Kind: debugger.BreakSoftware, Enabled: true, Where: []string{"in sum_values at samples/clean.c:8"}, Pending: true},
			"1   breakpoint      keep y   in sum_values at samples/clean.c:8 (pending: no enclave of its image yet)"},
		{debugger.BreakView{ID: 2, Kind: debugger.BreakSoftware, Enabled: true, Temporary: true, Where: []string{"in sum_values at samples/clean.c:8"}, Pending: true, Hits: 2, Ignore: 5},
			"2   breakpoint      del  y   in sum_values at samples/clean.c:8 (no enclave of its image now)\n\tbreakpoint already hit 2 times\n\tWill ignore next 5 crossings of breakpoint."},
		{debugger.BreakView{ID: 3, Kind: debugger.BreakHardware, Where: []string{"in f at a.c:1"}, Inserted: []debugger.Hex{0x7f0000013120}, Hits: 1, Condition: "n > 2"},
			"3   hw breakpoint   keep n   in f at a.c:1\n\tat 0x7f0000013120\n\tstop only if n > 2\n\tbreakpoint already hit 1 time"},
	} {
		got := (&debugger.BreakpointsResult{Breakpoints: []debugger.BreakView{tt.v}}).Text()
		want := "Num Type            Disp Enb What\n" + tt.want
		if got != want {
			t.Errorf("%d:\n%s\nwant\n%s", tt.v.ID, got, want)
		}
	}
}
