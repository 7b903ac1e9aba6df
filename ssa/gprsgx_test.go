package ssa

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// distinctGPRSGX has a different recognisable value in every field: field
// at offset o holds 0x1100_0000_0000_0000 + o, so the bytes show where each
// field went.
func distinctGPRSGX() GPRSGX {
	v := func(off int) uint64 { return 0x1100000000000000 + uint64(off) }
	return GPRSGX{
		RAX: v(0), RCX: v(8), RDX: v(16), RBX: v(24), RSP: v(32), RBP: v(40), RSI: v(48), RDI: v(56),
		R8: v(64), R9: v(72), R10: v(80), R11: v(88), R12: v(96), R13: v(104), R14: v(112), R15: v(120),
		RFLAGS: v(128), RIP: v(136), URSP: v(144), URBP: v(152),
		ExitInfo: 0x8000030e, Reserved: [3]byte{0xa4, 0xa5, 0xa6}, AEXNotify: 0x01,
		FSBase: v(168), GSBase: v(176),
	}
}

func TestGPRSGXOffsets(t *testing.T) {
	g := distinctGPRSGX()
	b, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 184 {
		t.Fatalf("len = %d, want 184", len(b))
	}
	u64 := []struct {
		name string
		off  int
	}{
		{"RAX", 0}, {"RCX", 8}, {"RDX", 16}, {"RBX", 24}, {"RSP", 32}, {"RBP", 40}, {"RSI", 48}, {"RDI", 56},
		{"R8", 64}, {"R9", 72}, {"R10", 80}, {"R11", 88}, {"R12", 96}, {"R13", 104}, {"R14", 112}, {"R15", 120},
		{"RFLAGS", 128}, {"RIP", 136}, {"URSP", 144}, {"URBP", 152}, {"FSBASE", 168}, {"GSBASE", 176},
	}
	for _, f := range u64 {
		if got, want := binary.LittleEndian.Uint64(b[f.off:]), 0x1100000000000000+uint64(f.off); got != want {
			t.Errorf("%s at %d = %#x, want %#x", f.name, f.off, got, want)
		}
	}
	if got := binary.LittleEndian.Uint32(b[160:]); got != 0x8000030e {
		t.Errorf("EXITINFO at 160 = %#x, want 0x8000030e", got)
	}
	if !bytes.Equal(b[164:167], []byte{0xa4, 0xa5, 0xa6}) {
		t.Errorf("reserved 164..166 = % x", b[164:167])
	}
	if b[167] != 1 {
		t.Errorf("AEXNOTIFY at 167 = %#x, want 1", b[167])
	}
	var back GPRSGX
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back != g {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, g)
	}
}

func TestGPRSGXErrors(t *testing.T) {
	good, _ := (&GPRSGX{ExitInfo: 0x80000306}).MarshalBinary()
	reserved := bytes.Clone(good)
	binary.LittleEndian.PutUint32(reserved[160:], 0x80000306|0x800)
	tests := []struct {
		name  string
		b     []byte
		err   error
		field string
		off   int
		value uint64
		text  string
	}{
		{"truncated", good[:183], ErrLength, "GPRSGX", 0, 183, "ssa: GPRSGX at offset 0: length 183, want 184"},
		{"oversized", append(bytes.Clone(good), 0), ErrLength, "GPRSGX", 0, 185, "ssa: GPRSGX at offset 0: length 185, want 184"},
		{"empty", nil, ErrLength, "GPRSGX", 0, 0, "ssa: GPRSGX at offset 0: length 0, want 184"},
		{"exitinfo reserved", reserved, ErrReserved, "GPRSGX.EXITINFO", 160, 0x80000b06, "ssa: GPRSGX.EXITINFO at offset 160: reserved bits set (0x800)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := distinctGPRSGX()
			before := g
			err := g.UnmarshalBinary(tt.b)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if !errors.Is(err, tt.err) || de.Field != tt.field || de.Off != tt.off || de.Value != tt.value {
				t.Errorf("got %+v, want %v field %s off %d value %#x", de, tt.err, tt.field, tt.off, tt.value)
			}
			if err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.text)
			}
			if g != before {
				t.Errorf("receiver changed on error")
			}
		})
	}
	if _, err := (&GPRSGX{ExitInfo: 0x40000000}).MarshalBinary(); !errors.Is(err, ErrReserved) {
		t.Errorf("Marshal with reserved EXITINFO bits: err = %v, want ErrReserved", err)
	}
}
