package ssa

import (
	"fmt"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// pageSize is the SGX page size; SSAFRAMESIZE and OSSA count in it.
const pageSize = 4096

// SupportedMiscSelect is the set of MISCSELECT bits whose MISC region
// layout this package knows (EXINFO, CPINFO). CPINFO is located but not
// decoded.
const SupportedMiscSelect = sgx.MiscEXINFO | sgx.MiscCPINFO

// Geometry locates the SSA frames of one TCS. The fields come from the
// SECS (SSAFRAMESIZE, MISCSELECT, XFRM, BASEADDR) and the TCS (OSSA).
type Geometry struct {
	Base       uint64         // enclave base (SECS.BASEADDR)
	OSSA       uint64         // TCS.OSSA: offset of frame 0 from Base
	FrameSize  uint32         // SECS.SSAFRAMESIZE, in pages
	MiscSelect sgx.MiscSelect // SECS.MISCSELECT
	XFRM       uint64         // SECS.ATTRIBUTES.XFRM
}

// FrameBytes returns the size of one frame: FrameSize pages.
func (g Geometry) FrameBytes() int { return int(g.FrameSize) * pageSize }

// FrameAddr returns the linear address of frame i: Base + OSSA +
// i*FrameBytes (modulo 2^64).
func (g Geometry) FrameAddr(i int) uint64 {
	return g.Base + g.OSSA + uint64(i)*uint64(g.FrameBytes())
}

// GPRSGXOffset returns the offset of GPRSGX in a frame: its last 184 bytes.
func (g Geometry) GPRSGXOffset() int { return g.FrameBytes() - GPRSGXSize }

// ExInfoOffset returns the offset of EXINFO in a frame, directly below
// GPRSGX. Only meaningful when MiscSelect has EXINFO.
func (g Geometry) ExInfoOffset() int { return g.GPRSGXOffset() - ExInfoSize }

// Check reports, as a *DecodeError naming the field, a geometry whose
// frames cannot be decoded: OSSA not page aligned, an XFRM or MISCSELECT
// this package cannot lay out, or a frame smaller than
// sgx.XSaveSize(XFRM) + 184 + MISC size (the check ECREATE makes). Every
// XFRM in SupportedXFRM fits in one page, so with today's components only
// FrameSize 0 is too small.
func (g Geometry) Check() error {
	if g.OSSA%pageSize != 0 {
		return &DecodeError{Field: "OSSA", Off: -1, Value: g.OSSA,
			Msg: fmt.Sprintf("%#x not page aligned", g.OSSA), Err: ErrInvalid}
	}
	if err := CheckXFRM(g.XFRM); err != nil {
		return err
	}
	if u := g.MiscSelect &^ SupportedMiscSelect; u != 0 {
		return &DecodeError{Field: "MISCSELECT", Off: -1, Value: uint64(g.MiscSelect),
			Msg: fmt.Sprintf("%v: bits %#x not supported", g.MiscSelect, uint32(u)), Err: ErrUnsupported}
	}
	need := sgx.XSaveSize(g.XFRM) + GPRSGXSize + g.MiscSelect.MiscSize()
	if g.FrameBytes() < need {
		return &DecodeError{Field: "SSAFRAMESIZE", Off: -1, Value: uint64(g.FrameSize),
			Msg: fmt.Sprintf("%d page(s) = %d bytes, XFRM %#x and MISCSELECT %v need %d", g.FrameSize, g.FrameBytes(), g.XFRM, g.MiscSelect, need),
			Err: ErrInvalid}
	}
	return nil
}

// Frame is a decoded SSA frame.
type Frame struct {
	Index  int     // frame number 0..NSSA-1
	Addr   uint64  // linear address of the frame start
	GPR    GPRSGX  // the last 184 bytes
	ExInfo *ExInfo // nil when MISCSELECT lacks EXINFO
	XSave  *XSave  // the XSAVE area at the frame start
}

// DecodeFrame decodes frame index of geometry g from b, which holds the
// whole frame (exactly g.FrameBytes() bytes). A bad geometry or a bad
// field is a *DecodeError; its Off is relative to the frame start.
func DecodeFrame(b []byte, g Geometry, index int) (*Frame, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	if len(b) != g.FrameBytes() {
		return nil, lengthError("frame", len(b), g.FrameBytes())
	}
	f := &Frame{Index: index, Addr: g.FrameAddr(index)}
	off := g.GPRSGXOffset()
	if err := f.GPR.UnmarshalBinary(b[off:]); err != nil {
		return nil, shiftError(err, off)
	}
	if g.MiscSelect&sgx.MiscEXINFO != 0 {
		off := g.ExInfoOffset()
		f.ExInfo = new(ExInfo)
		if err := f.ExInfo.UnmarshalBinary(b[off : off+ExInfoSize]); err != nil {
			return nil, shiftError(err, off)
		}
	}
	x, err := DecodeXSave(b, g.XFRM)
	if err != nil {
		return nil, err
	}
	f.XSave = x
	return f, nil
}

// Encode writes f's GPRSGX, EXINFO (when g selects it) and XSAVE area into
// b, a whole frame of g.FrameBytes() bytes; other bytes are not touched.
// f.XSave must be set, and f.ExInfo must be set exactly when g.MiscSelect
// has EXINFO. On error b is unchanged.
func (f *Frame) Encode(b []byte, g Geometry) error {
	if err := g.Check(); err != nil {
		return err
	}
	if len(b) != g.FrameBytes() {
		return lengthError("frame", len(b), g.FrameBytes())
	}
	if f.XSave == nil {
		return fmt.Errorf("ssa: encode frame %d: no XSAVE state: %w", f.Index, ErrInvalid)
	}
	hasEx := g.MiscSelect&sgx.MiscEXINFO != 0
	if hasEx != (f.ExInfo != nil) {
		return fmt.Errorf("ssa: encode frame %d: EXINFO present=%v but MISCSELECT %v: %w",
			f.Index, f.ExInfo != nil, g.MiscSelect, ErrInvalid)
	}
	if r := f.GPR.ExitInfo.Reserved(); r != 0 {
		return shiftError(exitInfoError(f.GPR.ExitInfo), g.GPRSGXOffset())
	}
	if err := f.XSave.checkHeader(g.XFRM); err != nil {
		return err
	}
	if err := f.XSave.Encode(b, g.XFRM); err != nil {
		return err
	}
	if hasEx {
		f.ExInfo.put(b[g.ExInfoOffset():])
	}
	return f.GPR.put(b[g.GPRSGXOffset():])
}
