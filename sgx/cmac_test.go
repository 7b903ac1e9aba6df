package sgx

import (
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCMACRFC4493 checks the four AES-128 examples of RFC 4493 §4 and the
// subkeys of its §4 "Subkey Generation" example.
func TestCMACRFC4493(t *testing.T) {
	key := "2b7e151628aed2a6abf7158809cf4f3c"
	msg := "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710"
	for _, tc := range []struct {
		n    int // message bytes
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	} {
		got, err := CMAC(unhex(t, key), unhex(t, msg)[:tc.n])
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("AES-CMAC of %d bytes = %x, want %s", tc.n, got, tc.want)
		}
		ok, err := VerifyCMAC(unhex(t, key), unhex(t, msg)[:tc.n], got)
		if err != nil || !ok {
			t.Errorf("VerifyCMAC(%d bytes) = %v, %v", tc.n, ok, err)
		}
		got[0] ^= 1
		if ok, _ := VerifyCMAC(unhex(t, key), unhex(t, msg)[:tc.n], got); ok {
			t.Errorf("VerifyCMAC accepts a modified tag for %d bytes", tc.n)
		}
	}
	var l [16]byte
	copy(l[:], unhex(t, "7df76b0c1ab899b33e42f047b91b546f")) // AES-128(K, 0)
	k1 := dbl(l)
	k2 := dbl(k1)
	if hex.EncodeToString(k1[:]) != "fbeed618357133667c85e08f7236a8de" ||
		hex.EncodeToString(k2[:]) != "f7ddac306ae266ccf90bc11ee46d513b" {
		t.Errorf("subkeys K1 %x K2 %x", k1, k2)
	}
}

// TestCMACSP80038B checks SP 800-38B's AES-256 example (D.3, Example 12:
// 64-byte message) to show the generic key sizes, and a bad key size.
func TestCMACSP80038B(t *testing.T) {
	key := unhex(t, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
	msg := unhex(t, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"+
		"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
	got, err := CMAC(key, msg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "e1992190549f6ed5696a2c056c315410"; hex.EncodeToString(got[:]) != want {
		t.Errorf("AES-256-CMAC = %x, want %s", got, want)
	}
	if _, err := CMAC(make([]byte, 15), nil); err == nil {
		t.Error("CMAC accepts a 15-byte key")
	}
}
