package dwarfx

import (
	"errors"
	"fmt"
	"testing"
)

// A hand-built stack of the de sample at its #DE: fault_divide at the
// idivq, called by enclave_ecall (which pushed R12, RBP, RBX), called by
// runtime_ecall with RBX = 1. Unwinding recovers the callers' registers
// from the CFI, and enclave_ecall's n, an entry value there, comes from
// runtime_ecall's call site (RDI = its RBX).
func TestUnwindDe(t *testing.T) {
	p := openSample(t, "de")
	path := samplePath(t, "de")
	idiv := objdumpInsn(t, path, "fault_divide", "idiv")
	ret1 := objdumpInsn(t, path, "enclave_ecall", "mov    %rax,(%rbx)")
	ret2 := objdumpInsn(t, path, "runtime_ecall", "test   %eax,%eax")
	const (
		sp     = 0x7f1200100f00 // RSP at the idivq
		retPtr = 0x7f1200200000 // enclave_ecall's ret, kept in RBX
		rbx0   = 1              // runtime_ecall's RBX: the ecall number
		rbp0   = 0x7f1200100fa0 // runtime_ecall's RBP and R12, saved by enclave_ecall
		r120   = 0x5555
	)
	mem := fakeMem{sp: u64s(testBase+ret1, rbx0, rbp0, r120, testBase+ret2)}
	fr := &Frame{PC: testBase + idiv} // CFA from the CFI
	for n, v := range map[int]uint64{RegRAX: 42, RegRDX: 0, RegRCX: 0, RegRDI: 42, RegRSI: 0,
		RegRBX: retPtr, RegRBP: 0, 12: 42, RegRSP: sp} {
		fr.Regs.Set(n, v)
	}
	// runtime_ecall's return address is in memory this test does not
	// provide: the walk returns the three frames and the read error.
	frames, err := p.Unwind(testBase, fr, mem.read, 8)
	if err == nil || len(frames) != 3 {
		t.Fatalf("Unwind: %d frames, error %v; want 3 and a read error", len(frames), err)
	}
	var pcs []uint64
	for _, f := range frames {
		pcs = append(pcs, f.PC-testBase)
	}
	if pcs[0] != idiv || pcs[1] != ret1 || pcs[2] != ret2 {
		t.Fatalf("frames at %#x, want %#x %#x %#x", pcs, idiv, ret1, ret2)
	}
	if fr.CFA != sp+8 {
		t.Errorf("frame 0 CFA %#x, want %#x", fr.CFA, uint64(sp+8))
	}
	ee := frames[1]
	if ee.CFA != sp+40 || !ee.Outer || ee.Caller != frames[2] || fr.Caller != ee {
		t.Errorf("enclave_ecall frame: CFA %#x (want %#x), outer %v", ee.CFA, uint64(sp+40), ee.Outer)
	}
	for n, want := range map[int]uint64{RegRBX: retPtr, RegRBP: 0, 12: 42, RegRSP: sp + 8} {
		if v, ok := ee.Regs.Get(n); !ok || v != want {
			t.Errorf("enclave_ecall %s = %#x, %v; want %#x", RegisterName(n), v, ok, want)
		}
	}
	if _, ok := ee.Regs.Get(RegRAX); ok {
		t.Error("enclave_ecall RAX known: caller-saved registers are not recovered")
	}
	rt := frames[2]
	for n, want := range map[int]uint64{RegRBX: rbx0, RegRBP: rbp0, 12: r120, RegRSP: sp + 40} {
		if v, ok := rt.Regs.Get(n); !ok || v != want {
			t.Errorf("runtime_ecall %s = %#x, %v; want %#x", RegisterName(n), v, ok, want)
		}
	}

	s := p.Scope(testBase, ee, mem.read)
	if s.Function() != "enclave_ecall" {
		t.Fatalf("frame 1 in %q", s.Function())
	}
	args, err := s.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"uint64_t n = 1",
		fmt.Sprintf("const struct ecall_args * args = %#x", rt.CFA-160),
		fmt.Sprintf("uint64_t * ret = %#x", retPtr),
	}
	if !equalStrings(varStrings(args), want) {
		t.Errorf("frame 1 Args() = %q, want %q", varStrings(args), want)
	}
	locals, err := s.Locals()
	if err != nil {
		t.Fatal(err)
	}
	// dividend's location list has no entry at the call; divisor is in RBP.
	if want := []string{"int64_t dividend = <optimized out>", "int64_t divisor = 0"}; !equalStrings(varStrings(locals), want) {
		t.Errorf("frame 1 Locals() = %q, want %q", varStrings(locals), want)
	}
}

func TestCallerFrameNoCFI(t *testing.T) {
	p := openSample(t, "de")
	fr := &Frame{PC: 0x10}
	if _, err := p.CallerFrame(testBase, fr, nil); !errors.Is(err, ErrNoCFI) {
		t.Errorf("CallerFrame outside the image: %v, want ErrNoCFI", err)
	}
}
