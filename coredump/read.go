package coredump

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/inputfile"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// MaxPages bounds the EPC pages a core may describe in all (16 GiB of
// enclave memory): a corrupt page-run count cannot make the reader
// allocate without bound.
const MaxPages = 1 << 22

// Core is a decoded sgxdbg core file. Enclave memory is read with
// ReadMemory; everything else is decoded and checked when it is opened.
type Core struct {
	Pid, Tid int         // the host process and the stopped thread
	Signal   unix.Signal // the signal pending for the host at the stop
	Stop     target.Event
	Enclaves []Enclave // by base
	TCS      []TCS     // every TCS of the debug enclaves
	Frames   []Frame   // every SSA frame in use, by TCS then index
	Threads  []target.ThreadInfo
	HostRegs *target.Regs // the stopped thread's registers as the OS saw them, or nil
	Prstatus []Prstatus   // the NT_PRSTATUS notes, in file order
	Entry    uint64       // NT_AUXV AT_ENTRY, 0 if absent
	Events   []target.Event
	Segments []Segment // PT_LOADs by address

	r      io.ReaderAt
	closer io.Closer
}

// Enclave is one enclave's NT_SGXDBG_SECS (and NT_SGXDBG_IMAGE) note.
type Enclave struct {
	Pid          int
	Base, Size   uint64
	SSAFrameSize uint32
	MiscSelect   sgx.MiscSelect
	Attributes   sgx.Attributes
	MRENCLAVE    [32]byte
	MRSIGNER     [32]byte
	Initialized  bool
	Dumped       bool      // its debuggable pages are in the core
	Runs         []PageRun // every EPC page, in runs of equal SECINFO
	Image        ImageRef  // the matched enclave ELF, if the dumper knew it
}

// PageRun is Pages contiguous EPC pages from Offset with the same SECINFO.
type PageRun struct {
	Offset  uint64
	Pages   uint64
	Secinfo sgx.SecinfoFlags
}

// TCS is one NT_SGXDBG_TCS note.
type TCS struct {
	Addr, Enclave uint64
	Raw           [sgx.TCSDebugReadable]byte
	TCS           sgx.TCS
}

// Frame is one NT_SGXDBG_SSA note: a whole SSA frame, undecoded.
type Frame struct {
	TCS   uint64
	Index int
	Addr  uint64
	Data  []byte
}

// Prstatus is one NT_PRSTATUS note with its NT_FPREGSET.
type Prstatus struct {
	Pid    int
	Signal unix.Signal
	Regs   target.Regs
	FPRegs []byte // the 512-byte FXSAVE image, or nil
}

// Segment is one PT_LOAD.
type Segment struct {
	Vaddr, Size uint64
	Flags       elf.ProgFlag
	Off         int64
}

// Open reads the core file at path, which must be a regular file
// (inputfile.CoreFile); it stays open for ReadMemory until Close.
func Open(path string) (*Core, error) {
	f, size, err := inputfile.Open(path, inputfile.CoreFile)
	if err != nil {
		return nil, err
	}
	c, err := New(f, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.closer = f
	return c, nil
}

// Close closes the file Open opened.
func (c *Core) Close() error {
	if c.closer == nil {
		return nil
	}
	return c.closer.Close()
}

// New decodes the core of size bytes in r and checks it (doc.go,
// "Security"). A bad file is a *FormatError.
func New(r io.ReaderAt, size int64) (*Core, error) {
	if err := checkHeader(r, size); err != nil {
		return nil, err
	}
	f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, &FormatError{Off: -1, Field: "ELF", Msg: err.Error(), Err: ErrCorrupt}
	}
	c := &Core{r: r}
	var notes [][]byte
	var noteOffs []int64
	for i, p := range f.Progs {
		field := fmt.Sprintf("program header %d (%s)", i, p.Type)
		if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
			return nil, truncated(int64(p.Off), field, p.Off+p.Filesz, size)
		}
		switch p.Type {
		case elf.PT_NOTE:
			b := make([]byte, p.Filesz)
			if _, err := r.ReadAt(b, int64(p.Off)); err != nil {
				return nil, truncated(int64(p.Off), field, p.Off+p.Filesz, size)
			}
			notes, noteOffs = append(notes, b), append(noteOffs, int64(p.Off))
		case elf.PT_LOAD:
			if p.Filesz != p.Memsz || p.Filesz == 0 || p.Vaddr%sgx.PageSize != 0 || p.Filesz%sgx.PageSize != 0 || p.Vaddr+p.Filesz < p.Vaddr {
				return nil, corrupt(int64(p.Off), field, p.Vaddr, "segment at %#x of %#x bytes (memsz %#x) is not whole enclave pages in the file", p.Vaddr, p.Filesz, p.Memsz)
			}
			c.Segments = append(c.Segments, Segment{Vaddr: p.Vaddr, Size: p.Filesz, Flags: p.Flags, Off: int64(p.Off)})
		}
	}
	sort.Slice(c.Segments, func(i, j int) bool { return c.Segments[i].Vaddr < c.Segments[j].Vaddr })
	for i := 1; i < len(c.Segments); i++ {
		if a, b := c.Segments[i-1], c.Segments[i]; a.Vaddr+a.Size > b.Vaddr {
			return nil, corrupt(b.Off, "PT_LOAD", b.Vaddr, "segment at %#x overlaps the one at %#x", b.Vaddr, a.Vaddr)
		}
	}
	d := decoder{c: c}
	for i, b := range notes {
		if err := eachNote(b, noteOffs[i], d.note); err != nil {
			return nil, err
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkHeader checks what debug/elf does not: the magic (ErrNotELF), the
// class, byte order, type and machine (ErrForeign), and that the program
// and section header tables lie inside the file (ErrTruncated).
func checkHeader(r io.ReaderAt, size int64) error {
	var h [ehdrSize]byte
	n, _ := r.ReadAt(h[:min(int64(len(h)), max(size, 0))], 0)
	if n < 4 || !bytes.Equal(h[:4], []byte(elf.ELFMAG)) {
		return &FormatError{Off: 0, Field: "ELF header", Msg: "no ELF magic", Err: ErrNotELF}
	}
	if n < ehdrSize {
		return truncated(0, "ELF header", ehdrSize, size)
	}
	if elf.Class(h[elf.EI_CLASS]) != elf.ELFCLASS64 || elf.Data(h[elf.EI_DATA]) != elf.ELFDATA2LSB {
		return &FormatError{Off: elf.EI_CLASS, Field: "ELF header", Value: uint64(h[elf.EI_CLASS]),
			Msg: fmt.Sprintf("%v %v, want ELFCLASS64 ELFDATA2LSB", elf.Class(h[elf.EI_CLASS]), elf.Data(h[elf.EI_DATA])), Err: ErrForeign}
	}
	le := binary.LittleEndian
	typ, mach := elf.Type(le.Uint16(h[16:])), elf.Machine(le.Uint16(h[18:]))
	if typ != elf.ET_CORE {
		return &FormatError{Off: 16, Field: "e_type", Value: uint64(typ), Msg: fmt.Sprintf("%v, want ET_CORE", typ), Err: ErrForeign}
	}
	if mach != elf.EM_X86_64 {
		return &FormatError{Off: 18, Field: "e_machine", Value: uint64(mach), Msg: fmt.Sprintf("%v, want EM_X86_64", mach), Err: ErrForeign}
	}
	phoff, phentsize, phnum := le.Uint64(h[32:]), le.Uint16(h[54:]), le.Uint16(h[56:])
	shoff, shentsize, shnum := le.Uint64(h[40:]), le.Uint16(h[58:]), le.Uint16(h[60:])
	if phnum == 0xffff {
		return corrupt(56, "e_phnum", uint64(phnum), "PN_XNUM (more than 65534 segments) is not written by sgxdbg")
	}
	if phnum == 0 || phentsize != phdrSize {
		return corrupt(54, "e_phentsize", uint64(phentsize), "%d program headers of %d bytes, want at least one of %d", phnum, phentsize, phdrSize)
	}
	if end := uint64(phnum) * phdrSize; phoff > uint64(size) || end > uint64(size)-phoff {
		return truncated(32, "program headers", phoff+end, size)
	}
	if shnum > 0 {
		if end := uint64(shnum) * uint64(shentsize); shoff > uint64(size) || end > uint64(size)-shoff {
			return truncated(40, "section headers", shoff+end, size)
		}
	}
	return nil
}

// eachNote walks the notes of one PT_NOTE segment (4-byte alignment, as
// Linux cores have them) at file offset base.
func eachNote(b []byte, base int64, fn func(owner string, typ NoteType, desc []byte, off int64) error) error {
	le := binary.LittleEndian
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return truncated(base+int64(off), "note header", 12, int64(len(b)-off))
		}
		namesz, descsz, typ := le.Uint32(b[off:]), le.Uint32(b[off+4:]), le.Uint32(b[off+8:])
		nameOff := off + 12
		descOff := uint64(nameOff) + (uint64(namesz)+3)&^3
		end := descOff + (uint64(descsz)+3)&^3
		if end > uint64(len(b)) {
			return truncated(base+int64(off), "note", end-uint64(off), int64(len(b)-off))
		}
		name := b[nameOff : nameOff+int(namesz)]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if err := fn(string(name), NoteType(typ), b[descOff:descOff+uint64(descsz)], base+int64(descOff)); err != nil {
			return err
		}
		off = int(end)
	}
	return nil
}

// ReadMemory reads enclave memory as the core holds it; bytes outside
// every PT_LOAD are a *MemoryError (ErrNotInCore).
func (c *Core) ReadMemory(buf []byte, addr uint64) (int, error) {
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		i := sort.Search(len(c.Segments), func(i int) bool { return c.Segments[i].Vaddr+c.Segments[i].Size > a })
		if i == len(c.Segments) || c.Segments[i].Vaddr > a {
			return done, &MemoryError{Addr: a, Err: ErrNotInCore}
		}
		s := c.Segments[i]
		n := min(uint64(len(buf)-done), s.Vaddr+s.Size-a)
		got, err := c.r.ReadAt(buf[done:done+int(n)], s.Off+int64(a-s.Vaddr))
		done += got
		if err != nil && !(errors.Is(err, io.EOF) && got == int(n)) {
			return done, fmt.Errorf("core file: read %#x: %w", a, err)
		}
	}
	return done, nil
}

// Enclave returns the enclave whose ELRANGE holds addr, or nil.
func (c *Core) Enclave(addr uint64) *Enclave {
	for i := range c.Enclaves {
		if e := &c.Enclaves[i]; addr >= e.Base && addr-e.Base < e.Size {
			return e
		}
	}
	return nil
}

// PageAt returns the SECINFO of the EPC page holding addr.
func (e *Enclave) PageAt(addr uint64) (sgx.SecinfoFlags, bool) {
	if addr < e.Base || addr-e.Base >= e.Size {
		return 0, false
	}
	off := (addr - e.Base) &^ (sgx.PageSize - 1)
	i := sort.Search(len(e.Runs), func(i int) bool { return e.Runs[i].Offset+e.Runs[i].Pages*sgx.PageSize > off })
	if i == len(e.Runs) || e.Runs[i].Offset > off {
		return 0, false
	}
	return e.Runs[i].Secinfo, true
}

// Info returns the enclave as a backend describes it: every EPC page and
// the addresses of its TCS pages.
func (e *Enclave) Info() target.EnclaveInfo {
	info := target.EnclaveInfo{Pid: e.Pid, Base: e.Base, Size: e.Size, SSAFrameSize: e.SSAFrameSize,
		MiscSelect: e.MiscSelect, Attributes: e.Attributes, MRENCLAVE: e.MRENCLAVE, MRSIGNER: e.MRSIGNER,
		Initialized: e.Initialized}
	for _, r := range e.Runs {
		for k := uint64(0); k < r.Pages; k++ {
			off := r.Offset + k*sgx.PageSize
			info.Pages = append(info.Pages, target.Page{Offset: off, Secinfo: r.Secinfo})
			if r.Secinfo.PageType() == sgx.PageTypeTCS {
				info.TCS = append(info.TCS, e.Base+off)
			}
		}
	}
	return info
}
