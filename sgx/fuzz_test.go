package sgx

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// fuzzSeeds returns each fuzz target's seed inputs, by file name.
func fuzzSeeds(t testing.TB) map[string]map[string][]byte {
	secs, _, sig := signedFixture(t)
	signed, _ := sig.MarshalBinary()
	fresh, _ := NewSigStruct().MarshalBinary()
	badHeader := slices.Clone(signed)
	badHeader[4] = 0xE2
	badReserved := slices.Clone(signed)
	badReserved[1030] = 1

	g := goodSECS()
	secsPage, _ := g.MarshalBinary()
	fixtureSECS, _ := secs.MarshalBinary()
	secsReserved := slices.Clone(secsPage)
	secsReserved[300] = 1

	tc := TCS{OSSA: 0x3000, NSSA: 2, CSSA: 1, OENTRY: 0x1000, OFSBASGX: 0x5000, OGSBASGX: 0x5000, Flags: TCSDbgOptIn}
	tcsPage, _ := tc.MarshalBinary()
	tcsReserved := slices.Clone(tcsPage)
	tcsReserved[100] = 1

	run := EnclaveRun{TCS: 0x7f0000001000, Function: 2, UserHandler: 0x401000}
	runBytes, _ := run.MarshalBinary()
	uapi := map[string][]byte{"run": runBytes}
	for name, v := range map[string]uapiCodec{
		"create":   &EnclaveCreate{Src: 0x7ffd0000},
		"addpages": &EnclaveAddPages{Src: 0x7ffd1000, Offset: 0x1000, Length: 0x2000, Secinfo: 0x7ffd0040, Flags: PageMeasure},
		"init":     &EnclaveInit{SigStruct: 0x7ffd2000},
		"restrict": &EnclaveRestrictPermissions{Offset: 0x1000, Length: 0x1000, Permissions: 1},
		"remove":   &EnclaveRemovePages{Offset: 0x3000, Length: 0x1000},
	} {
		uapi[name], _ = v.MarshalBinary()
	}

	tok := EINITToken{Valid: 1, MRENCLAVE: handMRENCLAVE(), MaskedAttributesLE: Attributes{Flags: AttrDebug, XFRM: 3}}
	tokBytes, _ := tok.MarshalBinary()
	zeroTok, _ := (&EINITToken{}).MarshalBinary()

	regRX, _ := Secinfo{Flags: MakeSecinfoFlags(PageTypeREG, SecinfoR|SecinfoX)}.MarshalBinary()
	tcsSI, _ := Secinfo{Flags: MakeSecinfoFlags(PageTypeTCS, 0)}.MarshalBinary()
	siReserved := slices.Clone(regRX)
	siReserved[40] = 1

	h, _ := NewKeyHierarchy(bytes.Repeat([]byte{7}, CPUSecretSize))
	id := Identity{MiscSelect: MiscEXINFO, Attributes: Attributes{Flags: AttrInit | AttrDebug | AttrMode64Bit, XFRM: 3}}
	rep := h.Report(&id, &TargetInfo{}, [64]byte{1, 2, 3})
	repBytes, _ := rep.MarshalBinary()
	ti := TargetInfoOf(&rep)
	tiBytes, _ := ti.MarshalBinary()
	seal, _ := (&KeyRequest{KeyName: KeySeal, KeyPolicy: PolicyMRSIGNER, AttributeMask: Attributes{Flags: 0xff0000000000000b}, MiscMask: 0xf0000000}).MarshalBinary()
	prov, _ := (&KeyRequest{KeyName: KeyProvision, CPUSVN: EmulatedCPUSVN}).MarshalBinary()
	krReserved := slices.Clone(seal)
	krReserved[100] = 1

	return map[string]map[string][]byte{
		"FuzzReport":     {"self": repBytes, "reserved": with(repBytes, 21), "short": repBytes[:384]},
		"FuzzTargetInfo": {"self": tiBytes, "reserved-set": with(tiBytes, 300)},
		"FuzzKeyRequest": {"seal-mrsigner": seal, "provision": prov, "reserved": krReserved, "bad-policy": with(seal, 3)},
		"FuzzSigStruct":  {"signed": signed, "fresh": fresh, "bad-header": badHeader, "bad-reserved": badReserved, "short": signed[:900]},
		"FuzzSECS":       {"valid": secsPage, "fixture": fixtureSECS, "reserved": secsReserved, "short": secsPage[:262]},
		"FuzzTCS":        {"page": tcsPage, "debug-readable": tcsPage[:72], "reserved": tcsReserved, "short": tcsPage[:71]},
		"FuzzUAPI":       uapi,
		"FuzzEINITToken": {"valid": tokBytes, "linux-zero": zeroTok},
		"FuzzSecinfo":    {"reg-rx": regRX, "tcs": tcsSI, "reserved": siReserved},
	}
}

// corpusFile is Go's fuzz corpus file format for one []byte argument.
func corpusFile(b []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n")
}

// TestFuzzSeeds checks that testdata/fuzz holds exactly the seeds
// fuzzSeeds builds (run with -update-seeds to rewrite them).
func TestFuzzSeeds(t *testing.T) {
	for target, seeds := range fuzzSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, b := range seeds {
			path := filepath.Join(dir, name)
			want := corpusFile(b)
			if *updateSeeds {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("seed %s: %v (run go test -run TestFuzzSeeds -update-seeds)", path, err)
			} else if !bytes.Equal(got, want) {
				t.Errorf("seed %s is stale (run go test -run TestFuzzSeeds -update-seeds)", path)
			}
		}
	}
}

// FuzzSigStruct decodes SIGSTRUCT bytes; what decodes must re-encode to
// the same bytes, and the signature and EINIT checks must not panic.
func FuzzSigStruct(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s SigStruct
		if err := s.UnmarshalBinary(b); err != nil {
			if _, err2 := CheckEINITBytes(&SECS{}, [32]byte{}, b); err2 == nil {
				t.Fatalf("UnmarshalBinary fails (%v) but CheckEINITBytes passes", err)
			}
			return
		}
		out, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip differs (%v)", err)
		}
		_ = s.SignedBytes()
		_ = s.MRSIGNER()
		_ = s.VerifySignature()
		secs := &SECS{MiscSelect: s.MiscSelect, Attributes: s.Attributes}
		_ = CheckEINIT(secs, s.EnclaveHash, &s)
	})
}

// FuzzSECS decodes SECS pages: round trip and a panic-free Validate.
func FuzzSECS(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s SECS
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip differs (%v)", err)
		}
		_ = s.Validate()
		_ = s.Attributes.String()
	})
}

// FuzzTCS decodes TCS pages and EDBGRD-sized prefixes.
func FuzzTCS(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var tc TCS
		if err := tc.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := tc.MarshalBinary()
		if err != nil || !bytes.Equal(out[:len(b)], b) || len(out) != TCSSize {
			t.Fatalf("round trip differs (%v)", err)
		}
		_ = tc.Validate()
		_ = tc.Flags.String()
	})
}

// FuzzUAPI decodes the input as every ioctl argument struct: exactly one
// size fits each, and what decodes re-encodes to the same bytes.
func FuzzUAPI(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		codecs := []struct {
			v    uapiCodec
			size int
		}{
			{new(EnclaveCreate), 8}, {new(EnclaveAddPages), 48}, {new(EnclaveInit), 8},
			{new(EnclaveProvision), 8}, {new(EnclaveRestrictPermissions), 40},
			{new(EnclaveModifyTypes), 40}, {new(EnclaveRemovePages), 24}, {new(EnclaveRun), 256},
			{new(PageInfo), 32},
		}
		for _, c := range codecs {
			err := c.v.UnmarshalBinary(b)
			if (err == nil) != (len(b) == c.size) {
				t.Fatalf("%T: %d bytes gave err %v", c.v, len(b), err)
			}
			if err != nil {
				continue
			}
			out, err := c.v.MarshalBinary()
			if err != nil || !bytes.Equal(out, b) {
				t.Fatalf("%T: round trip differs (%v)", c.v, err)
			}
		}
		var r EnclaveRun
		if r.UnmarshalBinary(b) == nil {
			if err := r.Validate(); (err == nil) != (bytes.Count(b[40:], []byte{0}) == 216) {
				t.Fatalf("EnclaveRun.Validate = %v on reserved % x", err, b[40:])
			}
		}
	})
}

// FuzzEINITToken decodes EINITTOKENs.
func FuzzEINITToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var tok EINITToken
		if err := tok.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := tok.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip differs (%v)", err)
		}
	})
}

// FuzzSecinfo decodes SECINFO read from a traced process and judges it.
func FuzzSecinfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Secinfo
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip differs (%v)", err)
		}
		_ = s.Flags.String()
		if s.Validate() == nil {
			if pt := s.Flags.PageType(); pt != PageTypeREG && pt != PageTypeTCS {
				t.Fatalf("Validate accepts page type %v", pt)
			}
		}
	})
}

// FuzzReport decodes REPORTs: round trip, and a panic-free MAC check.
func FuzzReport(f *testing.F) {
	h, _ := NewKeyHierarchy(bytes.Repeat([]byte{7}, CPUSecretSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Report
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip differs (%v)", err)
		}
		ti := TargetInfoOf(&r)
		_ = h.VerifyReport(&r, &ti)
	})
}

// FuzzTargetInfo decodes TARGETINFOs: what decodes re-encodes to the same
// fields (reserved bytes are ignored, as EREPORT ignores them).
func FuzzTargetInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var ti TargetInfo
		if err := ti.UnmarshalBinary(b); err != nil {
			if len(b) == TargetInfoSize {
				t.Fatalf("512 bytes rejected: %v", err)
			}
			return
		}
		out, _ := ti.MarshalBinary()
		var again TargetInfo
		if err := again.UnmarshalBinary(out); err != nil || again != ti {
			t.Fatalf("round trip differs (%v)", err)
		}
	})
}

// FuzzKeyRequest decodes KEYREQUESTs and runs EGETKEY's checks and
// derivation on them: no panic, and an error is either a #GP RuleError or
// a KeyError with an SGX error code.
func FuzzKeyRequest(f *testing.F) {
	h, _ := NewKeyHierarchy(bytes.Repeat([]byte{7}, CPUSecretSize))
	id := Identity{MiscSelect: MiscEXINFO, Attributes: Attributes{Flags: AttrInit | AttrDebug | AttrMode64Bit, XFRM: 3}, ISVSVN: 1}
	f.Fuzz(func(t *testing.T, b []byte) {
		var k KeyRequest
		if err := k.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := k.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip differs (%v)", err)
		}
		_ = k.KeyName.String() + k.KeyPolicy.String()
		if _, err := h.GetKey(&id, &k); err != nil {
			var re *RuleError
			var ke *KeyError
			if !errors.As(err, &re) && !errors.As(err, &ke) {
				t.Fatalf("GetKey error %T %v", err, err)
			}
		}
	})
}
