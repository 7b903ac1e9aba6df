package dwarfx

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// samplePath returns the built sample enclave NAME.elf: from
// $SGXDBG_SAMPLES, or the source tree's build directory. A missing build
// fails the test (run `make enclaves`).
func samplePath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("SGXDBG_SAMPLES")
	if dir == "" {
		dir = filepath.Join("..", "..", "enclaves", "debug", "build")
	}
	p := filepath.Join(dir, name+".elf")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample enclave not built (run `make enclaves`): %v", err)
	}
	return p
}

func openSample(t *testing.T, name string) *Program {
	t.Helper()
	p, err := Open(samplePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// nmAddr returns the address of symbol name by nm(1), an independent
// reading of the symbol table.
func nmAddr(t *testing.T, path, name string) uint64 {
	t.Helper()
	out, err := exec.Command("nm", "--defined-only", path).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", path, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == name {
			a, err := strconv.ParseUint(f[0], 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	t.Fatalf("nm: no symbol %s in %s", name, path)
	return 0
}

// objdumpInsn returns the address of the first instruction of function fn
// whose mnemonic is mnem, by objdump -d.
func objdumpInsn(t *testing.T, path, fn, mnem string) uint64 {
	t.Helper()
	out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", path).Output()
	if err != nil {
		t.Fatalf("objdump %s: %v", path, err)
	}
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(line, "<"+fn+">:") {
			in = true
			continue
		}
		if in && strings.TrimSpace(line) == "" {
			break
		}
		if !in {
			continue
		}
		addr, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.HasPrefix(strings.TrimSpace(rest), mnem) {
			a, err := strconv.ParseUint(addr, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	t.Fatalf("objdump: no %s in %s", mnem, fn)
	return 0
}

// fakeMem is memory made of regions, for frames built by hand.
type fakeMem map[uint64][]byte

func (m fakeMem) read(buf []byte, addr uint64) (int, error) {
	for start, b := range m {
		if addr >= start && addr-start < uint64(len(b)) {
			n := copy(buf, b[addr-start:])
			if n < len(buf) {
				return n, fmt.Errorf("short read at %#x", addr+uint64(n))
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("cannot access memory at address %#x", addr)
}

func u64s(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}
