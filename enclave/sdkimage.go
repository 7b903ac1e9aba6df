package enclave

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// Runtime names the convention an image was built to.
type Runtime uint8

// Runtimes NewImages recognizes.
const (
	RuntimeSGXDBG   Runtime = iota // sgxdbg's own notes (enclaves/debug/README.md)
	RuntimeIntelSDK                // the Intel SGX SDK: `.note.sgxmeta`, laid out by sgx_sign
)

// String returns "sgxdbg", "intel-sdk" or "Runtime(N)".
func (r Runtime) String() string {
	switch r {
	case RuntimeSGXDBG:
		return "sgxdbg"
	case RuntimeIntelSDK:
		return "intel-sdk"
	}
	return fmt.Sprintf("Runtime(%d)", uint8(r))
}

// ErrUnsupportedSDK is wrapped by the error for an SDK image that uses a
// feature this package does not lay out: text relocations, an ELRANGE, an
// OpenSSL FIPS shared object, metadata 1.3.
var ErrUnsupportedSDK = errors.New("unsupported Intel SGX SDK image feature")

// DeclaredMRENCLAVE returns the MRENCLAVE the image's signature declares
// (the SDK's SIGSTRUCT ENCLAVEHASH) and true, or false for an image that
// carries no signature.
func (im *Image) DeclaredMRENCLAVE() ([32]byte, bool) {
	if im.SDK == nil {
		return [32]byte{}, false
	}
	return im.SDK.SigStruct.EnclaveHash, true
}

// sdkImages builds one Image per metadata block of an SDK enclave, in note
// order.
func sdkImages(f *elf.File, r io.ReaderAt, h header, size int64, sec *elf.Section) ([]*Image, error) {
	if sec.Type == elf.SHT_NOBITS || sec.Size > uint64(size) {
		return nil, formatErr(-1, SDKMetadataSection, sec.Size, "the section has no file bytes")
	}
	buf := make([]byte, sec.Size)
	if _, err := r.ReadAt(buf, int64(sec.Offset)); err != nil {
		return nil, fmt.Errorf("read %s: %w", SDKMetadataSection, err)
	}
	blocks, err := DecodeSDKMetadataNote(buf, int64(sec.Offset))
	if err != nil {
		return nil, err
	}
	if err := checkTextRel(f, r, h, size); err != nil {
		return nil, err
	}
	var out []*Image
	for _, m := range blocks {
		if m.Major()%sdkMajorGap == 2 {
			continue // the uRTS bypasses 2.x blocks (urts_com.h)
		}
		im, err := sdkImage(f, r, h, size, m)
		if err != nil {
			return nil, fmt.Errorf("sgx_metadata %s at offset %#x: %w", m.VersionString(), m.Off, err)
		}
		out = append(out, im)
	}
	if len(out) == 0 {
		return nil, formatErr(int64(sec.Offset), SDKMetadataSection, uint64(len(blocks)), "only 2.x metadata blocks, which the uRTS ignores")
	}
	return out, nil
}

// checkTextRel rejects DT_TEXTREL: the uRTS then makes relocated
// read-only pages writable (loader.cpp is_relocation_page), a layout this
// package does not reproduce.
func checkTextRel(f *elf.File, r io.ReaderAt, h header, size int64) error {
	for i, p := range f.Progs {
		if p.Type != elf.PT_DYNAMIC {
			continue
		}
		if p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off {
			return formatErr(h.phOff(i)+phFilesz, fmt.Sprintf("PT_DYNAMIC %d p_filesz", i), p.Filesz, "extends past the end of the file")
		}
		buf := make([]byte, p.Filesz)
		if _, err := r.ReadAt(buf, int64(p.Off)); err != nil {
			return fmt.Errorf("read PT_DYNAMIC %d: %w", i, err)
		}
		for o := 0; o+dynEntSize <= len(buf); o += dynEntSize {
			switch elf.DynTag(binary.LittleEndian.Uint64(buf[o:])) {
			case elf.DT_NULL:
				return nil
			case elf.DT_TEXTREL:
				return &FormatError{Off: int64(p.Off) + int64(o), Field: "PT_DYNAMIC DT_TEXTREL", Msg: "text relocations", Err: ErrUnsupportedSDK}
			}
		}
	}
	return nil
}

// sdkImage lays out the image as the uRTS loads it with metadata block m
// (loader.cpp build_image): the patch table applied to the file, every
// PT_LOAD segment page by page (bytes before p_vaddr and after p_filesz
// zero, all measured), then the layout table's entries in load order.
func sdkImage(f *elf.File, r io.ReaderAt, h header, size int64, m *SDKMetadata) (*Image, error) {
	switch {
	case m.ELRange:
		return nil, &FormatError{Off: m.Off + mdVersion, Field: "sgx_metadata version", Value: m.Version, Msg: "an ELRANGE enclave", Err: ErrUnsupportedSDK}
	case m.SharedObject:
		return nil, &FormatError{Off: m.Off + mdDirs + 8*sdkDirExtend, Field: "sgx_metadata extend table", Msg: "an OpenSSL FIPS shared object", Err: ErrUnsupportedSDK}
	case m.Major()%sdkMajorGap == 1 && m.Minor() < 5:
		return nil, &FormatError{Off: m.Off + mdVersion, Field: "sgx_metadata version", Value: m.Version, Msg: "metadata 1.x before 1.5", Err: ErrUnsupportedSDK}
	}
	segs, err := sdkSegments(f, r, h, size, m)
	if err != nil {
		return nil, err
	}
	if err := applyPatches(segs, m, size); err != nil {
		return nil, err
	}
	b := &sdkBuilder{m: m, at: map[uint64]int{}}
	for _, s := range segs {
		if err := b.segment(s); err != nil {
			return nil, err
		}
	}
	entries, err := m.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := b.entry(e); err != nil {
			return nil, err
		}
	}
	if len(b.pages) == 0 {
		return nil, formatErr(m.Off, "sgx_metadata", 0, "the image adds no pages")
	}
	css := m.SigStruct
	attrs := css.Attributes
	attrs.Flags &^= sgx.AttrInit
	im := &Image{
		Size:          m.EnclaveSize,
		SSAFrameSize:  m.SSAFrameSize,
		MiscSelect:    css.MiscSelect,
		MiscMask:      css.MiscMask,
		Attributes:    attrs,
		AttributeMask: css.AttributeMask,
		ISVProdID:     css.ISVProdID,
		ISVSVN:        css.ISVSVN,
		TCS:           b.tcs,
		Regions:       sdkRegions(entries),
		Runtime:       RuntimeIntelSDK,
		SDK:           m,
		f:             f,
		segs:          segs,
	}
	im.Pages, im.order = b.sorted()
	return im, nil
}

// sdkSegments checks the PT_LOAD headers as the uRTS's ELF parser does
// and reads their file bytes, each segment into its own buffer (patches
// change them).
func sdkSegments(f *elf.File, r io.ReaderAt, h header, size int64, m *SDKMetadata) ([]*segment, error) {
	var segs []*segment
	var pages uint64
	for i, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		off, name := h.phOff(i), fmt.Sprintf("PT_LOAD %d", i)
		switch {
		case p.Align%PageSize != 0:
			return nil, formatErr(off+phAlign, name+" p_align", p.Align, "not a multiple of the page size")
		case p.Filesz > p.Memsz:
			return nil, formatErr(off+phFilesz, name+" p_filesz", p.Filesz, "larger than p_memsz %#x", p.Memsz)
		case p.Filesz > 0 && (p.Off > uint64(size) || p.Filesz > uint64(size)-p.Off):
			return nil, formatErr(off+phFilesz, name+" p_filesz", p.Filesz,
				"file bytes [%#x, +%#x) extend past the end of the file (%#x bytes)", p.Off, p.Filesz, size)
		case p.Vaddr >= m.EnclaveSize || p.Memsz > m.EnclaveSize-p.Vaddr:
			return nil, formatErr(off+phMemsz, name+" p_memsz", p.Memsz, "segment [%#x, +%#x) beyond the enclave size %#x", p.Vaddr, p.Memsz, m.EnclaveSize)
		case p.Flags&(elf.PF_R|elf.PF_W|elf.PF_X) == 0:
			return nil, formatErr(off+phFlags, name+" p_flags", uint64(p.Flags), "no R, W or X: the uRTS refuses the segment")
		case p.Flags&elf.PF_W != 0 && p.Flags&elf.PF_R == 0:
			return nil, formatErr(off+phFlags, name+" p_flags", uint64(p.Flags), "writable but not readable (%v): SECINFO W without R is invalid", p.Flags)
		}
		s := &segment{index: i, phOff: off, off: p.Off, vaddr: p.Vaddr, filesz: p.Filesz, memsz: p.Memsz, flags: p.Flags}
		if pages += (s.end() - s.vaddr&^(PageSize-1)) / PageSize; pages > MaxPages {
			return nil, formatErr(off+phMemsz, name+" p_memsz", p.Memsz, "the image has more than %d pages", MaxPages)
		}
		s.data = make([]byte, p.Filesz)
		if _, err := r.ReadAt(s.data, int64(p.Off)); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// applyPatches applies the patch table to the segments' copies of the
// file (loader.cpp build_image patches the mapped file before it adds
// pages).
func applyPatches(segs []*segment, m *SDKMetadata, size int64) error {
	for i, p := range m.Patches {
		if p.Dst > uint64(size) || uint64(p.Size) > uint64(size)-p.Dst {
			return formatErr(p.Off, fmt.Sprintf("sgx_metadata patch %d dst", i), p.Dst, "[%#x, +%#x) outside the file (%#x bytes)", p.Dst, p.Size, size)
		}
		src := m.content(p.Src, p.Size)
		for _, s := range segs {
			lo, hi := max(p.Dst, s.off), min(p.Dst+uint64(p.Size), s.off+s.filesz)
			if lo < hi {
				copy(s.data[lo-s.off:hi-s.off], src[lo-p.Dst:hi-p.Dst])
			}
		}
	}
	return nil
}

// sdkBuilder collects pages in the order the uRTS adds them.
type sdkBuilder struct {
	m     *SDKMetadata
	pages []Page
	at    map[uint64]int // offset → index in pages
	tcs   []TCSInfo
}

func (b *sdkBuilder) add(off int64, field string, p Page) error {
	if i, dup := b.at[p.Offset]; dup {
		return formatErr(off, field, p.Offset, "page %#x is added twice (first as %v)", p.Offset, b.pages[i].Secinfo)
	}
	b.at[p.Offset] = len(b.pages)
	b.pages = append(b.pages, p)
	return nil
}

// segment adds a PT_LOAD segment's pages (loader.cpp build_mem_region).
func (b *sdkBuilder) segment(s *segment) error {
	if s.memsz == 0 {
		return nil
	}
	flags := sgx.MakeSecinfoFlags(sgx.PageTypeREG, 0)
	if s.flags&elf.PF_R != 0 {
		flags |= sgx.SecinfoR
	}
	if s.flags&elf.PF_W != 0 {
		flags |= sgx.SecinfoW
	}
	if s.flags&elf.PF_X != 0 {
		flags |= sgx.SecinfoX
	}
	for page := s.vaddr &^ (PageSize - 1); page < s.end(); page += PageSize {
		data := make([]byte, PageSize)
		lo, hi := max(page, s.vaddr), min(page+PageSize, s.vaddr+s.filesz)
		if lo < hi {
			copy(data[lo-page:], s.data[lo-s.vaddr:hi-s.vaddr])
		}
		err := b.add(s.phOff+phVaddr, fmt.Sprintf("PT_LOAD %d p_vaddr", s.index), Page{Offset: page, Secinfo: flags, Measured: true, Data: data})
		if err != nil {
			return err
		}
	}
	return nil
}

// entry adds a layout entry's pages (loader.cpp build_context).
func (b *sdkBuilder) entry(e SDKEntry) error {
	if e.Attributes&PageAttrEADD == 0 || e.SIFlags == 0 {
		return nil // added later (EDMM) or a guard
	}
	field := fmt.Sprintf("sgx_metadata layout %d", e.Table)
	measured := e.Attributes&PageAttrEEXTEND != 0
	data := make([]byte, PageSize)
	switch {
	case e.SIFlags.PageType() == sgx.PageTypeTCS:
		copy(data, b.m.content(e.ContentOffset, e.ContentSize))
		le := binary.LittleEndian
		for _, o := range []int{tcsOSSA, tcsOFS, tcsOGS} {
			le.PutUint64(data[o:], le.Uint64(data[o:])+e.RVA)
		}
		var t sgx.TCS
		if err := t.UnmarshalBinary(data); err != nil {
			return &FormatError{Off: e.Off, Field: field + " TCS template", Msg: "malformed TCS", Err: err}
		}
		for i := range uint64(e.PageCount) {
			b.tcs = append(b.tcs, TCSInfo{Index: len(b.tcs), Offset: e.RVA + i*PageSize, TCS: t})
		}
	case e.ContentOffset != 0:
		// Content pages are always measured (build_mem_region).
		content := b.m.content(e.ContentOffset, e.ContentSize)
		for i := range uint64(e.PageCount) {
			page := make([]byte, PageSize)
			if lo := i * PageSize; lo < uint64(len(content)) {
				copy(page, content[lo:])
			}
			if err := b.add(e.Off+8, field+" rva", Page{Offset: e.RVA + i*PageSize, Secinfo: e.SIFlags, Measured: true, Data: page}); err != nil {
				return err
			}
		}
		return nil
	case e.ContentSize != 0:
		for o := 0; o < PageSize; o += 4 {
			binary.LittleEndian.PutUint32(data[o:], e.ContentSize)
		}
	}
	for i := range uint64(e.PageCount) {
		if err := b.add(e.Off+8, field+" rva", Page{Offset: e.RVA + i*PageSize, Secinfo: e.SIFlags, Measured: measured, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns the pages by offset and, when that differs from the add
// order, the add order as indices into the sorted slice.
func (b *sdkBuilder) sorted() ([]Page, []int) {
	idx := make([]int, len(b.pages))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return b.pages[idx[i]].Offset < b.pages[idx[j]].Offset })
	pages := make([]Page, len(b.pages))
	inOrder := true
	pos := make([]int, len(b.pages)) // add index → sorted index
	for k, i := range idx {
		pages[k] = b.pages[i]
		pos[i] = k
		inOrder = inOrder && k == i
	}
	if inOrder {
		return pages, nil
	}
	return pages, pos
}

// sdkRegions turns the expanded layout into regions: TCS, SSA, STACK
// (STACK_MAX and STACK_MIN of one thread merged), HEAP, GUARD and THREAD
// (the TD pages); an SSA or TD belongs to the TCS before it, a stack to
// the TCS after it. Entries added only later (EDMM: POST_ADD without
// EADD) and the reserved and user regions are not listed.
func sdkRegions(es []SDKEntry) []Region {
	var out []Region
	var pendingStack []int // indices in out of stacks waiting for their TCS
	tcs := -1
	for _, e := range es {
		if e.PageCount == 0 {
			continue
		}
		r := Region{Offset: e.RVA, Size: uint64(e.PageCount) * PageSize, TCSIndex: -1,
			Unmeasured: e.Attributes&PageAttrEEXTEND == 0 && e.ContentOffset == 0}
		added := e.Attributes&PageAttrEADD != 0
		switch id := e.ID; {
		case id == LayoutGuard || e.SIFlags == 0:
			r.Kind, r.Unmeasured = RegionGuard, false
		case !added:
			continue
		case id == LayoutTCS:
			for range e.PageCount {
				tcs++
				for _, k := range pendingStack {
					out[k].TCSIndex = tcs
				}
				pendingStack = nil
				out = append(out, Region{Offset: r.Offset, Size: PageSize, Kind: RegionTCS, TCSIndex: tcs, Unmeasured: r.Unmeasured})
				r.Offset += PageSize
			}
			continue
		case id == LayoutSSA:
			r.Kind, r.TCSIndex = RegionSSA, tcs
		case id == LayoutTD:
			r.Kind, r.TCSIndex = RegionThread, tcs
		case id == LayoutStackMax || id == LayoutStackMin:
			r.Kind = RegionStack
			if k := len(out) - 1; k >= 0 && out[k].Kind == RegionStack && out[k].End() == r.Offset &&
				out[k].Unmeasured == r.Unmeasured && len(pendingStack) > 0 && pendingStack[len(pendingStack)-1] == k {
				out[k].Size += r.Size
				continue
			}
			pendingStack = append(pendingStack, len(out))
		case id == LayoutHeapMin || id == LayoutHeapInit:
			r.Kind = RegionHeap
		default:
			continue
		}
		out = append(out, r)
	}
	return out
}
