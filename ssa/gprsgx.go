package ssa

import (
	"encoding/binary"
	"fmt"
)

// GPRSGXSize is the size of the GPRSGX region, the last bytes of a frame.
const GPRSGXSize = 184

// GPRSGX field offsets (SDM Vol. 3D "Layout of GPRSGX Portion of the State
// Save Area", SGX.md §1).
const (
	OffRAX       = 0
	OffRCX       = 8
	OffRDX       = 16
	OffRBX       = 24
	OffRSP       = 32
	OffRBP       = 40
	OffRSI       = 48
	OffRDI       = 56
	OffR8        = 64 // R8..R15 follow, 8 bytes each
	OffRFLAGS    = 128
	OffRIP       = 136
	OffURSP      = 144
	OffURBP      = 152
	OffEXITINFO  = 160
	OffReserved  = 164 // 3 bytes
	OffAEXNotify = 167
	OffFSBase    = 168
	OffGSBase    = 176
)

// GPRSGX is the general-purpose register region of an SSA frame.
// Reserved and AEXNotify are kept as raw bytes so a decode/encode round
// trip reproduces the input exactly; only bit 0 of AEXNotify is defined.
type GPRSGX struct {
	RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RFLAGS, RIP                            uint64
	URSP, URBP                             uint64 // outside RSP/RBP saved by EENTER
	ExitInfo                               ExitInfo
	Reserved                               [3]byte // bytes 164..166, written as 0
	AEXNotify                              uint8   // byte 167, bit 0: AEX-Notify enabled for this frame
	FSBase, GSBase                         uint64
}

// gprFields lists the 8-byte fields in GPRSGX order with their offsets.
func (g *GPRSGX) gprFields() []struct {
	off int
	p   *uint64
} {
	return []struct {
		off int
		p   *uint64
	}{
		{OffRAX, &g.RAX}, {OffRCX, &g.RCX}, {OffRDX, &g.RDX}, {OffRBX, &g.RBX},
		{OffRSP, &g.RSP}, {OffRBP, &g.RBP}, {OffRSI, &g.RSI}, {OffRDI, &g.RDI},
		{OffR8, &g.R8}, {OffR8 + 8, &g.R9}, {OffR8 + 16, &g.R10}, {OffR8 + 24, &g.R11},
		{OffR8 + 32, &g.R12}, {OffR8 + 40, &g.R13}, {OffR8 + 48, &g.R14}, {OffR8 + 56, &g.R15},
		{OffRFLAGS, &g.RFLAGS}, {OffRIP, &g.RIP}, {OffURSP, &g.URSP}, {OffURBP, &g.URBP},
		{OffFSBase, &g.FSBase}, {OffGSBase, &g.GSBase},
	}
}

// MarshalBinary encodes the 184-byte GPRSGX region. An EXITINFO with
// reserved bits set is refused, since it would not decode.
func (g *GPRSGX) MarshalBinary() ([]byte, error) {
	b := make([]byte, GPRSGXSize)
	if err := g.put(b); err != nil {
		return nil, err
	}
	return b, nil
}

// put encodes g into b, which is GPRSGXSize bytes long.
func (g *GPRSGX) put(b []byte) error {
	if len(b) != GPRSGXSize {
		return lengthError("GPRSGX", len(b), GPRSGXSize)
	}
	if r := g.ExitInfo.Reserved(); r != 0 {
		return exitInfoError(g.ExitInfo)
	}
	for _, f := range g.gprFields() {
		binary.LittleEndian.PutUint64(b[f.off:], *f.p)
	}
	binary.LittleEndian.PutUint32(b[OffEXITINFO:], uint32(g.ExitInfo))
	copy(b[OffReserved:OffAEXNotify], g.Reserved[:])
	b[OffAEXNotify] = g.AEXNotify
	return nil
}

// UnmarshalBinary decodes exactly GPRSGXSize bytes. A wrong length or an
// EXITINFO with reserved bits set is a *DecodeError; g is left unchanged
// on error.
func (g *GPRSGX) UnmarshalBinary(b []byte) error {
	if len(b) != GPRSGXSize {
		return lengthError("GPRSGX", len(b), GPRSGXSize)
	}
	e := ExitInfo(binary.LittleEndian.Uint32(b[OffEXITINFO:]))
	if e.Reserved() != 0 {
		return exitInfoError(e)
	}
	var n GPRSGX
	for _, f := range n.gprFields() {
		*f.p = binary.LittleEndian.Uint64(b[f.off:])
	}
	n.ExitInfo = e
	copy(n.Reserved[:], b[OffReserved:OffAEXNotify])
	n.AEXNotify = b[OffAEXNotify]
	*g = n
	return nil
}

// exitInfoError reports reserved EXITINFO bits.
func exitInfoError(e ExitInfo) *DecodeError {
	return &DecodeError{Field: "GPRSGX.EXITINFO", Off: OffEXITINFO, Value: uint64(e),
		Msg: fmt.Sprintf("reserved bits set (%#x)", e.Reserved()), Err: ErrReserved}
}
