package ssa

import (
	"encoding/binary"
	"fmt"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// Offsets in the legacy region and the XSAVE header of a standard-format
// XSAVE area (SDM Vol. 1 §13.4, 64-bit FXSAVE64 layout).
const (
	OffFCW       = 0
	OffFSW       = 2
	OffFTW       = 4 // abridged tag word, 1 byte
	OffFOP       = 6
	OffFIP       = 8
	OffFDP       = 16
	OffMXCSR     = 24
	OffMXCSRMask = 28
	OffST        = 32  // ST0..ST7 / MM0..MM7, 16-byte slots, 10 bytes used
	OffXMM       = 160 // XMM0..XMM15, 16 bytes each
	OffXStateBV  = 512
	OffXCompBV   = 520
	// OffHeaderReserved starts the header bytes 23:16, which an AEX clears
	// and XRSTOR's standard form requires to be 0 (with XCOMP_BV, bytes
	// 23:8 of the header, SDM Vol. 1 §13.8.1).
	OffHeaderReserved = 528
)

// Initial values of x87 and SSE registers (SDM Vol. 1 §13.6).
const (
	FCWInit   = 0x037f // x87 control word in its initial configuration
	MXCSRInit = 0x1f80 // MXCSR after reset; XRSTOR never initialises MXCSR
)

// SupportedXFRM is the set of XFRM bits whose components this package lays
// out: x87, SSE, AVX, MPX (kept raw), AVX-512 and PKRU. Other user
// components (AMX TILECFG/TILEDATA, APX) are rejected as unsupported.
const SupportedXFRM uint64 = 1<<sgx.XFeatureX87 | 1<<sgx.XFeatureSSE | 1<<sgx.XFeatureAVX |
	1<<sgx.XFeatureBNDREGS | 1<<sgx.XFeatureBNDCSR | 1<<sgx.XFeatureOpmask |
	1<<sgx.XFeatureZMMHi256 | 1<<sgx.XFeatureHi16ZMM | 1<<sgx.XFeaturePKRU

// XSave is a decoded standard-format (non-compacted) XSAVE area.
//
// A component whose XSTATE_BV bit is 0 is in its initial configuration,
// whatever its bytes hold (SDM Vol. 1 §13.6, §13.8.1: XRSTOR initialises
// it): x87 has FCW 0x037F and every other field 0; SSE has XMM0..15 zero;
// AVX, AVX-512, MPX and PKRU state is zero. MXCSR and MXCSR_MASK are the
// exception: XRSTOR loads MXCSR from memory whenever SSE or AVX is
// requested, whatever XSTATE_BV says, so both are always decoded from
// their bytes. MPX bound registers are not interpreted, only preserved.
type XSave struct {
	FCW, FSW  uint16
	FTW       uint8 // abridged: bit i set = STi not empty
	FOP       uint16
	FIP, FDP  uint64
	MXCSR     uint32
	MXCSRMask uint32
	ST        [8][10]byte  // 80-bit x87 registers / MMX
	XMM       [16][16]byte // low 128 bits of vector registers 0..15
	XStateBV  uint64       // XSAVE header: components not in their initial state
	XCompBV   uint64       // XSAVE header: always 0 here (standard format)
	YMMHi     [16][16]byte // AVX: bits 255:128 of YMM0..15
	BNDRegs   [64]byte     // MPX BND0..3, raw
	BNDCSR    [64]byte     // MPX BNDCFGU/BNDSTATUS, raw
	Opmask    [8]uint64    // AVX-512 k0..k7
	ZMMHi256  [16][32]byte // AVX-512: bits 511:256 of ZMM0..15
	Hi16ZMM   [16][64]byte // AVX-512: ZMM16..31
	PKRU      uint32
}

// xcomponent decodes and encodes one extended component's bytes.
type xcomponent struct {
	feature int
	size    int // bytes used, at most the component's size in sgx.XSaveComponents
	dec     func(x *XSave, b []byte)
	enc     func(x *XSave, b []byte)
}

var xcomponents = []xcomponent{
	{sgx.XFeatureAVX, 256,
		func(x *XSave, b []byte) {
			for i := range x.YMMHi {
				copy(x.YMMHi[i][:], b[i*16:])
			}
		},
		func(x *XSave, b []byte) {
			for i := range x.YMMHi {
				copy(b[i*16:], x.YMMHi[i][:])
			}
		}},
	{sgx.XFeatureBNDREGS, 64,
		func(x *XSave, b []byte) { copy(x.BNDRegs[:], b) },
		func(x *XSave, b []byte) { copy(b, x.BNDRegs[:]) }},
	{sgx.XFeatureBNDCSR, 64,
		func(x *XSave, b []byte) { copy(x.BNDCSR[:], b) },
		func(x *XSave, b []byte) { copy(b, x.BNDCSR[:]) }},
	{sgx.XFeatureOpmask, 64,
		func(x *XSave, b []byte) {
			for i := range x.Opmask {
				x.Opmask[i] = binary.LittleEndian.Uint64(b[i*8:])
			}
		},
		func(x *XSave, b []byte) {
			for i := range x.Opmask {
				binary.LittleEndian.PutUint64(b[i*8:], x.Opmask[i])
			}
		}},
	{sgx.XFeatureZMMHi256, 512,
		func(x *XSave, b []byte) {
			for i := range x.ZMMHi256 {
				copy(x.ZMMHi256[i][:], b[i*32:])
			}
		},
		func(x *XSave, b []byte) {
			for i := range x.ZMMHi256 {
				copy(b[i*32:], x.ZMMHi256[i][:])
			}
		}},
	{sgx.XFeatureHi16ZMM, 1024,
		func(x *XSave, b []byte) {
			for i := range x.Hi16ZMM {
				copy(x.Hi16ZMM[i][:], b[i*64:])
			}
		},
		func(x *XSave, b []byte) {
			for i := range x.Hi16ZMM {
				copy(b[i*64:], x.Hi16ZMM[i][:])
			}
		}},
	{sgx.XFeaturePKRU, 4,
		func(x *XSave, b []byte) { x.PKRU = binary.LittleEndian.Uint32(b) },
		func(x *XSave, b []byte) { binary.LittleEndian.PutUint32(b, x.PKRU) }},
}

// componentOffset returns the standard-format offset of an extended
// component from sgx.XSaveComponents.
func componentOffset(feature int) (int, bool) {
	for _, c := range sgx.XSaveComponents {
		if c.Feature == feature {
			return c.Off, true
		}
	}
	return 0, false
}

// CheckXFRM reports whether xfrm is an XFRM this package can lay out: bits
// 1:0 set, as ECREATE requires, and no component outside SupportedXFRM.
func CheckXFRM(xfrm uint64) error {
	if xfrm&3 != 3 {
		return &DecodeError{Field: "XFRM", Off: -1, Value: xfrm,
			Msg: fmt.Sprintf("%#x: bits 1:0 (x87, SSE) must be set", xfrm), Err: ErrInvalid}
	}
	if u := xfrm &^ SupportedXFRM; u != 0 {
		return &DecodeError{Field: "XFRM", Off: -1, Value: xfrm,
			Msg: fmt.Sprintf("%#x: components %#x not supported", xfrm, u), Err: ErrUnsupported}
	}
	return nil
}

// DecodeXSave decodes the standard-format XSAVE area at the start of b for
// the components in xfrm. b must hold at least sgx.XSaveSize(xfrm) bytes.
// It is a *DecodeError when xfrm is not supported (CheckXFRM), b is short,
// XCOMP_BV is not 0 (bit 63: the compacted format, unsupported; any other
// bit: reserved in the standard format), header bytes 23:16 are not 0, or
// XSTATE_BV has a bit outside xfrm (ERESUME's XRSTOR would #GP). Header
// bytes 63:24 are ignored, as XRSTOR ignores them.
func DecodeXSave(b []byte, xfrm uint64) (*XSave, error) {
	if err := CheckXFRM(xfrm); err != nil {
		return nil, err
	}
	if n := sgx.XSaveSize(xfrm); len(b) < n {
		return nil, lengthError("XSAVE", len(b), n)
	}
	x := &XSave{
		XStateBV: binary.LittleEndian.Uint64(b[OffXStateBV:]),
		XCompBV:  binary.LittleEndian.Uint64(b[OffXCompBV:]),
	}
	if err := x.checkHeader(xfrm); err != nil {
		return nil, err
	}
	if r := binary.LittleEndian.Uint64(b[OffHeaderReserved:]); r != 0 {
		return nil, &DecodeError{Field: "XSAVE.header", Off: OffHeaderReserved, Value: r,
			Msg: fmt.Sprintf("reserved bytes 23:16 not zero (%#x)", r), Err: ErrReserved}
	}
	x.MXCSR = binary.LittleEndian.Uint32(b[OffMXCSR:])
	x.MXCSRMask = binary.LittleEndian.Uint32(b[OffMXCSRMask:])
	if x.XStateBV&(1<<sgx.XFeatureX87) != 0 {
		x.FCW = binary.LittleEndian.Uint16(b[OffFCW:])
		x.FSW = binary.LittleEndian.Uint16(b[OffFSW:])
		x.FTW = b[OffFTW]
		x.FOP = binary.LittleEndian.Uint16(b[OffFOP:])
		x.FIP = binary.LittleEndian.Uint64(b[OffFIP:])
		x.FDP = binary.LittleEndian.Uint64(b[OffFDP:])
		for i := range x.ST {
			copy(x.ST[i][:], b[OffST+16*i:])
		}
	} else {
		x.FCW = FCWInit
	}
	if x.XStateBV&(1<<sgx.XFeatureSSE) != 0 {
		for i := range x.XMM {
			copy(x.XMM[i][:], b[OffXMM+16*i:])
		}
	}
	for _, c := range xcomponents {
		if x.XStateBV&(1<<c.feature) == 0 {
			continue
		}
		off, ok := componentOffset(c.feature)
		if !ok || off+c.size > len(b) {
			return nil, lengthError("XSAVE", len(b), off+c.size)
		}
		c.dec(x, b[off:off+c.size])
	}
	return x, nil
}

// checkHeader validates XCOMP_BV and XSTATE_BV against xfrm.
func (x *XSave) checkHeader(xfrm uint64) error {
	if x.XCompBV&(1<<63) != 0 {
		return &DecodeError{Field: "XSAVE.XCOMP_BV", Off: OffXCompBV, Value: x.XCompBV,
			Msg: fmt.Sprintf("compacted format (%#x) not supported", x.XCompBV), Err: ErrUnsupported}
	}
	if x.XCompBV != 0 {
		return &DecodeError{Field: "XSAVE.XCOMP_BV", Off: OffXCompBV, Value: x.XCompBV,
			Msg: fmt.Sprintf("reserved bits set in the standard format (%#x)", x.XCompBV), Err: ErrReserved}
	}
	if u := x.XStateBV &^ xfrm; u != 0 {
		return &DecodeError{Field: "XSAVE.XSTATE_BV", Off: OffXStateBV, Value: x.XStateBV,
			Msg: fmt.Sprintf("%#x has components %#x outside XFRM %#x", x.XStateBV, u, xfrm), Err: ErrInvalid}
	}
	return nil
}

// Encode writes x into the standard-format XSAVE area at the start of b:
// the XSAVE header (XSTATE_BV, XCOMP_BV and header bytes 23:16 cleared, as
// an AEX does) and the registers of every component in xfrm, whatever
// XSTATE_BV says. Bytes the format leaves unused are not touched. b must
// hold sgx.XSaveSize(xfrm) bytes; x's header must pass DecodeXSave's
// checks, else the *DecodeError is returned and b is unchanged.
func (x *XSave) Encode(b []byte, xfrm uint64) error {
	if err := CheckXFRM(xfrm); err != nil {
		return err
	}
	if n := sgx.XSaveSize(xfrm); len(b) < n {
		return lengthError("XSAVE", len(b), n)
	}
	if err := x.checkHeader(xfrm); err != nil {
		return err
	}
	for _, c := range xcomponents {
		if off, ok := componentOffset(c.feature); xfrm&(1<<c.feature) != 0 && (!ok || off+c.size > len(b)) {
			return lengthError("XSAVE", len(b), off+c.size)
		}
	}
	binary.LittleEndian.PutUint16(b[OffFCW:], x.FCW)
	binary.LittleEndian.PutUint16(b[OffFSW:], x.FSW)
	b[OffFTW] = x.FTW
	binary.LittleEndian.PutUint16(b[OffFOP:], x.FOP)
	binary.LittleEndian.PutUint64(b[OffFIP:], x.FIP)
	binary.LittleEndian.PutUint64(b[OffFDP:], x.FDP)
	for i := range x.ST {
		copy(b[OffST+16*i:], x.ST[i][:])
	}
	binary.LittleEndian.PutUint32(b[OffMXCSR:], x.MXCSR)
	binary.LittleEndian.PutUint32(b[OffMXCSRMask:], x.MXCSRMask)
	for i := range x.XMM {
		copy(b[OffXMM+16*i:], x.XMM[i][:])
	}
	binary.LittleEndian.PutUint64(b[OffXStateBV:], x.XStateBV)
	binary.LittleEndian.PutUint64(b[OffXCompBV:], x.XCompBV)
	binary.LittleEndian.PutUint64(b[OffHeaderReserved:], 0)
	for _, c := range xcomponents {
		if xfrm&(1<<c.feature) != 0 {
			off, _ := componentOffset(c.feature)
			c.enc(x, b[off:off+c.size])
		}
	}
	return nil
}

// YMM returns YMMi (0..15) as 32 little-endian bytes: XMMi ‖ YMM_Hi128i.
// Any other i gives zeros.
func (x *XSave) YMM(i int) [32]byte {
	var r [32]byte
	if i >= 0 && i < 16 {
		copy(r[:16], x.XMM[i][:])
		copy(r[16:], x.YMMHi[i][:])
	}
	return r
}

// ZMM returns ZMMi (0..31) as 64 little-endian bytes: for i < 16,
// XMMi ‖ YMM_Hi128i ‖ ZMM_Hi256i; for 16..31, Hi16_ZMM. Any other i gives
// zeros.
func (x *XSave) ZMM(i int) [64]byte {
	var r [64]byte
	switch {
	case i >= 0 && i < 16:
		y := x.YMM(i)
		copy(r[:32], y[:])
		copy(r[32:], x.ZMMHi256[i][:])
	case i >= 16 && i < 32:
		r = x.Hi16ZMM[i-16]
	}
	return r
}
