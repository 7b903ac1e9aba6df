package enclave

import (
	"debug/elf"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/sgxdbg/sgxdbg/internal/inputfile"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Image is a parsed enclave ELF: its pages, SECS parameters, TCS list,
// regions and, loaded lazily, its debug information. Its exported fields
// are read-only: Page data may be shared between pages and with the
// image's buffers.
type Image struct {
	Path          string // the file Open read, or "" for NewImage
	Size          uint64 // SECS.SIZE, resolved: a power of two ≥ the end of the last page
	SSAFrameSize  uint32 // SECS.SSAFRAMESIZE in pages
	MiscSelect    sgx.MiscSelect
	MiscMask      uint32         // for the SIGSTRUCT
	Attributes    sgx.Attributes // SECS.ATTRIBUTES (INIT clear)
	AttributeMask sgx.Attributes // for the SIGSTRUCT
	ISVProdID     uint16
	ISVSVN        uint16
	Pages         []Page    // sorted by offset, one per EPC page
	TCS           []TCSInfo // in TCS-index order
	Regions       []Region  // in note order (SDK images: in layout order)
	Runtime       Runtime   // the convention the image follows
	// SDK is the Intel SDK metadata block the image is laid out from, or
	// nil for an sgxdbg image.
	SDK *SDKMetadata

	f      *elf.File
	order  []int // the add order as indices into Pages, when it is not offset order
	closer io.Closer
	segs   []*segment
	debug  debugCache
}

// Page is one EPC page of the image.
type Page struct {
	Offset   uint64           // from the enclave base, page aligned
	Secinfo  sgx.SecinfoFlags // what EADD is given: PT_REG with the segment's R/W/X, or PT_TCS
	Measured bool             // EEXTENDed after EADD
	Data     []byte           // PageSize bytes; shared with the image's buffers, do not modify
}

// TCSInfo is one TCS of the image, as the image holds it.
type TCSInfo struct {
	Index  int    // TCS number: its order among the TCS regions
	Offset uint64 // offset of the TCS page from the enclave base
	TCS    sgx.TCS
}

// PageRun is a maximal run of contiguous pages with equal SECINFO and
// measurement: what a loader passes to one SGX_IOC_ENCLAVE_ADD_PAGES call
// or maps with one mmap.
type PageRun struct {
	Offset   uint64
	Length   uint64 // a multiple of PageSize
	Secinfo  sgx.SecinfoFlags
	Measured bool
}

// Open reads the enclave image at path, which must be a regular file
// (inputfile.EnclaveImage). The file stays open for the debug information
// until Close. For an Intel SDK image it returns the layout of its newest
// metadata block (OpenAll returns every one).
func Open(path string) (*Image, error) {
	ims, err := OpenAll(path)
	if err != nil {
		return nil, err
	}
	for _, im := range ims[1:] {
		im.Close()
	}
	return ims[0], nil
}

// OpenAll reads the enclave image at path as NewImages does: one Image
// for an sgxdbg image, one per usable metadata block for an Intel SDK
// image, newest version first. The file stays open until every returned
// Image is closed.
func OpenAll(path string) ([]*Image, error) {
	f, _, err := inputfile.Open(path, inputfile.EnclaveImage)
	if err != nil {
		return nil, err
	}
	ims, err := NewImages(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	shared := &sharedCloser{c: f, n: len(ims)}
	for _, im := range ims {
		im.Path = path
		im.closer = shared
	}
	return ims, nil
}

// sharedCloser closes c when Close has been called n times.
type sharedCloser struct {
	mu sync.Mutex
	c  io.Closer
	n  int
}

func (s *sharedCloser) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n--; s.n == 0 {
		return s.c.Close()
	}
	return nil
}

// NewImages parses the enclave image in r: an image with a `.note.sgxmeta`
// section as the Intel SGX SDK's uRTS loads it, one Image per metadata
// block it may choose (2.x blocks, which it skips, excluded), newest
// version first; any other image as NewImage does, alone.
//
// An SDK image is checked as the uRTS checks it (psw/urts/loader.cpp,
// parser/elfparser.cpp): the metadata (DecodeSDKMetadataNote), PT_LOAD
// segments (page-aligned p_align, R/W/X flags, inside the enclave size),
// patches inside the file, layout entries inside the enclave and not
// overlapping, no page added twice. Dynamic relocations are allowed: the
// SDK's enclave relocates itself after EINIT. Images needing what this
// package does not lay out wrap ErrUnsupportedSDK.
func NewImages(r io.ReaderAt) ([]*Image, error) {
	size, err := readerSize(r)
	if err != nil {
		return nil, err
	}
	h, err := checkHeader(r, size)
	if err != nil {
		return nil, err
	}
	if err := checkSectionData(r, h, h.shnum, size); err != nil {
		return nil, err
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, &FormatError{Off: -1, Field: "ELF", Msg: "malformed ELF file", Err: err}
	}
	if sec := f.Section(SDKMetadataSection); sec != nil {
		ims, err := sdkImages(f, r, h, size, sec)
		if err != nil {
			return nil, err
		}
		sort.SliceStable(ims, func(i, j int) bool { return ims[i].SDK.Version > ims[j].SDK.Version })
		return ims, nil
	}
	im, err := newImage(r, f, h, size)
	if err != nil {
		return nil, err
	}
	return []*Image{im}, nil
}

// NewImage parses the enclave image in r and checks it against the image
// convention of enclaves/debug/README.md and the rules ECREATE, EADD and
// EENTER apply:
//   - ELF64, little-endian, x86-64, ET_DYN; no PT_INTERP; no dynamic
//     relocations (in PT_DYNAMIC or allocated relocation sections);
//   - PT_LOAD segments page aligned, not overlapping, inside the file, W
//     only with R, at most MaxPages pages in all;
//   - exactly one NT_SGXDBG_ENCLAVE note (64 bytes, reserved zero, INIT
//     clear, MODE64BIT set, XFRM bits 1:0 set, SIZE a power of two ≥ the
//     image and ≥ 8 KiB, an SSA frame that holds XSAVE + GPRSGX + MISC, a
//     SECS that passes sgx.SECS.Validate) and at most one NT_SGXDBG_REGIONS;
//   - regions of a known kind and flags, page aligned, inside SIZE, TCS
//     regions one page and on no STACK/SSA/HEAP/GUARD region, GUARD regions
//     on no PT_LOAD page, the others on PT_LOAD pages only;
//   - each TCS as EADD leaves it (STATE, CSSA, AEP, DBGOPTIN zero), NSSA >
//     0, OENTRY on a REG page, OFSBASGX/OGSBASGX inside SIZE, its SSA
//     frames on RW REG pages, and sgx.TCS.Validate.
//
// A violation is a *FormatError. Debug information is read from r later,
// on demand. An Intel SDK image (NewImages) yields the layout of its
// newest metadata block.
func NewImage(r io.ReaderAt) (*Image, error) {
	ims, err := NewImages(r)
	if err != nil {
		return nil, err
	}
	return ims[0], nil
}

// newImage parses an image of sgxdbg's convention (NewImage).
func newImage(r io.ReaderAt, f *elf.File, h header, size int64) (*Image, error) {
	segs, err := loadSegments(f, r, h, size)
	if err != nil {
		return nil, err
	}
	if err := checkRelocSections(f, h); err != nil {
		return nil, err
	}
	notes, err := readNotes(f, r, h, size)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 || segs[len(segs)-1].end() == 0 {
		return nil, formatErr(int64(h.phoff), "PT_LOAD", 0, "the image has no pages")
	}
	n := notes.enclave
	encSize, err := resolveSize(n, segs[len(segs)-1].end())
	if err != nil {
		return nil, err
	}
	if err := checkSECSParams(n); err != nil {
		return nil, err
	}
	regions, err := checkRegions(notes.regions, encSize, segs)
	if err != nil {
		return nil, err
	}
	pages := buildPages(segs, regions)
	tcs, err := checkTCS(regions, pages, segs, n, encSize)
	if err != nil {
		return nil, err
	}
	im := &Image{
		Size:          encSize,
		SSAFrameSize:  n.ssaFrameSize,
		MiscSelect:    sgx.MiscSelect(n.miscSelect),
		MiscMask:      n.miscMask,
		Attributes:    sgx.Attributes{Flags: sgx.AttributeFlags(n.flags), XFRM: n.xfrm},
		AttributeMask: sgx.Attributes{Flags: sgx.AttributeFlags(n.maskFlags), XFRM: n.maskXFRM},
		ISVProdID:     n.isvProdID,
		ISVSVN:        n.isvSVN,
		Pages:         pages,
		TCS:           tcs,
		Regions:       regions,
		f:             f,
		segs:          segs,
	}
	secs := im.SECS(0)
	if err := secs.Validate(); err != nil {
		return nil, &FormatError{Off: n.off, Field: NoteEnclave.String(), Msg: "the SECS would not pass ECREATE", Err: err}
	}
	return im, nil
}

// Close releases the file Open opened. Pages stay valid; debug information
// not loaded before Close is no longer available (ErrClosed).
func (im *Image) Close() error {
	im.debug.mu.Lock()
	defer im.debug.mu.Unlock()
	im.debug.closed = true
	if im.closer == nil {
		return nil
	}
	err := im.closer.Close()
	im.closer = nil
	return err
}

// SECS returns the SECS the host passes to ECREATE for the image loaded at
// base: SIZE, BASEADDR, SSAFRAMESIZE, MISCSELECT and ATTRIBUTES; the
// measurement and identity fields are zero until EINIT.
func (im *Image) SECS(base uint64) sgx.SECS {
	return sgx.SECS{
		Size:         im.Size,
		BaseAddr:     base,
		SSAFrameSize: im.SSAFrameSize,
		MiscSelect:   im.MiscSelect,
		Attributes:   im.Attributes,
	}
}

// MRENCLAVE returns the measurement EINIT will compare with the
// SIGSTRUCT: ECREATE, then EADD (and EEXTEND for measured pages) of every
// page in the order the loader adds them (offset order for sgxdbg images).
func (im *Image) MRENCLAVE() ([32]byte, error) {
	m := sgx.NewMeasurement(im.Size, im.SSAFrameSize)
	for i := range im.Pages {
		p := im.Pages[i]
		if im.order != nil {
			p = im.Pages[im.order[i]]
		}
		if err := m.AddPage(p.Offset, p.Secinfo, p.Data, p.Measured); err != nil {
			return [32]byte{}, fmt.Errorf("measure page %#x: %w", p.Offset, err)
		}
	}
	return m.Sum(), nil
}

// Runs returns the pages as maximal runs of contiguous pages with equal
// SECINFO and Measured, in offset order.
func (im *Image) Runs() []PageRun {
	var runs []PageRun
	for _, p := range im.Pages {
		if k := len(runs) - 1; k >= 0 {
			r := &runs[k]
			if r.Offset+r.Length == p.Offset && r.Secinfo == p.Secinfo && r.Measured == p.Measured {
				r.Length += PageSize
				continue
			}
		}
		runs = append(runs, PageRun{Offset: p.Offset, Length: PageSize, Secinfo: p.Secinfo, Measured: p.Measured})
	}
	return runs
}

// Page returns the page at enclave offset off (rounded down to a page), or
// nil when off is in a hole or beyond the image.
func (im *Image) Page(off uint64) *Page { return pageAt(im.Pages, off) }
