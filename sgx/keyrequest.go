package sgx

import "encoding/binary"

// KEYREQUEST and EGETKEY output sizes and alignments (SDM Vol. 3D "KEY
// REQUEST (KEYREQUEST)"; EGETKEY operation).
const (
	KeyRequestSize  = 512
	KeyRequestAlign = 512
	KeySize         = 16
	KeyAlign        = 16
)

// KeyName is KEYREQUEST.KEYNAME: which key EGETKEY derives.
type KeyName uint16

// KEYNAME values (SDM Vol. 3D "Supported KEYName Values").
const (
	KeyEINITToken    KeyName = 0
	KeyProvision     KeyName = 1
	KeyProvisionSeal KeyName = 2
	KeyReport        KeyName = 3
	KeySeal          KeyName = 4
)

var keyNames = []intName{
	{0, "EINITTOKEN_KEY"}, {1, "PROVISION_KEY"}, {2, "PROVISION_SEAL_KEY"}, {3, "REPORT_KEY"}, {4, "SEAL_KEY"},
}

// String returns the SDM name, "SEAL_KEY", or "KeyName(N)".
func (k KeyName) String() string { return stringName(uint64(k), keyNames, "KeyName") }

// KeyPolicy is KEYREQUEST.KEYPOLICY: which identity inputs a SEAL key uses.
type KeyPolicy uint16

// KEYPOLICY bits (SDM Vol. 3D "Layout of KEYPOLICY Field"); bits 15:6 are
// reserved and EGETKEY raises #GP(0) when one is set. Bits 2..5 need
// SECS.ATTRIBUTES.KSS.
const (
	PolicyMRENCLAVE    KeyPolicy = 1 << 0
	PolicyMRSIGNER     KeyPolicy = 1 << 1
	PolicyNoISVProdID  KeyPolicy = 1 << 2
	PolicyConfigID     KeyPolicy = 1 << 3
	PolicyISVFamilyID  KeyPolicy = 1 << 4
	PolicyISVExtProdID KeyPolicy = 1 << 5

	// PolicyKnown is every defined bit.
	PolicyKnown = PolicyMRENCLAVE | PolicyMRSIGNER | PolicyNoISVProdID | PolicyConfigID |
		PolicyISVFamilyID | PolicyISVExtProdID
	// PolicyKSS is the bits that need KSS.
	PolicyKSS = PolicyNoISVProdID | PolicyConfigID | PolicyISVFamilyID | PolicyISVExtProdID
)

var policyNames = []intName{
	{1 << 0, "MRENCLAVE"}, {1 << 1, "MRSIGNER"}, {1 << 2, "NOISVPRODID"}, {1 << 3, "CONFIGID"},
	{1 << 4, "ISVFAMILYID"}, {1 << 5, "ISVEXTPRODID"},
}

// String renders the bits, "MRENCLAVE+MRSIGNER", reserved ones in hex.
func (p KeyPolicy) String() string { return flagName(uint64(p), policyNames) }

// KeyRequest is the KEYREQUEST structure EGETKEY reads (SDM Vol. 3D
// "Layout of KEYREQUEST").
type KeyRequest struct {
	KeyName       KeyName    // KEYNAME @0
	KeyPolicy     KeyPolicy  // KEYPOLICY @2
	ISVSVN        uint16     // ISVSVN @4
	CPUSVN        [16]byte   // CPUSVN @8
	AttributeMask Attributes // ATTRIBUTEMASK @24
	KeyID         [32]byte   // KEYID @40
	MiscMask      uint32     // MISCMASK @72
	ConfigSVN     uint16     // CONFIGSVN @76
}

// KEYREQUEST field offsets.
const (
	krKeyName   = 0
	krKeyPolicy = 2
	krISVSVN    = 4
	krCPUSVN    = 8
	krAttrMask  = 24
	krKeyID     = 40
	krMiscMask  = 72
	krConfigSVN = 76
	krEnd       = 78
)

// MarshalBinary returns the 512 wire bytes, reserved bytes zero.
func (k *KeyRequest) MarshalBinary() ([]byte, error) {
	b := make([]byte, KeyRequestSize)
	le := binary.LittleEndian
	le.PutUint16(b[krKeyName:], uint16(k.KeyName))
	le.PutUint16(b[krKeyPolicy:], uint16(k.KeyPolicy))
	le.PutUint16(b[krISVSVN:], k.ISVSVN)
	copy(b[krCPUSVN:], k.CPUSVN[:])
	k.AttributeMask.put(b[krAttrMask:])
	copy(b[krKeyID:], k.KeyID[:])
	le.PutUint32(b[krMiscMask:], k.MiscMask)
	le.PutUint16(b[krConfigSVN:], k.ConfigSVN)
	return b, nil
}

// UnmarshalBinary decodes exactly 512 bytes. Reserved bytes (6..7 — byte 6
// is CET_ATTRIBUTES_MASK with CET, not modelled here — and 78..511) must
// be zero: EGETKEY raises #GP(0) otherwise. KEYPOLICY's reserved bits are
// checked by CheckKeyRequest, not here.
func (k *KeyRequest) UnmarshalBinary(b []byte) error {
	if len(b) != KeyRequestSize {
		return sizeError("KEYREQUEST", len(b), "512")
	}
	for _, r := range [...]struct{ from, to int }{{6, 8}, {krEnd, KeyRequestSize}} {
		if err := checkZero("KEYREQUEST", "RESERVED", b, r.from, r.to); err != nil {
			return err
		}
	}
	le := binary.LittleEndian
	*k = KeyRequest{
		KeyName:       KeyName(le.Uint16(b[krKeyName:])),
		KeyPolicy:     KeyPolicy(le.Uint16(b[krKeyPolicy:])),
		ISVSVN:        le.Uint16(b[krISVSVN:]),
		AttributeMask: getAttributes(b[krAttrMask:]),
		MiscMask:      le.Uint32(b[krMiscMask:]),
		ConfigSVN:     le.Uint16(b[krConfigSVN:]),
	}
	copy(k.CPUSVN[:], b[krCPUSVN:])
	copy(k.KeyID[:], b[krKeyID:])
	return nil
}
