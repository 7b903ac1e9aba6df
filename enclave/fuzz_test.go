package enclave

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzNewImage from the test images")

// TestWriteFuzzSeeds regenerates the seed corpus of FuzzNewImage with
// -write-fuzz-seeds: the packed test image (valid, with symbols, DWARF and
// CFI), its stripped form, and truncations of it.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate the corpus")
	}
	valid, err := os.ReadFile(testImage(t, imgPacked))
	if err != nil {
		t.Fatal(err)
	}
	packed := filepath.Join(buildDir, "packed-stripped.elf")
	run(t, "strip", "-o", packed, testImage(t, imgPacked))
	stripped, err := os.ReadFile(packed)
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"valid":          valid,
		"valid-stripped": stripped,
		"truncated-64":   valid[:64],
		"truncated-500":  valid[:500],
		"truncated-half": valid[:len(valid)/2],
		"truncated-end":  valid[:len(valid)-1],
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzNewImage")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// FuzzUnwind: the hand-built stack of TestUnwind, from leaf's body and
	// from its first instruction.
	s := newStackScenario(t, openTest(t, imgDebug))
	dir = filepath.Join("testdata", "fuzz", "FuzzUnwind")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]UnwindRegs{
		"body":  {RIP: s.base + s.leaf.Offset + 7, RSP: s.rbpLeaf, RBP: s.rbpLeaf},
		"entry": {RIP: s.base + s.leaf.Offset, RSP: s.rbpLeaf + 8, RBP: s.rbpMid},
	} {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nuint64(%d)\nuint64(%d)\nuint64(%d)\n",
			strconv.Quote(string(s.mem.data)), r.RIP, r.RSP, r.RBP)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzUnwind unwinds the debug test image loaded at the base of
// TestUnwind's scenario over arbitrary stack bytes (the stack region,
// 0x7000-0x8fff) and registers: the walk must stay within max frames and
// inside the image, and not panic.
func FuzzUnwind(f *testing.F) {
	im, err := Open(testImage(f, imgDebug))
	if err != nil {
		f.Fatal(err)
	}
	const base = 0x7f0000000000
	f.Fuzz(func(t *testing.T, stack []byte, rip, rsp, rbp uint64) {
		mem := &fakeMem{start: base + 0x7000, data: stack[:min(len(stack), 0x2000)]}
		frames, _ := im.Unwind(mem, base, UnwindRegs{RIP: rip, RSP: rsp, RBP: rbp}, 16)
		if len(frames) > 16 {
			t.Fatalf("%d frames, max 16", len(frames))
		}
		for _, fr := range frames {
			if fr.PC < base || fr.PC-base >= im.Size {
				t.Fatalf("frame PC %#x outside the image", fr.PC)
			}
		}
	})
}

// zeroMem is enclave memory that reads as zeros everywhere.
type zeroMem struct{}

func (zeroMem) ReadMemory(buf []byte, _ uint64) (int, error) {
	clear(buf)
	return len(buf), nil
}

// FuzzNewImage feeds arbitrary bytes to NewImage and, when they parse,
// to everything that reads the image: measurement, runs, symbols, lines
// and the unwinder. Nothing may panic, and a parsed image must keep the
// invariants callers rely on.
func FuzzNewImage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := NewImage(bytes.NewReader(b))
		if err != nil {
			return
		}
		if im.Size < minSize || im.Size&(im.Size-1) != 0 || len(im.Pages) == 0 || len(im.Pages) > MaxPages {
			t.Fatalf("Size %#x with %d pages", im.Size, len(im.Pages))
		}
		for i, p := range im.Pages {
			if len(p.Data) != PageSize || p.Offset%PageSize != 0 || p.Offset >= im.Size ||
				i > 0 && p.Offset <= im.Pages[i-1].Offset {
				t.Fatalf("page %d: offset %#x, %d bytes", i, p.Offset, len(p.Data))
			}
		}
		if len(im.Pages) <= 1024 { // hashing up to 4 GiB of pages is not what the fuzzer should spend time on
			if _, err := im.MRENCLAVE(); err != nil {
				t.Fatalf("MRENCLAVE of a valid image: %v", err)
			}
		}
		var n uint64
		for _, r := range im.Runs() {
			n += r.Length / PageSize
		}
		if n != uint64(len(im.Pages)) {
			t.Fatalf("runs cover %d pages of %d", n, len(im.Pages))
		}
		im.Symbols()
		if rs, err := im.FunctionRanges(); err == nil {
			for i, r := range rs {
				if r[0] >= r[1] || r[1] > im.Size || (i > 0 && r[0] <= rs[i-1][1]) {
					t.Fatalf("function ranges %#x: not sorted, disjoint ranges inside the enclave", rs)
				}
			}
		}
		for _, off := range []uint64{0, im.Pages[0].Offset + 1, im.Size / 2, im.Size - 1} {
			im.SymbolAt(off)
			im.LineAt(off)
		}
		const base = 0x7f0000000000
		for _, p := range im.Pages[:min(len(im.Pages), 64)] {
			regs := UnwindRegs{RIP: base + p.Offset + 8, RSP: base + im.Size/2, RBP: base + im.Size/2 + 16}
			if frames, _ := im.Unwind(zeroMem{}, base, regs, 8); len(frames) > 8 {
				t.Fatalf("%d frames, max 8", len(frames))
			}
		}
	})
}

// TestFuzzSeedValid: the "valid" seeds are valid images, so that the
// fuzzer starts from inputs that reach the debug-information code.
func TestFuzzSeedValid(t *testing.T) {
	for _, name := range []string{"valid", "valid-stripped"} {
		b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzNewImage", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.SplitN(b, []byte("\n"), 3)
		lit, ok := bytes.CutPrefix(lines[1], []byte("[]byte("))
		if !ok || len(lines) < 2 {
			t.Fatalf("%s: not a go test fuzz v1 file", name)
		}
		s, err := strconv.Unquote(string(bytes.TrimSuffix(lit, []byte(")"))))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		im, err := NewImage(bytes.NewReader([]byte(s)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := im.Symbols(); (name == "valid") != (err == nil) {
			t.Errorf("%s: Symbols error %v", name, err)
		}
	}
}
