package sgx

import "encoding/binary"

// EINITTokenSize is the size of EINITTOKEN.
const EINITTokenSize = 304

// EINITToken is the launch token EINIT takes in RDX (SDM Vol. 3D "Layout of
// EINIT Token"). Under Linux with flexible launch control the driver passes
// one with VALID = 0.
type EINITToken struct {
	Valid                 uint32     // VALID @0: bit 0 valid, the rest reserved
	Attributes            Attributes // ATTRIBUTES @48
	MRENCLAVE             [32]byte   // @64
	MRSIGNER              [32]byte   // @128
	CPUSVNLE              [16]byte   // CPUSVNLE @192
	ISVProdIDLE           uint16     // ISVPRODIDLE @208
	ISVSVNLE              uint16     // ISVSVNLE @210
	CETMaskedAttributesLE uint8      // CET_MASKED_ATTRIBUTES_LE @212 (reserved before CET)
	MaskedMiscSelectLE    MiscSelect // MASKEDMISCSELECTLE @236
	MaskedAttributesLE    Attributes // MASKEDATTRIBUTESLE @240
	KeyID                 [32]byte   // KEYID @256
	MAC                   [16]byte   // MAC @288
}

// EINITTOKEN field offsets.
const (
	tokValid       = 0
	tokAttributes  = 48
	tokMRENCLAVE   = 64
	tokMRSIGNER    = 128
	tokCPUSVN      = 192
	tokISVProdID   = 208
	tokISVSVN      = 210
	tokCETMasked   = 212
	tokMaskedMisc  = 236
	tokMaskedAttrs = 240
	tokKeyID       = 256
	tokMAC         = 288
)

// tokReserved lists the reserved ranges, which must be zero.
var tokReserved = [...]struct{ from, to int }{{4, 48}, {96, 128}, {160, 192}, {213, 236}}

// MarshalBinary returns the 304 wire bytes, reserved bytes zero.
func (t *EINITToken) MarshalBinary() ([]byte, error) {
	b := make([]byte, EINITTokenSize)
	le := binary.LittleEndian
	le.PutUint32(b[tokValid:], t.Valid)
	t.Attributes.put(b[tokAttributes:])
	copy(b[tokMRENCLAVE:], t.MRENCLAVE[:])
	copy(b[tokMRSIGNER:], t.MRSIGNER[:])
	copy(b[tokCPUSVN:], t.CPUSVNLE[:])
	le.PutUint16(b[tokISVProdID:], t.ISVProdIDLE)
	le.PutUint16(b[tokISVSVN:], t.ISVSVNLE)
	b[tokCETMasked] = t.CETMaskedAttributesLE
	le.PutUint32(b[tokMaskedMisc:], uint32(t.MaskedMiscSelectLE))
	t.MaskedAttributesLE.put(b[tokMaskedAttrs:])
	copy(b[tokKeyID:], t.KeyID[:])
	copy(b[tokMAC:], t.MAC[:])
	return b, nil
}

// UnmarshalBinary decodes exactly 304 bytes whose reserved bytes are zero
// (EINIT rejects a valid token with reserved bytes set).
func (t *EINITToken) UnmarshalBinary(b []byte) error {
	if len(b) != EINITTokenSize {
		return sizeError("EINITTOKEN", len(b), "304")
	}
	for _, r := range tokReserved {
		if err := checkZero("EINITTOKEN", "RESERVED", b, r.from, r.to); err != nil {
			return err
		}
	}
	le := binary.LittleEndian
	*t = EINITToken{
		Valid:                 le.Uint32(b[tokValid:]),
		Attributes:            getAttributes(b[tokAttributes:]),
		ISVProdIDLE:           le.Uint16(b[tokISVProdID:]),
		ISVSVNLE:              le.Uint16(b[tokISVSVN:]),
		CETMaskedAttributesLE: b[tokCETMasked],
		MaskedMiscSelectLE:    MiscSelect(le.Uint32(b[tokMaskedMisc:])),
		MaskedAttributesLE:    getAttributes(b[tokMaskedAttrs:]),
	}
	copy(t.MRENCLAVE[:], b[tokMRENCLAVE:])
	copy(t.MRSIGNER[:], b[tokMRSIGNER:])
	copy(t.CPUSVNLE[:], b[tokCPUSVN:])
	copy(t.KeyID[:], b[tokKeyID:])
	copy(t.MAC[:], b[tokMAC:])
	return nil
}
