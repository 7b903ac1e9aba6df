package sgx

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestOpenSSLSignature signs SignedBytes with the openssl command line tool
// and compares its (big-endian) signature with SIGSTRUCT.SIGNATURE
// reversed: an independent implementation of RSASSA-PKCS1-v1_5 SHA-256.
func TestOpenSSLSignature(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is needed for this cross-check: %v", err)
	}
	_, _, sig := signedFixture(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key.pem")
	msgPath := filepath.Join(dir, "msg")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testKey(t))})
	if err := os.WriteFile(keyPath, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(msgPath, sig.SignedBytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-sign", keyPath, msgPath).Output()
	if err != nil {
		t.Fatalf("openssl dgst -sign: %v", err)
	}
	want := slices.Clone(sig.Signature[:])
	slices.Reverse(want)
	if !bytes.Equal(out, want) {
		t.Errorf("openssl signature (%d bytes) differs from SIGNATURE reversed", len(out))
	}
}
