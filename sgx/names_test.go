package sgx

import (
	"fmt"
	"testing"
)

// nameTests pairs a constant with its expected String(), known and unknown
// values alike (as debug/elf's nameTests do).
var nameTests = []struct {
	val fmt.Stringer
	str string
}{
	{LeafEREPORT, "EREPORT"},
	{LeafEENTER, "EENTER"},
	{LeafERESUME, "ERESUME"},
	{LeafEEXIT, "EEXIT"},
	{LeafEDECCSSA, "EDECCSSA"},
	{EncluLeaf(99), "EncluLeaf(99)"},
	{LeafECREATE, "ECREATE"},
	{LeafEDBGRD, "EDBGRD"},
	{LeafEDBGWR, "EDBGWR"},
	{LeafEMODT, "EMODT"},
	{EnclsLeaf(16), "EnclsLeaf(16)"},
	{PageTypeSECS, "PT_SECS"},
	{PageTypeTCS, "PT_TCS"},
	{PageTypeREG, "PT_REG"},
	{PageTypeTRIM, "PT_TRIM"},
	{PageType(7), "PageType(7)"},
	{MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoX), "R+X+PT_REG"},
	{MakeSecinfoFlags(PageTypeTCS, 0), "PT_TCS"},
	{SecinfoR | SecinfoPending | SecinfoFlags(PageTypeREG)<<8, "R+PENDING+PT_REG"},
	{SecinfoR | 1<<16 | SecinfoFlags(PageTypeREG)<<8, "R+0x10000+PT_REG"},
	{SecinfoFlags(0x5507), "R+W+X+PageType(85)"},
	{AttrInit | AttrDebug | AttrMode64Bit, "INIT+DEBUG+MODE64BIT"},
	{AttrKSS | AttrAEXNotify, "KSS+AEXNOTIFY"},
	{AttrDebug | 1<<3, "DEBUG+0x8"},
	{AttributeFlags(0), "0"},
	{Attributes{Flags: AttrMode64Bit, XFRM: 3}, "MODE64BIT XFRM=0x3"},
	{TCSDbgOptIn, "DBGOPTIN"},
	{TCSDbgOptIn | TCSAEXNotify | 8, "DBGOPTIN+AEXNOTIFY+0x8"},
	{TCSFlags(0), "0"},
	{ErrorCode(0), "SGX_SUCCESS"},
	{ErrInvalidSigStruct, "SGX_INVALID_SIG_STRUCT"},
	{ErrInvalidAttribute, "SGX_INVALID_ATTRIBUTE"},
	{ErrInvalidMeasurement, "SGX_INVALID_MEASUREMENT"},
	{ErrInvalidSignature, "SGX_INVALID_SIGNATURE"},
	{ErrInvalidEINITToken, "SGX_INVALID_EINITTOKEN"},
	{ErrPageNotDebuggable, "SGX_PAGE_NOT_DEBUGGABLE"},
	{ErrUnmaskedEvent, "SGX_UNMASKED_EVENT"},
	{ErrInvalidKeyname, "SGX_INVALID_KEYNAME"},
	{ErrorCode(22), "ErrorCode(22)"},
}

func TestNames(t *testing.T) {
	for i, tt := range nameTests {
		if s := tt.val.String(); s != tt.str {
			t.Errorf("#%d: %T(%#x).String() = %q, want %q", i, tt.val, tt.val, s, tt.str)
		}
	}
}

// TestConstantValues pins the numeric values against SGX.md §2 and the SDM
// error-code table, independent of the name tables.
func TestConstantValues(t *testing.T) {
	tests := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"EREPORT", uint64(LeafEREPORT), 0}, {"EGETKEY", uint64(LeafEGETKEY), 1},
		{"EENTER", uint64(LeafEENTER), 2}, {"ERESUME", uint64(LeafERESUME), 3},
		{"EEXIT", uint64(LeafEEXIT), 4}, {"EACCEPT", uint64(LeafEACCEPT), 5},
		{"EMODPE", uint64(LeafEMODPE), 6}, {"EACCEPTCOPY", uint64(LeafEACCEPTCOPY), 7},
		{"EVERIFYREPORT2", uint64(LeafEVERIFYREPORT2), 8}, {"EDECCSSA", uint64(LeafEDECCSSA), 9},
		{"ECREATE", uint64(LeafECREATE), 0}, {"EADD", uint64(LeafEADD), 1},
		{"EINIT", uint64(LeafEINIT), 2}, {"EREMOVE", uint64(LeafEREMOVE), 3},
		{"EDBGRD", uint64(LeafEDBGRD), 4}, {"EDBGWR", uint64(LeafEDBGWR), 5},
		{"EEXTEND", uint64(LeafEEXTEND), 6}, {"ELDB", uint64(LeafELDB), 7},
		{"ELDU", uint64(LeafELDU), 8}, {"EBLOCK", uint64(LeafEBLOCK), 9},
		{"EPA", uint64(LeafEPA), 10}, {"EWB", uint64(LeafEWB), 11},
		{"ETRACK", uint64(LeafETRACK), 12}, {"EAUG", uint64(LeafEAUG), 13},
		{"EMODPR", uint64(LeafEMODPR), 14}, {"EMODT", uint64(LeafEMODT), 15},
		{"SGX_INVALID_SIG_STRUCT", uint64(ErrInvalidSigStruct), 1},
		{"SGX_INVALID_ATTRIBUTE", uint64(ErrInvalidAttribute), 2},
		{"SGX_INVALID_MEASUREMENT", uint64(ErrInvalidMeasurement), 4},
		{"SGX_INVALID_SIGNATURE", uint64(ErrInvalidSignature), 8},
		{"SGX_INVALID_EINITTOKEN", uint64(ErrInvalidEINITToken), 16},
		{"SGX_PAGE_NOT_DEBUGGABLE", uint64(ErrPageNotDebuggable), 21},
		{"SGX_UNMASKED_EVENT", uint64(ErrUnmaskedEvent), 128},
		{"SecinfoR", uint64(SecinfoR), 1}, {"SecinfoW", uint64(SecinfoW), 2},
		{"SecinfoX", uint64(SecinfoX), 4}, {"SecinfoPending", uint64(SecinfoPending), 8},
		{"SecinfoModified", uint64(SecinfoModified), 16}, {"SecinfoPR", uint64(SecinfoPR), 32},
		{"PT_REG RX flags", uint64(MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoX)), 0x205},
		{"PT_TCS flags", uint64(MakeSecinfoFlags(PageTypeTCS, 0)), 0x100},
		{"AttrInit", uint64(AttrInit), 1}, {"AttrDebug", uint64(AttrDebug), 2},
		{"AttrMode64Bit", uint64(AttrMode64Bit), 4}, {"AttrProvisionKey", uint64(AttrProvisionKey), 16},
		{"AttrEINITTokenKey", uint64(AttrEINITTokenKey), 32}, {"AttrCET", uint64(AttrCET), 64},
		{"AttrKSS", uint64(AttrKSS), 128}, {"AttrAEXNotify", uint64(AttrAEXNotify), 1024},
		{"TCSDbgOptIn", uint64(TCSDbgOptIn), 1}, {"TCSAEXNotify", uint64(TCSAEXNotify), 2},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestSecinfoFlagsAccessors(t *testing.T) {
	f := SecinfoFlags(0x20f) // R W X PENDING, PT_REG
	if f.PageType() != PageTypeREG {
		t.Errorf("PageType = %v", f.PageType())
	}
	if f.Perm() != SecinfoR|SecinfoW|SecinfoX {
		t.Errorf("Perm = %#x", uint64(f.Perm()))
	}
	if g := MakeSecinfoFlags(PageTypeTCS, SecinfoPending|SecinfoW); g != 0x102 {
		t.Errorf("MakeSecinfoFlags(TCS, PENDING|W) = %#x, want 0x102", uint64(g))
	}
}
