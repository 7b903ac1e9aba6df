package ssa

import (
	"errors"
	"testing"
)

func TestDecodeXSaveErrors(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		xfrm  uint64
		err   error
		field string
		value uint64
	}{
		{"short for XFRM 3", make([]byte, 575), 3, ErrLength, "XSAVE", 575},
		{"short for XFRM 0xe7", make([]byte, 2687), 0xe7, ErrLength, "XSAVE", 2687},
		{"short for PKRU", make([]byte, 2695), 0x203, ErrLength, "XSAVE", 2695},
		{"XFRM 0", make([]byte, 576), 0, ErrInvalid, "XFRM", 0},
		{"XFRM AMX", make([]byte, 11008), 0x60003, ErrUnsupported, "XFRM", 0x60003},
		{"XFRM PT bit 8", make([]byte, 4096), 0x103, ErrUnsupported, "XFRM", 0x103},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := DecodeXSave(tt.b, tt.xfrm)
			var de *DecodeError
			if x != nil || !errors.As(err, &de) || !errors.Is(err, tt.err) || de.Field != tt.field || de.Value != tt.value {
				t.Errorf("DecodeXSave = %v, %#v; want %v %s %#x", x, err, tt.err, tt.field, tt.value)
			}
			if err := (&XSave{}).Encode(tt.b, tt.xfrm); !errors.Is(err, tt.err) {
				t.Errorf("Encode err = %v, want %v", err, tt.err)
			}
		})
	}
	// Exactly XSaveSize is enough.
	if _, err := DecodeXSave(make([]byte, 2688), 0xe7); err != nil {
		t.Errorf("2688 bytes for 0xe7: %v", err)
	}
}

func TestXSaveOutOfRangeRegisters(t *testing.T) {
	x := XSave{}
	x.XMM[0][0] = 1
	x.Hi16ZMM[15][63] = 2
	for _, i := range []int{-1, 16, 1 << 40} {
		if y := x.YMM(i); y != [32]byte{} {
			t.Errorf("YMM(%d) = % x", i, y)
		}
	}
	for _, i := range []int{-1, 32} {
		if z := x.ZMM(i); z != [64]byte{} {
			t.Errorf("ZMM(%d) = % x", i, z)
		}
	}
	if z := x.ZMM(31); z[63] != 2 {
		t.Errorf("ZMM(31)[63] = %d", z[63])
	}
	if y := x.YMM(0); y[0] != 1 {
		t.Errorf("YMM(0)[0] = %d", y[0])
	}
}
