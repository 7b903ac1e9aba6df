package sgx

import (
	"errors"
	"testing"
)

// goodSECS is a 64 KiB debug enclave at 0x10000000 with one-page SSA
// frames and x87+SSE+AVX state.
func goodSECS() SECS {
	return SECS{Size: 0x10000, BaseAddr: 0x10000000, SSAFrameSize: 1, MiscSelect: MiscEXINFO,
		Attributes: Attributes{Flags: AttrDebug | AttrMode64Bit, XFRM: 7}}
}

func TestSECSValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*SECS)
		field string // "" = valid
	}{
		{"valid", func(*SECS) {}, ""},
		{"valid 8 KiB", func(s *SECS) { s.Size = 8192; s.BaseAddr = 0x2000 }, ""},
		{"valid 32-bit below 4 GiB", func(s *SECS) { s.Attributes.Flags = AttrDebug; s.BaseAddr = 0x80000000 }, ""},
		{"valid AVX-512 in 3 pages", func(s *SECS) { s.Attributes.XFRM = 0xe7; s.SSAFrameSize = 3 }, ""},
		{"valid KSS with CONFIGSVN", func(s *SECS) { s.Attributes.Flags |= AttrKSS; s.ConfigSVN = 1 }, ""},
		{"SIZE not power of two", func(s *SECS) { s.Size = 0x3000; s.BaseAddr = 0 }, "SIZE"},
		{"SIZE 4096", func(s *SECS) { s.Size = 4096 }, "SIZE"},
		{"SIZE 0", func(s *SECS) { s.Size = 0 }, "SIZE"},
		{"BASEADDR unaligned", func(s *SECS) { s.BaseAddr = 0x10008000 }, "BASEADDR"},
		{"BASEADDR non-canonical", func(s *SECS) { s.BaseAddr = 0x0000800000000000 }, "BASEADDR"},
		{"32-bit above 4 GiB", func(s *SECS) { s.Attributes.Flags = AttrDebug; s.BaseAddr = 0x100000000 }, "BASEADDR"},
		{"SSAFRAMESIZE 0", func(s *SECS) { s.SSAFrameSize = 0 }, "SSAFRAMESIZE"},
		// AVX-512: XSAVE 2688 + 184 + 16 = 2888 fits one page; with PKRU 2696+200 also fits;
		// AMX: 2816+8192+184 needs 3 pages.
		{"AMX in 2 pages", func(s *SECS) { s.Attributes.XFRM = 0x60007; s.SSAFrameSize = 2 }, "SSAFRAMESIZE"},
		{"XFRM bit 1 clear", func(s *SECS) { s.Attributes.XFRM = 1 }, "XFRM"},
		{"XFRM AVX-512 partial", func(s *SECS) { s.Attributes.XFRM = 0x27 }, "XFRM"},
		{"XFRM AVX-512 without AVX", func(s *SECS) { s.Attributes.XFRM = 0xe3 }, "XFRM"},
		{"XFRM MPX half", func(s *SECS) { s.Attributes.XFRM = 0xf }, "XFRM"},
		{"XFRM supervisor bit 8", func(s *SECS) { s.Attributes.XFRM = 0x107 }, "XFRM"},
		{"XFRM AMX half", func(s *SECS) { s.Attributes.XFRM = 0x20007; s.SSAFrameSize = 4 }, "XFRM"},
		{"MISCSELECT bit 2", func(s *SECS) { s.MiscSelect = 4 }, "MISCSELECT"},
		{"INIT set", func(s *SECS) { s.Attributes.Flags |= AttrInit }, "ATTRIBUTES"},
		{"reserved attribute bit 3", func(s *SECS) { s.Attributes.Flags |= 1 << 3 }, "ATTRIBUTES"},
		{"reserved attribute bit 63", func(s *SECS) { s.Attributes.Flags |= 1 << 63 }, "ATTRIBUTES"},
		{"CONFIGSVN without KSS", func(s *SECS) { s.ConfigSVN = 1 }, "CONFIGID"},
		{"CONFIGID without KSS", func(s *SECS) { s.ConfigID[63] = 1 }, "CONFIGID"},
	}
	for _, tt := range tests {
		s := goodSECS()
		tt.edit(&s)
		checkRule(t, tt.name, s.Validate(), tt.field)
	}
}

// checkRule asserts err is nil when field is "", else a *RuleError on field
// that also matches ErrInvalid.
func checkRule(t *testing.T, name string, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("%s: unexpected error %v", name, err)
		}
		return
	}
	var re *RuleError
	if !errors.As(err, &re) || re.Field != field || !errors.Is(err, ErrInvalid) {
		t.Errorf("%s: err = %v, want RuleError on %s", name, err, field)
	}
}

func TestSSAFrameSizeBoundary(t *testing.T) {
	// XFRM x87|SSE|AVX|AVX-512|PKRU: XSAVE area 2696 bytes; + GPRSGX 184 +
	// EXINFO 16 = 2896 <= 4096. With AMX the area is 11008 bytes: 11008+184
	// = 11192 needs 3 pages (12288), 2 pages (8192) is too small.
	s := goodSECS()
	s.Attributes.XFRM = 0x602e7
	s.MiscSelect = 0
	s.SSAFrameSize = 3
	if err := s.Validate(); err != nil {
		t.Errorf("AMX in 3 pages: %v", err)
	}
	s.SSAFrameSize = 2
	checkRule(t, "AMX in 2 pages", s.Validate(), "SSAFRAMESIZE")
}

func TestTCSValidate(t *testing.T) {
	good := TCS{OSSA: 0x3000, NSSA: 2, OENTRY: 0x1234, OFSBASGX: 0x5000, OGSBASGX: 0x6000, Flags: TCSDbgOptIn | TCSAEXNotify}
	tests := []struct {
		name  string
		edit  func(*TCS)
		field string
	}{
		{"valid", func(*TCS) {}, ""},
		{"OSSA unaligned", func(tc *TCS) { tc.OSSA = 0x3008 }, "OSSA"},
		{"OFSBASGX unaligned", func(tc *TCS) { tc.OFSBASGX = 0x5001 }, "OFSBASGX"},
		{"OGSBASGX unaligned", func(tc *TCS) { tc.OGSBASGX = 0x6800 }, "OGSBASGX"},
		{"FLAGS reserved bit 2", func(tc *TCS) { tc.Flags |= 4 }, "FLAGS"},
		{"NSSA 0", func(tc *TCS) { tc.NSSA = 0 }, "NSSA"},
	}
	for _, tt := range tests {
		tc := good
		tt.edit(&tc)
		checkRule(t, tt.name, tc.Validate(), tt.field)
	}
}

func TestSecinfoValidate(t *testing.T) {
	tests := []struct {
		flags SecinfoFlags
		field string
	}{
		{MakeSecinfoFlags(PageTypeREG, SecinfoR), ""},
		{MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoW|SecinfoX), ""},
		{MakeSecinfoFlags(PageTypeREG, SecinfoX), ""},
		{MakeSecinfoFlags(PageTypeREG, 0), ""},
		{MakeSecinfoFlags(PageTypeTCS, 0), ""},
		{MakeSecinfoFlags(PageTypeREG, SecinfoW), "FLAGS"},
		{MakeSecinfoFlags(PageTypeREG, SecinfoW|SecinfoX), "FLAGS"},
		{MakeSecinfoFlags(PageTypeTCS, SecinfoR), "FLAGS"},
		{MakeSecinfoFlags(PageTypeTCS, SecinfoR|SecinfoW), "FLAGS"},
		{MakeSecinfoFlags(PageTypeSECS, 0), "FLAGS.PAGE_TYPE"},
		{MakeSecinfoFlags(PageTypeVA, 0), "FLAGS.PAGE_TYPE"},
		{MakeSecinfoFlags(PageTypeTRIM, 0), "FLAGS.PAGE_TYPE"},
		{MakeSecinfoFlags(PageTypeREG, SecinfoR) | SecinfoPending, "FLAGS"},
		{MakeSecinfoFlags(PageTypeREG, SecinfoR) | SecinfoPR, "FLAGS"},
		{MakeSecinfoFlags(PageTypeREG, SecinfoR) | 1<<6, "FLAGS"},
		{MakeSecinfoFlags(PageTypeREG, SecinfoR) | 1<<16, "FLAGS"},
	}
	for _, tt := range tests {
		checkRule(t, tt.flags.String(), Secinfo{Flags: tt.flags}.Validate(), tt.field)
	}
}

func TestXSaveSize(t *testing.T) {
	tests := []struct {
		xfrm uint64
		want int
	}{
		{0x3, 576},       // legacy region + header
		{0x1, 576},       // never smaller than legacy+header
		{0x7, 832},       // AVX: 576+256
		{0x1f, 1088},     // MPX: BNDCSR ends at 1024+64
		{0xe7, 2688},     // AVX-512: Hi16_ZMM ends at 1664+1024
		{0x2e7, 2696},    // PKRU: 2688+8
		{0x207, 2696},    // PKRU alone sets the end
		{0x602e7, 11008}, // AMX: TILEDATA ends at 2816+8192
	}
	for _, tt := range tests {
		if got := XSaveSize(tt.xfrm); got != tt.want {
			t.Errorf("XSaveSize(%#x) = %d, want %d", tt.xfrm, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	s := goodSECS()
	s.Size, s.BaseAddr = 0x3000, 0
	var sig SigStruct
	b, _ := NewSigStruct().MarshalBinary()
	b[16] = 0x34
	tests := []struct {
		err  error
		want string
	}{
		{s.Validate(), "SECS.SIZE = 0x3000: not a power of two >= 8192"},
		{sig.UnmarshalBinary(b), "decode SIGSTRUCT: VENDOR at offset 16 = 0x34: must be 0 or 0x8086"},
		{sig.UnmarshalBinary(b[:10]), "decode SIGSTRUCT: 10 bytes: need 1808 bytes"},
		{&EINITError{Code: ErrUnmaskedEvent}, "EINIT: SGX_UNMASKED_EVENT"},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.err.Error() != tt.want {
			t.Errorf("error = %v, want %q", tt.err, tt.want)
		}
	}
}
