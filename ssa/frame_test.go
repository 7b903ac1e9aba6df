package ssa

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

var le = binary.LittleEndian

// seq returns n bytes start, start+1, …
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// handFrame builds a one-page frame byte by byte at the SDM offsets,
// without this package's encoders: GPRSGX at 4096-184 = 3912, EXINFO at
// 3896, XSAVE at 0 with XSTATE_BV = xstateBV and the registers of every
// component in 0xE7 filled in.
func handFrame(xstateBV uint64) []byte {
	b := make([]byte, 4096)
	// Legacy region.
	le.PutUint16(b[0:], 0x037a)                                 // FCW
	le.PutUint16(b[2:], 0x3820)                                 // FSW
	b[4] = 0x81                                                 // FTW (abridged)
	le.PutUint16(b[6:], 0x07db)                                 // FOP
	le.PutUint64(b[8:], 0x7f0000001010)                         // FIP
	le.PutUint64(b[16:], 0x7f0000008000)                        // FDP
	le.PutUint32(b[24:], 0x1fa0)                                // MXCSR
	le.PutUint32(b[28:], 0x0002ffff)                            // MXCSR_MASK
	copy(b[32:], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}) // ST0 = 1.0
	copy(b[32+7*16:], seq(0x70, 10))                            // ST7
	copy(b[160:], seq(0x01, 16))                                // XMM0
	copy(b[160+15*16:], seq(0xf0, 16))                          // XMM15
	// Header.
	le.PutUint64(b[512:], xstateBV)
	// AVX YMM_Hi128 at 576.
	copy(b[576:], seq(0x21, 16))       // YMM0 high
	copy(b[576+15*16:], seq(0x31, 16)) // YMM15 high
	// Opmask at 1088.
	le.PutUint64(b[1088:], 0xffff)
	le.PutUint64(b[1088+7*8:], 0x8000000000000001)
	// ZMM_Hi256 at 1152.
	copy(b[1152:], seq(0x41, 32))
	copy(b[1152+15*32:], seq(0x61, 32))
	// Hi16_ZMM at 1664.
	copy(b[1664:], seq(0x81, 64))
	copy(b[1664+15*64:], seq(0xc1, 64))
	// EXINFO at 4096-200.
	le.PutUint64(b[3896:], 0x7f0000005008)
	le.PutUint32(b[3904:], 0x8007)
	// GPRSGX at 4096-184.
	g := b[3912:]
	for i := 0; i < 16; i++ {
		le.PutUint64(g[8*i:], 0xa000+uint64(i)) // RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15
	}
	le.PutUint64(g[128:], 0x10246)        // RFLAGS: RF IF ZF PF
	le.PutUint64(g[136:], 0x7f0000001234) // RIP
	le.PutUint64(g[144:], 0x7ffd00000100) // URSP
	le.PutUint64(g[152:], 0x7ffd00000180) // URBP
	le.PutUint32(g[160:], 0x8000030e)     // EXITINFO #PF hardware valid
	g[167] = 1                            // AEXNOTIFY
	le.PutUint64(g[168:], 0x7f0000020000) // FSBASE
	le.PutUint64(g[176:], 0x7f0000030000) // GSBASE
	return b
}

// wantGPR is the GPRSGX handFrame writes.
var wantGPR = GPRSGX{
	RAX: 0xa000, RCX: 0xa001, RDX: 0xa002, RBX: 0xa003, RSP: 0xa004, RBP: 0xa005, RSI: 0xa006, RDI: 0xa007,
	R8: 0xa008, R9: 0xa009, R10: 0xa00a, R11: 0xa00b, R12: 0xa00c, R13: 0xa00d, R14: 0xa00e, R15: 0xa00f,
	RFLAGS: 0x10246, RIP: 0x7f0000001234, URSP: 0x7ffd00000100, URBP: 0x7ffd00000180,
	ExitInfo: 0x8000030e, AEXNotify: 1, FSBase: 0x7f0000020000, GSBase: 0x7f0000030000,
}

func arr16(b []byte) (a [16]byte) { copy(a[:], b); return }
func arr32(b []byte) (a [32]byte) { copy(a[:], b); return }
func arr64(b []byte) (a [64]byte) { copy(a[:], b); return }

// wantLegacy is the x87/SSE state handFrame writes, with XSTATE_BV 3.
func wantLegacy() XSave {
	x := XSave{
		FCW: 0x037a, FSW: 0x3820, FTW: 0x81, FOP: 0x07db, FIP: 0x7f0000001010, FDP: 0x7f0000008000,
		MXCSR: 0x1fa0, MXCSRMask: 0x0002ffff, XStateBV: 3,
	}
	x.ST[0] = [10]byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}
	copy(x.ST[7][:], seq(0x70, 10))
	x.XMM[0] = arr16(seq(0x01, 16))
	x.XMM[15] = arr16(seq(0xf0, 16))
	return x
}

func TestDecodeFrameXFRM3(t *testing.T) {
	g := Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3}
	f, err := DecodeFrame(handFrame(3), g, 1)
	if err != nil {
		t.Fatal(err)
	}
	x := wantLegacy()
	want := &Frame{Index: 1, Addr: 0x7f0000004000, GPR: wantGPR,
		ExInfo: &ExInfo{MAddr: 0x7f0000005008, ErrCd: 0x8007}, XSave: &x}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", f, want)
	}
}

func TestDecodeFrameXFRME7(t *testing.T) {
	g := Geometry{Base: 0x7f0000000000, OSSA: 0x3000, FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 0xe7}
	b := handFrame(0xe7)
	f, err := DecodeFrame(b, g, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := wantLegacy()
	x.XStateBV = 0xe7
	x.YMMHi[0] = arr16(seq(0x21, 16))
	x.YMMHi[15] = arr16(seq(0x31, 16))
	x.Opmask[0] = 0xffff
	x.Opmask[7] = 0x8000000000000001
	x.ZMMHi256[0] = arr32(seq(0x41, 32))
	x.ZMMHi256[15] = arr32(seq(0x61, 32))
	x.Hi16ZMM[0] = arr64(seq(0x81, 64))
	x.Hi16ZMM[15] = arr64(seq(0xc1, 64))
	want := &Frame{Index: 0, Addr: 0x7f0000003000, GPR: wantGPR,
		ExInfo: &ExInfo{MAddr: 0x7f0000005008, ErrCd: 0x8007}, XSave: &x}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", f, want)
	}
	if y := f.XSave.YMM(15); !bytes.Equal(y[:], append(seq(0xf0, 16), seq(0x31, 16)...)) {
		t.Errorf("YMM15 = % x", y)
	}
	if z := f.XSave.ZMM(0); !bytes.Equal(z[:], bytes.Join([][]byte{seq(0x01, 16), seq(0x21, 16), seq(0x41, 32)}, nil)) {
		t.Errorf("ZMM0 = % x", z)
	}
	if z := f.XSave.ZMM(31); !bytes.Equal(z[:], seq(0xc1, 64)) {
		t.Errorf("ZMM31 = % x", z)
	}
	// Encoding the decoded frame into zeros reproduces the hand-built bytes.
	out := make([]byte, 4096)
	if err := f.Encode(out, g); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, b) {
		for i := range out {
			if out[i] != b[i] {
				t.Fatalf("encode differs first at offset %d: %#x, want %#x", i, out[i], b[i])
			}
		}
	}
}

// TestDecodeFrameInitState: components whose XSTATE_BV bit is 0 are in
// their initial configuration whatever their bytes hold, except MXCSR.
func TestDecodeFrameInitState(t *testing.T) {
	g := Geometry{FrameSize: 1, XFRM: 0xe7}
	f, err := DecodeFrame(handFrame(0), g, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := XSave{FCW: 0x037f, MXCSR: 0x1fa0, MXCSRMask: 0x0002ffff}
	if !reflect.DeepEqual(*f.XSave, want) {
		t.Errorf("init state\n%+v\nwant\n%+v", *f.XSave, want)
	}
	if f.ExInfo != nil {
		t.Errorf("ExInfo = %+v without MISCSELECT.EXINFO", f.ExInfo)
	}
	// Only SSE in use: x87 init, XMM decoded, AVX-512 init.
	f, err = DecodeFrame(handFrame(2), g, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.XSave.FCW != 0x037f || f.XSave.FIP != 0 || f.XSave.ST[0] != [10]byte{} ||
		f.XSave.XMM[0] != arr16(seq(1, 16)) || f.XSave.YMMHi[0] != [16]byte{} || f.XSave.Opmask[0] != 0 {
		t.Errorf("XSTATE_BV 2 decoded as %+v", *f.XSave)
	}
}

func TestGeometry(t *testing.T) {
	g := Geometry{Base: 0x7f0000000000, OSSA: 0x5000, FrameSize: 2, MiscSelect: sgx.MiscEXINFO, XFRM: 3}
	if g.FrameBytes() != 8192 || g.GPRSGXOffset() != 8008 || g.ExInfoOffset() != 7992 {
		t.Errorf("FrameBytes %d GPRSGXOffset %d ExInfoOffset %d", g.FrameBytes(), g.GPRSGXOffset(), g.ExInfoOffset())
	}
	for i, want := range []uint64{0x7f0000005000, 0x7f0000007000, 0x7f0000009000} {
		if got := g.FrameAddr(i); got != want {
			t.Errorf("FrameAddr(%d) = %#x, want %#x", i, got, want)
		}
	}
	if err := g.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestGeometryCheck(t *testing.T) {
	tests := []struct {
		name  string
		g     Geometry
		err   error
		field string
		value uint64
		text  string
	}{
		{"frame too small for XFRM", Geometry{FrameSize: 0, XFRM: 0xe7, MiscSelect: sgx.MiscEXINFO}, ErrInvalid, "SSAFRAMESIZE", 0,
			"ssa: SSAFRAMESIZE: 0 page(s) = 0 bytes, XFRM 0xe7 and MISCSELECT EXINFO need 2888"},
		{"XFRM without SSE", Geometry{FrameSize: 1, XFRM: 1}, ErrInvalid, "XFRM", 1,
			"ssa: XFRM: 0x1: bits 1:0 (x87, SSE) must be set"},
		{"XFRM with AMX", Geometry{FrameSize: 3, XFRM: 0x60003}, ErrUnsupported, "XFRM", 0x60003,
			"ssa: XFRM: 0x60003: components 0x60000 not supported"},
		{"unknown MISCSELECT", Geometry{FrameSize: 1, XFRM: 3, MiscSelect: 5}, ErrUnsupported, "MISCSELECT", 5,
			"ssa: MISCSELECT: EXINFO+0x4: bits 0x4 not supported"},
		{"OSSA unaligned", Geometry{FrameSize: 1, XFRM: 3, OSSA: 0x1008}, ErrInvalid, "OSSA", 0x1008,
			"ssa: OSSA: 0x1008 not page aligned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range []error{tt.g.Check(), decodeErr(tt.g)} {
				var de *DecodeError
				if !errors.As(err, &de) || !errors.Is(err, tt.err) || de.Field != tt.field || de.Value != tt.value {
					t.Fatalf("err = %#v, want %v %s %#x", err, tt.err, tt.field, tt.value)
				}
				if err.Error() != tt.text {
					t.Errorf("Error() = %q, want %q", err.Error(), tt.text)
				}
			}
		})
	}
}

// decodeErr decodes a zero frame of g's size (one page when g's is 0).
func decodeErr(g Geometry) error {
	n := max(g.FrameBytes(), 4096)
	_, err := DecodeFrame(make([]byte, n), g, 0)
	return err
}

func TestDecodeFrameErrors(t *testing.T) {
	g := Geometry{FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3}
	mod := func(xstate uint64, f func(b []byte)) []byte {
		b := handFrame(xstate)
		f(b)
		return b
	}
	tests := []struct {
		name  string
		b     []byte
		err   error
		field string
		off   int
		value uint64
		text  string
	}{
		{"truncated", handFrame(3)[:4095], ErrLength, "frame", 0, 4095, "ssa: frame at offset 0: length 4095, want 4096"},
		{"oversized", append(handFrame(3), 0), ErrLength, "frame", 0, 4097, "ssa: frame at offset 0: length 4097, want 4096"},
		{"EXITINFO reserved bits", mod(3, func(b []byte) { le.PutUint32(b[4072:], 0x8010030e) }), ErrReserved, "GPRSGX.EXITINFO", 4072, 0x8010030e,
			"ssa: GPRSGX.EXITINFO at offset 4072: reserved bits set (0x100000)"},
		{"XSTATE_BV outside XFRM", handFrame(7), ErrInvalid, "XSAVE.XSTATE_BV", 512, 7,
			"ssa: XSAVE.XSTATE_BV at offset 512: 0x7 has components 0x4 outside XFRM 0x3"},
		{"compacted XCOMP_BV", mod(3, func(b []byte) { le.PutUint64(b[520:], 1<<63|3) }), ErrUnsupported, "XSAVE.XCOMP_BV", 520, 1<<63 | 3,
			"ssa: XSAVE.XCOMP_BV at offset 520: compacted format (0x8000000000000003) not supported"},
		{"XCOMP_BV reserved", mod(3, func(b []byte) { le.PutUint64(b[520:], 2) }), ErrReserved, "XSAVE.XCOMP_BV", 520, 2,
			"ssa: XSAVE.XCOMP_BV at offset 520: reserved bits set in the standard format (0x2)"},
		{"header bytes 23:16", mod(3, func(b []byte) { b[535] = 1 }), ErrReserved, "XSAVE.header", 528, 1 << 56,
			"ssa: XSAVE.header at offset 528: reserved bytes 23:16 not zero (0x100000000000000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := DecodeFrame(tt.b, g, 0)
			var de *DecodeError
			if f != nil || !errors.As(err, &de) {
				t.Fatalf("DecodeFrame = %v, %v; want *DecodeError", f, err)
			}
			if !errors.Is(err, tt.err) || de.Field != tt.field || de.Off != tt.off || de.Value != tt.value {
				t.Errorf("got %+v, want %v field %s off %d value %#x", de, tt.err, tt.field, tt.off, tt.value)
			}
			if err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.text)
			}
		})
	}
	// Header bytes 63:24 are ignored by XRSTOR and by the decoder.
	if _, err := DecodeFrame(mod(3, func(b []byte) { b[540] = 0xff }), g, 0); err != nil {
		t.Errorf("header byte 28 set: %v", err)
	}
}

func TestFrameEncodeErrors(t *testing.T) {
	g := Geometry{FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3}
	good := func() *Frame {
		return &Frame{GPR: GPRSGX{ExitInfo: 0x80000306}, ExInfo: &ExInfo{}, XSave: &XSave{XStateBV: 3, FCW: FCWInit, MXCSR: MXCSRInit}}
	}
	tests := []struct {
		name string
		f    func() *Frame
		g    Geometry
		n    int
		err  error
	}{
		{"short buffer", good, g, 4095, ErrLength},
		{"no XSAVE", func() *Frame { f := good(); f.XSave = nil; return f }, g, 4096, ErrInvalid},
		{"EXINFO missing", func() *Frame { f := good(); f.ExInfo = nil; return f }, g, 4096, ErrInvalid},
		{"EXINFO unselected", good, Geometry{FrameSize: 1, XFRM: 3}, 4096, ErrInvalid},
		{"EXITINFO reserved", func() *Frame { f := good(); f.GPR.ExitInfo |= 0x1000; return f }, g, 4096, ErrReserved},
		{"XSTATE_BV outside XFRM", func() *Frame { f := good(); f.XSave.XStateBV = 0x200; return f }, g, 4096, ErrInvalid},
		{"compacted", func() *Frame { f := good(); f.XSave.XCompBV = 1 << 63; return f }, g, 4096, ErrUnsupported},
		{"bad geometry", good, Geometry{XFRM: 3}, 0, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Repeat([]byte{0x5a}, tt.n)
			err := tt.f().Encode(b, tt.g)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !bytes.Equal(b, bytes.Repeat([]byte{0x5a}, tt.n)) {
				t.Errorf("buffer changed on error")
			}
		})
	}
	b := make([]byte, 4096)
	if err := good().Encode(b, g); err != nil {
		t.Fatalf("good frame: %v", err)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, g := range []Geometry{
		{FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 3},
		{FrameSize: 1, MiscSelect: sgx.MiscEXINFO, XFRM: 0xe7},
		{FrameSize: 1, XFRM: 0x2ff},
		{FrameSize: 2, MiscSelect: sgx.MiscEXINFO | sgx.MiscCPINFO, XFRM: 0x2ff},
	} {
		b := make([]byte, g.FrameBytes())
		copy(b, handFrame(g.XFRM))
		copy(b[len(b)-200:], handFrame(3)[4096-200:])
		le.PutUint32(b[2688:], 0x55555554) // PKRU when present
		f, err := DecodeFrame(b, g, 2)
		if err != nil {
			t.Fatalf("%+v: %v", g, err)
		}
		out := make([]byte, len(b))
		if err := f.Encode(out, g); err != nil {
			t.Fatalf("%+v: encode: %v", g, err)
		}
		f2, err := DecodeFrame(out, g, 2)
		if err != nil {
			t.Fatalf("%+v: decode again: %v", g, err)
		}
		if !reflect.DeepEqual(f, f2) {
			t.Errorf("%+v: round trip differs\n%+v\n%+v", g, f, f2)
		}
		if g.XFRM&(1<<9) != 0 && f.XSave.PKRU != 0x55555554 {
			t.Errorf("PKRU = %#x", f.XSave.PKRU)
		}
	}
}
