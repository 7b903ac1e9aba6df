package dwarfx

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/go-delve/delve/pkg/dwarf/frame"
	"github.com/go-delve/delve/pkg/dwarf/godwarf"
	"github.com/go-delve/delve/pkg/dwarf/loclist"
)

// ErrNoDebugInfo: the ELF has no DWARF debugging information.
var ErrNoDebugInfo = errors.New("no DWARF debug information")

// Program is the DWARF of one ELF, indexed for source-level questions.
// Addresses inside it are link addresses; every method that takes or
// returns run-time addresses takes the load base (0 for an executable
// linked where it runs, the enclave base for an enclave image). A Program
// is safe for concurrent use.
type Program struct {
	f      *elf.File
	closer io.Closer
	dw     *dwarf.Data

	units   []*unit     // by offset
	funcs   []*function // by entry address
	globals map[string][]*global
	inlined map[string][]uint64     // function name -> entry addresses of its inlined copies
	types   map[string]dwarf.Offset // "int", "uint64_t", "struct point", "enum color"
	lines   []lineRow               // every row of every unit, by address
	syms    []elfSym                // ELF symbols with an address, by address

	loc5 *loclist.Dwarf5Reader
	loc2 *loclist.Dwarf2Reader
	addr *godwarf.DebugAddrSection

	mu        sync.Mutex // guards typeCache and trees
	typeCache map[dwarf.Offset]godwarf.Type
	trees     map[dwarf.Offset]*godwarf.Tree
	fixed     map[godwarf.Type]bool // types fixTypes has corrected
	cfiDone   bool
	fdes      frame.FrameDescriptionEntries
}

// unit is one compilation unit.
type unit struct {
	off, end   dwarf.Offset // the unit's DIE offsets: [off, end)
	name       string
	compDir    string
	producer   string
	lowPC      uint64 // base address for location lists
	version    int
	addrBase   uint64
	hasLoclist bool // some variable has a location list (gdb's "locations valid")
}

// function is one concrete (out-of-line) function.
type function struct {
	name     string
	off      dwarf.Offset
	entry    uint64      // DW_AT_low_pc or the first range's start
	ranges   [][2]uint64 // link addresses
	unit     *unit
	declLine int
}

// global is a variable at unit level (or a function-static one) with a
// location.
type global struct {
	name string
	off  dwarf.Offset
	unit *unit
}

// elfSym is an ELF symbol used to annotate pointers (<sym+off>).
type elfSym struct {
	name       string
	addr, size uint64
}

// Open opens the ELF file at path and indexes its DWARF. Close releases
// the file.
func Open(path string) (*Program, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	p, err := New(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.closer = f
	return p, nil
}

// NewReader indexes the DWARF of the ELF read from r.
func NewReader(r io.ReaderAt) (*Program, error) {
	var f *elf.File
	err := safely(func() error {
		var err error
		f, err = elf.NewFile(r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read ELF: %w", err)
	}
	return New(f)
}

// New indexes the DWARF of f: compilation units, functions, globals,
// named types, line tables and ELF symbols. The Program reads f's
// sections later (function trees, types, location lists, code bytes for
// prologue analysis), so f must stay open while it is used.
func New(f *elf.File) (*Program, error) {
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		return nil, ErrNoDebugInfo
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("not an x86-64 ELF (%v, %v)", f.Class, f.Machine)
	}
	p := &Program{f: f, globals: map[string][]*global{}, inlined: map[string][]uint64{}, types: map[string]dwarf.Offset{},
		typeCache: map[dwarf.Offset]godwarf.Type{}, trees: map[dwarf.Offset]*godwarf.Tree{}}
	err := safely(func() error {
		var err error
		if p.dw, err = f.DWARF(); err != nil {
			return fmt.Errorf("read DWARF: %w", err)
		}
		info, err := godwarf.GetDebugSectionElf(f, "info")
		if err != nil {
			return fmt.Errorf("read .debug_info: %w", err)
		}
		if err := p.index(unitVersions(info)); err != nil {
			return fmt.Errorf("index DWARF: %w", err)
		}
		if b, err := godwarf.GetDebugSectionElf(f, "line"); err == nil {
			if err := CheckLineSection(b); err != nil {
				return err
			}
		}
		if err := p.loadLines(); err != nil {
			return fmt.Errorf("read DWARF line table: %w", err)
		}
		if b, err := godwarf.GetDebugSectionElf(f, "loclists"); err == nil && len(b) > 0 {
			p.loc5 = loclist.NewDwarf5Reader(b)
		}
		if b, err := godwarf.GetDebugSectionElf(f, "loc"); err == nil && len(b) > 0 {
			p.loc2 = loclist.NewDwarf2Reader(b, 8)
		}
		if b, err := godwarf.GetDebugSectionElf(f, "addr"); err == nil && len(b) > 0 {
			p.addr = godwarf.ParseAddr(b)
		}
		p.loadSymbols()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Close closes the file Open opened; for a Program made by New or
// NewReader it does nothing.
func (p *Program) Close() error {
	if p.closer != nil {
		return p.closer.Close()
	}
	return nil
}

// unitVersions maps each unit's header offset in .debug_info to its DWARF
// version, reading only the unit headers.
func unitVersions(info []byte) map[dwarf.Offset]int {
	m := map[dwarf.Offset]int{}
	for off := uint64(0); off+6 <= uint64(len(info)); {
		length := uint64(binary.LittleEndian.Uint32(info[off:]))
		hdr := uint64(4)
		if length == 0xffffffff {
			if off+14 > uint64(len(info)) {
				break
			}
			length, hdr = binary.LittleEndian.Uint64(info[off+4:]), 12
		}
		if off+hdr+2 > uint64(len(info)) {
			break
		}
		m[dwarf.Offset(off)] = int(binary.LittleEndian.Uint16(info[off+hdr:]))
		if length > uint64(len(info)) {
			break
		}
		off += hdr + length
	}
	return m
}

// versionOf returns the version of the unit whose header starts at the
// largest offset not after die.
func versionOf(versions map[dwarf.Offset]int, die dwarf.Offset) int {
	best, v := dwarf.Offset(0), 4
	for off, ver := range versions {
		if off <= die && off >= best {
			best, v = off, ver
		}
	}
	return v
}

// index walks every DIE once.
func (p *Program) index(versions map[dwarf.Offset]int) error {
	r := p.dw.Reader()
	var cu *unit
	var inFunc []bool // per open DIE with children: its children are inside a function
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			if len(inFunc) > 0 {
				inFunc = inFunc[:len(inFunc)-1]
			}
			continue
		}
		if e.Tag == dwarf.TagCompileUnit || e.Tag == dwarf.TagPartialUnit {
			if cu != nil {
				cu.end = e.Offset
			}
			cu = &unit{off: e.Offset, version: versionOf(versions, e.Offset)}
			cu.name, _ = e.Val(dwarf.AttrName).(string)
			cu.compDir, _ = e.Val(dwarf.AttrCompDir).(string)
			cu.producer, _ = e.Val(dwarf.AttrProducer).(string)
			cu.lowPC, _ = e.Val(dwarf.AttrLowpc).(uint64)
			if ab, ok := e.Val(dwarf.AttrAddrBase).(int64); ok {
				cu.addrBase = uint64(ab)
			}
			p.units = append(p.units, cu)
			inFunc = inFunc[:0]
			if e.Children {
				inFunc = append(inFunc, false)
			}
			continue
		}
		if cu == nil {
			r.SkipChildren()
			continue
		}
		in := len(inFunc) > 0 && inFunc[len(inFunc)-1]
		switch e.Tag {
		case dwarf.TagSubprogram:
			p.addFunction(e, cu)
		case dwarf.TagVariable:
			p.addGlobal(e, cu, in)
		case dwarf.TagInlinedSubroutine:
			p.addInlined(e)
		case dwarf.TagFormalParameter:
			if f := e.AttrField(dwarf.AttrLocation); f != nil && f.Class == dwarf.ClassLocListPtr {
				cu.hasLoclist = true
			}
		case dwarf.TagBaseType, dwarf.TagTypedef, dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagEnumerationType:
			if len(inFunc) == 1 {
				p.addType(e)
			}
		}
		if e.Children {
			inFunc = append(inFunc, in || e.Tag == dwarf.TagSubprogram)
		}
	}
	if cu != nil {
		cu.end = ^dwarf.Offset(0)
	}
	sort.Slice(p.funcs, func(i, j int) bool { return p.funcs[i].entry < p.funcs[j].entry })
	return nil
}

func (p *Program) addFunction(e *dwarf.Entry, cu *unit) {
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		return
	}
	ranges, err := p.dw.Ranges(e)
	if err != nil || len(ranges) == 0 {
		return
	}
	fn := &function{off: e.Offset, ranges: ranges, unit: cu}
	fn.name, _ = e.Val(dwarf.AttrName).(string)
	fn.entry = ranges[0][0]
	if lo, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
		fn.entry = lo
	}
	if line, ok := e.Val(dwarf.AttrDeclLine).(int64); ok {
		fn.declLine = int(line)
	}
	if fn.name == "" { // an out-of-line copy of an inline function
		if ao, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
			r := p.dw.Reader()
			r.Seek(ao)
			if oe, err := r.Next(); err == nil && oe != nil {
				fn.name, _ = oe.Val(dwarf.AttrName).(string)
				if line, ok := oe.Val(dwarf.AttrDeclLine).(int64); ok {
					fn.declLine = int(line)
				}
			}
		}
	}
	if fn.name == "" {
		return
	}
	p.funcs = append(p.funcs, fn)
}

// addInlined records the entry address of an inlined copy of a function.
func (p *Program) addInlined(e *dwarf.Entry) {
	ao, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	if !ok {
		return
	}
	r := p.dw.Reader()
	r.Seek(ao)
	oe, err := r.Next()
	if err != nil || oe == nil {
		return
	}
	name, _ := oe.Val(dwarf.AttrName).(string)
	if name == "" {
		return
	}
	ranges, err := p.dw.Ranges(e)
	if err != nil {
		return
	}
	// gdb 13's entry of a block: the start of its first non-empty range
	// as listed (it does not read DW_AT_entry_pc); a copy with no code
	// gets no location.
	var entry uint64
	found := false
	for _, r := range ranges {
		if r[1] > r[0] {
			entry, found = r[0], true
			break
		}
	}
	if !found {
		return
	}
	p.inlined[name] = append(p.inlined[name], entry)
}

func (p *Program) addGlobal(e *dwarf.Entry, cu *unit, inFunc bool) {
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		return
	}
	if f.Class == dwarf.ClassLocListPtr {
		cu.hasLoclist = true
	}
	if inFunc { // a local: only function statics (a fixed address) are global-like
		b, ok := f.Val.([]byte)
		if !ok || len(b) == 0 || b[0] != 0x03 { // DW_OP_addr
			return
		}
	}
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		if spec, ok := e.Val(dwarf.AttrSpecification).(dwarf.Offset); ok {
			r := p.dw.Reader()
			r.Seek(spec)
			if se, err := r.Next(); err == nil && se != nil {
				name, _ = se.Val(dwarf.AttrName).(string)
			}
		}
	}
	if name == "" {
		return
	}
	p.globals[name] = append(p.globals[name], &global{name: name, off: e.Offset, unit: cu})
}

func (p *Program) addType(e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		return
	}
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		return
	}
	switch e.Tag {
	case dwarf.TagStructType:
		name = "struct " + name
	case dwarf.TagUnionType:
		name = "union " + name
	case dwarf.TagEnumerationType:
		name = "enum " + name
	}
	if _, dup := p.types[name]; !dup {
		p.types[name] = e.Offset
	}
}

// loadSymbols keeps the ELF's named function and object symbols.
func (p *Program) loadSymbols() {
	list, _ := p.f.Symbols()
	for _, s := range list {
		t := elf.ST_TYPE(s.Info)
		if s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE ||
			(t != elf.STT_FUNC && t != elf.STT_OBJECT) {
			continue
		}
		p.syms = append(p.syms, elfSym{name: s.Name, addr: s.Value, size: s.Size})
	}
	sort.SliceStable(p.syms, func(i, j int) bool { return p.syms[i].addr < p.syms[j].addr })
}

// symbolFor returns "name" or "name+off" for a link address inside a
// sized symbol (or at an unsized one), or "".
func (p *Program) symbolFor(addr uint64) string {
	i := sort.Search(len(p.syms), func(i int) bool { return p.syms[i].addr > addr }) - 1
	for ; i >= 0; i-- {
		s := p.syms[i]
		if s.addr == addr {
			return s.name
		}
		if addr-s.addr < s.size {
			return fmt.Sprintf("%s+%d", s.name, addr-s.addr)
		}
		if addr-s.addr > 1<<20 {
			break
		}
	}
	return ""
}

// unitOf returns the unit holding the DIE at off.
func (p *Program) unitOf(off dwarf.Offset) *unit {
	i := sort.Search(len(p.units), func(i int) bool { return p.units[i].off > off }) - 1
	if i < 0 {
		return nil
	}
	return p.units[i]
}

// funcAt returns the function whose ranges hold the link address pc.
func (p *Program) funcAt(pc uint64) *function {
	i := sort.Search(len(p.funcs), func(i int) bool { return p.funcs[i].entry > pc })
	// Ranges may start before the entry (hot/cold splits): check every
	// function whose entry is not after pc, nearest first, then the rest.
	for j := i - 1; j >= 0; j-- {
		if containsPC(p.funcs[j].ranges, pc) {
			return p.funcs[j]
		}
	}
	for j := i; j < len(p.funcs); j++ {
		if containsPC(p.funcs[j].ranges, pc) {
			return p.funcs[j]
		}
	}
	return nil
}

// funcNamed returns the functions named name.
func (p *Program) funcNamed(name string) []*function {
	var out []*function
	for _, fn := range p.funcs {
		if fn.name == name {
			out = append(out, fn)
		}
	}
	return out
}

func containsPC(ranges [][2]uint64, pc uint64) bool {
	for _, r := range ranges {
		if r[0] <= pc && pc < r[1] {
			return true
		}
	}
	return false
}

// tree returns the DIE tree of the function at off (cached).
func (p *Program) tree(off dwarf.Offset) (*godwarf.Tree, error) {
	if t, ok := p.trees[off]; ok {
		return t, nil
	}
	var t *godwarf.Tree
	err := safely(func() error {
		var err error
		t, err = godwarf.LoadTree(off, p.dw, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read DWARF tree at %#x: %w", off, err)
	}
	p.trees[off] = t
	return t, nil
}

// readType returns the type at off (cached).
func (p *Program) readType(off dwarf.Offset) (godwarf.Type, error) {
	var t godwarf.Type
	err := safely(func() error {
		var err error
		t, err = godwarf.ReadType(p.dw, 0, off, p.typeCache)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read DWARF type at %#x: %w", off, err)
	}
	if t == nil {
		return nil, fmt.Errorf("read DWARF type at %#x: no type", off)
	}
	p.fixTypes(t)
	return t, nil
}

// readCode reads n bytes of the file's image at link address addr.
func (p *Program) readCode(addr uint64, n int) []byte {
	for _, prog := range p.f.Progs {
		if prog.Type != elf.PT_LOAD || addr < prog.Vaddr || addr-prog.Vaddr >= prog.Filesz {
			continue
		}
		n = int(min(uint64(n), prog.Filesz-(addr-prog.Vaddr)))
		b := make([]byte, n)
		k, _ := prog.ReadAt(b, int64(addr-prog.Vaddr))
		return b[:k]
	}
	return nil
}

// safely runs f, turning a panic into an error: debug/dwarf, delve's op,
// godwarf and loclist decode untrusted bytes and some of their paths panic
// on malformed input (loclist slices its header without a length check,
// op indexes its stack after DW_OP_plus_uconst without one).
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed DWARF: %v", r)
		}
	}()
	return f()
}
