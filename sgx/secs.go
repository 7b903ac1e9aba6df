package sgx

import (
	"encoding/binary"
	"math/bits"
)

// SECSSize is the size of the SECS: one page.
const SECSSize = 4096

// GPRSGXSize is the size of the GPRSGX region at the end of every SSA frame.
const GPRSGXSize = 184

// SECS is the SGX Enclave Control Structure as ECREATE reads it from its
// source page (SDM Vol. 3D "Layout of SGX Enclave Control Structure";
// SGX.md §1). Fields the processor keeps in the reserved area after
// ECREATE (EID, padding) and the CET fields of newer processors are not
// modelled: their bytes must be zero here.
type SECS struct {
	Size         uint64     // SIZE @0: bytes, a power of two >= 8192
	BaseAddr     uint64     // BASEADDR @8: aligned to Size
	SSAFrameSize uint32     // SSAFRAMESIZE @16: pages per SSA frame
	MiscSelect   MiscSelect // MISCSELECT @20
	Attributes   Attributes // ATTRIBUTES @48 (FLAGS, XFRM @56)
	MRENCLAVE    [32]byte   // @64
	MRSIGNER     [32]byte   // @128
	ConfigID     [64]byte   // CONFIGID @192
	ISVProdID    uint16     // ISVPRODID @256
	ISVSVN       uint16     // ISVSVN @258
	ConfigSVN    uint16     // CONFIGSVN @260
}

// SECS field offsets.
const (
	secsSize       = 0
	secsBase       = 8
	secsSSAFrame   = 16
	secsMisc       = 20
	secsAttributes = 48
	secsMRENCLAVE  = 64
	secsMRSIGNER   = 128
	secsConfigID   = 192
	secsISVProdID  = 256
	secsISVSVN     = 258
	secsConfigSVN  = 260
	secsEnd        = 262 // first byte of the trailing reserved area
)

// MarshalBinary returns the 4096-byte page, reserved bytes zero.
func (s *SECS) MarshalBinary() ([]byte, error) {
	b := make([]byte, SECSSize)
	le := binary.LittleEndian
	le.PutUint64(b[secsSize:], s.Size)
	le.PutUint64(b[secsBase:], s.BaseAddr)
	le.PutUint32(b[secsSSAFrame:], s.SSAFrameSize)
	le.PutUint32(b[secsMisc:], uint32(s.MiscSelect))
	s.Attributes.put(b[secsAttributes:])
	copy(b[secsMRENCLAVE:], s.MRENCLAVE[:])
	copy(b[secsMRSIGNER:], s.MRSIGNER[:])
	copy(b[secsConfigID:], s.ConfigID[:])
	le.PutUint16(b[secsISVProdID:], s.ISVProdID)
	le.PutUint16(b[secsISVSVN:], s.ISVSVN)
	le.PutUint16(b[secsConfigSVN:], s.ConfigSVN)
	return b, nil
}

// UnmarshalBinary decodes a 4096-byte SECS page. Every reserved byte
// (24..47, 96..127, 160..191, 262..4095) must be zero, as ECREATE demands.
func (s *SECS) UnmarshalBinary(b []byte) error {
	if len(b) != SECSSize {
		return sizeError("SECS", len(b), "4096")
	}
	for _, r := range [...]struct{ from, to int }{{24, 48}, {96, 128}, {160, 192}, {secsEnd, SECSSize}} {
		if err := checkZero("SECS", "RESERVED", b, r.from, r.to); err != nil {
			return err
		}
	}
	le := binary.LittleEndian
	*s = SECS{
		Size:         le.Uint64(b[secsSize:]),
		BaseAddr:     le.Uint64(b[secsBase:]),
		SSAFrameSize: le.Uint32(b[secsSSAFrame:]),
		MiscSelect:   MiscSelect(le.Uint32(b[secsMisc:])),
		Attributes:   getAttributes(b[secsAttributes:]),
		ISVProdID:    le.Uint16(b[secsISVProdID:]),
		ISVSVN:       le.Uint16(b[secsISVSVN:]),
		ConfigSVN:    le.Uint16(b[secsConfigSVN:]),
	}
	copy(s.MRENCLAVE[:], b[secsMRENCLAVE:])
	copy(s.MRSIGNER[:], b[secsMRSIGNER:])
	copy(s.ConfigID[:], b[secsConfigID:])
	return nil
}

// miscKnown is every MISCSELECT bit this package knows the size of.
const miscKnown = MiscEXINFO | MiscCPINFO

// canonical48 reports whether a is canonical with 48-bit linear addresses.
func canonical48(a uint64) bool { return uint64(int64(a<<16)>>16) == a }

// Validate applies ECREATE's checks that need no processor state (SDM
// ECREATE operation): XFRM bits 1:0 set and XFRM a legal XCR0 value;
// MISCSELECT only EXINFO/CPINFO; SSAFRAMESIZE > 0 and
// SSAFRAMESIZE*4096 >= XSaveSize(XFRM) + 184 + MiscSize; for a 64-bit
// enclave BASEADDR canonical (48-bit), for a 32-bit one below 4 GiB; SIZE a
// power of two >= 8192; BASEADDR aligned to SIZE; no reserved ATTRIBUTES bit
// and INIT clear; CONFIGID/CONFIGSVN zero unless KSS. It cannot check what
// CPUID enumerates (supported attributes, MISCSELECT and XFRM bits, maximum
// enclave size).
func (s *SECS) Validate() error {
	bad := func(field string, v uint64, rule string) error {
		return &RuleError{Struct: "SECS", Field: field, Value: v, Rule: rule}
	}
	if err := ValidXFRM(s.Attributes.XFRM); err != nil {
		return err
	}
	if s.MiscSelect&^miscKnown != 0 {
		return bad("MISCSELECT", uint64(s.MiscSelect), "unsupported bits")
	}
	if s.SSAFrameSize == 0 {
		return bad("SSAFRAMESIZE", 0, "must be at least 1")
	}
	need := uint64(XSaveSize(s.Attributes.XFRM) + GPRSGXSize + s.MiscSelect.MiscSize())
	if uint64(s.SSAFrameSize)*PageSize < need {
		return bad("SSAFRAMESIZE", uint64(s.SSAFrameSize), "frame smaller than XSAVE+GPRSGX+MISC ("+itoa(need)+" bytes)")
	}
	if s.Attributes.Flags&AttrMode64Bit != 0 {
		if !canonical48(s.BaseAddr) {
			return bad("BASEADDR", s.BaseAddr, "not canonical")
		}
	} else if s.BaseAddr>>32 != 0 {
		return bad("BASEADDR", s.BaseAddr, "32-bit enclave above 4 GiB")
	}
	if s.Size < 2*PageSize || bits.OnesCount64(s.Size) != 1 {
		return bad("SIZE", s.Size, "not a power of two >= 8192")
	}
	if s.BaseAddr&(s.Size-1) != 0 {
		return bad("BASEADDR", s.BaseAddr, "not aligned to SIZE")
	}
	if f := s.Attributes.Flags; f&^AttrKnown != 0 {
		return bad("ATTRIBUTES", uint64(f), "reserved bits set")
	}
	if s.Attributes.Flags&AttrInit != 0 {
		return bad("ATTRIBUTES", uint64(s.Attributes.Flags), "INIT set before EINIT")
	}
	if s.Attributes.Flags&AttrKSS == 0 && (s.ConfigID != [64]byte{} || s.ConfigSVN != 0) {
		return bad("CONFIGID", uint64(s.ConfigSVN), "CONFIGID/CONFIGSVN set without KSS")
	}
	return nil
}
