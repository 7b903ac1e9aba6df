package sgx

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"
)

var (
	testKeyOnce sync.Once
	testKeyVal  *rsa.PrivateKey
	testKeyErr  error
)

// testKeySeed seeds the deterministic stream the test-only signing key is
// drawn from, so every run uses the same key.
var testKeySeed = [32]byte{'s', 'g', 'x', 'd', 'b', 'g', ' ', 't', 'e', 's', 't', ' ', 'k', 'e', 'y'}

// testKey returns the test-only RSA-3072 e=3 key, generated once per test
// binary.
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	testKeyOnce.Do(func() { testKeyVal, testKeyErr = GenerateKey(mrand.NewChaCha8(testKeySeed)) })
	if testKeyErr != nil {
		t.Fatalf("GenerateKey: %v", testKeyErr)
	}
	return testKeyVal
}

var testDate = time.Date(2026, time.November, 24, 15, 0, 0, 0, time.UTC)

// signedFixture returns a SECS, its MRENCLAVE and a SIGSTRUCT signed for
// them with the test key: DEBUG|MODE64BIT enclave, mask requiring DEBUG,
// MODE64BIT and XFRM x87|SSE, MISCSELECT EXINFO enforced.
func signedFixture(t testing.TB) (*SECS, [32]byte, *SigStruct) {
	t.Helper()
	secs := &SECS{Size: 0x4000, BaseAddr: 0x40000000, SSAFrameSize: 1, MiscSelect: MiscEXINFO,
		Attributes: Attributes{Flags: AttrDebug | AttrMode64Bit, XFRM: 3}}
	mr := handMRENCLAVE()
	sig := NewSigStruct()
	sig.EnclaveHash = mr
	sig.Attributes = Attributes{Flags: AttrDebug | AttrMode64Bit, XFRM: 3}
	sig.AttributeMask = Attributes{Flags: AttrInit | AttrDebug | AttrMode64Bit, XFRM: 3}
	sig.MiscSelect = MiscEXINFO
	sig.MiscMask = 0xffffffff
	sig.ISVProdID, sig.ISVSVN = 7, 9
	if err := Sign(sig, testKey(t), testDate); err != nil {
		t.Fatal(err)
	}
	return secs, mr, sig
}

func TestSigStructLayout(t *testing.T) {
	s := SigStruct{
		Header: [16]byte(pattern(0x01, 16)), Vendor: 0x21222324, Date: 0x31323334,
		Header2: [16]byte(pattern(0x41, 16)), SWDefined: 0x51525354,
		Modulus: [384]byte(pattern(0x10, 384)), Exponent: 0x61626364, Signature: [384]byte(pattern(0x20, 384)),
		MiscSelect: 0x71727374, MiscMask: 0x81828384, CETAttributes: 0x91, CETAttributesMask: 0x92,
		ISVFamilyID:   [16]byte(pattern(0xa1, 16)),
		Attributes:    Attributes{Flags: 0xb1b2b3b4b5b6b7b8, XFRM: 0xc1c2c3c4c5c6c7c8},
		AttributeMask: Attributes{Flags: 0xd1d2d3d4d5d6d7d8, XFRM: 0xe1e2e3e4e5e6e7e8},
		EnclaveHash:   [32]byte(pattern(0x30, 32)), ISVExtProdID: [16]byte(pattern(0x50, 16)),
		ISVProdID: 0xf1f2, ISVSVN: 0xf3f4, Q1: [384]byte(pattern(0x33, 384)), Q2: [384]byte(pattern(0x44, 384)),
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, b, 1808, []span{
		{"HEADER", 0, pattern(0x01, 16)}, {"VENDOR", 16, le32(0x21222324)}, {"DATE", 20, le32(0x31323334)},
		{"HEADER2", 24, pattern(0x41, 16)}, {"SWDEFINED", 40, le32(0x51525354)},
		{"MODULUS", 128, pattern(0x10, 384)}, {"EXPONENT", 512, le32(0x61626364)},
		{"SIGNATURE", 516, pattern(0x20, 384)}, {"MISCSELECT", 900, le32(0x71727374)},
		{"MISCMASK", 904, le32(0x81828384)}, {"CET_ATTRIBUTES", 908, []byte{0x91}},
		{"CET_ATTRIBUTES_MASK", 909, []byte{0x92}}, {"ISVFAMILYID", 912, pattern(0xa1, 16)},
		{"ATTRIBUTES", 928, le64(0xb1b2b3b4b5b6b7b8)}, {"XFRM", 936, le64(0xc1c2c3c4c5c6c7c8)},
		{"ATTRIBUTEMASK", 944, le64(0xd1d2d3d4d5d6d7d8)}, {"XFRMMASK", 952, le64(0xe1e2e3e4e5e6e7e8)},
		{"ENCLAVEHASH", 960, pattern(0x30, 32)}, {"ISVEXTPRODID", 1008, pattern(0x50, 16)},
		{"ISVPRODID", 1024, le16(0xf1f2)}, {"ISVSVN", 1026, le16(0xf3f4)},
		{"Q1", 1040, pattern(0x33, 384)}, {"Q2", 1424, pattern(0x44, 384)},
	})
	sb := s.SignedBytes()
	if len(sb) != 256 || !bytes.Equal(sb[:128], b[:128]) || !bytes.Equal(sb[128:], b[900:1028]) {
		t.Errorf("SignedBytes is not bytes[0:128] ‖ bytes[900:1028]")
	}
}

func TestNewSigStruct(t *testing.T) {
	b, _ := NewSigStruct().MarshalBinary()
	want := []span{
		{"HEADER", 0, []byte{0x06, 0, 0, 0, 0xE1, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0}},
		{"HEADER2", 24, []byte{0x01, 0x01, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 0x01, 0, 0, 0}},
		{"EXPONENT", 512, le32(3)},
	}
	checkLayout(t, b, 1808, want)
	var s SigStruct
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatalf("NewSigStruct does not decode: %v", err)
	}
}

func TestSigStructRoundTrip(t *testing.T) {
	_, _, sig := signedFixture(t)
	b, _ := sig.MarshalBinary()
	var got SigStruct
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, sig) {
		t.Error("UnmarshalBinary(MarshalBinary(sig)) != sig")
	}
}

func TestSigStructDecodeErrors(t *testing.T) {
	_, _, sig := signedFixture(t)
	good, _ := sig.MarshalBinary()
	tests := []struct {
		name  string
		edit  func(b []byte)
		err   error
		field string
		off   int
		value uint64
	}{
		{"short", nil, ErrSize, "", 1807, 1807},
		{"header byte 4", func(b []byte) { b[4] = 0xE2 }, ErrConstant, "HEADER", 4, 0xE2},
		{"vendor 0x1234", func(b []byte) { b[16], b[17] = 0x34, 0x12 }, ErrConstant, "VENDOR", 16, 0x1234},
		{"header2 byte 12", func(b []byte) { b[36] = 2 }, ErrConstant, "HEADER2", 36, 2},
		{"exponent 65537", func(b []byte) { b[512], b[513], b[514] = 1, 0, 1 }, ErrConstant, "EXPONENT", 512, 65537},
		{"reserved 44", func(b []byte) { b[44] = 1 }, ErrReserved, "RESERVED", 44, 1},
		{"reserved 127", func(b []byte) { b[127] = 0x80 }, ErrReserved, "RESERVED", 127, 0x80},
		{"reserved 910", func(b []byte) { b[910] = 1 }, ErrReserved, "RESERVED", 910, 1},
		{"reserved 1000", func(b []byte) { b[1000] = 1 }, ErrReserved, "RESERVED", 1000, 1},
		{"reserved 1039", func(b []byte) { b[1039] = 1 }, ErrReserved, "RESERVED", 1039, 1},
	}
	for _, tt := range tests {
		b := bytes.Clone(good)
		if tt.edit == nil {
			b = b[:1807]
		} else {
			tt.edit(b)
		}
		var s SigStruct
		err := s.UnmarshalBinary(b)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, tt.err) || de.Struct != "SIGSTRUCT" ||
			de.Field != tt.field || de.Off != tt.off || de.Value != tt.value {
			t.Errorf("%s: err = %#v, want %v on %q off %d value %#x", tt.name, err, tt.err, tt.field, tt.off, tt.value)
		}
	}
}

func TestSignFields(t *testing.T) {
	_, _, sig := signedFixture(t)
	key := testKey(t)
	if sig.Date != 0x20261124 {
		t.Errorf("DATE = %#x, want 0x20261124", sig.Date)
	}
	if sig.Exponent != 3 {
		t.Errorf("EXPONENT = %d", sig.Exponent)
	}
	if leInt(sig.Modulus[:]).Cmp(key.N) != 0 {
		t.Error("MODULUS is not the key's modulus, little-endian")
	}
	// The signature is S with S^3 mod N = the PKCS#1 v1.5 encoding, which
	// starts 00 01 FF.
	s := leInt(sig.Signature[:])
	em := new(big.Int).Exp(s, big.NewInt(3), key.N).FillBytes(make([]byte, 384))
	if em[0] != 0 || em[1] != 1 || em[2] != 0xff {
		t.Errorf("SIGNATURE^3 mod N starts % x, want 00 01 ff", em[:3])
	}
	q1 := new(big.Int).Div(new(big.Int).Mul(s, s), key.N)
	// Q2 by the SDM's formula: (S^3 − Q1·S·M) / M.
	s3 := new(big.Int).Mul(new(big.Int).Mul(s, s), s)
	q2 := new(big.Int).Div(new(big.Int).Sub(s3, new(big.Int).Mul(new(big.Int).Mul(q1, s), key.N)), key.N)
	if leInt(sig.Q1[:]).Cmp(q1) != 0 || leInt(sig.Q2[:]).Cmp(q2) != 0 {
		t.Error("Q1/Q2 differ from the SDM formulas")
	}
	if got, want := sig.MRSIGNER(), sha256Of(sig.Modulus[:]); got != want {
		t.Errorf("MRSIGNER = %x, want %x", got, want)
	}
}

func TestSignRejectsKey(t *testing.T) {
	key := testKey(t)
	e65537 := *key
	e65537.PublicKey.E = 65537
	small := *key
	small.PublicKey.N = new(big.Int).Lsh(big.NewInt(1), 2047)
	for name, k := range map[string]*rsa.PrivateKey{"e=65537": &e65537, "2048-bit": &small, "nil": nil} {
		if err := Sign(NewSigStruct(), k, testDate); !errors.Is(err, ErrKey) {
			t.Errorf("%s: Sign err = %v, want ErrKey", name, err)
		}
	}
	if err := Sign(NewSigStruct(), key, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("year 10000: no error")
	}
}

func TestBCDDate(t *testing.T) {
	tests := []struct {
		t    time.Time
		want uint32
	}{
		{time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), 0x20261124},
		{time.Date(1999, 1, 5, 23, 59, 0, 0, time.UTC), 0x19990105},
		{time.Date(2000, 12, 31, 0, 0, 0, 0, time.UTC), 0x20001231},
	}
	for _, tt := range tests {
		if got, err := BCDDate(tt.t); err != nil || got != tt.want {
			t.Errorf("BCDDate(%v) = %#x, %v; want %#x", tt.t, got, err, tt.want)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	key := testKey(t)
	if key.N.BitLen() != 3072 || key.E != 3 {
		t.Fatalf("key: %d bits, e = %d", key.N.BitLen(), key.E)
	}
	if err := key.Validate(); err != nil {
		t.Fatal(err)
	}
	for i, p := range key.Primes {
		if new(big.Int).Mod(p, big.NewInt(3)).Int64() != 2 {
			t.Errorf("prime %d is not 2 mod 3", i)
		}
	}
	if testing.Short() {
		return
	}
	// The reader is really used: the same stream gives the same key.
	again, err := GenerateKey(mrand.NewChaCha8(testKeySeed))
	if err != nil || again.N.Cmp(key.N) != 0 {
		t.Errorf("GenerateKey from the same stream gave a different key (%v)", err)
	}
}

func TestGenerateKeyReadError(t *testing.T) {
	if _, err := GenerateKey(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("GenerateKey from a 10-byte reader: no error")
	}
}
