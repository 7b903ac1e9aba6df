package dwarfx

import (
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite testdata/fuzz from the test programs")

// buildOptimized compiles testdata/optimized.c (gcc -O2 -g, no libc).
func buildOptimized(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "optimized")
	cmd := optimizedCmd(out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	if b, err := exec.Command("objcopy", "-R", ".comment", out).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, b)
	}
	return out
}

// optimizedCmd is the gcc command building testdata/optimized.c into out.
func optimizedCmd(out string) *exec.Cmd {
	return exec.Command("gcc", "-O2", "-g", "-nostdlib", "-static", "-Wl,--build-id=none", "-o", out,
		filepath.Join("testdata", "optimized.c"))
}

func writeCorpus(t *testing.T, target string, seeds map[string][]any) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, vals := range seeds {
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
			case string:
				fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteFuzzSeeds regenerates the seed corpora with -write-fuzz-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate the corpus")
	}
	opt, err := os.ReadFile(buildOptimized(t))
	if err != nil {
		t.Fatal(err)
	}
	glob, err := os.ReadFile(buildGlobals(t))
	if err != nil {
		t.Fatal(err)
	}
	writeCorpus(t, "FuzzProgram", map[string][]any{
		"optimized":           {opt},
		"globals":             {glob},
		"optimized-truncated": {opt[:len(opt)*2/3]},
		"globals-half":        {glob[:len(glob)/2]},
	})
	// FuzzDWARFSections: each DWARF section of the optimized program with
	// its own contents (the valid program), and one truncated.
	ef, err := elf.NewFile(bytes.NewReader(opt))
	if err != nil {
		t.Fatal(err)
	}
	secSeeds := map[string][]any{}
	i := 0
	for _, s := range ef.Sections {
		if !strings.HasPrefix(s.Name, ".debug_") && s.Name != ".eh_frame" {
			continue
		}
		b := opt[s.Offset : s.Offset+s.FileSize]
		secSeeds[strings.TrimPrefix(s.Name, ".")] = []any{append([]byte{byte(i)}, b...)}
		secSeeds[strings.TrimPrefix(s.Name, ".")+"-half"] = []any{append([]byte{byte(i)}, b[:len(b)/2]...)}
		i++
	}
	writeCorpus(t, "FuzzDWARFSections", secSeeds)
	exprs := map[string][]any{}
	for i, e := range []string{"counter + 1", "record.w.b[2]", "*porigin", "(unsigned long)&points[1]",
		"porigin->y << 3 | 1", "$rax + $rip", "sizeof(struct rec) * 2", "(char *)message",
		"!flag && ~big || negative % 3", "-'A' / 0x10", "record.label[1]", "square", "&square",
		"(struct point *)0", "BLUE == favorite", "1.5 * counter", "((("} {
		exprs[fmt.Sprintf("expr%02d", i)] = []any{e}
	}
	writeCorpus(t, "FuzzExpr", exprs)
	writeCorpus(t, "FuzzLocation", map[string][]any{
		"reg":          {[]byte{0x55}},
		"fbreg":        {[]byte{0x91, 0x70}},
		"cfa":          {[]byte{0x9c}},
		"addr":         {append([]byte{0x03}, u64s(0x1000)...)},
		"entry-value":  {[]byte{0xa3, 0x01, 0x55, 0x9f}},
		"gnu-entry":    {[]byte{0xf3, 0x01, 0x54, 0x23, 0x08, 0x9f}},
		"pieces":       {[]byte{0x50, 0x93, 0x08, 0x51, 0x93, 0x08}},
		"stack-value":  {[]byte{0x77, 0x10, 0x06, 0x9f}},
		"implicit":     {[]byte{0x9e, 0x04, 1, 2, 3, 4}},
		"bra":          {[]byte{0x30, 0x28, 0x01, 0x00, 0x31, 0x9f}},
		"truncated":    {[]byte{0x0e, 0x01}},
		"deref-size":   {[]byte{0x71, 0x00, 0x94, 0x04}},
		"empty-piece":  {[]byte{0x93, 0x04, 0x50, 0x93, 0x04}},
		"plus-uconst0": {[]byte{0x23, 0x01}},
	})
}

// FuzzProgram: arbitrary ELF bytes through every DWARF reader: indexing,
// line tables, locations, list ranges, function trees, types, location
// lists and expressions. None may panic.
func FuzzProgram(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(t, data, data)
	})
}

// exercise opens an ELF and runs every reader over it, with memory made
// of the bytes of mem.
func exercise(t *testing.T, elfBytes, memBytes []byte) {
	p, err := NewReader(bytes.NewReader(elfBytes))
	if err != nil {
		return
	}
	mem := func(buf []byte, addr uint64) (int, error) {
		if len(memBytes) == 0 {
			return 0, errors.New("no memory")
		}
		for i := range buf {
			buf[i] = memBytes[(addr+uint64(i))%uint64(len(memBytes))]
		}
		return len(buf), nil
	}
	for i, fn := range p.funcs {
		if i == 8 {
			break
		}
		_, _ = p.Resolve(fn.name, 0x1000, "")
		_, _ = p.List(fn.name, 0, "")
		for _, pc := range []uint64{fn.entry, fn.entry + 1, fn.entry + 7} {
			fr := &Frame{PC: pc, CFA: 0x8000}
			for r := 0; r < 17; r++ {
				fr.Regs.Set(r, uint64(r)*0x100)
			}
			_, _ = p.Unwind(0, fr, mem, 4)
			fr.Caller = &Frame{PC: pc + 0x10, CFA: 0x9000}
			s := p.Scope(0, fr, mem)
			args, _ := s.Args()
			locals, _ := s.Locals()
			for _, v := range append(args, locals...) {
				_ = v.String()
				_, _ = s.PType(v.Name)
				_, _ = s.Print("&" + v.Name)
			}
		}
	}
	for name := range p.globals {
		s := p.Scope(0, nil, mem)
		_, _ = s.Print(name)
		_, _ = s.PType(name)
	}
	for i, r := range p.lines {
		if i == 16 {
			break
		}
		_, _ = p.Resolve(r.file+":"+strconv.Itoa(r.line), 0, "")
	}
}

var optimizedOnce struct {
	sync.Once
	elf  []byte
	secs []*elf.Section
	fail string
}

// FuzzDWARFSections: the optimized test program with the contents of one
// of its DWARF sections (the first byte of the input picks which)
// replaced by the rest of the input, size kept, so that mutations reach
// the DWARF decoders instead of failing in the ELF header.
func FuzzDWARFSections(f *testing.F) {
	for _, i := range []byte{0, 1, 2, 3, 4, 5} {
		f.Add(append([]byte{i}, []byte("\x2a\x00\x00\x00\x05\x00\x01\x08")...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		optimizedOnce.Do(func() {
			out := filepath.Join(os.TempDir(), fmt.Sprintf("dwarfx-fuzz-optimized-%d", os.Getpid()))
			cmd := optimizedCmd(out)
			if b, err := cmd.CombinedOutput(); err != nil {
				optimizedOnce.fail = fmt.Sprintf("gcc: %v\n%s", err, b)
				return
			}
			b, err := os.ReadFile(out)
			if err != nil {
				optimizedOnce.fail = err.Error()
				return
			}
			ef, err := elf.NewFile(bytes.NewReader(b))
			if err != nil {
				optimizedOnce.fail = err.Error()
				return
			}
			for _, s := range ef.Sections {
				if strings.HasPrefix(s.Name, ".debug_") || s.Name == ".eh_frame" {
					optimizedOnce.secs = append(optimizedOnce.secs, s)
				}
			}
			optimizedOnce.elf = b
		})
		if optimizedOnce.fail != "" {
			t.Fatal(optimizedOnce.fail)
		}
		if len(data) == 0 || len(optimizedOnce.secs) == 0 {
			return
		}
		s := optimizedOnce.secs[int(data[0])%len(optimizedOnce.secs)]
		img := bytes.Clone(optimizedOnce.elf)
		copy(img[s.Offset:s.Offset+s.FileSize], data[1:])
		exercise(t, img, data)
	})
}

var globalsOnce struct {
	sync.Once
	p    *Program
	mem  ReadMemory
	fail string
}

// FuzzExpr: arbitrary expressions parsed and evaluated against the
// globals program (no frame, then a frame with registers), printed and
// typed. None may panic.
func FuzzExpr(f *testing.F) {
	f.Fuzz(func(t *testing.T, expr string) {
		globalsOnce.Do(func() {
			out := filepath.Join(os.TempDir(), fmt.Sprintf("dwarfx-fuzz-globals-%d", os.Getpid()))
			cmd := exec.Command("gcc", "-g", "-O0", "-no-pie", "-o", out, filepath.Join("testdata", "globals.c"))
			if b, err := cmd.CombinedOutput(); err != nil {
				globalsOnce.fail = fmt.Sprintf("gcc: %v\n%s", err, b)
				return
			}
			p, err := Open(out)
			if err != nil {
				globalsOnce.fail = err.Error()
				return
			}
			f, err := elf.Open(out)
			if err != nil {
				globalsOnce.fail = err.Error()
				return
			}
			globalsOnce.p, globalsOnce.mem = p, elfMemory(f) // both kept open for the process
		})
		if globalsOnce.fail != "" {
			t.Fatal(globalsOnce.fail)
		}
		p := globalsOnce.p
		fr := &Frame{PC: 0x401106, CFA: 0x7ffe0000}
		for r := 0; r < 17; r++ {
			fr.Regs.Set(r, uint64(r)<<12)
		}
		for _, s := range []*Scope{p.Scope(0, nil, globalsOnce.mem), p.Scope(0, fr, globalsOnce.mem)} {
			if v, err := s.Eval(expr); err == nil {
				_ = v.String()
				for _, l := range []byte(FormatLetters) {
					_, _ = v.Format(l)
				}
			} else {
				_ = err.Error()
			}
			_, _ = s.PType(expr)
			_, _ = s.WhatIs(expr)
		}
	})
}

// FuzzLocation: arbitrary DWARF location expressions decoded, their
// entry values rewritten and run by delve's op, the result placed as a
// 24-byte value. None may panic.
func FuzzLocation(f *testing.F) {
	f.Fuzz(func(t *testing.T, expr []byte) {
		fr := &Frame{PC: 0x401000, CFA: 0x8000}
		for r := 0; r < 17; r++ {
			fr.Regs.Set(r, uint64(r)*0x10)
		}
		mem := func(buf []byte, addr uint64) (int, error) {
			if addr > 0x10000 {
				return 0, errors.New("unmapped")
			}
			for i := range buf {
				buf[i] = byte(addr) + byte(i)
			}
			return len(buf), nil
		}
		c := &frameCtx{fr: fr, mem: mem, frameBase: 0x7000}
		s := &Scope{ctx: c}
		for _, typ := range []*Value{
			{Type: typeULong, Reg: -1, s: s},
			{Type: &arrayOf24, Reg: -1, s: s},
		} {
			if err := s.place(typ, expr); err == nil {
				_ = typ.String()
			}
		}
		ops, err := decodeOps(expr)
		if err == nil {
			b, err := rewriteEntryValues(ops, func([]byte) (uint64, error) { return 7, nil })
			if err == nil {
				if _, err := decodeOps(b); err != nil {
					t.Fatalf("rewritten %x does not decode: %v", b, err)
				}
			}
			var n int
			for _, o := range ops {
				n += len(o.raw)
			}
			if n != len(expr) {
				t.Fatalf("decodeOps covered %d of %d bytes", n, len(expr))
			}
		}
	})
}

// arrayOf24 is unsigned long [3], a value placed from pieces.
var arrayOf24 = godwarf.ArrayType{CommonType: godwarf.CommonType{ByteSize: 24}, Type: typeULong, Count: 3}
