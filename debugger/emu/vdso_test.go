package emu

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The committed vDSO image is what vdso/gen.sh builds from its source.
func TestVDSOImageUpToDate(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"sgx_vdso.S", "sgx_vdso.lds", "sgx_vdso.map", "gen.sh"} {
		b, err := os.ReadFile(filepath.Join("vdso", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("sh", filepath.Join(dir, "gen.sh")).CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, out)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, "sgx_vdso.so"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, sgxVDSO) {
		t.Fatal("vdso/sgx_vdso.so is stale: run go generate ./debugger/emu")
	}
	v, err := parseVDSO(sgxVDSO)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v.mem[v.enclu:v.enclu+3], []byte{0x0f, 0x01, 0xd7}) {
		t.Errorf("sgx_vdso_enclu at %#x is not an ENCLU", v.enclu)
	}
}
