package sgx

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }

func TestCheckEINIT(t *testing.T) {
	key := testKey(t)
	tests := []struct {
		name   string
		edit   func(secs *SECS, mr *[32]byte, sig *SigStruct)
		resign bool
		code   ErrorCode // 0 = passes
		check  string    // a substring of Check
	}{
		{"valid", nil, false, 0, ""},
		{"valid, unmasked attribute differs", func(s *SECS, _ *[32]byte, _ *SigStruct) { s.Attributes.Flags |= AttrProvisionKey }, false, 0, ""},
		{"valid, unmasked XFRM differs", func(s *SECS, _ *[32]byte, sig *SigStruct) {
			s.Attributes.XFRM = 7
		}, false, 0, ""},
		{"valid, Intel vendor", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Vendor = 0x8086 }, true, 0, ""},
		{"valid, ISVFAMILYID with KSS", func(s *SECS, _ *[32]byte, sig *SigStruct) {
			s.Attributes.Flags |= AttrKSS
			sig.ISVFamilyID[0] = 1
		}, true, 0, ""},
		{"wrong header", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Header[0] = 7 }, false, ErrInvalidSigStruct, "HEADER at offset 0 = 0x7"},
		{"wrong header2", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Header2[4] = 0x61 }, false, ErrInvalidSigStruct, "HEADER2 at offset 28"},
		{"vendor 0x1234", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Vendor = 0x1234 }, false, ErrInvalidSigStruct, "VENDOR at offset 16 = 0x1234"},
		{"exponent 65537", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Exponent = 65537 }, false, ErrInvalidSigStruct, "EXPONENT at offset 512 = 0x10001"},
		{"flipped signature byte", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Signature[100] ^= 1 }, false, ErrInvalidSignature, "SIGNATURE"},
		{"signed byte changed", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.ISVSVN++ }, false, ErrInvalidSignature, "SIGNATURE"},
		{"modulus changed", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Modulus[0] ^= 2 }, false, ErrInvalidSignature, "SIGNATURE"},
		{"bad Q1", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Q1[0] ^= 1 }, false, ErrInvalidSignature, "Q1"},
		{"bad Q2", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Q2[383] ^= 0x80 }, false, ErrInvalidSignature, "Q2"},
		{"ISVFAMILYID without KSS", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.ISVFamilyID[15] = 1 }, true, ErrInvalidSigStruct, "ISVFAMILYID"},
		{"wrong ENCLAVEHASH", func(_ *SECS, mr *[32]byte, _ *SigStruct) { mr[31] ^= 1 }, false, ErrInvalidMeasurement, "ENCLAVEHASH"},
		{"masked attribute mismatch (DEBUG)", func(s *SECS, _ *[32]byte, _ *SigStruct) { s.Attributes.Flags &^= AttrDebug }, false, ErrInvalidAttribute, "ATTRIBUTES"},
		{"masked XFRM mismatch", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.AttributeMask.XFRM = 7; sig.Attributes.XFRM = 7 }, true, ErrInvalidAttribute, "XFRM 0x7"},
		{"MISCSELECT mismatch", func(s *SECS, _ *[32]byte, _ *SigStruct) { s.MiscSelect = 0 }, false, ErrInvalidAttribute, "MISCSELECT"},
		{"MISCSELECT unmasked", func(s *SECS, _ *[32]byte, sig *SigStruct) { s.MiscSelect = 0; sig.MiscMask = 0 }, true, 0, ""},
		// Order: the signature before the hash, the hash before attributes.
		{"bad signature and hash", func(_ *SECS, mr *[32]byte, sig *SigStruct) { mr[0] ^= 1; sig.Signature[0] ^= 1 }, false, ErrInvalidSignature, ""},
		{"bad hash and attributes", func(s *SECS, mr *[32]byte, _ *SigStruct) { mr[0] ^= 1; s.Attributes.Flags = AttrMode64Bit }, false, ErrInvalidMeasurement, ""},
		{"bad vendor and signature", func(_ *SECS, _ *[32]byte, sig *SigStruct) { sig.Vendor = 1 }, false, ErrInvalidSigStruct, ""},
	}
	for _, tt := range tests {
		secs, mr, sig := signedFixture(t)
		if tt.edit != nil {
			tt.edit(secs, &mr, sig)
		}
		if tt.resign {
			if err := Sign(sig, key, testDate); err != nil {
				t.Fatal(err)
			}
		}
		err := CheckEINIT(secs, mr, sig)
		if tt.code == 0 {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var ee *EINITError
		if !errors.As(err, &ee) || ee.Code != tt.code || !errors.Is(err, tt.code) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.code)
			continue
		}
		if !strings.Contains(ee.Check, tt.check) {
			t.Errorf("%s: Check = %q, want it to mention %q", tt.name, ee.Check, tt.check)
		}
	}
}

func TestEINITErrorText(t *testing.T) {
	secs, mr, sig := signedFixture(t)
	mr = [32]byte{0x3c, 0x4d}
	err := CheckEINIT(secs, mr, sig)
	want := "EINIT: SGX_INVALID_MEASUREMENT: ENCLAVEHASH " + goldenMRENCLAVE +
		" != MRENCLAVE 3c4d000000000000000000000000000000000000000000000000000000000000"
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err, want)
	}
}

func TestCheckEINITBytes(t *testing.T) {
	secs, mr, sig := signedFixture(t)
	good, _ := sig.MarshalBinary()
	if got, err := CheckEINITBytes(secs, mr, good); err != nil || got == nil || got.EnclaveHash != mr {
		t.Fatalf("good SIGSTRUCT: %v", err)
	}
	bad := append([]byte(nil), good...)
	bad[1030] = 1 // reserved
	if _, err := CheckEINITBytes(secs, mr, bad); !errors.Is(err, ErrInvalidSigStruct) {
		t.Errorf("reserved byte: err = %v, want SGX_INVALID_SIG_STRUCT", err)
	}
	bad = append([]byte(nil), good...)
	bad[960] ^= 1 // ENCLAVEHASH is signed: signature fails first
	if s, err := CheckEINITBytes(secs, mr, bad); !errors.Is(err, ErrInvalidSignature) || s == nil {
		t.Errorf("changed ENCLAVEHASH: err = %v, want SGX_INVALID_SIGNATURE and the decoded SIGSTRUCT", err)
	}
	if _, err := CheckEINITBytes(secs, mr, good[:100]); !errors.Is(err, ErrSize) {
		t.Errorf("100 bytes: err = %v, want ErrSize", err)
	}
}

// TestVerifyGarbage feeds moduli no key has: the check must fail cleanly.
func TestVerifyGarbage(t *testing.T) {
	tests := []struct {
		name string
		edit func(*SigStruct)
	}{
		{"zero modulus", func(s *SigStruct) {}},
		{"modulus 1", func(s *SigStruct) { s.Modulus[0] = 1 }},
		{"even modulus", func(s *SigStruct) { s.Modulus[0] = 2; s.Modulus[383] = 0x80 }},
		{"all ones", func(s *SigStruct) {
			for i := range s.Modulus {
				s.Modulus[i], s.Signature[i] = 0xff, 0xff
			}
		}},
	}
	for _, tt := range tests {
		s := NewSigStruct()
		tt.edit(s)
		if err := s.VerifySignature(); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: err = %v, want SGX_INVALID_SIGNATURE", tt.name, err)
		}
	}
}
