package enclave

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// fileLayout locates, in a good test image's bytes, the structures the bad
// input tests patch. It is found with debug/elf, not with this package.
type fileLayout struct {
	b        []byte
	notes    int // file offset of the PT_NOTE segment
	enclave  int // file offset of the NT_SGXDBG_ENCLAVE descriptor
	regNote  int // file offset of the NT_SGXDBG_REGIONS note header
	regions  int // file offset of the NT_SGXDBG_REGIONS descriptor
	tcs0     int // file offset of the TCS 0 page
	dynamic  int // file offset of the .dynamic contents
	phdrBase int
}

// Program header indices of the test image (image.ld PHDRS).
const (
	phTCS = iota
	phSSA
	phStack
	phText
	phRodata
	phData
	phDynamic
	phNote
)

func layoutOf(t *testing.T, variant string) *fileLayout {
	t.Helper()
	b, err := os.ReadFile(testImage(t, variant))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Progs[phNote].Type != elf.PT_NOTE || f.Progs[phDynamic].Type != elf.PT_DYNAMIC || f.Progs[phTCS].Vaddr != 0 {
		t.Fatalf("%s: program headers not in image.ld order", variant)
	}
	l := &fileLayout{b: b, notes: int(f.Progs[phNote].Off), tcs0: int(f.Progs[phTCS].Off),
		dynamic: int(f.Progs[phDynamic].Off), phdrBase: int(binary.LittleEndian.Uint64(b[32:]))}
	// Notes: 12-byte header, "SGXDBG\0" padded to 8, descriptor.
	l.enclave = l.notes + 20
	l.regNote = l.enclave + EnclaveNoteSize
	l.regions = l.regNote + 20
	if string(b[l.notes+12:l.notes+18]) != "SGXDBG" || string(b[l.regNote+12:l.regNote+18]) != "SGXDBG" {
		t.Fatalf("%s: notes not where expected", variant)
	}
	return l
}

func (l *fileLayout) ph(i int) int     { return l.phdrBase + i*phdrSize }
func (l *fileLayout) region(i int) int { return l.regions + i*RegionRecordSize }
func (l *fileLayout) tcs(i int) int    { return l.tcs0 + i*PageSize }
func (l *fileLayout) put64(off int, v uint64) int64 {
	binary.LittleEndian.PutUint64(l.b[off:], v)
	return int64(off)
}
func (l *fileLayout) put32(off int, v uint32) int64 {
	binary.LittleEndian.PutUint32(l.b[off:], v)
	return int64(off)
}
func (l *fileLayout) put16(off int, v uint16) int64 {
	binary.LittleEndian.PutUint16(l.b[off:], v)
	return int64(off)
}

// dynNull returns the file offset of the DT_NULL entry of .dynamic.
func (l *fileLayout) dynNull() int { return l.dynTag(elf.DT_NULL) }

// dynTag returns the file offset of the first .dynamic entry with tag.
func (l *fileLayout) dynTag(tag elf.DynTag) int {
	o := l.dynamic
	for elf.DynTag(binary.LittleEndian.Uint64(l.b[o:])) != tag {
		o += 16
	}
	return o
}

func TestBadImages(t *testing.T) {
	tests := []struct {
		name    string
		variant string
		patch   func(l *fileLayout) int64 // returns the offset the error must name
		field   string
		value   uint64
	}{
		// ELF header.
		{"not ELF", imgDebug, func(l *fileLayout) int64 { l.b[0] = 0x7e; return 0 }, "ELF magic", 0x7e454c46},
		{"32-bit", imgDebug, func(l *fileLayout) int64 { l.b[4] = 1; return 4 }, "ELF class", 1},
		{"big-endian", imgDebug, func(l *fileLayout) int64 { l.b[5] = 2; return 5 }, "ELF data encoding", 2},
		{"not x86-64", imgDebug, func(l *fileLayout) int64 { return l.put16(18, uint16(elf.EM_AARCH64)) }, "ELF machine", 183},
		{"ET_EXEC", imgDebug, func(l *fileLayout) int64 { return l.put16(16, uint16(elf.ET_EXEC)) }, "ELF type", 2},
		{"empty", imgDebug, func(l *fileLayout) int64 { l.b = l.b[:0]; return 0 }, "ELF magic", 0},
		{"3 bytes", imgDebug, func(l *fileLayout) int64 { l.b = l.b[:3]; return 0 }, "ELF magic", 0x7f454c00},
		{"truncated header", imgDebug, func(l *fileLayout) int64 { l.b = l.b[:40]; return 0 }, "ELF header", 40},
		{"e_phentsize", imgDebug, func(l *fileLayout) int64 { return l.put16(54, 32) }, "ELF e_phentsize", 32},
		{"malformed sections", imgDebug, func(l *fileLayout) int64 { l.put16(62, 100); return -1 }, "ELF", 0},

		// Program headers.
		{"PT_INTERP", imgDebug, func(l *fileLayout) int64 { return l.put32(l.ph(phNote), uint32(elf.PT_INTERP)) },
			"program header 7", uint64(elf.PT_INTERP)},
		{"DT_RELASZ", imgDebug, func(l *fileLayout) int64 {
			o := l.dynNull()
			l.put64(o, uint64(elf.DT_RELASZ))
			l.put64(o+8, 24)
			l.put64(o+16, 0) // a DT_NULL after it, inside p_filesz: the zero padding of .dynamic
			return int64(o)
		}, "PT_DYNAMIC DT_RELASZ", 24},
		{"relocation in the image", imgReloc, func(l *fileLayout) int64 { return int64(l.dynTag(elf.DT_RELASZ)) }, "PT_DYNAMIC DT_RELASZ", 24},
		{".rela.dyn section", imgReloc, func(l *fileLayout) int64 {
			l.put32(l.ph(phDynamic), uint32(elf.PT_NULL))
			f, _ := elf.NewFile(bytes.NewReader(l.b))
			for i, s := range f.Sections {
				if s.Name == ".rela.dyn" {
					return int64(binary.LittleEndian.Uint64(l.b[40:]) + uint64(i)*shdrSize + shSize)
				}
			}
			return -2
		}, "section .rela.dyn", 24},
		{"unaligned PT_LOAD", imgDebug, func(l *fileLayout) int64 { return l.put64(l.ph(phText)+phVaddr, 0x9010) },
			"PT_LOAD 3 p_vaddr", 0x9010},
		{"overlapping PT_LOAD", imgDebug, func(l *fileLayout) int64 { return l.put64(l.ph(phStack)+phVaddr, 0x5000) },
			"PT_LOAD 2 p_vaddr", 0x5000},
		{"W without R", imgDebug, func(l *fileLayout) int64 { return l.put32(l.ph(phData)+phFlags, uint32(elf.PF_W)) },
			"PT_LOAD 5 p_flags", uint64(elf.PF_W)},
		{"p_filesz > p_memsz", imgDebug, func(l *fileLayout) int64 { return l.put64(l.ph(phText)+phFilesz, 0x2000) },
			"PT_LOAD 3 p_filesz", 0x2000},
		{"file bytes past EOF", imgDebug, func(l *fileLayout) int64 {
			l.put64(l.ph(phText)+phOffset, uint64(len(l.b)-0x10))
			return int64(l.ph(phText) + phFilesz)
		}, "PT_LOAD 3 p_filesz", 0x7e},
		{"huge p_memsz", imgDebug, func(l *fileLayout) int64 { return l.put64(l.ph(phData)+phMemsz, 1<<40) },
			"PT_LOAD 5 p_memsz", 1 << 40},
		{"p_memsz beyond any enclave", imgDebug, func(l *fileLayout) int64 { return l.put64(l.ph(phData)+phMemsz, 1<<63) },
			"PT_LOAD 5 p_memsz", 1 << 63},
		{"no PT_LOAD", imgDebug, func(l *fileLayout) int64 {
			for i := phTCS; i <= phData; i++ {
				l.put32(l.ph(i), uint32(elf.PT_NULL))
			}
			return int64(l.phdrBase)
		}, "PT_LOAD", 0},

		// Notes.
		{"PT_NOTE past EOF", imgDebug, func(l *fileLayout) int64 {
			l.put64(l.ph(phNote)+phOffset, uint64(len(l.b)))
			return int64(l.ph(phNote) + phFilesz)
		}, "PT_NOTE 7 p_filesz", 0x168},
		{"note past its segment", imgDebug, func(l *fileLayout) int64 {
			l.put64(l.ph(phNote)+phFilesz, 0x40)
			return int64(l.notes)
		}, "PT_NOTE 7 note", 64},
		{"missing NT_SGXDBG_ENCLAVE", imgDebug, func(l *fileLayout) int64 { l.put32(l.notes+8, 9); return -1 },
			"NT_SGXDBG_ENCLAVE", 1},
		{"duplicated NT_SGXDBG_ENCLAVE", imgDebug, func(l *fileLayout) int64 { l.put32(l.regNote+8, 1); return int64(l.regions) },
			"NT_SGXDBG_ENCLAVE", 1},
		{"duplicated NT_SGXDBG_REGIONS", imgDebug, func(l *fileLayout) int64 { l.put32(l.notes+8, 2); return int64(l.regions) },
			"NT_SGXDBG_REGIONS", 2},
		{"enclave descsz", imgDebug, func(l *fileLayout) int64 { l.put32(l.notes+4, 32); return int64(l.enclave) },
			"NT_SGXDBG_ENCLAVE descsz", 32},
		{"enclave reserved", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enReserved, 1) },
			"NT_SGXDBG_ENCLAVE reserved", 1},
		{"regions descsz", imgDebug, func(l *fileLayout) int64 { l.put32(l.regNote+4, 255); return int64(l.regions) },
			"NT_SGXDBG_REGIONS descsz", 255},

		// SECS parameters.
		{"SIZE not a power of two", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enSize, 0x18000) },
			"NT_SGXDBG_ENCLAVE SIZE", 0x18000},
		{"SIZE below the image end", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enSize, 0x8000) },
			"NT_SGXDBG_ENCLAVE SIZE", 0x8000},
		{"SIZE one page", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enSize, 0x1000) },
			"NT_SGXDBG_ENCLAVE SIZE", 0x1000},
		{"SSAFRAMESIZE 0", imgDebug, func(l *fileLayout) int64 { return l.put32(l.enclave+enSSAFrameSize, 0) },
			"NT_SGXDBG_ENCLAVE SSAFRAMESIZE", 0},
		{"SSA frame too small for XFRM", imgDebug, func(l *fileLayout) int64 {
			l.put64(l.enclave+enXFRM, 0x60003) // x87, SSE, AMX: XSAVE area of 11008 bytes
			return int64(l.enclave + enSSAFrameSize)
		}, "NT_SGXDBG_ENCLAVE SSAFRAMESIZE", 1},
		{"INIT set", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enFlags, 7) },
			"NT_SGXDBG_ENCLAVE ATTRIBUTES", 7},
		{"MODE64BIT clear", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enFlags, 2) },
			"NT_SGXDBG_ENCLAVE ATTRIBUTES", 2},
		{"XFRM without SSE", imgDebug, func(l *fileLayout) int64 { return l.put64(l.enclave+enXFRM, 1) },
			"NT_SGXDBG_ENCLAVE XFRM", 1},
		{"reserved ATTRIBUTES bit", imgDebug, func(l *fileLayout) int64 { l.put64(l.enclave+enFlags, 6|1<<8); return int64(l.enclave) },
			"NT_SGXDBG_ENCLAVE", 0},

		// Regions.
		{"region reserved", imgDebug, func(l *fileLayout) int64 { return l.put32(l.region(3)+rgReserved, 1) }, "region 3 reserved", 1},
		{"region kind", imgDebug, func(l *fileLayout) int64 { return l.put32(l.region(4)+rgKind, 9) }, "region 4 kind", 9},
		{"region flags", imgDebug, func(l *fileLayout) int64 { return l.put32(l.region(4)+rgFlags, 2) }, "region 4 flags", 2},
		{"region unaligned", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(5)+rgOffset, 0x7010) }, "region 5 offset", 0x7010},
		{"region size", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(5)+rgSize, 0x1800) }, "region 5 size", 0x1800},
		{"region size 0", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(5)+rgSize, 0) }, "region 5 size", 0},
		{"region outside", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(7)+rgOffset, 0xf000) }, "region 7 offset", 0xf000},
		{"TCS region of two pages", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(0)+rgSize, 0x2000) }, "region 0 size", 0x2000},
		{"GUARD over PT_LOAD", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(4)+rgOffset, 0x9000) }, "region 4 offset", 0x9000},
		{"STACK in a hole", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(5)+rgOffset, 0x6000) }, "region 5 offset", 0x6000},
		{"STACK over a TCS", imgDebug, func(l *fileLayout) int64 { return l.put64(l.region(5)+rgOffset, 0) }, "region 5 offset", 0},
		{"TCS index out of range", imgDebug, func(l *fileLayout) int64 { return l.put32(l.region(2)+rgTCS, 5) }, "region 2 TCS index", 5},
		{"TCS region index", imgDebug, func(l *fileLayout) int64 { return l.put32(l.region(1)+rgTCS, 0) }, "region 1 TCS index", 0},

		// TCS pages.
		{"NSSA 0", imgDebug, func(l *fileLayout) int64 { return l.put32(l.tcs(0)+tcsNSSA, 0) }, "TCS 0 NSSA", 0},
		{"OSSA outside", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsOSSA, 0x10000) }, "TCS 0 OSSA", 0x10000},
		{"SSA frames outside", imgDebug, func(l *fileLayout) int64 { l.put32(l.tcs(0)+tcsNSSA, 100); return int64(l.tcs(0) + tcsOSSA) },
			"TCS 0 OSSA", 0x2000},
		{"SSA on code", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(1)+tcsOSSA, 0x9000) }, "TCS 1 OSSA", 0x9000},
		{"SSA on a TCS page", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(1)+tcsOSSA, 0) }, "TCS 1 OSSA", 0},
		{"SSA in a hole", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(1)+tcsOSSA, 0x5000) }, "TCS 1 OSSA", 0x5000},
		{"OSSA unaligned", imgDebug, func(l *fileLayout) int64 { l.put64(l.tcs(0)+tcsOSSA, 0x2010); return int64(l.tcs(0)) }, "TCS 0", 0},
		{"OENTRY outside", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsOEntr, 0x20000) }, "TCS 0 OENTRY", 0x20000},
		{"OENTRY in a hole", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsOEntr, 0x6000) }, "TCS 0 OENTRY", 0x6000},
		{"OFSBASGX outside", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(1)+tcsOFS, 0x10000) }, "TCS 1 OFSBASGX", 0x10000},
		{"OGSBASGX outside", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(1)+tcsOGS, 0x11000) }, "TCS 1 OGSBASGX", 0x11000},
		{"TCS STATE", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsState, 1) }, "TCS 0 STATE", 1},
		{"TCS CSSA", imgDebug, func(l *fileLayout) int64 { return l.put32(l.tcs(0)+tcsCSSA, 1) }, "TCS 0 CSSA", 1},
		{"TCS AEP", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsAEP, 0x1234) }, "TCS 0 AEP", 0x1234},
		{"TCS DBGOPTIN", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsFlags, 1) }, "TCS 0 FLAGS", 1},
		{"TCS AEXNOTIFY", imgDebug, func(l *fileLayout) int64 { return l.put64(l.tcs(0)+tcsFlags, 2) }, "TCS 0 FLAGS", 2},
		{"TCS reserved byte", imgDebug, func(l *fileLayout) int64 { l.b[l.tcs(1)+100] = 1; return int64(l.tcs(1)) }, "TCS 1", 0x1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := layoutOf(t, tt.variant)
			off := tt.patch(l)
			im, err := NewImage(bytes.NewReader(l.b))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("NewImage = %v, %v; want a *FormatError", im, err)
			}
			if fe.Field != tt.field || fe.Value != tt.value || fe.Off != off {
				t.Errorf("error %q: Field %q Value %#x Off %#x; want %q %#x %#x", err, fe.Field, fe.Value, fe.Off, tt.field, tt.value, off)
			}
		})
	}
}

// TestBadImageCauses checks the underlying error of failures found by
// package sgx or debug/elf.
func TestBadImageCauses(t *testing.T) {
	l := layoutOf(t, imgDebug)
	l.put64(l.enclave+enFlags, 6|1<<8)
	_, err := NewImage(bytes.NewReader(l.b))
	var re *sgx.RuleError
	if !errors.As(err, &re) || re.Struct != "SECS" || re.Field != "ATTRIBUTES" {
		t.Errorf("reserved attribute: %v, want an sgx.RuleError for SECS.ATTRIBUTES", err)
	}

	l = layoutOf(t, imgDebug)
	l.put64(l.tcs(0)+tcsOSSA, 0x2010)
	_, err = NewImage(bytes.NewReader(l.b))
	if !errors.As(err, &re) || re.Struct != "TCS" || re.Field != "OSSA" {
		t.Errorf("unaligned OSSA: %v, want an sgx.RuleError for TCS.OSSA", err)
	}

	l = layoutOf(t, imgDebug)
	l.b[l.tcs(1)+100] = 1
	_, err = NewImage(bytes.NewReader(l.b))
	var de *sgx.DecodeError
	if !errors.As(err, &de) || de.Off != 100 || !errors.Is(err, sgx.ErrReserved) {
		t.Errorf("TCS reserved byte: %v, want an sgx.DecodeError at offset 100", err)
	}

	l = layoutOf(t, imgDebug)
	l.put16(62, 100)
	_, err = NewImage(bytes.NewReader(l.b))
	var ee *elf.FormatError
	if !errors.As(err, &ee) {
		t.Errorf("bad e_shnum: %v, want a debug/elf FormatError inside", err)
	}
}

// TestHugeMemszAllocation: a p_memsz of 2^40 in a 22 KB file must fail
// without allocating anything near its size.
func TestHugeMemszAllocation(t *testing.T) {
	l := layoutOf(t, imgDebug)
	l.put64(l.ph(phData)+phMemsz, 1<<40)
	l.put64(l.enclave+enSize, 1<<41)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := NewImage(bytes.NewReader(l.b))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("NewImage accepted p_memsz 2^40")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("NewImage allocated %d bytes for a rejected image", n)
	}
	// Just under MaxPages is accepted, with page descriptors but no page data.
	l = layoutOf(t, imgDebug)
	l.put64(l.ph(phData)+phMemsz, (MaxPages-14)*PageSize)
	runtime.ReadMemStats(&before)
	im, err := NewImage(bytes.NewReader(l.b))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Pages) != 10+MaxPages-14 { // 10 pages before .data's segment
		t.Errorf("%d pages", len(im.Pages))
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 128<<20 {
		t.Errorf("NewImage allocated %d bytes for %d pages", n, len(im.Pages))
	}
}
