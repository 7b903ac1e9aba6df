package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	imagesOnce sync.Once
	imagesDir  string
	imagesErr  error
)

// testImages builds two enclave images from enclave/testdata/image that
// differ in their code (a.elf with CFI directives, b.elf without), once
// per test binary.
func testImages(t *testing.T) (a, b string) {
	t.Helper()
	imagesOnce.Do(func() {
		imagesDir, imagesErr = os.MkdirTemp("", "sgxdbg-image-cmds-")
		if imagesErr != nil {
			return
		}
		src, _ := filepath.Abs(filepath.Join("..", "..", "enclave", "testdata", "image"))
		for name, extra := range map[string][]string{"a.elf": nil, "b.elf": {"-DNO_CFI"}} {
			args := append([]string{"-O0", "-fcf-protection=none", "-ffreestanding", "-fpie", "-nostdlib", "-static-pie",
				"-Wl,-T," + filepath.Join(src, "image.ld"), "-Wl,-z,norelro", "-Wl,--build-id=none",
				"-Wl,-z,noexecstack", "-o", filepath.Join(imagesDir, name)}, extra...)
			args = append(args, filepath.Join(src, "enclave.c"), filepath.Join(src, "entry.S"))
			if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
				imagesErr = fmt.Errorf("gcc: %v\n%s", err, out)
				return
			}
		}
	})
	if imagesErr != nil {
		t.Fatal(imagesErr)
	}
	return filepath.Join(imagesDir, "a.elf"), filepath.Join(imagesDir, "b.elf")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if imagesDir != "" {
		os.RemoveAll(imagesDir)
	}
	os.Exit(code)
}

// sgxdbg runs the command line args and returns its output and error.
func sgxdbg(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// copyFile copies src into dir and returns the copy's path.
func copyFile(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// keyMRSIGNER computes MRSIGNER from a PEM key: SHA-256 of the modulus as
// 384 little-endian bytes (SGX.md §1).
func keyMRSIGNER(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	m := key.N.FillBytes(make([]byte, 384))
	slices.Reverse(m)
	sum := sha256.Sum256(m)
	return hex.EncodeToString(sum[:])
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if out, err := sgxdbg("keygen", key); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(key)
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "RSA PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("key file is not one PKCS#1 PEM block: %q", b)
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k.N.BitLen() != 3072 || k.E != 3 {
		t.Errorf("key: %d bits, e = %d; want 3072, 3", k.N.BitLen(), k.E)
	}
	_, err = sgxdbg("keygen", key)
	if !errors.Is(err, os.ErrExist) || !strings.HasPrefix(err.Error(), "keygen "+key+": ") {
		t.Errorf("keygen over an existing file: %v, want a 'keygen %s: … file exists' error", err, key)
	}
	if again, _ := os.ReadFile(key); !bytes.Equal(again, b) {
		t.Errorf("keygen changed the existing file")
	}
}

func TestMeasure(t *testing.T) {
	a, _ := testImages(t)
	out, err := sgxdbg("measure", a)
	if err != nil {
		t.Fatal(err)
	}
	mr := strings.TrimSpace(out)
	if len(mr) != 64 {
		t.Fatalf("measure printed %q", out)
	}
	// The independent Python measurement of package enclave's tests.
	py, err := exec.Command("python3", filepath.Join("..", "..", "enclave", "testdata", "mrenclave.py"), a).Output()
	if err != nil {
		t.Fatalf("mrenclave.py: %v", err)
	}
	if want, _, _ := strings.Cut(string(py), " "); mr != want {
		t.Errorf("measure = %s, mrenclave.py = %s", mr, want)
	}
	out, err = sgxdbg("measure", "--json", a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mrenclave":"` + mr + `","size":"0x10000","ssa_frame_size":1,"pages":14,"attributes":"0x6","xfrm":"0x3"}` + "\n"
	if out != want {
		t.Errorf("measure --json =\n%s\nwant\n%s", out, want)
	}
}

var (
	keyOnce sync.Once
	keyPath string
	keyErr  error
)

// signingKey returns a key made by sgxdbg keygen, once per test binary
// (generating an RSA-3072 key with e = 3 takes a while).
func signingKey(t *testing.T) string {
	t.Helper()
	testImages(t)
	keyOnce.Do(func() {
		keyPath = filepath.Join(imagesDir, "key.pem")
		if out, err := sgxdbg("keygen", keyPath); err != nil {
			keyErr = fmt.Errorf("keygen: %v\n%s", err, out)
		}
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyPath
}

// signed signs a copy of image a in a temporary directory with the shared
// key; it returns the image, key and SIGSTRUCT paths.
func signed(t *testing.T) (image, key, sig string) {
	t.Helper()
	a, _ := testImages(t)
	image = copyFile(t, a, t.TempDir())
	key = signingKey(t)
	if out, err := sgxdbg("sign", "--key", key, "--date", "2026-11-24", image); err != nil {
		t.Fatalf("sign: %v\n%s", err, out)
	}
	return image, key, image + ".sig"
}

func TestSignVerify(t *testing.T) {
	image, key, sig := signed(t)
	b, err := os.ReadFile(sig)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1808 {
		t.Fatalf("SIGSTRUCT of %d bytes", len(b))
	}
	mrOut, _ := sgxdbg("measure", image)
	mr := strings.TrimSpace(mrOut)
	// Fields from SGX.md's SIGSTRUCT table.
	le := func(off, n int) uint64 {
		var v uint64
		for i := n - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[off+i])
		}
		return v
	}
	for _, f := range []struct {
		name      string
		off, n    int
		want      uint64
		wantBytes string
	}{
		{name: "DATE", off: 20, n: 4, want: 0x20261124},
		{name: "EXPONENT", off: 512, n: 4, want: 3},
		{name: "MISCSELECT", off: 900, n: 4, want: 1},
		{name: "MISCMASK", off: 904, n: 4, want: 0xffffffff},
		{name: "ATTRIBUTES.FLAGS", off: 928, n: 8, want: 6},
		{name: "ATTRIBUTES.XFRM", off: 936, n: 8, want: 3},
		{name: "ATTRIBUTEMASK.FLAGS", off: 944, n: 8, want: 0xfffffffffffffffd},
		{name: "ATTRIBUTEMASK.XFRM", off: 952, n: 8, want: 0xfffffffffffffffb},
		{name: "ISVPRODID", off: 1024, n: 2, want: 0x1234},
		{name: "ISVSVN", off: 1026, n: 2, want: 7},
	} {
		if got := le(f.off, f.n); got != f.want {
			t.Errorf("SIGSTRUCT %s = %#x, want %#x", f.name, got, f.want)
		}
	}
	if got := hex.EncodeToString(b[960:992]); got != mr {
		t.Errorf("ENCLAVEHASH %s, MRENCLAVE %s", got, mr)
	}

	// Reproducible with --date.
	again := filepath.Join(t.TempDir(), "again.sig")
	if out, err := sgxdbg("sign", "--key", key, "--date", "2026-11-24", "-o", again, image); err != nil {
		t.Fatalf("sign -o: %v\n%s", err, out)
	}
	if b2, _ := os.ReadFile(again); !bytes.Equal(b, b2) {
		t.Errorf("signing twice with the same --date gave different SIGSTRUCTs")
	}

	out, err := sgxdbg("verify", image)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	signer := keyMRSIGNER(t, key)
	for _, want := range []string{"MRENCLAVE   " + mr, "MRSIGNER    " + signer, "ATTRIBUTES  0x6 DEBUG+MODE64BIT  XFRM 0x3",
		"MISCSELECT  0x1 EXINFO", "ISVPRODID   4660", "ISVSVN      7", "DATE        2026-11-24", "verdict     OK"} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+":") {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	out, err = sgxdbg("verify", "--json", image, sig)
	if err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	want := `{"mrenclave":"` + mr + `","mrsigner":"` + signer +
		`","size":"0x10000","ssa_frame_size":1,"pages":14,"attributes":"0x6","xfrm":"0x3","ok":true}` + "\n"
	if out != want {
		t.Errorf("verify --json =\n%s\nwant\n%s", out, want)
	}
}

// verifyFails runs verify (text and JSON) expecting EINIT error name.
func verifyFails(t *testing.T, image, sig, name string) {
	t.Helper()
	out, err := sgxdbg("verify", image, sig)
	var ec exitCode
	if !asExitCode(err, &ec) || ec != 1 {
		t.Fatalf("verify = %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(out, "verdict     FAIL "+name+": ") {
		t.Errorf("verify output lacks the verdict %s:\n%s", name, out)
	}
	out, err = sgxdbg("verify", "--json", image, sig)
	if !asExitCode(err, &ec) || ec != 1 {
		t.Fatalf("verify --json = %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(out, `,"ok":false,"error":"`+name+`","check":"`) {
		t.Errorf("verify --json = %s, want ok false and error %s", out, name)
	}
}

func TestVerifyTampered(t *testing.T) {
	image, _, sig := signed(t)
	b, _ := os.ReadFile(sig)
	b[1026] ^= 1 // ISVSVN, inside the signed bytes
	bad := filepath.Join(t.TempDir(), "tampered.sig")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	verifyFails(t, image, bad, "SGX_INVALID_SIGNATURE")
}

func TestVerifyWrongImage(t *testing.T) {
	_, _, sig := signed(t)
	_, other := testImages(t)
	verifyFails(t, other, sig, "SGX_INVALID_MEASUREMENT")
}

func TestImageCmdErrors(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "notelf.elf")
	os.WriteFile(notELF, []byte("#!/bin/sh\necho hello, not an enclave\n"), 0o644)
	short := filepath.Join(dir, "short.sig")
	os.WriteFile(short, make([]byte, 100), 0o644)
	image, key, _ := signed(t)
	tests := []struct {
		args []string
		want string // the error's beginning
	}{
		{[]string{"measure", notELF}, "measure " + notELF + ": ELF magic at offset 0x0: not an ELF file"},
		{[]string{"sign", "--key", key, notELF}, "sign " + notELF + ": ELF magic at offset 0x0: not an ELF file"},
		{[]string{"sign", "--key", key, "--date", "24.11.2026", image}, "sign " + image + ": --date: "},
		{[]string{"sign", "--key", notELF, image}, "sign " + image + ": " + notELF + ": no PEM block"},
		{[]string{"verify", image, short}, "verify " + image + ": " + short + ": 100 bytes, a SIGSTRUCT has 1808"},
		{[]string{"verify", image, filepath.Join(dir, "missing.sig")}, "verify " + image + ": open "},
	}
	for _, tt := range tests {
		_, err := sgxdbg(tt.args...)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("sgxdbg %v: error %v, want %q…", tt.args, err, tt.want)
		}
	}
}
