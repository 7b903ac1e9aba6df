package ssa

import (
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

func TestMakeExitInfo(t *testing.T) {
	tests := []struct {
		v    sgx.Vector
		typ  sgx.ExitType
		want ExitInfo
	}{
		{sgx.VectorPF, sgx.ExitHardware, 0x8000030e},
		{sgx.VectorGP, sgx.ExitHardware, 0x8000030d},
		{sgx.VectorBP, sgx.ExitSoftware, 0x80000603},
		{sgx.VectorUD, sgx.ExitHardware, 0x80000306},
		{sgx.VectorDE, sgx.ExitHardware, 0x80000300},
	}
	for _, tt := range tests {
		got := MakeExitInfo(tt.v, tt.typ)
		if got != tt.want {
			t.Errorf("MakeExitInfo(%v, %v) = %#x, want %#x", tt.v, tt.typ, uint32(got), uint32(tt.want))
		}
		if got.Vector() != tt.v || got.Type() != tt.typ || !got.Valid() || got.Reserved() != 0 {
			t.Errorf("%#x decodes to %v %v valid=%v reserved=%#x", uint32(got), got.Vector(), got.Type(), got.Valid(), got.Reserved())
		}
	}
}

func TestExitInfoFields(t *testing.T) {
	tests := []struct {
		e        ExitInfo
		vec      sgx.Vector
		typ      sgx.ExitType
		valid    bool
		reserved uint32
		str      string
		words    string
	}{
		{0x8000030e, sgx.VectorPF, sgx.ExitHardware, true, 0, "#PF hardware (valid)", "#PF page fault, hardware exception (valid)"},
		{0x80000603, sgx.VectorBP, sgx.ExitSoftware, true, 0, "#BP software (valid)", "#BP breakpoint, software exception (valid)"},
		{0, 0, 0, false, 0, "invalid (interrupt or unreported event)", "invalid (interrupt or unreported event)"},
		{0x0000030e, sgx.VectorPF, sgx.ExitHardware, false, 0, "invalid (interrupt or unreported event) vector 14 type 3", "invalid (interrupt or unreported event) vector 14 type 3"},
		{0x8000f80e | 3<<8, sgx.VectorPF, sgx.ExitHardware, true, 0xf800, "#PF hardware (valid) reserved 0xf800", "#PF page fault, hardware exception (valid) reserved 0xf800"},
		{0x7ffff800, 0, 0, false, 0x7ffff800, "invalid (interrupt or unreported event) reserved 0x7ffff800", "invalid (interrupt or unreported event) reserved 0x7ffff800"},
		{0x80000563, sgx.Vector(0x63), sgx.ExitType(5), true, 0, "Vector(99) ExitType(5) (valid)", "Vector(99) vector(99), ExitType(5) exception (valid)"},
	}
	for _, tt := range tests {
		if g := tt.e.Vector(); g != tt.vec {
			t.Errorf("%#x.Vector() = %v, want %v", uint32(tt.e), g, tt.vec)
		}
		if g := tt.e.Type(); g != tt.typ {
			t.Errorf("%#x.Type() = %v, want %v", uint32(tt.e), g, tt.typ)
		}
		if g := tt.e.Valid(); g != tt.valid {
			t.Errorf("%#x.Valid() = %v, want %v", uint32(tt.e), g, tt.valid)
		}
		if g := tt.e.Reserved(); g != tt.reserved {
			t.Errorf("%#x.Reserved() = %#x, want %#x", uint32(tt.e), g, tt.reserved)
		}
		if g := tt.e.String(); g != tt.str {
			t.Errorf("%#x.String() = %q, want %q", uint32(tt.e), g, tt.str)
		}
		if g := tt.e.Words(); g != tt.words {
			t.Errorf("%#x.Words() = %q, want %q", uint32(tt.e), g, tt.words)
		}
	}
}
