package debugger_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// value runs print and returns the value's text.
func (r *run) value(expr string) string {
	r.t.Helper()
	var v debugger.ValueResult
	r.result("print "+expr, &v)
	return v.Value
}

// TestSourceViewsDE: at break fault_divide on de 0 42 0 the arguments are
// 42 and 0 (in registers at -O2, by their location lists); one frame up,
// enclave_ecall's locals; list shows the idivq line; frame/up/down select
// what the views follow; display is shown at the next stop.
func TestSourceViewsDE(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.exec("break fault_divide")
	_, why := r.stopWhy()
	if !strings.HasPrefix(why, "Breakpoint 1, fault_divide () at samples/de.c:") {
		t.Fatalf("reason %q", why)
	}
	check(t, "print dividend", r.value("dividend"), "42")
	check(t, "print divisor", r.value("divisor"), "0")
	check(t, "print/x dividend", r.value("/x dividend"), "0x2a")
	check(t, "print dividend * 2 + divisor", r.value("dividend * 2 + divisor"), "84")
	var args debugger.VarsResult
	r.result("info args", &args)
	check(t, "info args", jsonOf(t, args.Vars), `[{"decl_line":59,"name":"dividend","type":"int64_t","value":"42"},{"decl_line":59,"name":"divisor","type":"int64_t","value":"0"}]`)
	var ty debugger.ValueResult
	r.result("ptype dividend", &ty)
	check(t, "ptype", ty.Value, "type = long")

	var list debugger.ListResult
	r.result("list", &list)
	found := false
	for _, l := range list.Lines {
		found = found || strings.Contains(l.Text, `__asm__ volatile("idivq %%rcx"`)
	}
	if !found {
		t.Errorf("list lacks the idivq line: %+v", list.Lines)
	}

	var fr debugger.FrameResult
	r.result("up", &fr)
	if fr.Index != 1 || fr.Function != "enclave_ecall" {
		t.Errorf("up: %+v", fr)
	}
	var locals debugger.VarsResult
	r.result("info locals", &locals)
	if locals.Function != "enclave_ecall" || len(locals.Vars) != 2 || locals.Vars[0].Name != "dividend" || locals.Vars[1].Name != "divisor" ||
		locals.Vars[1].Value != "0" {
		t.Errorf("info locals one frame up: %+v", locals)
	}
	r.result("down", &fr)
	if fr.Index != 0 || fr.Function != "fault_divide" {
		t.Errorf("down: %+v", fr)
	}
	expectErrors(t, r, []errCase{
		{"down", "Bottom (innermost) frame selected; you cannot go down.", debugger.CodeNoFrame},
		{"print nosuch", `no symbol "nosuch" in current context (column 1)`, debugger.CodeNoSymbol},
	})
	r.exec("display divisor")
	r.exec("continue")
	st, err := r.wait()
	if err != nil || st.Exited || st.Displays == nil || len(st.Displays.Displays) != 1 {
		t.Fatalf("the #DE stop: %+v %v", st, err)
	}
	if d := st.Displays.Displays[0]; d.Expr != "divisor" || d.Value != "0" {
		t.Errorf("display at the #DE: %+v", d)
	}
	r.exec("continue")
	if s := r.end(); s != 2 {
		t.Errorf("host status %d", s)
	}
}

// TestBacktraceIntoHost: bt at the pf_untrusted AEX goes from
// fault_read_untrusted through the runtime to the EENTER boundary, then
// through the host's frames (the vDSO's __vdso_sgx_enter_enclave on the
// vDSO path) to main (own ENCLU and vDSO paths).
func TestBacktraceIntoHost(t *testing.T) {
	for _, flags := range [][]string{{"--no-vdso"}, nil} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			r := startHost(t, debugger.Policy{}, flags, "pf_untrusted", "0", "0x10000")
			r.stop()
			var bt debugger.BacktraceResult
			r.result("bt", &bt)
			if len(bt.Frames) < 5 {
				t.Fatalf("bt: %+v", bt)
			}
			if bt.Frames[0].Symbol != "fault_read_untrusted" || bt.Frames[0].Host {
				t.Errorf("frame 0: %+v", bt.Frames[0])
			}
			boundary := -1
			for i, f := range bt.Frames {
				if f.Boundary != "" {
					boundary = i
					if !strings.HasPrefix(f.Boundary, fmt.Sprintf("── EENTER (TCS %#x)", r.tcs(0))) || !f.Host {
						t.Errorf("boundary frame %+v", f)
					}
				}
			}
			if boundary < 1 || bt.Frames[boundary-1].Symbol != "enclave_entry" {
				t.Errorf("no EENTER boundary after enclave_entry: %s", jsonOf(t, bt))
			}
			// Through the vDSO the AEP is in the synthetic vDSO, which
			// /proc/PID/maps does not name: it is found through the auxv
			// on the host's stack.
			if f := bt.Frames[max(boundary, 0)]; flags == nil && (f.Symbol != "__vdso_sgx_enter_enclave" || f.Module != "[vdso]") {
				t.Errorf("the AEP's frame %+v, want __vdso_sgx_enter_enclave in [vdso]", f)
			}
			if last := bt.Frames[len(bt.Frames)-1]; last.Symbol != "main" || !last.Host || !strings.HasPrefix(last.Source, "host/main.c:") {
				t.Errorf("the backtrace ends in %+v, want the host's main", last)
			}
			r.exec("continue")
			r.end()
		})
	}
}

// TestXSaveRegisters: after the ud AEX, $mxcsr and $xmm0 are what the SSA
// frame's XSAVE area holds (read raw through EDBGRD: MXCSR at byte 24,
// XMM0 at byte 160 of the frame).
func TestXSaveRegisters(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "ud", "0")
	r.stop()
	frame := r.ssaFrame(0, 0)
	var mem struct {
		Values []string `json:"values"`
	}
	r.result(fmt.Sprintf("x/1xw %#x", frame+24), &mem)
	var mxcsr uint32
	fmt.Sscanf(mem.Values[0], "0x%x", &mxcsr)
	if got := r.value("$mxcsr"); !strings.HasPrefix(got, fmt.Sprintf("%#x [ ", mxcsr)) {
		t.Errorf("$mxcsr = %q, the SSA holds %#x", got, mxcsr)
	}
	r.result(fmt.Sprintf("x/2xg %#x", frame+160), &mem)
	var lo, hi uint64
	fmt.Sscanf(mem.Values[0], "0x%x", &lo)
	fmt.Sscanf(mem.Values[1], "0x%x", &hi)
	want := fmt.Sprintf("uint128 = 0x%016x%016x}", hi, lo)
	if got := r.value("$xmm0"); !strings.HasSuffix(got, want) || !strings.Contains(got, fmt.Sprintf("v2_int64 = {%#x, %#x}", lo, hi)) {
		t.Errorf("$xmm0 = %q, want ...%s", got, want)
	}
	var regs debugger.RegistersResult
	r.result("info all-registers", &regs)
	if !strings.HasSuffix(regs.Vector["xmm0"], want) || len(regs.Registers) != 17 {
		t.Errorf("info all-registers: %+v", regs)
	}
	r.exec("continue")
	r.end()
}

// TestInfoStack: the stackoverflow sample's #PF in the guard page below
// its stack: info stack says the stack is used to its last byte, with the
// guard page next; the same from a core file of that stop.
func TestInfoStack(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "stackoverflow", "0")
	ev := r.stop()
	var st debugger.StackResult
	r.result("info stack", &st)
	var main *debugger.RegionUse
	for i, u := range st.Regions {
		if u.Kind == "STACK" && u.RSP != nil {
			main = &st.Regions[i]
		}
	}
	if main == nil {
		t.Fatalf("info stack: no stack with the RSP: %s", jsonOf(t, st))
	}
	guardPage := ev.MAddr &^ 0xfff
	if !main.Exhausted || main.Deepest == nil || *main.Deepest != main.Start || main.Guard == nil || uint64(*main.Guard) != guardPage ||
		uint64(main.Used) != uint64(main.End-main.Start) {
		t.Errorf("stack: %s; the #PF was at %#x", jsonOf(t, main), ev.MAddr)
	}
	r.exec("continue")
	r.end()
}

// TestSetVar: set var on an argument held in a register (the SSA frame's
// RSI) changes what the enclave divides by: 42 / 7.
func TestSetVar(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.exec("break fault_divide")
	r.stop()
	check(t, "set var", r.exec("set var divisor = 7"), `{"action":"set","message":"divisor = 7 (was 0)"}`)
	check(t, "print divisor", r.value("divisor"), "7")
	check(t, "$rsi", r.value("$rsi"), "7")
	expectErrors(t, r, []errCase{
		{"set var divisor", "usage: set var EXPR = VALUE", debugger.CodeUsage},
		{"set var nosuch = 1", `no symbol "nosuch" in current context (column 1)`, debugger.CodeNoSymbol},
	})
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 0 returned 0x6\n")
}

// TestSetXSaveRegisters: set $xmm0 and $mxcsr write the SSA frame's XSAVE
// area (what ERESUME gives back to the enclave); regs --all shows them.
func TestSetXSaveRegisters(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "ud", "0")
	r.stop()
	r.exec("set $xmm0 = 0x1122334455667788")
	r.exec("set $mxcsr = 0x1f80")
	if got := r.value("$xmm0"); !strings.HasSuffix(got, "uint128 = 0x00000000000000001122334455667788}") {
		t.Errorf("$xmm0 = %s", got)
	}
	check(t, "$mxcsr", r.value("$mxcsr"), "0x1f80 [ IM DM ZM OM UM PM ]")
	var regs debugger.RegistersResult
	r.result("regs --all", &regs)
	if !strings.Contains(regs.Vector["xmm0"], "v2_int64 = {0x1122334455667788, 0x0}") {
		t.Errorf("regs --all: %s", regs.Vector["xmm0"])
	}
	expectErrors(t, r, []errCase{
		{"set $mxcsr = 0x10000", "set $mxcsr: 0x10000 has reserved bits set", debugger.CodeUsage},
		{"regs --bogus", "usage: regs [--all]", debugger.CodeUsage},
	})
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
}
