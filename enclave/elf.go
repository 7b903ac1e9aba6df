package enclave

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
)

// PageSize is the size of an EPC page and the granule of every layout rule.
const PageSize = 4096

// MaxPages bounds the number of EPC pages an image may describe (4 GiB of
// enclave memory). It is what keeps a malformed p_memsz or SIZE from making
// NewImage allocate gigabytes of page descriptors.
const MaxPages = 1 << 20

// ELF64 layout offsets this package reports positions with.
const (
	ehdrSize    = 64
	ehPhoff     = 32
	ehShoff     = 40
	ehPhentsize = 54
	ehPhnum     = 56
	ehShentsize = 58
	ehShnum     = 60
	phdrSize    = 56
	shdrSize    = 64
	phFlags     = 4
	phOffset    = 8
	phVaddr     = 16
	phFilesz    = 32
	phMemsz     = 40
	phAlign     = 48
	shOffset    = 24
	shSize      = 32
	dynEntSize  = 16
)

// Values debug/elf does not name (gABI, 2022 and later).
const (
	shtRELR   = 19 // SHT_RELR
	dtRELRSZ  = 35 // DT_RELRSZ
	maxProbes = 63 // size probing: 2^63 bytes is beyond any ReaderAt
)

// header holds the ELF header fields the checks report offsets from.
type header struct {
	phoff     uint64
	shoff     uint64
	phentsize uint16
	shnum     uint16
}

// segment is one PT_LOAD program header, validated.
type segment struct {
	index  int   // program header index, the N of "PT_LOAD N"
	phOff  int64 // file offset of the program header
	off    uint64
	vaddr  uint64
	filesz uint64
	memsz  uint64
	flags  elf.ProgFlag
	data   []byte // the p_filesz file bytes, a slice of a shared buffer
}

// end returns the end of the segment's last page.
func (s *segment) end() uint64 { return roundUp(s.vaddr + s.memsz) }

// roundUp rounds n up to a page boundary. Callers have checked that this
// does not overflow.
func roundUp(n uint64) uint64 { return (n + PageSize - 1) &^ (PageSize - 1) }

// readerSize returns the number of bytes behind r: from a Size or Stat
// method when r has one, otherwise by probing single-byte reads.
func readerSize(r io.ReaderAt) (int64, error) {
	switch s := r.(type) {
	case interface{ Size() int64 }:
		return s.Size(), nil
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := s.Stat()
		if err != nil {
			return 0, fmt.Errorf("stat image: %w", err)
		}
		if fi.Mode().IsRegular() {
			return fi.Size(), nil
		}
	}
	readable := func(n int64) bool { // are there more than n bytes?
		var b [1]byte
		k, _ := r.ReadAt(b[:], n)
		return k == 1
	}
	if !readable(0) {
		return 0, nil
	}
	lo, hi := int64(0), int64(1) // byte lo exists; find a hi that does not
	for i := 0; readable(hi); i++ {
		if i == maxProbes {
			return 0, errors.New("image size: reader does not end")
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if readable(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1, nil
}

// checkHeader checks the ELF identification and the fields the image
// convention fixes, before debug/elf sees the file.
func checkHeader(r io.ReaderAt, size int64) (header, error) {
	var b [ehdrSize]byte
	n := min(size, ehdrSize)
	if n > 0 {
		if _, err := r.ReadAt(b[:n], 0); err != nil {
			return header{}, fmt.Errorf("read ELF header: %w", err)
		}
	}
	if n < 4 || string(b[:4]) != elf.ELFMAG {
		return header{}, formatErr(0, "ELF magic", uint64(binary.BigEndian.Uint32(b[:4])), "not an ELF file")
	}
	if size < ehdrSize {
		return header{}, formatErr(0, "ELF header", uint64(size), "truncated: the file has %d bytes", size)
	}
	le := binary.LittleEndian
	switch {
	case elf.Class(b[elf.EI_CLASS]) != elf.ELFCLASS64:
		return header{}, formatErr(elf.EI_CLASS, "ELF class", uint64(b[elf.EI_CLASS]),
			"not a 64-bit ELF file (%v)", elf.Class(b[elf.EI_CLASS]))
	case elf.Data(b[elf.EI_DATA]) != elf.ELFDATA2LSB:
		return header{}, formatErr(elf.EI_DATA, "ELF data encoding", uint64(b[elf.EI_DATA]),
			"not little-endian (%v)", elf.Data(b[elf.EI_DATA]))
	case elf.Machine(le.Uint16(b[18:])) != elf.EM_X86_64:
		return header{}, formatErr(18, "ELF machine", uint64(le.Uint16(b[18:])),
			"not x86-64 (%v)", elf.Machine(le.Uint16(b[18:])))
	case elf.Type(le.Uint16(b[16:])) != elf.ET_DYN:
		return header{}, formatErr(16, "ELF type", uint64(le.Uint16(b[16:])),
			"not ET_DYN (%v): an enclave image is a static PIE linked at 0", elf.Type(le.Uint16(b[16:])))
	}
	h := header{phoff: le.Uint64(b[ehPhoff:]), shoff: le.Uint64(b[ehShoff:]), phentsize: le.Uint16(b[ehPhentsize:])}
	phnum, shentsize := le.Uint16(b[ehPhnum:]), le.Uint16(b[ehShentsize:])
	h.shnum = le.Uint16(b[ehShnum:])
	shnum := h.shnum
	if phnum != 0 && h.phentsize != phdrSize {
		return header{}, formatErr(ehPhentsize, "ELF e_phentsize", uint64(h.phentsize), "want %d", phdrSize)
	}
	if err := checkTable(ehPhoff, "program headers", h.phoff, uint64(phnum)*phdrSize, size); err != nil {
		return header{}, err
	}
	if shnum != 0 && shentsize != shdrSize {
		return header{}, formatErr(ehShentsize, "ELF e_shentsize", uint64(shentsize), "want %d", shdrSize)
	}
	if err := checkTable(ehShoff, "section headers", h.shoff, uint64(shnum)*shdrSize, size); err != nil {
		return header{}, err
	}
	return h, nil
}

// checkSectionData reports a section whose file bytes extend past the end
// of the file (debug/elf would only say EOF, or fail later when the debug
// information is read). The section header table is inside the file
// (checkHeader).
func checkSectionData(r io.ReaderAt, h header, shnum uint16, size int64) error {
	if shnum == 0 {
		return nil
	}
	buf := make([]byte, int(shnum)*shdrSize)
	if _, err := r.ReadAt(buf, int64(h.shoff)); err != nil {
		return fmt.Errorf("read section headers: %w", err)
	}
	le := binary.LittleEndian
	for i := range int(shnum) {
		sh := buf[i*shdrSize:]
		typ, off, n := elf.SectionType(le.Uint32(sh[4:])), le.Uint64(sh[shOffset:]), le.Uint64(sh[shSize:])
		if typ == elf.SHT_NOBITS || typ == elf.SHT_NULL || n == 0 || off <= uint64(size) && n <= uint64(size)-off {
			continue
		}
		return &FormatError{Off: h.shOff(i) + shSize, Field: fmt.Sprintf("section %d", i), Value: n,
			Msg: fmt.Sprintf("truncated: section %d (%v) at %#x needs %#x bytes, the file has %#x", i, typ, off, n, size)}
	}
	return nil
}

// checkTable reports a header table [off, off+n) that does not fit the
// size bytes of the file, as a *FormatError at the ELF header field
// (fieldOff) that locates it.
func checkTable(fieldOff int64, name string, off, n uint64, size int64) error {
	if n == 0 || off <= uint64(size) && n <= uint64(size)-off {
		return nil
	}
	return &FormatError{Off: fieldOff, Field: "ELF " + name, Value: off,
		Msg: fmt.Sprintf("truncated: %s at %#x need %#x bytes, the file has %#x", name, off, n, size)}
}

// phOff returns the file offset of program header i.
func (h header) phOff(i int) int64 { return int64(h.phoff + uint64(i)*phdrSize) }

// shOff returns the file offset of section header i.
func (h header) shOff(i int) int64 { return int64(h.shoff + uint64(i)*shdrSize) }

// loadSegments validates the PT_LOAD headers, rejects PT_INTERP and dynamic
// relocations, and returns the segments sorted by address with their file
// bytes read. Reads are bounded by size, the file's length.
func loadSegments(f *elf.File, r io.ReaderAt, h header, size int64) ([]*segment, error) {
	var segs []*segment
	var pages uint64
	for i, p := range f.Progs {
		off := h.phOff(i)
		switch p.Type {
		case elf.PT_INTERP:
			return nil, formatErr(off, fmt.Sprintf("program header %d", i), uint64(p.Type),
				"PT_INTERP present: an enclave image has no dynamic linker")
		case elf.PT_DYNAMIC:
			if err := checkDynamic(r, p, i, off, size); err != nil {
				return nil, err
			}
			continue
		case elf.PT_LOAD:
		default:
			continue
		}
		name := fmt.Sprintf("PT_LOAD %d", i)
		switch {
		case p.Vaddr%PageSize != 0:
			return nil, formatErr(off+phVaddr, name+" p_vaddr", p.Vaddr, "not page aligned")
		case p.Filesz > p.Memsz:
			return nil, formatErr(off+phFilesz, name+" p_filesz", p.Filesz, "larger than p_memsz %#x", p.Memsz)
		case p.Filesz > 0 && (p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off):
			return nil, formatErr(off+phFilesz, name+" p_filesz", p.Filesz,
				"file bytes [%#x, +%#x) extend past the end of the file (%#x bytes)", p.Off, p.Filesz, size)
		case p.Memsz > 1<<62 || p.Vaddr > 1<<62:
			return nil, formatErr(off+phMemsz, name+" p_memsz", p.Memsz, "segment [%#x, +%#x) beyond any enclave", p.Vaddr, p.Memsz)
		case p.Flags&elf.PF_W != 0 && p.Flags&elf.PF_R == 0:
			return nil, formatErr(off+phFlags, name+" p_flags", uint64(p.Flags),
				"writable but not readable (%v): SECINFO W without R is invalid", p.Flags)
		}
		s := &segment{index: i, phOff: off, off: p.Off, vaddr: p.Vaddr, filesz: p.Filesz, memsz: p.Memsz, flags: p.Flags}
		pages += (s.end() - s.vaddr) / PageSize
		if pages > MaxPages {
			return nil, formatErr(off+phMemsz, name+" p_memsz", p.Memsz, "the image has more than %d pages", MaxPages)
		}
		segs = append(segs, s)
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].vaddr < segs[j].vaddr })
	for i := 1; i < len(segs); i++ {
		if prev, s := segs[i-1], segs[i]; s.vaddr < prev.end() {
			return nil, formatErr(s.phOff+phVaddr, fmt.Sprintf("PT_LOAD %d p_vaddr", s.index), s.vaddr,
				"overlaps PT_LOAD %d, whose pages end at %#x", prev.index, prev.end())
		}
	}
	if err := readSegments(r, segs); err != nil {
		return nil, err
	}
	return segs, nil
}

// readSegments reads the file bytes of segs, reading each byte of the file
// at most once (segments may share file ranges), so that the memory used is
// bounded by the file's size.
func readSegments(r io.ReaderAt, segs []*segment) error {
	byOff := make([]*segment, 0, len(segs))
	for _, s := range segs {
		if s.filesz > 0 {
			byOff = append(byOff, s)
		}
	}
	sort.Slice(byOff, func(i, j int) bool { return byOff[i].off < byOff[j].off })
	for i := 0; i < len(byOff); {
		start, end := byOff[i].off, byOff[i].off+byOff[i].filesz
		j := i + 1
		for ; j < len(byOff) && byOff[j].off <= end; j++ {
			end = max(end, byOff[j].off+byOff[j].filesz)
		}
		buf := make([]byte, end-start)
		if _, err := r.ReadAt(buf, int64(start)); err != nil {
			return fmt.Errorf("read file bytes [%#x, %#x): %w", start, end, err)
		}
		for _, s := range byOff[i:j] {
			s.data = buf[s.off-start : s.off-start+s.filesz : s.off-start+s.filesz]
		}
		i = j
	}
	return nil
}

// checkDynamic rejects a PT_DYNAMIC whose relocation tables have entries.
func checkDynamic(r io.ReaderAt, p *elf.Prog, i int, phOff, size int64) error {
	if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
		return formatErr(phOff+phFilesz, fmt.Sprintf("PT_DYNAMIC %d p_filesz", i), p.Filesz,
			"file bytes [%#x, +%#x) extend past the end of the file (%#x bytes)", p.Off, p.Filesz, size)
	}
	buf := make([]byte, p.Filesz)
	if _, err := r.ReadAt(buf, int64(p.Off)); err != nil {
		return fmt.Errorf("read PT_DYNAMIC %d: %w", i, err)
	}
	le := binary.LittleEndian
	for o := 0; o+dynEntSize <= len(buf); o += dynEntSize {
		tag, val := elf.DynTag(le.Uint64(buf[o:])), le.Uint64(buf[o+8:])
		switch tag {
		case elf.DT_NULL:
			return nil
		case elf.DT_RELASZ, elf.DT_RELSZ, elf.DT_PLTRELSZ, dtRELRSZ:
			if val != 0 {
				return formatErr(int64(p.Off)+int64(o), "PT_DYNAMIC "+tag.String(), val,
					"dynamic relocations present: an enclave image must not need relocating")
			}
		}
	}
	return nil
}

// checkRelocSections rejects allocated relocation sections with entries
// (.rela.dyn, .rel.dyn, .relr.dyn, .rela.plt), which a loader would have
// to apply and which would change the measurement.
func checkRelocSections(f *elf.File, h header) error {
	for i, s := range f.Sections {
		switch s.Type {
		case elf.SHT_RELA, elf.SHT_REL, shtRELR:
		default:
			continue
		}
		if s.Flags&elf.SHF_ALLOC != 0 && s.Size > 0 {
			return formatErr(h.shOff(i)+shSize, "section "+s.Name, s.Size,
				"dynamic relocations present: an enclave image must not need relocating")
		}
	}
	return nil
}
