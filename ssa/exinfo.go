package ssa

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// ExInfoSize is the size of the EXINFO record of the MISC region.
const ExInfoSize = 16

// PFErrorCode is a page-fault error code as recorded in EXINFO.ERRCD
// (SDM Vol. 3A "Page-Fault Error Code"; SGX.md §1).
type PFErrorCode uint32

// Page-fault error-code bits.
const (
	PFPresent       PFErrorCode = 1 << 0  // P: protection violation (0: page not present)
	PFWrite         PFErrorCode = 1 << 1  // W/R: write access
	PFUser          PFErrorCode = 1 << 2  // U/S: user-mode access
	PFReserved      PFErrorCode = 1 << 3  // RSVD: reserved bit set in a paging-structure entry
	PFInstruction   PFErrorCode = 1 << 4  // I/D: instruction fetch
	PFProtectionKey PFErrorCode = 1 << 5  // PK: protection-key violation
	PFShadowStack   PFErrorCode = 1 << 6  // SS: shadow-stack access
	PFSGX           PFErrorCode = 1 << 15 // SGX: EPCM access check failed
)

var pfNames = []intName{
	{uint64(PFPresent), "P"}, {uint64(PFWrite), "W"}, {uint64(PFUser), "U"},
	{uint64(PFReserved), "RSVD"}, {uint64(PFInstruction), "ID"},
	{uint64(PFProtectionKey), "PK"}, {uint64(PFShadowStack), "SS"}, {uint64(PFSGX), "SGX"},
}

// String renders the bits, "P+W+U+SGX"; unknown bits as "+0x…", zero as "0".
func (c PFErrorCode) String() string { return flagName(uint64(c), pfNames) }

// Words describes the error code in words: "protection violation (page
// present), write access, user mode, EPCM access check failed (SGX)".
// P=0 reads "page not present"; the access is "instruction fetch" (I/D),
// "write access" (W) or else "read access"; U=0 reads "supervisor mode".
func (c PFErrorCode) Words() string {
	var w []string
	if c&PFPresent != 0 {
		w = append(w, "protection violation (page present)")
	} else {
		w = append(w, "page not present")
	}
	if c&PFInstruction != 0 {
		w = append(w, "instruction fetch")
	}
	if c&PFWrite != 0 {
		w = append(w, "write access")
	}
	if c&(PFInstruction|PFWrite) == 0 {
		w = append(w, "read access")
	}
	if c&PFUser != 0 {
		w = append(w, "user mode")
	} else {
		w = append(w, "supervisor mode")
	}
	if c&PFReserved != 0 {
		w = append(w, "reserved bit set in a paging-structure entry")
	}
	if c&PFProtectionKey != 0 {
		w = append(w, "protection-key violation")
	}
	if c&PFShadowStack != 0 {
		w = append(w, "shadow-stack access")
	}
	if c&PFSGX != 0 {
		w = append(w, "EPCM access check failed (SGX)")
	}
	known := PFPresent | PFWrite | PFUser | PFReserved | PFInstruction | PFProtectionKey | PFShadowStack | PFSGX
	if u := c &^ known; u != 0 {
		w = append(w, "unknown bits 0x"+strconv.FormatUint(uint64(u), 16))
	}
	return strings.Join(w, ", ")
}

// EXINFO field offsets.
const (
	OffMAddr      = 0
	OffErrCd      = 8
	OffExReserved = 12
)

// ExInfo is the EXINFO record written below GPRSGX when MISCSELECT.EXINFO
// is set and the AEX was a #PF or #GP (SDM Vol. 3D "EXINFO"). For #PF
// MADDR is the faulting linear address at full precision and ERRCD the
// page-fault error code; for #GP MADDR is 0 and ERRCD the #GP error code
// (not page-fault bits). Reserved is kept raw; an AEX writes it as 0.
type ExInfo struct {
	MAddr    uint64
	ErrCd    PFErrorCode
	Reserved uint32
}

// MarshalBinary encodes the 16-byte EXINFO record.
func (x *ExInfo) MarshalBinary() ([]byte, error) {
	b := make([]byte, ExInfoSize)
	x.put(b)
	return b, nil
}

// put encodes x into b, which is at least ExInfoSize bytes long.
func (x *ExInfo) put(b []byte) {
	binary.LittleEndian.PutUint64(b[OffMAddr:], x.MAddr)
	binary.LittleEndian.PutUint32(b[OffErrCd:], uint32(x.ErrCd))
	binary.LittleEndian.PutUint32(b[OffExReserved:], x.Reserved)
}

// UnmarshalBinary decodes exactly ExInfoSize bytes; any other length is a
// *DecodeError and leaves x unchanged.
func (x *ExInfo) UnmarshalBinary(b []byte) error {
	if len(b) != ExInfoSize {
		return lengthError("EXINFO", len(b), ExInfoSize)
	}
	*x = ExInfo{
		MAddr:    binary.LittleEndian.Uint64(b[OffMAddr:]),
		ErrCd:    PFErrorCode(binary.LittleEndian.Uint32(b[OffErrCd:])),
		Reserved: binary.LittleEndian.Uint32(b[OffExReserved:]),
	}
	return nil
}
