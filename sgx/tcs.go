package sgx

import "encoding/binary"

// TCSFlags is TCS.FLAGS.
type TCSFlags uint64

// TCS.FLAGS bits; the others are reserved (SGX.md §1).
const (
	TCSDbgOptIn  TCSFlags = 1 << 0 // debugging features (TF, breakpoints) allowed on this TCS
	TCSAEXNotify TCSFlags = 1 << 1 // AEX notification for this thread

	tcsFlagsKnown = TCSDbgOptIn | TCSAEXNotify
)

var tcsFlagNames = []intName{{1, "DBGOPTIN"}, {2, "AEXNOTIFY"}}

// String renders "DBGOPTIN+AEXNOTIFY", reserved bits in hex, "0" for none.
func (f TCSFlags) String() string { return flagName(uint64(f), tcsFlagNames) }

// TCSSize is the size of a TCS page.
const TCSSize = 4096

// TCSDebugReadable is how many bytes at the start of a TCS EDBGRD may read
// (the architectural fields; SGX_TCS_LIMIT).
const TCSDebugReadable = 72

// TCS is the Thread Control Structure (SGX.md §1). Offsets: STATE 0, FLAGS
// 8, OSSA 16, CSSA 24, NSSA 28, OENTRY 32, AEP 40, OFSBASGX 48, OGSBASGX 56,
// FSLIMIT 64, GSLIMIT 68; bytes 72..4095 reserved. The CET fields newer
// processors keep in the reserved area are not modelled.
type TCS struct {
	State    uint64   // 0 idle, 1 a logical processor is inside
	Flags    TCSFlags // DBGOPTIN, AEXNOTIFY
	OSSA     uint64   // SSA stack offset from the enclave base, page aligned
	CSSA     uint32   // current SSA frame index
	NSSA     uint32   // number of SSA frames
	OENTRY   uint64   // entry offset from the enclave base
	AEP      uint64   // AEP saved by EENTER
	OFSBASGX uint64   // FS base offset, page aligned
	OGSBASGX uint64   // GS base offset, page aligned
	FSLimit  uint32   // 32-bit enclaves only
	GSLimit  uint32   // 32-bit enclaves only
}

// MarshalBinary returns the 4096-byte page, reserved bytes zero.
func (t *TCS) MarshalBinary() ([]byte, error) {
	b := make([]byte, TCSSize)
	le := binary.LittleEndian
	putU64s(b, t.State, uint64(t.Flags), t.OSSA)
	le.PutUint32(b[24:], t.CSSA)
	le.PutUint32(b[28:], t.NSSA)
	putU64s(b[32:], t.OENTRY, t.AEP, t.OFSBASGX, t.OGSBASGX)
	le.PutUint32(b[64:], t.FSLimit)
	le.PutUint32(b[68:], t.GSLimit)
	return b, nil
}

// UnmarshalBinary decodes a TCS from a whole page or from its first
// TCSDebugReadable..4096 bytes (what EDBGRD can return). Reserved bytes
// present in b must be zero.
func (t *TCS) UnmarshalBinary(b []byte) error {
	if len(b) < TCSDebugReadable || len(b) > TCSSize {
		return sizeError("TCS", len(b), "72 to 4096")
	}
	if err := checkZero("TCS", "RESERVED", b, TCSDebugReadable, len(b)); err != nil {
		return err
	}
	le := binary.LittleEndian
	var flags uint64
	getU64s(b, &t.State, &flags, &t.OSSA)
	t.Flags = TCSFlags(flags)
	t.CSSA = le.Uint32(b[24:])
	t.NSSA = le.Uint32(b[28:])
	getU64s(b[32:], &t.OENTRY, &t.AEP, &t.OFSBASGX, &t.OGSBASGX)
	t.FSLimit = le.Uint32(b[64:])
	t.GSLimit = le.Uint32(b[68:])
	return nil
}

// Validate applies EENTER's checks on the TCS contents alone (SDM EENTER;
// SGX.md §3): OSSA, OFSBASGX and OGSBASGX page aligned, no reserved FLAGS
// bit, NSSA > 0 (with NSSA = 0 every entry fails CSSA < NSSA). The dynamic
// checks (busy, CSSA against NSSA, the SSA pages) are the caller's.
func (t *TCS) Validate() error {
	bad := func(field string, v uint64, rule string) error {
		return &RuleError{Struct: "TCS", Field: field, Value: v, Rule: rule}
	}
	switch {
	case t.OSSA&(PageSize-1) != 0:
		return bad("OSSA", t.OSSA, "not page aligned")
	case t.OFSBASGX&(PageSize-1) != 0:
		return bad("OFSBASGX", t.OFSBASGX, "not page aligned")
	case t.OGSBASGX&(PageSize-1) != 0:
		return bad("OGSBASGX", t.OGSBASGX, "not page aligned")
	case t.Flags&^tcsFlagsKnown != 0:
		return bad("FLAGS", uint64(t.Flags), "reserved bits set")
	case t.NSSA == 0:
		return bad("NSSA", 0, "no SSA frame")
	}
	return nil
}
