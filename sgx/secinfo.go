package sgx

import (
	"encoding/binary"
	"strings"
)

// PageType is an EPC page type, SECINFO.FLAGS bits 15:8 and EPCM.PT.
type PageType uint8

// Page types (SDM Vol. 3D, "Supported PAGE_TYPE"; SGX.md §1). The shadow
// stack types exist only on processors with CET in enclaves.
const (
	PageTypeSECS    PageType = 0
	PageTypeTCS     PageType = 1
	PageTypeREG     PageType = 2
	PageTypeVA      PageType = 3
	PageTypeTRIM    PageType = 4
	PageTypeSSFirst PageType = 5
	PageTypeSSRest  PageType = 6
)

var pageTypeNames = []intName{
	{0, "PT_SECS"}, {1, "PT_TCS"}, {2, "PT_REG"}, {3, "PT_VA"}, {4, "PT_TRIM"},
	{5, "PT_SS_FIRST"}, {6, "PT_SS_REST"},
}

// String returns "PT_REG", or "PageType(N)" when unknown.
func (t PageType) String() string { return stringName(uint64(t), pageTypeNames, "PageType") }

// SecinfoFlags is SECINFO.FLAGS: permission and state bits, and the page
// type in bits 15:8.
type SecinfoFlags uint64

// SECINFO.FLAGS bits.
const (
	SecinfoR        SecinfoFlags = 1 << 0 // readable
	SecinfoW        SecinfoFlags = 1 << 1 // writable
	SecinfoX        SecinfoFlags = 1 << 2 // executable
	SecinfoPending  SecinfoFlags = 1 << 3 // EAUG'd, not yet EACCEPTed (SGX2)
	SecinfoModified SecinfoFlags = 1 << 4 // type changed by EMODT (SGX2)
	SecinfoPR       SecinfoFlags = 1 << 5 // permission restriction by EMODPR (SGX2)

	secinfoPerm      = SecinfoR | SecinfoW | SecinfoX
	secinfoTypeShift = 8
	secinfoTypeMask  = SecinfoFlags(0xff) << secinfoTypeShift
	// secinfoReserved is every bit that is neither a defined flag nor the
	// page type: bits 7:6 and 63:16.
	secinfoReserved = ^(SecinfoR | SecinfoW | SecinfoX | SecinfoPending | SecinfoModified | SecinfoPR | secinfoTypeMask)
)

var secinfoBitNames = []intName{
	{1, "R"}, {2, "W"}, {4, "X"}, {8, "PENDING"}, {16, "MODIFIED"}, {32, "PR"},
}

// PageType returns the page type in bits 15:8.
func (f SecinfoFlags) PageType() PageType { return PageType(f >> secinfoTypeShift) }

// Perm returns only the R, W and X bits.
func (f SecinfoFlags) Perm() SecinfoFlags { return f & secinfoPerm }

// MakeSecinfoFlags returns the flags of a page of type t with the R/W/X bits
// of perm (other bits of perm are dropped).
func MakeSecinfoFlags(t PageType, perm SecinfoFlags) SecinfoFlags {
	return SecinfoFlags(t)<<secinfoTypeShift | perm&secinfoPerm
}

// String renders the flag bits and the page type, "R+X+PT_REG"; reserved
// bits appear in hex before the type, "R+0x10000+PT_REG".
func (f SecinfoFlags) String() string {
	var parts []string
	for _, n := range secinfoBitNames {
		if uint64(f)&n.i != 0 {
			parts = append(parts, n.s)
		}
	}
	if r := f & secinfoReserved; r != 0 {
		parts = append(parts, "0x"+hex64(uint64(r)))
	}
	parts = append(parts, f.PageType().String())
	return strings.Join(parts, "+")
}

// SecinfoSize is the size of SECINFO on the wire.
const SecinfoSize = 64

// Secinfo is the SECINFO structure passed to EADD, EACCEPT and friends: 64
// bytes, FLAGS at offset 0 and 56 reserved zero bytes.
type Secinfo struct {
	Flags SecinfoFlags
}

// MarshalBinary returns the 64 wire bytes.
func (s Secinfo) MarshalBinary() ([]byte, error) {
	b := make([]byte, SecinfoSize)
	binary.LittleEndian.PutUint64(b, uint64(s.Flags))
	return b, nil
}

// UnmarshalBinary decodes exactly 64 bytes whose bytes 8..63 are zero.
// Reserved FLAGS bits are kept, for Validate to judge.
func (s *Secinfo) UnmarshalBinary(b []byte) error {
	if len(b) != SecinfoSize {
		return sizeError("SECINFO", len(b), "64")
	}
	if err := checkZero("SECINFO", "RESERVED", b, 8, SecinfoSize); err != nil {
		return err
	}
	s.Flags = SecinfoFlags(binary.LittleEndian.Uint64(b))
	return nil
}

// Validate applies the rules for a page added by EADD through the Linux
// driver (SDM EADD; arch/x86/kernel/cpu/sgx/ioctl.c sgx_validate_secinfo):
// the type is REG or TCS; a REG page that is writable is also readable; a
// TCS page has no R/W/X (EADD would silently clear them; the driver refuses
// them); no bit outside R/W/X and the page type is set.
func (s Secinfo) Validate() error {
	f := s.Flags
	if r := f &^ (secinfoPerm | secinfoTypeMask); r != 0 {
		return &RuleError{Struct: "SECINFO", Field: "FLAGS", Value: uint64(f), Rule: "reserved or state bits set"}
	}
	switch f.PageType() {
	case PageTypeREG:
		if f&SecinfoW != 0 && f&SecinfoR == 0 {
			return &RuleError{Struct: "SECINFO", Field: "FLAGS", Value: uint64(f), Rule: "W without R"}
		}
	case PageTypeTCS:
		if f.Perm() != 0 {
			return &RuleError{Struct: "SECINFO", Field: "FLAGS", Value: uint64(f), Rule: "TCS page with R/W/X"}
		}
	default:
		return &RuleError{Struct: "SECINFO", Field: "FLAGS.PAGE_TYPE", Value: uint64(f.PageType()), Rule: "EADD takes only PT_REG or PT_TCS"}
	}
	return nil
}

// PageInfoSize is the size of PAGEINFO on the wire.
const PageInfoSize = 32

// PageInfo is the PAGEINFO structure that ECREATE, EADD, EAUG, ELDx and EWB
// take: four effective addresses. For ELDB/ELDU/EWB the Secinfo field holds
// the PCMD address instead.
type PageInfo struct {
	LinAddr uint64 // enclave linear address (offset 0)
	SrcPge  uint64 // source page (offset 8)
	Secinfo uint64 // SECINFO or PCMD (offset 16)
	SECS    uint64 // SECS of the enclave (offset 24)
}

// MarshalBinary returns the 32 wire bytes.
func (p PageInfo) MarshalBinary() ([]byte, error) {
	b := make([]byte, PageInfoSize)
	putU64s(b, p.LinAddr, p.SrcPge, p.Secinfo, p.SECS)
	return b, nil
}

// UnmarshalBinary decodes exactly 32 bytes.
func (p *PageInfo) UnmarshalBinary(b []byte) error {
	if len(b) != PageInfoSize {
		return sizeError("PAGEINFO", len(b), "32")
	}
	getU64s(b, &p.LinAddr, &p.SrcPge, &p.Secinfo, &p.SECS)
	return nil
}
