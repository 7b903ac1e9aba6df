package debugger

import (
	"debug/elf"
	"os"
	"testing"
)

// TestVDSOSymbolAt names addresses in the emulator's synthetic vDSO (the
// file it maps whole): the entry point and an address inside it, a
// forwarder, and nothing past the functions or in a malformed image.
func TestVDSOSymbolAt(t *testing.T) {
	img, err := os.ReadFile("emu/vdso/sgx_vdso.so")
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open("emu/vdso/sgx_vdso.so")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	addr := map[string]uint64{}
	for _, s := range syms {
		addr[s.Name] = s.Value
	}
	enter, ok := addr["__vdso_sgx_enter_enclave"]
	if !ok {
		t.Fatal("no __vdso_sgx_enter_enclave in the synthetic vDSO")
	}
	for _, tt := range []struct {
		off  uint64
		name string
		at   uint64
		ok   bool
	}{
		{enter, "__vdso_sgx_enter_enclave", 0, true},
		{enter + 0x10, "__vdso_sgx_enter_enclave", 0x10, true},
		{addr["__vdso_clock_gettime"], "__vdso_clock_gettime", 0, true},
		{0, "", 0, false},       // the ELF header
		{1 << 20, "", 0, false}, // past the image
	} {
		name, at, ok := vdsoSymbolAt(img, tt.off)
		if name != tt.name || at != tt.at || ok != tt.ok {
			t.Errorf("vdsoSymbolAt(%#x) = %q+%#x %v, want %q+%#x %v", tt.off, name, at, ok, tt.name, tt.at, tt.ok)
		}
	}
	if _, _, ok := vdsoSymbolAt(img[:100], enter); ok {
		t.Error("a truncated image named a symbol")
	}
	if n, err := vdsoImageSize(img[:64]); err != nil || n > len(img) {
		t.Errorf("vdsoImageSize = %d, %v; the file has %d bytes", n, err, len(img))
	}
}

// FuzzVDSOSymbol: any bytes read from the host as its vDSO decode without
// a panic.
func FuzzVDSOSymbol(f *testing.F) {
	f.Fuzz(func(t *testing.T, img []byte, off uint64) {
		if n, err := vdsoImageSize(img); err == nil && n > maxVDSOImage {
			t.Fatalf("vdsoImageSize %d past the bound", n)
		}
		vdsoSymbolAt(img, off)
	})
}
