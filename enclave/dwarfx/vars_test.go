package dwarfx

import (
	"testing"
)

const testBase = 0x7f1200000000 // an enclave base

// The de sample at fault_divide's first instruction, called as the
// calling convention puts fault_divide(42, 0): dividend in RDI, divisor
// in RSI.
func TestDeFaultDivideEntry(t *testing.T) {
	p := openSample(t, "de")
	path := samplePath(t, "de")
	fn := nmAddr(t, path, "fault_divide")
	for _, at := range []struct {
		name string
		pc   uint64
	}{
		{"entry", fn},
		{"idivq", objdumpInsn(t, path, "fault_divide", "idiv")},
	} {
		t.Run(at.name, func(t *testing.T) {
			fr := &Frame{PC: testBase + at.pc, CFA: 0x7f1200100000}
			fr.Regs.Set(RegRDI, 42)
			fr.Regs.Set(RegRSI, 0)
			fr.Regs.Set(RegRAX, 42) // as fault_divide's first moves leave them at the idivq
			fr.Regs.Set(RegRCX, 0)
			fr.Regs.Set(RegRSP, 0x7f1200100000-8)
			s := p.Scope(testBase, fr, nil)
			if got := s.Function(); got != "fault_divide" {
				t.Fatalf("Function() = %q", got)
			}
			args, err := s.Args()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range args {
				got = append(got, a.Type+" "+a.String())
			}
			want := []string{"int64_t dividend = 42", "int64_t divisor = 0"}
			if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("Args() = %q, want %q", got, want)
			}
			locals, err := s.Locals()
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, a := range locals {
				got = append(got, a.String())
			}
			t.Logf("%q", got)
		})
	}
}
