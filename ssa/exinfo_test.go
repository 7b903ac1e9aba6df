package ssa

import (
	"bytes"
	"errors"
	"testing"
)

func TestPFErrorCode(t *testing.T) {
	tests := []struct {
		c     PFErrorCode
		str   string
		words string
	}{
		{0x4, "U", "page not present, read access, user mode"},
		{0x6, "W+U", "page not present, write access, user mode"},
		{0x7, "P+W+U", "protection violation (page present), write access, user mode"},
		{0x15, "P+U+ID", "protection violation (page present), instruction fetch, user mode"},
		{0x8005, "P+U+SGX", "protection violation (page present), read access, user mode, EPCM access check failed (SGX)"},
		{0x8007, "P+W+U+SGX", "protection violation (page present), write access, user mode, EPCM access check failed (SGX)"},
		{0, "0", "page not present, read access, supervisor mode"},
		{0x69, "P+RSVD+PK+SS", "protection violation (page present), read access, supervisor mode, reserved bit set in a paging-structure entry, protection-key violation, shadow-stack access"},
		{0x80000007, "P+W+U+0x80000000", "protection violation (page present), write access, user mode, unknown bits 0x80000000"},
	}
	for _, tt := range tests {
		if g := tt.c.String(); g != tt.str {
			t.Errorf("%#x.String() = %q, want %q", uint32(tt.c), g, tt.str)
		}
		if g := tt.c.Words(); g != tt.words {
			t.Errorf("%#x.Words() = %q, want %q", uint32(tt.c), g, tt.words)
		}
	}
}

func TestExInfo(t *testing.T) {
	x := ExInfo{MAddr: 0x7f1234567abc, ErrCd: 0x8007, Reserved: 0xdeadbeef}
	b, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xbc, 0x7a, 0x56, 0x34, 0x12, 0x7f, 0, 0, 0x07, 0x80, 0, 0, 0xef, 0xbe, 0xad, 0xde}
	if !bytes.Equal(b, want) {
		t.Errorf("bytes = % x, want % x", b, want)
	}
	var back ExInfo
	if err := back.UnmarshalBinary(b); err != nil || back != x {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	for _, n := range []int{0, 15, 17} {
		err := back.UnmarshalBinary(make([]byte, n))
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrLength) || de.Field != "EXINFO" || de.Value != uint64(n) {
			t.Errorf("len %d: err = %v", n, err)
		}
		if back != x {
			t.Errorf("len %d: receiver changed", n)
		}
	}
}
