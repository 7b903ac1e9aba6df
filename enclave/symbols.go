package enclave

import (
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/go-delve/delve/pkg/dwarf/frame"
)

// Symbol is a function or data symbol of the image.
type Symbol struct {
	Name   string
	Offset uint64 // from the enclave base (the image is linked at 0)
	Size   uint64 // 0 for labels without a size (assembly entry points)
}

// debugCache holds the debug information loaded on demand. Each part is
// loaded at most once; mu guards all of it.
type debugCache struct {
	mu     sync.Mutex
	closed bool

	symsDone bool
	syms     []Symbol
	maxEnd   []uint64 // maxEnd[i]: the largest Offset+Size among syms[:i+1]
	symsErr  error

	linesDone bool
	lines     []lineRow
	linesErr  error

	cfiDone bool
	fdes    frame.FrameDescriptionEntries
}

// Symbols returns the image's symbols sorted by offset: the defined
// function, object and untyped symbols of .symtab, or of .dynsym when the
// image was stripped. Symbols at the same offset with the same size are
// listed once (globals and functions preferred). With none, it returns
// ErrNoSymbols. The slice is shared: do not modify it.
func (im *Image) Symbols() ([]Symbol, error) {
	im.debug.mu.Lock()
	defer im.debug.mu.Unlock()
	if err := im.loadSymbols(); err != nil {
		return nil, err
	}
	return im.debug.syms, nil
}

// SymbolAt returns the symbol containing enclave offset off and off's
// offset within it: the sized symbol whose range holds off, or else the
// nearest unsized label before off in the same segment.
func (im *Image) SymbolAt(off uint64) (Symbol, uint64, bool) {
	im.debug.mu.Lock()
	defer im.debug.mu.Unlock()
	if im.loadSymbols() != nil {
		return Symbol{}, 0, false
	}
	syms, maxEnd := im.debug.syms, im.debug.maxEnd
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Offset > off }) - 1
	if i < 0 {
		return Symbol{}, 0, false
	}
	for j := i; j >= 0 && maxEnd[j] > off; j-- {
		if s := syms[j]; s.Size > 0 && off-s.Offset < s.Size {
			return s, off - s.Offset, true
		}
	}
	if s := syms[i]; s.Size == 0 {
		if seg := segmentAt(im.segs, off); seg != nil && seg == segmentAt(im.segs, s.Offset) {
			return s, off - s.Offset, true
		}
	}
	return Symbol{}, 0, false
}

// loadSymbols fills the symbol cache. The caller holds im.debug.mu.
func (im *Image) loadSymbols() error {
	d := &im.debug
	if d.symsDone {
		return d.symsErr
	}
	if d.closed {
		return ErrClosed
	}
	d.symsDone = true
	list, err := im.f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		d.symsErr = fmt.Errorf("read .symtab: %w", err)
		return d.symsErr
	}
	syms := im.usableSymbols(list)
	if len(syms) == 0 {
		list, err = im.f.DynamicSymbols()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			d.symsErr = fmt.Errorf("read .dynsym: %w", err)
			return d.symsErr
		}
		syms = im.usableSymbols(list)
	}
	if len(syms) == 0 {
		d.symsErr = ErrNoSymbols
		return d.symsErr
	}
	d.syms = syms
	d.maxEnd = make([]uint64, len(syms))
	var m uint64
	for i, s := range syms {
		m = max(m, s.Offset+s.Size)
		d.maxEnd[i] = m
	}
	return nil
}

// usableSymbols keeps the defined, named FUNC, OBJECT and NOTYPE symbols
// inside the enclave, sorted by offset, one per (offset, size).
func (im *Image) usableSymbols(list []elf.Symbol) []Symbol {
	type cand struct {
		Symbol
		rank int // lower is preferred
	}
	var cs []cand
	for _, s := range list {
		t := elf.ST_TYPE(s.Info)
		if s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || s.Value >= im.Size {
			continue
		}
		rank := 0
		switch t {
		case elf.STT_FUNC:
		case elf.STT_OBJECT:
			rank = 2
		case elf.STT_NOTYPE:
			rank = 4
		default:
			continue
		}
		if elf.ST_BIND(s.Info) == elf.STB_LOCAL {
			rank++
		}
		cs = append(cs, cand{Symbol{Name: s.Name, Offset: s.Value, Size: min(s.Size, im.Size-s.Value)}, rank})
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		switch {
		case a.Offset != b.Offset:
			return a.Offset < b.Offset
		case a.Size != b.Size:
			return a.Size > b.Size
		case a.rank != b.rank:
			return a.rank < b.rank
		}
		return a.Name < b.Name
	})
	var out []Symbol
	for i, c := range cs {
		if i > 0 && c.Offset == cs[i-1].Offset && c.Size == cs[i-1].Size {
			continue
		}
		out = append(out, c.Symbol)
	}
	return out
}
