package dwarfx

import (
	"errors"
	"fmt"
	"testing"
)

const testBase = 0x7f1200000000 // an enclave base

func varStrings(vs []Variable) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Type+" "+v.String())
	}
	return out
}

func equalStrings(a, b []string) bool {
	return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b)
}

// The de sample's fault_divide called as fault_divide(42, 0) (the
// calling convention puts dividend in RDI, divisor in RSI): at its first
// instruction, at the faulting idivq and at the ret, where q's location
// list puts it in RAX.
func TestDeFaultDivide(t *testing.T) {
	p := openSample(t, "de")
	path := samplePath(t, "de")
	fn := nmAddr(t, path, "fault_divide")
	const cfa = 0x7f1200100000
	for _, at := range []struct {
		name   string
		pc     uint64
		rax    uint64
		locals []string
	}{
		{"entry", fn, 0x1234, []string{"int64_t q = <optimized out>", "int64_t r = <optimized out>"}},
		{"idivq", objdumpInsn(t, path, "fault_divide", "idiv"), 42, []string{"int64_t q = <optimized out>", "int64_t r = <optimized out>"}},
		{"ret", objdumpInsn(t, path, "fault_divide", "ret"), 0xd15ab1ed, []string{"int64_t q = 3512381933", "int64_t r = <optimized out>"}},
	} {
		t.Run(at.name, func(t *testing.T) {
			fr := &Frame{PC: testBase + at.pc, CFA: cfa}
			fr.Regs.Set(RegRDI, 42)
			fr.Regs.Set(RegRSI, 0)
			fr.Regs.Set(RegRAX, at.rax)
			fr.Regs.Set(RegRSP, cfa-8)
			fr.Regs.Set(RegEFLAGS, 0x246)
			s := p.Scope(testBase, fr, nil)
			if got := s.Function(); got != "fault_divide" {
				t.Fatalf("Function() = %q", got)
			}
			args, err := s.Args()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := varStrings(args), []string{"int64_t dividend = 42", "int64_t divisor = 0"}; !equalStrings(got, want) {
				t.Errorf("Args() = %q, want %q", got, want)
			}
			locals, err := s.Locals()
			if err != nil {
				t.Fatal(err)
			}
			if got := varStrings(locals); !equalStrings(got, at.locals) {
				t.Errorf("Locals() = %q, want %q", got, at.locals)
			}
			if locals[1].Value.Unavailable != OptimizedOut {
				t.Errorf("r: Unavailable = %q", locals[1].Value.Unavailable)
			}
			for expr, want := range map[string]string{
				"dividend":               "42",
				"divisor":                "0",
				"dividend / 5 + divisor": "8",
				"$rdi":                   "42",
				"$edi + 1":               "43",
				"$rsp":                   fmt.Sprintf("(void *) %#x", cfa-8),
				"$rip":                   fmt.Sprintf("(void (*)()) %#x <fault_divide%s>", testBase+at.pc, plusOff(at.pc-fn)),
				"$pc == $rip":            "1",
				"(unsigned long)$rax":    fmt.Sprint(at.rax),
				"$rbx":                   "<not saved>",
				"$eflags":                "[ PF ZF IF ]",
				"$eflags | 0x800":        "2630",
			} {
				got, err := s.Print(expr)
				if err != nil {
					t.Errorf("print %s: %v", expr, err)
				} else if got != want {
					t.Errorf("print %s = %s, want %s", expr, got, want)
				}
			}
			for expr, want := range map[string]string{"$rax": "int64_t", "$eax": "int", "$rip": "void (*)()",
				"$rsp": "void *", "$eflags | 1": "unsigned int"} {
				if got, err := s.WhatIs(expr); err != nil || got != want {
					t.Errorf("whatis %s = %q, %v; want %q (gdb's)", expr, got, err, want)
				}
			}
			v, err := s.Eval("divisor")
			if err != nil || v.Reg != RegRSI || v.InMemory {
				t.Errorf("divisor: %+v, %v; want in RSI", v, err)
			}
			if _, err := s.Eval("q + 1"); at.name != "ret" && err == nil {
				t.Error("q + 1 with q optimized out: no error")
			}
		})
	}
}

// sum_values in the clean sample, in its loop, where v's location list
// says DW_OP_entry_value(DW_OP_reg5): known from the caller's call site
// (enclave_ecall passes RDI = RBX+8), unknown without a caller frame.
func TestEntryValueFromCallSite(t *testing.T) {
	p := openSample(t, "clean")
	path := samplePath(t, "clean")
	loop := stmtRows(t, path, "clean.c", 9)[0]
	ret := objdumpInsn(t, path, "enclave_ecall", "mov    %rax,0x0(%rbp)") // after call sum_values
	const args = 0x7f1200200040
	fr := &Frame{PC: testBase + loop, CFA: 0x7f1200100000}
	fr.Regs.Set(RegRSI, 3)
	fr.Regs.Set(RegRAX, 10)
	fr.Regs.Set(RegRBX, args) // callee-saved: the caller's too
	fr.Regs.Set(RegRSP, 0x7f1200100000-8)

	s := p.Scope(testBase, fr, nil)
	got, err := s.Args()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"const uint64_t * v = <optimized out>", "uint64_t n = 3"}; !equalStrings(varStrings(got), want) {
		t.Errorf("without caller: Args() = %q, want %q", varStrings(got), want)
	}
	if got[0].Value.Unavailable != EntryValueUnavailable {
		t.Errorf("v: Unavailable = %q, want %q", got[0].Value.Unavailable, EntryValueUnavailable)
	}

	caller := &Frame{PC: testBase + ret, CFA: 0x7f1200100040}
	caller.Regs.Set(RegRBX, args)
	fr.Caller = caller
	s = p.Scope(testBase, fr, nil)
	got, err = s.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("const uint64_t * v = %#x", args+8), "uint64_t n = 3"}
	if !equalStrings(varStrings(got), want) {
		t.Errorf("with caller: Args() = %q, want %q", varStrings(got), want)
	}
	locals, err := s.Locals()
	if err != nil {
		t.Fatal(err)
	}
	// i, in the for's block, has a location only before and after the
	// loop; sum is in RAX in it.
	if want := []string{"uint64_t i = <optimized out>", "uint64_t sum = 10"}; !equalStrings(varStrings(locals), want) {
		t.Errorf("Locals() = %q, want %q", varStrings(locals), want)
	}
	// v[1] reads memory through the entry value.
	mem := fakeMem{args + 8: u64s(5, 6, 7)}
	s = p.Scope(testBase, fr, mem.read)
	if got, err := s.Print("v[1] + *v"); err != nil || got != "11" {
		t.Errorf("print v[1] + *v = %q, %v", got, err)
	}
	if got, err := s.Print("v[3]"); err == nil {
		t.Errorf("print v[3] = %q, want a memory error", got)
	} else {
		var ee *EvalError
		if !errors.As(err, &ee) || ee.Err == nil {
			t.Errorf("print v[3]: %T %v", err, err)
		}
	}
}

// The de sample's enclave_ecall as the caller frame of fault_divide (PC
// the return address): n is an entry value there, known from
// runtime_ecall's call site (RDI = its RBX); args from its frame base
// (the CFA - 160); ret is in RBX.
func TestOuterFrameEntryValues(t *testing.T) {
	p := openSample(t, "de")
	path := samplePath(t, "de")
	ret := objdumpInsn(t, path, "enclave_ecall", "mov    %rax,(%rbx)")        // after call fault_divide
	retInRuntime := objdumpInsn(t, path, "runtime_ecall", "test   %eax,%eax") // after call enclave_ecall
	const runtimeCFA = 0x7f1200180000
	runtime := &Frame{PC: testBase + retInRuntime, CFA: runtimeCFA}
	runtime.Regs.Set(RegRBX, 1)
	fr := &Frame{PC: testBase + ret, CFA: 0x7f1200170000, Outer: true, Caller: runtime}
	fr.Regs.Set(RegRBX, 0x7f1200160000)
	s := p.Scope(testBase, fr, nil)
	if got := s.Function(); got != "enclave_ecall" {
		t.Fatalf("Function() = %q", got)
	}
	got, err := s.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"uint64_t n = 1",
		fmt.Sprintf("const struct ecall_args * args = %#x", runtimeCFA-160),
		"uint64_t * ret = 0x7f1200160000",
	}
	if !equalStrings(varStrings(got), want) {
		t.Errorf("Args() = %q, want %q", varStrings(got), want)
	}
}

func plusOff(off uint64) string {
	if off == 0 {
		return ""
	}
	return fmt.Sprintf("+%d", off)
}
