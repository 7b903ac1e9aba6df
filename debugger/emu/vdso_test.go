package emu

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
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

// TestVDSOSectionLookup: the mapped image holds the section headers, so a
// runtime that finds __vdso_sgx_enter_enclave as the Intel SGX SDK's uRTS
// does (psw/urts/linux/sig_handler.cpp get_vdso_sym: e_shoff, the section
// names, .dynsym and .dynstr, all read from the mapped image) finds it.
// Without them the uRTS silently falls back to its own ENCLU and signals.
func TestVDSOSectionLookup(t *testing.T) {
	v, err := parseVDSO(sgxVDSO)
	if err != nil {
		t.Fatal(err)
	}
	m := v.mem
	le := binary.LittleEndian
	u16 := func(o uint64) uint64 { return uint64(le.Uint16(m[o:])) }
	u32 := func(o uint64) uint64 { return uint64(le.Uint32(m[o:])) }
	u64 := func(o uint64) uint64 { return le.Uint64(m[o:]) }
	shoff, shnum, shstrndx := u64(0x28), u16(0x3c), u16(0x3e)
	if shoff == 0 || shnum == 0 || shoff+shnum*64 > uint64(len(m)) {
		t.Fatalf("section headers [%#x, +%d×64) not in the %#x-byte image", shoff, shnum, len(m))
	}
	sh := func(i uint64) uint64 { return shoff + i*64 }
	strs := u64(sh(shstrndx) + 24)
	name := func(off uint64) string {
		end := bytes.IndexByte(m[off:], 0)
		return string(m[off : off+uint64(end)])
	}
	var dynsym, dynstr uint64
	var dynsymSize, entsize uint64
	for i := range shnum {
		switch name(strs + u32(sh(i))) {
		case ".dynsym":
			dynsym, dynsymSize, entsize = u64(sh(i)+24), u64(sh(i)+32), u64(sh(i)+56)
		case ".dynstr":
			dynstr = u64(sh(i) + 24)
		}
	}
	if dynsym == 0 || dynstr == 0 || entsize != 24 {
		t.Fatalf(".dynsym %#x (entsize %d), .dynstr %#x", dynsym, entsize, dynstr)
	}
	var found uint64
	for o := dynsym; o < dynsym+dynsymSize; o += entsize {
		if name(dynstr+u32(o)) == "__vdso_sgx_enter_enclave" {
			found = u64(o + 8)
		}
	}
	f, err := elf.NewFile(bytes.NewReader(sgxVDSO))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, s := range syms {
		if s.Name == "__vdso_sgx_enter_enclave" {
			want = s.Value
		}
	}
	if found == 0 || found != want {
		t.Errorf("__vdso_sgx_enter_enclave through the mapped section headers at %#x, want %#x", found, want)
	}
}
