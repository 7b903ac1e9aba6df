package sgx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// span is the expected content of one field on the wire.
type span struct {
	name string
	off  int
	want []byte
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// pattern returns n bytes counting up from start, a distinct fill per field.
func pattern(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// checkLayout asserts that b has size bytes, that each span holds its
// bytes at its offset, and that every byte no span covers is zero.
func checkLayout(t *testing.T, b []byte, size int, spans []span) {
	t.Helper()
	if len(b) != size {
		t.Fatalf("len = %d, want %d", len(b), size)
	}
	covered := make([]bool, size)
	for _, s := range spans {
		got := b[s.off : s.off+len(s.want)]
		if !bytes.Equal(got, s.want) {
			t.Errorf("%s @%d = % x, want % x", s.name, s.off, got, s.want)
		}
		for i := range s.want {
			covered[s.off+i] = true
		}
	}
	for i, c := range covered {
		if !c && b[i] != 0 {
			t.Errorf("reserved byte %d = %#x, want 0", i, b[i])
		}
	}
}

func arr32(b []byte) (a [32]byte) { copy(a[:], b); return }
func arr64(b []byte) (a [64]byte) { copy(a[:], b); return }

func TestSECSLayout(t *testing.T) {
	s := SECS{
		Size: 0x0102030405060708, BaseAddr: 0x1112131415161718, SSAFrameSize: 0x21222324,
		MiscSelect: 0x31323334, Attributes: Attributes{Flags: 0x4142434445464748, XFRM: 0x5152535455565758},
		MRENCLAVE: arr32(pattern(0x60, 32)), MRSIGNER: arr32(pattern(0x80, 32)),
		ConfigID: arr64(pattern(0xa0, 64)), ISVProdID: 0xe1e2, ISVSVN: 0xe3e4, ConfigSVN: 0xe5e6,
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, b, 4096, []span{
		{"SIZE", 0, le64(s.Size)}, {"BASEADDR", 8, le64(s.BaseAddr)},
		{"SSAFRAMESIZE", 16, le32(s.SSAFrameSize)}, {"MISCSELECT", 20, le32(uint32(s.MiscSelect))},
		{"ATTRIBUTES.FLAGS", 48, le64(uint64(s.Attributes.Flags))}, {"XFRM", 56, le64(s.Attributes.XFRM)},
		{"MRENCLAVE", 64, pattern(0x60, 32)}, {"MRSIGNER", 128, pattern(0x80, 32)},
		{"CONFIGID", 192, pattern(0xa0, 64)}, {"ISVPRODID", 256, le16(0xe1e2)},
		{"ISVSVN", 258, le16(0xe3e4)}, {"CONFIGSVN", 260, le16(0xe5e6)},
	})
	var got SECS
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, s)
	}
}

func TestTCSLayout(t *testing.T) {
	tc := TCS{
		State: 0x0102030405060708, Flags: 0x1112131415161718, OSSA: 0x2122232425262728,
		CSSA: 0x31323334, NSSA: 0x35363738, OENTRY: 0x4142434445464748, AEP: 0x5152535455565758,
		OFSBASGX: 0x6162636465666768, OGSBASGX: 0x7172737475767778, FSLimit: 0x81828384, GSLimit: 0x85868788,
	}
	b, err := tc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, b, 4096, []span{
		{"STATE", 0, le64(tc.State)}, {"FLAGS", 8, le64(uint64(tc.Flags))}, {"OSSA", 16, le64(tc.OSSA)},
		{"CSSA", 24, le32(tc.CSSA)}, {"NSSA", 28, le32(tc.NSSA)}, {"OENTRY", 32, le64(tc.OENTRY)},
		{"AEP", 40, le64(tc.AEP)}, {"OFSBASGX", 48, le64(tc.OFSBASGX)}, {"OGSBASGX", 56, le64(tc.OGSBASGX)},
		{"FSLIMIT", 64, le32(tc.FSLimit)}, {"GSLIMIT", 68, le32(tc.GSLimit)},
	})
	for _, n := range []int{4096, 72, 100} {
		var got TCS
		if err := got.UnmarshalBinary(b[:n]); err != nil {
			t.Fatalf("UnmarshalBinary(%d bytes): %v", n, err)
		}
		if got != tc {
			t.Errorf("round trip from %d bytes:\n got %+v\nwant %+v", n, got, tc)
		}
	}
}

func TestSecinfoLayout(t *testing.T) {
	s := Secinfo{Flags: 0x0102030405060708}
	b, _ := s.MarshalBinary()
	checkLayout(t, b, 64, []span{{"FLAGS", 0, le64(uint64(s.Flags))}})
	var got Secinfo
	if err := got.UnmarshalBinary(b); err != nil || got != s {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}

func TestPageInfoLayout(t *testing.T) {
	p := PageInfo{LinAddr: 0x0102030405060708, SrcPge: 0x1112131415161718, Secinfo: 0x2122232425262728, SECS: 0x3132333435363738}
	b, _ := p.MarshalBinary()
	checkLayout(t, b, 32, []span{
		{"LINADDR", 0, le64(p.LinAddr)}, {"SRCPGE", 8, le64(p.SrcPge)},
		{"SECINFO", 16, le64(p.Secinfo)}, {"SECS", 24, le64(p.SECS)},
	})
	var got PageInfo
	if err := got.UnmarshalBinary(b); err != nil || got != p {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}

func TestAttributesLayout(t *testing.T) {
	a := Attributes{Flags: 0x0102030405060708, XFRM: 0x1112131415161718}
	b, _ := a.MarshalBinary()
	checkLayout(t, b, 16, []span{{"FLAGS", 0, le64(uint64(a.Flags))}, {"XFRM", 8, le64(a.XFRM)}})
	var got Attributes
	if err := got.UnmarshalBinary(b); err != nil || got != a {
		t.Errorf("round trip = %+v, %v", got, err)
	}
}

// TestDecodeErrors checks the size and reserved-byte errors of every
// fixed-layout decoder: the sentinel, the field and the offset.
func TestDecodeErrors(t *testing.T) {
	withByte := func(n, off int) []byte { b := make([]byte, n); b[off] = 0x5a; return b }
	tests := []struct {
		name  string
		dec   func([]byte) error
		in    []byte
		err   error
		field string
		off   int
	}{
		{"SECS short", new(SECS).UnmarshalBinary, make([]byte, 4095), ErrSize, "", 4095},
		{"SECS reserved 24", new(SECS).UnmarshalBinary, withByte(4096, 24), ErrReserved, "RESERVED", 24},
		{"SECS reserved 47", new(SECS).UnmarshalBinary, withByte(4096, 47), ErrReserved, "RESERVED", 47},
		{"SECS reserved 100", new(SECS).UnmarshalBinary, withByte(4096, 100), ErrReserved, "RESERVED", 100},
		{"SECS reserved 170", new(SECS).UnmarshalBinary, withByte(4096, 170), ErrReserved, "RESERVED", 170},
		{"SECS reserved 262", new(SECS).UnmarshalBinary, withByte(4096, 262), ErrReserved, "RESERVED", 262},
		{"SECS reserved 4095", new(SECS).UnmarshalBinary, withByte(4096, 4095), ErrReserved, "RESERVED", 4095},
		{"TCS short", new(TCS).UnmarshalBinary, make([]byte, 71), ErrSize, "", 71},
		{"TCS long", new(TCS).UnmarshalBinary, make([]byte, 4097), ErrSize, "", 4097},
		{"TCS reserved 72", new(TCS).UnmarshalBinary, withByte(4096, 72), ErrReserved, "RESERVED", 72},
		{"TCS reserved 4095", new(TCS).UnmarshalBinary, withByte(4096, 4095), ErrReserved, "RESERVED", 4095},
		{"SECINFO short", new(Secinfo).UnmarshalBinary, make([]byte, 48), ErrSize, "", 48},
		{"SECINFO reserved 8", new(Secinfo).UnmarshalBinary, withByte(64, 8), ErrReserved, "RESERVED", 8},
		{"SECINFO reserved 63", new(Secinfo).UnmarshalBinary, withByte(64, 63), ErrReserved, "RESERVED", 63},
		{"PAGEINFO long", new(PageInfo).UnmarshalBinary, make([]byte, 33), ErrSize, "", 33},
		{"ATTRIBUTES short", new(Attributes).UnmarshalBinary, make([]byte, 8), ErrSize, "", 8},
	}
	for _, tt := range tests {
		err := tt.dec(tt.in)
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v, want *DecodeError", tt.name, err)
			continue
		}
		if !errors.Is(err, tt.err) || de.Field != tt.field || de.Off != tt.off {
			t.Errorf("%s: got %v (field %q off %d), want %v field %q off %d", tt.name, err, de.Field, de.Off, tt.err, tt.field, tt.off)
		}
	}
}
