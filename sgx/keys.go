package sgx

import (
	"encoding/binary"
	"fmt"
)

// CPUSecretSize is the size of the secret an emulated processor's key
// hierarchy is made from.
const CPUSecretSize = 32

// EmulatedCPUSVN is the CPUSVN (CR_CPUSVN) of the emulated processor. Its
// sixteen bytes are treated as component SVNs: a KEYREQUEST.CPUSVN is
// "beyond the current CPU configuration" (SGX_INVALID_CPUSVN) when any
// byte is greater than the byte here. The real comparison is
// model-specific and not published.
var EmulatedCPUSVN = [16]byte{0x0e, 0x0e, 0x02, 0x04, 0x01, 0x80, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}

// KeyHierarchy is an emulated processor's key material: everything
// EGETKEY and EREPORT use besides the enclave's identity and the request.
//
// What is emulated: the SDM describes EGETKEY as assembling derivation
// data (its operation section's TMP_KEYDEPENDENCIES: KEYNAME, KEYPOLICY,
// ISVFAMILYID, ISVEXTPRODID, ISVPRODID, ISVSVN, CONFIGID, CONFIGSVN,
// OWNEREPOCH, ATTRIBUTES, ATTRIBUTEMASK, MRENCLAVE, MRSIGNER, KEYID,
// SEAL_KEY_FUSES, CPUSVN, MISCSELECT, MISCMASK, PADDING) and deriving the
// key from it with a processor-unique key in an AES-CMAC based
// construction. The fused key and the exact construction are secret, so
// keys made here are not those of any real processor: they are
// architecturally equivalent — the same inputs select the same key, any
// other input gives another key — and nothing more. The emulation is:
//
//	key = AES-128-CMAC(RootKey, DerivationData(deps))
//
// with DerivationData's documented layout. PADDING is left out: EINIT
// accepts only SIGSTRUCTs with the one PKCS#1 v1.5 padding, so it is the
// same constant for every enclave and selects nothing.
type KeyHierarchy struct {
	RootKey     [16]byte // stands in for the fused root key
	SealFuses   [16]byte // SEAL_KEY_FUSES (CR_SEAL_FUSES)
	CPUSVN      [16]byte // CR_CPUSVN
	OwnerEpoch  [16]byte // CR_SGXOWNEREPOCH, set by the BIOS on hardware; zero here
	ReportKeyID [32]byte // CR_REPORT_KEYID
}

// NewKeyHierarchy makes the key material of an emulated processor from a
// 32-byte secret: RootKey is bytes 0..15, SealFuses bytes 16..31, CPUSVN
// is EmulatedCPUSVN, OwnerEpoch zero, and ReportKeyID (chosen at each
// reset on hardware) is derived from the secret, so that reports are
// reproducible on one machine.
func NewKeyHierarchy(secret []byte) (*KeyHierarchy, error) {
	if len(secret) != CPUSecretSize {
		return nil, fmt.Errorf("CPU secret has %d bytes, want %d", len(secret), CPUSecretSize)
	}
	h := &KeyHierarchy{CPUSVN: EmulatedCPUSVN}
	copy(h.RootKey[:], secret[:16])
	copy(h.SealFuses[:], secret[16:])
	for i := range 2 {
		label := []byte("SGXDBG REPORT KEYID\x00")
		label[len(label)-1] = byte(i)
		id, _ := CMAC(h.RootKey[:], label)
		copy(h.ReportKeyID[16*i:], id[:])
	}
	return h, nil
}

// Identity is what EGETKEY and EREPORT read of the current enclave: its
// SECS after EINIT, including ISVFAMILYID and ISVEXTPRODID, which EINIT
// copies from the SIGSTRUCT into the SECS's hidden area.
type Identity struct {
	MiscSelect   MiscSelect
	Attributes   Attributes
	MRENCLAVE    [32]byte
	MRSIGNER     [32]byte
	ConfigID     [64]byte
	ISVProdID    uint16
	ISVSVN       uint16
	ConfigSVN    uint16
	ISVFamilyID  [16]byte
	ISVExtProdID [16]byte
}

// IdentityAfterEINIT is the identity of the enclave whose SECS (with
// MRENCLAVE final) was initialized with sig: EINIT sets INIT and copies
// MRSIGNER, ISVPRODID, ISVSVN, ISVFAMILYID and ISVEXTPRODID.
func IdentityAfterEINIT(secs *SECS, sig *SigStruct) Identity {
	return Identity{
		MiscSelect:   secs.MiscSelect,
		Attributes:   Attributes{Flags: secs.Attributes.Flags | AttrInit, XFRM: secs.Attributes.XFRM},
		MRENCLAVE:    secs.MRENCLAVE,
		MRSIGNER:     sig.MRSIGNER(),
		ConfigID:     secs.ConfigID,
		ISVProdID:    sig.ISVProdID,
		ISVSVN:       sig.ISVSVN,
		ConfigSVN:    secs.ConfigSVN,
		ISVFamilyID:  sig.ISVFamilyID,
		ISVExtProdID: sig.ISVExtProdID,
	}
}

// KeyDependencies is the derivation data of one key, field by field as
// EGETKEY's operation section fills TMP_KEYDEPENDENCIES (PADDING left out).
type KeyDependencies struct {
	KeyName       KeyName
	KeyPolicy     KeyPolicy
	ISVProdID     uint16
	ISVSVN        uint16
	ConfigSVN     uint16
	MiscSelect    MiscSelect
	MiscMask      uint32
	ISVFamilyID   [16]byte
	ISVExtProdID  [16]byte
	OwnerEpoch    [16]byte
	Attributes    Attributes
	AttributeMask Attributes
	MRENCLAVE     [32]byte
	MRSIGNER      [32]byte
	KeyID         [32]byte
	SealKeyFuses  [16]byte
	CPUSVN        [16]byte
	ConfigID      [64]byte
}

// DerivationDataSize is the size of DerivationData's output.
const DerivationDataSize = 320

// derivationLabel opens the derivation data: it names this emulation
// (and its version) so no other CMAC input can collide with a key's.
var derivationLabel = [16]byte{'S', 'G', 'X', 'D', 'B', 'G', '-', 'E', 'G', 'E', 'T', 'K', 'E', 'Y', 0, 1}

// DerivationData serializes d in this emulation's layout (little-endian):
//
//	0 label[16] | 16 KEYNAME u16 | 18 KEYPOLICY u16 | 20 ISVPRODID u16 |
//	22 ISVSVN u16 | 24 CONFIGSVN u16 | 26 zero[2] | 28 MISCSELECT u32 |
//	32 MISCMASK u32 | 36 zero[12] | 48 ISVFAMILYID[16] | 64 ISVEXTPRODID[16] |
//	80 OWNEREPOCH[16] | 96 ATTRIBUTES[16] | 112 ATTRIBUTEMASK[16] |
//	128 MRENCLAVE[32] | 160 MRSIGNER[32] | 192 KEYID[32] |
//	224 SEAL_KEY_FUSES[16] | 240 CPUSVN[16] | 256 CONFIGID[64]
func (d *KeyDependencies) DerivationData() []byte {
	b := make([]byte, DerivationDataSize)
	le := binary.LittleEndian
	copy(b, derivationLabel[:])
	le.PutUint16(b[16:], uint16(d.KeyName))
	le.PutUint16(b[18:], uint16(d.KeyPolicy))
	le.PutUint16(b[20:], d.ISVProdID)
	le.PutUint16(b[22:], d.ISVSVN)
	le.PutUint16(b[24:], d.ConfigSVN)
	le.PutUint32(b[28:], uint32(d.MiscSelect))
	le.PutUint32(b[32:], d.MiscMask)
	copy(b[48:], d.ISVFamilyID[:])
	copy(b[64:], d.ISVExtProdID[:])
	copy(b[80:], d.OwnerEpoch[:])
	d.Attributes.put(b[96:])
	d.AttributeMask.put(b[112:])
	copy(b[128:], d.MRENCLAVE[:])
	copy(b[160:], d.MRSIGNER[:])
	copy(b[192:], d.KeyID[:])
	copy(b[224:], d.SealKeyFuses[:])
	copy(b[240:], d.CPUSVN[:])
	copy(b[256:], d.ConfigID[:])
	return b
}

// DeriveKey is the emulation's derivekey(): AES-128-CMAC under RootKey of
// d's derivation data.
func (h *KeyHierarchy) DeriveKey(d *KeyDependencies) [KeySize]byte {
	k, _ := CMAC(h.RootKey[:], d.DerivationData())
	return k
}
