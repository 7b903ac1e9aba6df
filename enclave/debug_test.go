package enclave

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// markerLine returns the line of testdata/image/file holding "LINE:name".
func markerLine(t *testing.T, file, name string) int {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "image", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if strings.Contains(s.Text(), "LINE:"+name+" ") {
			return n
		}
	}
	t.Fatalf("%s: no LINE:%s marker", file, name)
	return 0
}

// nmSymbols lists the image's defined, non-absolute symbols with nm(1),
// as an independent reading of the symbol table.
func nmSymbols(t *testing.T, path string) []Symbol {
	t.Helper()
	out, err := exec.Command("nm", "-S", "--defined-only", path).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", path, err)
	}
	var syms []Symbol
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		var s Symbol
		switch len(f) {
		case 3: // value type name
			s.Name = f[2]
		case 4: // value size type name
			s.Name = f[3]
			if s.Size, err = strconv.ParseUint(f[1], 16, 64); err != nil {
				t.Fatalf("nm line %q: %v", line, err)
			}
		default:
			t.Fatalf("nm line %q", line)
		}
		if typ := f[len(f)-2]; typ == "A" || typ == "a" {
			continue
		}
		if s.Offset, err = strconv.ParseUint(f[0], 16, 64); err != nil {
			t.Fatalf("nm line %q: %v", line, err)
		}
		syms = append(syms, s)
	}
	sort.Slice(syms, func(i, j int) bool { return syms[i].Offset < syms[j].Offset })
	return syms
}

// symbolMap returns the image's symbols by name.
func symbolMap(t *testing.T, im *Image) map[string]Symbol {
	t.Helper()
	syms, err := im.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Symbol{}
	for _, s := range syms {
		m[s.Name] = s
	}
	return m
}

func TestSymbols(t *testing.T) {
	im := openTest(t, imgDebug)
	got, err := im.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	if want := nmSymbols(t, testImage(t, imgDebug)); !reflect.DeepEqual(got, want) {
		t.Errorf("Symbols() =\n%v\nnm says\n%v", got, want)
	}
	m := symbolMap(t, im)
	// Fixed by entry.S and image.ld.
	if s := m["enclave_entry"]; s.Offset != 0x9000 || s.Size != 0 {
		t.Errorf("enclave_entry = %+v, want offset 0x9000, no size", s)
	}
	if s := m["counter"]; s.Offset != 0xb000 || s.Size != 4 {
		t.Errorf("counter = %+v", s)
	}
	leaf, outer := m["leaf"], m["outer"]
	tests := []struct {
		off  uint64
		name string
		rel  uint64
		ok   bool
	}{
		{leaf.Offset, "leaf", 0, true},
		{leaf.Offset + 3, "leaf", 3, true},
		{leaf.Offset + leaf.Size - 1, "leaf", leaf.Size - 1, true},
		{outer.Offset + outer.Size, "", 0, false}, // after the last function
		{0x9002, "enclave_entry", 2, true},        // an unsized label covers up to the next symbol
		{0xb002, "counter", 2, true},
		{0xb0e0 + 4999, "scratch", 4999, true},
		{0x6000, "", 0, false}, // a hole, before any symbol
		{0x10000, "", 0, false},
	}
	for _, tt := range tests {
		s, rel, ok := im.SymbolAt(tt.off)
		if ok != tt.ok || s.Name != tt.name || rel != tt.rel {
			t.Errorf("SymbolAt(%#x) = %q+%#x, %v; want %q+%#x, %v", tt.off, s.Name, rel, ok, tt.name, tt.rel, tt.ok)
		}
	}
}

func TestLineAt(t *testing.T) {
	im := openTest(t, imgDebug)
	m := symbolMap(t, im)
	tests := []struct {
		off  uint64
		file string
		line int
	}{
		{m["leaf"].Offset + 7, "enclave.c", markerLine(t, "enclave.c", "leaf-body")}, // after the prologue and the spill of x
		{0x9000, "entry.S", markerLine(t, "entry.S", "entry-call")},
		{0x9004, "entry.S", markerLine(t, "entry.S", "entry-call")},
	}
	for _, tt := range tests {
		file, line, err := im.LineAt(tt.off)
		if err != nil || filepath.Base(file) != tt.file || line != tt.line {
			t.Errorf("LineAt(%#x) = %s:%d, %v; want %s:%d", tt.off, file, line, err, tt.file, tt.line)
		}
	}
	for _, off := range []uint64{0xb000, 0x0, 0x8fff, m["outer"].Offset + m["outer"].Size} {
		if _, _, err := im.LineAt(off); !errors.Is(err, ErrNoDebugInfo) {
			t.Errorf("LineAt(%#x) error = %v, want ErrNoDebugInfo", off, err)
		}
	}
}

// TestLineAtAddr2line compares LineAt with addr2line(1) at every byte of
// the code.
func TestLineAtAddr2line(t *testing.T) {
	path := testImage(t, imgDebug)
	im := openTest(t, imgDebug)
	args := []string{"-e", path}
	for off := 0x9000; off < 0x9000+0x7e; off++ {
		args = append(args, fmt.Sprintf("%#x", off))
	}
	out, err := exec.Command("addr2line", args...).Output()
	if err != nil {
		t.Fatalf("addr2line: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 0x7e {
		t.Fatalf("addr2line printed %d lines", len(lines))
	}
	for i, l := range lines {
		off := uint64(0x9000 + i)
		l, _, _ = strings.Cut(l, " (discriminator")
		wantFile, wantLine, _ := strings.Cut(l, ":")
		file, line, err := im.LineAt(off)
		if err != nil || file != wantFile || strconv.Itoa(line) != wantLine {
			t.Errorf("LineAt(%#x) = %s:%d, %v; addr2line says %s", off, file, line, err, l)
		}
	}
}

func TestStripped(t *testing.T) {
	im := openTest(t, imgStripped)
	if _, err := im.Symbols(); !errors.Is(err, ErrNoSymbols) {
		t.Errorf("Symbols() error = %v, want ErrNoSymbols", err)
	}
	if s, _, ok := im.SymbolAt(0x9008); ok {
		t.Errorf("SymbolAt found %v in a stripped image", s)
	}
	if _, _, err := im.LineAt(0x9008); !errors.Is(err, ErrNoDebugInfo) {
		t.Errorf("LineAt error = %v, want ErrNoDebugInfo", err)
	}
}

func TestClosed(t *testing.T) {
	im, err := Open(testImage(t, imgDebug))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Symbols(); err != nil { // loaded before Close: still there
		t.Fatal(err)
	}
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _, ok := im.SymbolAt(0x9008); !ok || s.Name != "leaf" {
		t.Errorf("SymbolAt after Close = %v, %v", s, ok)
	}
	if _, _, err := im.LineAt(0x9008); !errors.Is(err, ErrClosed) {
		t.Errorf("LineAt after Close: %v, want ErrClosed", err)
	}
	if err := im.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// fakeMem is enclave memory for the unwinder: a snapshot of the stack
// region; every other read fails.
type fakeMem struct {
	start uint64
	data  []byte
	reads int
}

func (m *fakeMem) ReadMemory(buf []byte, addr uint64) (int, error) {
	m.reads++
	if addr < m.start || addr-m.start+uint64(len(buf)) > uint64(len(m.data)) {
		return 0, fmt.Errorf("EDBGRD %#x: not in the snapshot", addr)
	}
	return copy(buf, m.data[addr-m.start:]), nil
}

func (m *fakeMem) put(addr, v uint64) { binary.LittleEndian.PutUint64(m.data[addr-m.start:], v) }

// callSite returns the offset after the CALL rel32 in function from whose
// target is to.
func callSite(t *testing.T, im *Image, from, to Symbol) uint64 {
	t.Helper()
	for off := from.Offset; off+5 <= from.Offset+from.Size; off++ {
		p := im.Page(off)
		i := off - p.Offset
		if i+5 > PageSize || p.Data[i] != 0xe8 {
			continue
		}
		rel := int32(binary.LittleEndian.Uint32(p.Data[i+1:]))
		if off+5+uint64(int64(rel)) == to.Offset {
			return off + 5
		}
	}
	t.Fatalf("no call from %s to %s", from.Name, to.Name)
	return 0
}

// stackScenario is a stack built by hand to match the -O0 code of
// testdata/image: enclave_entry calls outer, outer calls middle, middle
// calls leaf; each C function pushes RBP and sets RBP = RSP, so its CFA is
// RBP+16, its return address at RBP+8 and the caller's RBP at RBP. The
// frames are placed 0x30 bytes apart in the stack region.
type stackScenario struct {
	base                      uint64
	mem                       *fakeMem
	rbpLeaf, rbpMid, rbpOuter uint64
	retMid, retOuter, retEnt  uint64
	leaf, middle, outer       Symbol
}

// outsideRBP is the host's RBP, which enclave_entry leaves in RBP (URBP).
const outsideRBP = 0x7ffc0000f000

func newStackScenario(t *testing.T, im *Image) *stackScenario {
	t.Helper()
	m := symbolMap(t, im)
	s := &stackScenario{base: 0x7f0000000000, leaf: m["leaf"], middle: m["middle"], outer: m["outer"]}
	for _, fn := range []Symbol{s.leaf, s.middle, s.outer} {
		if p := im.Page(fn.Offset).Data[fn.Offset%PageSize:]; p[0] != 0x55 || p[1] != 0x48 || p[2] != 0x89 || p[3] != 0xe5 {
			t.Fatalf("%s does not start with push %%rbp; mov %%rsp,%%rbp: % x", fn.Name, p[:4])
		}
	}
	s.retEnt = s.base + 0x9005 // after enclave_entry's 5-byte call
	s.retOuter = s.base + callSite(t, im, s.outer, s.middle)
	s.retMid = s.base + callSite(t, im, s.middle, s.leaf)
	s.mem = &fakeMem{start: s.base + 0x7000, data: make([]byte, 0x2000)}
	s.rbpOuter = s.base + 0x8fe0
	s.rbpMid = s.rbpOuter - 0x30
	s.rbpLeaf = s.rbpMid - 0x30
	s.mem.put(s.rbpOuter, outsideRBP)
	s.mem.put(s.rbpOuter+8, s.retEnt)
	s.mem.put(s.rbpMid, s.rbpOuter)
	s.mem.put(s.rbpMid+8, s.retOuter)
	s.mem.put(s.rbpLeaf, s.rbpMid)
	s.mem.put(s.rbpLeaf+8, s.retMid)
	return s
}

// callers are the frames above leaf's.
func (s *stackScenario) callers(t *testing.T, withCFI bool) []Frame {
	entryCFA := s.rbpOuter + 16 + 8 // enclave_entry's CFI: CFA = RSP+8
	if !withCFI {
		entryCFA = 0 // the frame-pointer chain leaves the enclave: unknown
	}
	return []Frame{
		{PC: s.retMid, CFA: s.rbpMid + 16, Symbol: "middle", Offset: s.retMid - s.base - s.middle.Offset,
			File: "enclave.c", Line: markerLine(t, "enclave.c", "middle-call")},
		{PC: s.retOuter, CFA: s.rbpOuter + 16, Symbol: "outer", Offset: s.retOuter - s.base - s.outer.Offset,
			File: "enclave.c", Line: markerLine(t, "enclave.c", "outer-call")},
		{PC: s.retEnt, CFA: entryCFA, Symbol: "enclave_entry", Offset: 5,
			File: "entry.S", Line: markerLine(t, "entry.S", "entry-call")},
	}
}

// baseNames reduces the frames' file names to their base names.
func baseNames(fs []Frame) []Frame {
	out := append([]Frame(nil), fs...)
	for i := range out {
		if out[i].File != "" {
			out[i].File = filepath.Base(out[i].File)
		}
	}
	return out
}

func TestUnwind(t *testing.T) {
	im := openTest(t, imgDebug)
	s := newStackScenario(t, im)
	leafAt := func(off uint64) Frame {
		return Frame{PC: s.base + s.leaf.Offset + off, CFA: s.rbpLeaf + 16, Symbol: "leaf", Offset: off,
			File: "enclave.c", Line: markerLine(t, "enclave.c", "leaf-body")}
	}
	tests := []struct {
		name string
		regs UnwindRegs
		top  Frame
	}{
		// In leaf's body: CFA = RBP+16.
		{"body", UnwindRegs{RIP: s.base + s.leaf.Offset + 7, RSP: s.rbpLeaf, RBP: s.rbpLeaf}, leafAt(7)},
		// At leaf's first instruction, before push %rbp: CFA = RSP+8 and RBP
		// is still middle's. Only the CFI gets this right: the frame-pointer
		// chain would skip middle.
		{"entry", UnwindRegs{RIP: s.base + s.leaf.Offset, RSP: s.rbpLeaf + 8, RBP: s.rbpMid}, Frame{}},
		// At leaf's ret, after pop %rbp: CFA = RSP+8 again.
		{"ret", UnwindRegs{RIP: s.base + s.leaf.Offset + s.leaf.Size - 1, RSP: s.rbpLeaf + 8, RBP: s.rbpMid}, Frame{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := tt.top
			if top.PC == 0 {
				top = leafAt(tt.regs.RIP - s.base - s.leaf.Offset)
				file, line, err := im.LineAt(tt.regs.RIP - s.base)
				if err != nil {
					t.Fatal(err)
				}
				top.File, top.Line = filepath.Base(file), line
			}
			want := append([]Frame{top}, s.callers(t, true)...)
			got, err := im.Unwind(s.mem, s.base, tt.regs, 16)
			if err != nil {
				t.Fatalf("Unwind: %v (frames %+v)", err, got)
			}
			if got = baseNames(got); !reflect.DeepEqual(got, want) {
				t.Errorf("Unwind =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
	t.Run("max", func(t *testing.T) {
		got, err := im.Unwind(s.mem, s.base, tests[0].regs, 2)
		if err != nil || len(got) != 2 || got[1].Symbol != "middle" {
			t.Errorf("Unwind(max 2) = %+v, %v", got, err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		short := &fakeMem{start: s.mem.start, data: s.mem.data[:s.rbpMid-s.mem.start]}
		got, err := im.Unwind(short, s.base, tests[0].regs, 16)
		if err == nil || len(got) != 2 {
			t.Errorf("Unwind with middle's frame unreadable = %+v, %v; want 2 frames and the read error", got, err)
		}
	})
	t.Run("PC outside", func(t *testing.T) {
		got, err := im.Unwind(s.mem, s.base, UnwindRegs{RIP: s.base + 0x10000, RSP: s.rbpLeaf}, 16)
		if err != nil || len(got) != 0 {
			t.Errorf("Unwind from outside the image = %+v, %v", got, err)
		}
	})
}

// TestUnwindFramePointer unwinds the image built without CFI: only the
// RBP chain is there.
func TestUnwindFramePointer(t *testing.T) {
	im := openTest(t, imgNoCFI)
	s := newStackScenario(t, im)
	regs := UnwindRegs{RIP: s.base + s.leaf.Offset + 7, RSP: s.rbpLeaf, RBP: s.rbpLeaf}
	want := append([]Frame{{PC: regs.RIP, CFA: s.rbpLeaf + 16, Symbol: "leaf", Offset: 7,
		File: "enclave.c", Line: markerLine(t, "enclave.c", "leaf-body")}}, s.callers(t, false)...)
	got, err := im.Unwind(s.mem, s.base, regs, 16)
	if err != nil {
		t.Fatal(err)
	}
	if got = baseNames(got); !reflect.DeepEqual(got, want) {
		t.Errorf("Unwind =\n%+v\nwant\n%+v", got, want)
	}
}

// TestUnwindStripped: the CFI survives strip(1), the names do not.
func TestUnwindStripped(t *testing.T) {
	dbg := openTest(t, imgDebug)
	s := newStackScenario(t, dbg)
	im := openTest(t, imgStripped)
	regs := UnwindRegs{RIP: s.base + s.leaf.Offset, RSP: s.rbpLeaf + 8, RBP: s.rbpMid}
	got, err := im.Unwind(s.mem, s.base, regs, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := []Frame{{PC: regs.RIP, CFA: s.rbpLeaf + 16}, {PC: s.retMid, CFA: s.rbpMid + 16},
		{PC: s.retOuter, CFA: s.rbpOuter + 16}, {PC: s.retEnt, CFA: s.rbpOuter + 24}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Unwind =\n%+v\nwant\n%+v", got, want)
	}
}

// TestUnwindGarbage starts the unwinder at every byte of the code page
// with random stack contents and registers: it must stop within max
// frames, read only through the MemReader, and not panic.
func TestUnwindGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, variant := range []string{imgDebug, imgNoCFI} {
		im := openTest(t, variant)
		const base = 0x7f0000000000
		mem := &fakeMem{start: base + 0x7000, data: make([]byte, 0x2000)}
		for off := uint64(0x9000); off < 0xa000; off++ {
			for i := range mem.data {
				mem.data[i] = byte(rng.Uint32())
			}
			// Plant pointers into the stack and the code, so that walks go on.
			for i := 0; i < 64; i++ {
				a := mem.start + uint64(rng.IntN(len(mem.data)/8))*8
				if rng.IntN(2) == 0 {
					mem.put(a, mem.start+uint64(rng.IntN(len(mem.data))))
				} else {
					mem.put(a, base+0x9000+uint64(rng.IntN(0x80)))
				}
			}
			sp := mem.start + uint64(rng.IntN(len(mem.data)))
			regs := UnwindRegs{RIP: base + off, RSP: sp, RBP: sp + uint64(rng.IntN(0x100))}
			frames, _ := im.Unwind(mem, base, regs, 8)
			if len(frames) > 8 {
				t.Fatalf("%s at %#x: %d frames, max 8", variant, off, len(frames))
			}
		}
	}
}
