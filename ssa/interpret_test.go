package ssa

import (
	"reflect"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

func TestFaultRIP(t *testing.T) {
	tests := []struct {
		name       string
		e          ExitInfo
		insn, next uint64
		quirk      bool
		quirks     string
	}{
		{"INT3", MakeExitInfo(sgx.VectorBP, sgx.ExitSoftware), 0x1000, 0x1001, true, "INT3RIP"},
		{"#BP hardware", MakeExitInfo(sgx.VectorBP, sgx.ExitHardware), 0x1000, 0x1000, false, "0"},
		{"#BP not valid", MakeExitInfo(sgx.VectorBP, sgx.ExitSoftware) &^ ExitInfoValid, 0x1000, 0x1000, false, "0"},
		{"#PF", MakeExitInfo(sgx.VectorPF, sgx.ExitHardware), 0x1000, 0x1000, false, "0"},
		{"#UD", MakeExitInfo(sgx.VectorUD, sgx.ExitHardware), 0x1000, 0x1000, false, "0"},
		{"interrupt", 0, 0x1000, 0x1000, false, "0"},
	}
	for _, tt := range tests {
		f := &Frame{GPR: GPRSGX{RIP: 0x1000, ExitInfo: tt.e}}
		insn, next, quirk := f.FaultRIP()
		if insn != tt.insn || next != tt.next || quirk != tt.quirk {
			t.Errorf("%s: FaultRIP = %#x, %#x, %v; want %#x, %#x, %v", tt.name, insn, next, quirk, tt.insn, tt.next, tt.quirk)
		}
		if q := f.Quirks().String(); q != tt.quirks {
			t.Errorf("%s: Quirks = %s, want %s", tt.name, q, tt.quirks)
		}
	}
}

func TestSynthetic(t *testing.T) {
	f := &Frame{GPR: wantGPR}
	// Enclave RFLAGS 0x10ed7 = RF | OF DF IF | SF ZF | AF | PF | bit 1 | CF.
	f.GPR.RFLAGS = 0x10ed7
	got := Synthetic(0x7f0000010000, 0x401234, f, 0x7f00aaaa0000, 0x7f00bbbb0000, 0x346)
	want := Regs{
		RAX: 3, RBX: 0x7f0000010000, RCX: 0x401234, RIP: 0x401234,
		RSP: 0x7ffd00000100, RBP: 0x7ffd00000180,
		// Enclave RFLAGS minus CF PF AF ZF SF OF RF: bit1 IF DF; TF from outside (0x346 has TF).
		RFLAGS: 0x602 | 0x100,
		FSBase: 0x7f00aaaa0000, GSBase: 0x7f00bbbb0000,
	}
	if got != want {
		t.Errorf("Synthetic =\n%+v\nwant\n%+v", got, want)
	}
	// Outside TF clear: TF clear whatever the frame says.
	f.GPR.RFLAGS |= 0x100
	if r := Synthetic(1, 2, f, 0, 0, 0x202); r.RFLAGS != 0x602 {
		t.Errorf("RFLAGS with outside TF clear = %#x, want 0x602", r.RFLAGS)
	}
	// nil frame: no panic, RSP/RBP 0, flags from outside
	// (0x10bd7 = RF OF IF TF SF ZF AF PF bit 1 CF → TF IF bit 1).
	if r := Synthetic(1, 2, nil, 3, 4, 0x10bd7); r != (Regs{RAX: 3, RBX: 1, RCX: 2, RIP: 2, FSBase: 3, GSBase: 4, RFLAGS: 0x302}) {
		t.Errorf("nil frame: %+v", r)
	}
}

func TestCheckSynthetic(t *testing.T) {
	want := Synthetic(0x10000, 0x401234, &Frame{GPR: wantGPR}, 0x1111, 0x2222, 0x202)
	if ms := CheckSynthetic(want, want); ms != nil {
		t.Errorf("equal: %v", ms)
	}
	// Every register different: every name reported, in order.
	var got Regs
	gv := reflect.ValueOf(&got).Elem()
	for i := 0; i < gv.NumField(); i++ {
		gv.Field(i).SetUint(0xdead0000 + uint64(i))
	}
	ms := CheckSynthetic(got, want)
	if len(ms) != 20 {
		t.Fatalf("%d mismatches, want 20: %v", len(ms), ms)
	}
	names := RegNames()
	wv := reflect.ValueOf(want)
	for i, m := range ms {
		if m.Reg != names[i] || m.Got != 0xdead0000+uint64(i) || m.Want != wv.Field(i).Uint() {
			t.Errorf("mismatch %d = %+v, want %s got %#x want %#x", i, m, names[i], 0xdead0000+uint64(i), wv.Field(i).Uint())
		}
		if v, ok := got.Get(m.Reg); !ok || v != m.Got {
			t.Errorf("Get(%s) = %#x, %v", m.Reg, v, ok)
		}
	}
	wantNames := []string{"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP", "R8", "R9", "R10", "R11",
		"R12", "R13", "R14", "R15", "RIP", "RFLAGS", "FSBASE", "GSBASE"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("RegNames = %v", names)
	}
	// One register off, with ignores.
	got = want
	got.RSP += 8
	got.R11 = 0x246
	got.RFLAGS |= 1
	ms = CheckSynthetic(got, want, "r11", "FSBASE")
	wantMs := []Mismatch{{"RSP", want.RSP, want.RSP + 8}, {"RFLAGS", want.RFLAGS, want.RFLAGS | 1}}
	if !reflect.DeepEqual(ms, wantMs) {
		t.Errorf("mismatches = %v, want %v", ms, wantMs)
	}
	if s := ms[0].String(); s != "RSP: want 0x7ffd00000100, got 0x7ffd00000108" {
		t.Errorf("String = %q", s)
	}
	if _, ok := got.Get("XMM0"); ok {
		t.Errorf("Get(XMM0) ok")
	}
}

func TestRFlagsString(t *testing.T) {
	tests := []struct {
		f    RFlags
		want string
	}{
		{0x2, "[ ]"},
		{0x246, "[ PF ZF IF ]"},
		{0x10ed7, "[ CF PF AF ZF SF IF DF OF RF ]"},
		{0x3302, "[ TF IF IOPL=3 ]"},
		{0x1_0000_0202, "[ IF 0x100000000 ]"},
	}
	for _, tt := range tests {
		if g := tt.f.String(); g != tt.want {
			t.Errorf("RFlags(%#x) = %q, want %q", uint64(tt.f), g, tt.want)
		}
	}
}
