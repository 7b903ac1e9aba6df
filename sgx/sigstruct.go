package sgx

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
)

// SigStructSize is the size of SIGSTRUCT.
const SigStructSize = 1808

// The architectural constants of SIGSTRUCT (SDM Vol. 3D "Layout of Enclave
// Signature Structure"; SGX.md §1).
var (
	sigStructHeader  = [16]byte{0x06, 0, 0, 0, 0xE1, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0}
	sigStructHeader2 = [16]byte{0x01, 0x01, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 0x01, 0, 0, 0}
)

// SIGSTRUCT vendors and the only exponent EINIT accepts.
const (
	VendorNonIntel  = 0
	VendorIntel     = 0x8086
	SigStructRSAExp = 3
)

// SigStruct is the enclave signature structure EINIT checks. Multi-byte
// numbers (Modulus, Signature, Q1, Q2) are stored little-endian, as on the
// wire.
type SigStruct struct {
	Header            [16]byte   // HEADER @0, sigStructHeader
	Vendor            uint32     // VENDOR @16, 0 or 0x8086
	Date              uint32     // DATE @20, yyyymmdd in BCD (0x20261124)
	Header2           [16]byte   // HEADER2 @24, sigStructHeader2
	SWDefined         uint32     // SWDEFINED @40
	Modulus           [384]byte  // MODULUS @128
	Exponent          uint32     // EXPONENT @512, 3
	Signature         [384]byte  // SIGNATURE @516
	MiscSelect        MiscSelect // MISCSELECT @900
	MiscMask          uint32     // MISCMASK @904
	CETAttributes     uint8      // CET_ATTRIBUTES @908
	CETAttributesMask uint8      // CET_ATTRIBUTES_MASK @909
	ISVFamilyID       [16]byte   // ISVFAMILYID @912
	Attributes        Attributes // ATTRIBUTES @928
	AttributeMask     Attributes // ATTRIBUTEMASK @944
	EnclaveHash       [32]byte   // ENCLAVEHASH @960, the expected MRENCLAVE
	ISVExtProdID      [16]byte   // ISVEXTPRODID @1008
	ISVProdID         uint16     // ISVPRODID @1024
	ISVSVN            uint16     // ISVSVN @1026
	Q1                [384]byte  // Q1 @1040
	Q2                [384]byte  // Q2 @1424
}

// SIGSTRUCT field offsets.
const (
	sigHeader      = 0
	sigVendor      = 16
	sigDate        = 20
	sigHeader2     = 24
	sigSWDefined   = 40
	sigModulus     = 128
	sigExponent    = 512
	sigSignature   = 516
	sigMiscSelect  = 900
	sigMiscMask    = 904
	sigCETAttr     = 908
	sigCETMask     = 909
	sigFamilyID    = 912
	sigAttributes  = 928
	sigAttrMask    = 944
	sigEnclaveHash = 960
	sigExtProdID   = 1008
	sigISVProdID   = 1024
	sigISVSVN      = 1026
	sigQ1          = 1040
	sigQ2          = 1424
)

// sigReserved lists SIGSTRUCT's reserved ranges, which must be zero.
var sigReserved = [...]struct{ from, to int }{{44, 128}, {910, 912}, {992, 1008}, {1028, 1040}}

// NewSigStruct returns a SIGSTRUCT with HEADER, HEADER2, VENDOR 0 and
// EXPONENT 3 filled in, everything else zero.
func NewSigStruct() *SigStruct {
	return &SigStruct{Header: sigStructHeader, Header2: sigStructHeader2, Vendor: VendorNonIntel, Exponent: SigStructRSAExp}
}

// MarshalBinary returns the 1808 wire bytes, reserved bytes zero.
func (s *SigStruct) MarshalBinary() ([]byte, error) {
	b := make([]byte, SigStructSize)
	le := binary.LittleEndian
	copy(b[sigHeader:], s.Header[:])
	le.PutUint32(b[sigVendor:], s.Vendor)
	le.PutUint32(b[sigDate:], s.Date)
	copy(b[sigHeader2:], s.Header2[:])
	le.PutUint32(b[sigSWDefined:], s.SWDefined)
	copy(b[sigModulus:], s.Modulus[:])
	le.PutUint32(b[sigExponent:], s.Exponent)
	copy(b[sigSignature:], s.Signature[:])
	le.PutUint32(b[sigMiscSelect:], uint32(s.MiscSelect))
	le.PutUint32(b[sigMiscMask:], s.MiscMask)
	b[sigCETAttr] = s.CETAttributes
	b[sigCETMask] = s.CETAttributesMask
	copy(b[sigFamilyID:], s.ISVFamilyID[:])
	s.Attributes.put(b[sigAttributes:])
	s.AttributeMask.put(b[sigAttrMask:])
	copy(b[sigEnclaveHash:], s.EnclaveHash[:])
	copy(b[sigExtProdID:], s.ISVExtProdID[:])
	le.PutUint16(b[sigISVProdID:], s.ISVProdID)
	le.PutUint16(b[sigISVSVN:], s.ISVSVN)
	copy(b[sigQ1:], s.Q1[:])
	copy(b[sigQ2:], s.Q2[:])
	return b, nil
}

// UnmarshalBinary decodes exactly 1808 bytes. HEADER, VENDOR, HEADER2 and
// EXPONENT must hold their architectural values (ErrConstant) and the
// reserved bytes must be zero (ErrReserved), the checks EINIT makes first;
// the error is a *DecodeError naming the field, offset and value.
func (s *SigStruct) UnmarshalBinary(b []byte) error {
	if len(b) != SigStructSize {
		return sizeError("SIGSTRUCT", len(b), "1808")
	}
	le := binary.LittleEndian
	var t SigStruct
	copy(t.Header[:], b[sigHeader:])
	t.Vendor = le.Uint32(b[sigVendor:])
	copy(t.Header2[:], b[sigHeader2:])
	t.Exponent = le.Uint32(b[sigExponent:])
	if err := t.checkConstants(); err != nil {
		return err
	}
	for _, r := range sigReserved {
		if err := checkZero("SIGSTRUCT", "RESERVED", b, r.from, r.to); err != nil {
			return err
		}
	}
	t.Date = le.Uint32(b[sigDate:])
	t.SWDefined = le.Uint32(b[sigSWDefined:])
	copy(t.Modulus[:], b[sigModulus:])
	copy(t.Signature[:], b[sigSignature:])
	t.MiscSelect = MiscSelect(le.Uint32(b[sigMiscSelect:]))
	t.MiscMask = le.Uint32(b[sigMiscMask:])
	t.CETAttributes = b[sigCETAttr]
	t.CETAttributesMask = b[sigCETMask]
	copy(t.ISVFamilyID[:], b[sigFamilyID:])
	t.Attributes = getAttributes(b[sigAttributes:])
	t.AttributeMask = getAttributes(b[sigAttrMask:])
	copy(t.EnclaveHash[:], b[sigEnclaveHash:])
	copy(t.ISVExtProdID[:], b[sigExtProdID:])
	t.ISVProdID = le.Uint16(b[sigISVProdID:])
	t.ISVSVN = le.Uint16(b[sigISVSVN:])
	copy(t.Q1[:], b[sigQ1:])
	copy(t.Q2[:], b[sigQ2:])
	*s = t
	return nil
}

// checkConstants returns a *DecodeError for the first of HEADER, VENDOR,
// HEADER2, EXPONENT that does not hold its architectural value.
func (s *SigStruct) checkConstants() *DecodeError {
	if i := firstDiff(s.Header[:], sigStructHeader[:]); i >= 0 {
		return &DecodeError{Struct: "SIGSTRUCT", Field: "HEADER", Off: sigHeader + i, Value: uint64(s.Header[i]),
			Msg: "not the architectural header 06000000E10000000000010000000000", Err: ErrConstant}
	}
	if s.Vendor != VendorNonIntel && s.Vendor != VendorIntel {
		return &DecodeError{Struct: "SIGSTRUCT", Field: "VENDOR", Off: sigVendor, Value: uint64(s.Vendor),
			Msg: "must be 0 or 0x8086", Err: ErrConstant}
	}
	if i := firstDiff(s.Header2[:], sigStructHeader2[:]); i >= 0 {
		return &DecodeError{Struct: "SIGSTRUCT", Field: "HEADER2", Off: sigHeader2 + i, Value: uint64(s.Header2[i]),
			Msg: "not the architectural header 01010000600000006000000001000000", Err: ErrConstant}
	}
	if s.Exponent != SigStructRSAExp {
		return &DecodeError{Struct: "SIGSTRUCT", Field: "EXPONENT", Off: sigExponent, Value: uint64(s.Exponent),
			Msg: "must be 3", Err: ErrConstant}
	}
	return nil
}

// firstDiff returns the index of the first byte where a and b differ, or
// -1. They have the same length.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// SignedBytes returns the 256 bytes the signature covers: bytes 0..127
// (HEADER to the reserved area) followed by bytes 900..1027 (MISCSELECT to
// ISVSVN).
func (s *SigStruct) SignedBytes() []byte {
	b, _ := s.MarshalBinary()
	out := make([]byte, 0, 256)
	out = append(out, b[:128]...)
	return append(out, b[900:1028]...)
}

// MRSIGNER returns the SHA-256 of the 384 stored (little-endian) modulus
// bytes, the value EINIT writes to SECS.MRSIGNER.
func (s *SigStruct) MRSIGNER() [32]byte { return sha256.Sum256(s.Modulus[:]) }
