package sgx

import (
	"encoding/binary"
	"fmt"
)

// AttributeFlags is ATTRIBUTES.FLAGS, the low quadword of the enclave's
// ATTRIBUTES (SECS, SIGSTRUCT, REPORT, KEYREQUEST).
type AttributeFlags uint64

// ATTRIBUTES.FLAGS bits (SDM Vol. 3D, "Layout of ATTRIBUTES Structure";
// SGX.md §1). Bit 3 and bits 8, 9 and 11..63 are reserved.
const (
	AttrInit          AttributeFlags = 1 << 0  // set by EINIT
	AttrDebug         AttributeFlags = 1 << 1  // debug enclave: EDBGRD/EDBGWR allowed
	AttrMode64Bit     AttributeFlags = 1 << 2  // 64-bit enclave
	AttrProvisionKey  AttributeFlags = 1 << 4  // may EGETKEY the provisioning key
	AttrEINITTokenKey AttributeFlags = 1 << 5  // may EGETKEY the EINITTOKEN key
	AttrCET           AttributeFlags = 1 << 6  // CET in the enclave
	AttrKSS           AttributeFlags = 1 << 7  // key separation and sharing
	AttrAEXNotify     AttributeFlags = 1 << 10 // threads may opt in to AEX notification

	// AttrKnown is every defined bit; the others are reserved.
	AttrKnown = AttrInit | AttrDebug | AttrMode64Bit | AttrProvisionKey | AttrEINITTokenKey |
		AttrCET | AttrKSS | AttrAEXNotify
)

var attrNames = []intName{
	{1 << 0, "INIT"}, {1 << 1, "DEBUG"}, {1 << 2, "MODE64BIT"}, {1 << 4, "PROVISIONKEY"},
	{1 << 5, "EINITTOKENKEY"}, {1 << 6, "CET"}, {1 << 7, "KSS"}, {1 << 10, "AEXNOTIFY"},
}

// String renders the bits, "INIT+DEBUG+MODE64BIT", reserved ones in hex.
func (f AttributeFlags) String() string { return flagName(uint64(f), attrNames) }

// AttributesSize is the size of ATTRIBUTES on the wire.
const AttributesSize = 16

// Attributes is the 16-byte ATTRIBUTES structure: FLAGS at offset 0 and
// XFRM (the XSAVE feature request mask, laid out like XCR0) at offset 8.
type Attributes struct {
	Flags AttributeFlags
	XFRM  uint64
}

// String renders "INIT+DEBUG+MODE64BIT XFRM=0x3".
func (a Attributes) String() string { return fmt.Sprintf("%v XFRM=%#x", a.Flags, a.XFRM) }

// And returns the bitwise AND of a and mask, both quadwords.
func (a Attributes) And(mask Attributes) Attributes {
	return Attributes{Flags: a.Flags & mask.Flags, XFRM: a.XFRM & mask.XFRM}
}

// MarshalBinary returns the 16 wire bytes.
func (a Attributes) MarshalBinary() ([]byte, error) {
	b := make([]byte, AttributesSize)
	a.put(b)
	return b, nil
}

// UnmarshalBinary decodes exactly 16 bytes.
func (a *Attributes) UnmarshalBinary(b []byte) error {
	if len(b) != AttributesSize {
		return sizeError("ATTRIBUTES", len(b), "16")
	}
	*a = getAttributes(b)
	return nil
}

func (a Attributes) put(b []byte) {
	binary.LittleEndian.PutUint64(b, uint64(a.Flags))
	binary.LittleEndian.PutUint64(b[8:], a.XFRM)
}

func getAttributes(b []byte) Attributes {
	return Attributes{
		Flags: AttributeFlags(binary.LittleEndian.Uint64(b)),
		XFRM:  binary.LittleEndian.Uint64(b[8:]),
	}
}

// xfrmUser is every XSAVE component XCR0 (and so XFRM) may enable: x87,
// SSE, AVX, the two MPX components, the three AVX-512 components, PKRU and
// the two AMX components. The others are supervisor state or reserved.
const xfrmUser = 1<<XFeatureX87 | 1<<XFeatureSSE | 1<<XFeatureAVX | 1<<XFeatureBNDREGS |
	1<<XFeatureBNDCSR | 1<<XFeatureOpmask | 1<<XFeatureZMMHi256 | 1<<XFeatureHi16ZMM |
	1<<XFeaturePKRU | 1<<XFeatureTILECFG | 1<<XFeatureTILEDATA

// ValidXFRM checks xfrm as ECREATE does: bits 1:0 set (x87 and SSE are
// always saved) and a value XSETBV would accept for XCR0 (SDM Vol. 1 §13.3):
// no supervisor or reserved component, AVX needs SSE, BNDREGS and BNDCSR
// together, the three AVX-512 components together and only with AVX, the
// two AMX components together. It does not know which components this
// processor enables; compare with XCR0 for that.
func ValidXFRM(xfrm uint64) error {
	bad := func(rule string) error {
		return &RuleError{Struct: "ATTRIBUTES", Field: "XFRM", Value: xfrm, Rule: rule}
	}
	has := func(bit int) bool { return xfrm&(1<<bit) != 0 }
	const avx512 = 1<<XFeatureOpmask | 1<<XFeatureZMMHi256 | 1<<XFeatureHi16ZMM
	const amx = 1<<XFeatureTILECFG | 1<<XFeatureTILEDATA
	switch {
	case xfrm&3 != 3:
		return bad("bits 1:0 (x87, SSE) must be 11b")
	case xfrm&^xfrmUser != 0:
		return bad("supervisor or reserved component requested")
	case has(XFeatureBNDREGS) != has(XFeatureBNDCSR):
		return bad("BNDREGS and BNDCSR must be set together")
	case xfrm&avx512 != 0 && xfrm&avx512 != avx512:
		return bad("opmask, ZMM_Hi256 and Hi16_ZMM must be set together")
	case xfrm&avx512 != 0 && !has(XFeatureAVX):
		return bad("AVX-512 state requires AVX")
	case xfrm&amx != 0 && xfrm&amx != amx:
		return bad("TILECFG and TILEDATA must be set together")
	}
	return nil
}
