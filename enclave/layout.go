package enclave

import (
	"fmt"
	"math/bits"
	"sort"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// minSize is the smallest SECS.SIZE ECREATE accepts (two pages).
const minSize = 2 * PageSize

// gprSGXSize is the size of the GPRSGX region at the end of an SSA frame.
const gprSGXSize = 184

// resolveSize returns SECS.SIZE for an image whose pages end at end: the
// note's SIZE after checking it, or for SIZE 0 the smallest power of two
// that is at least end and at least 8 KiB.
func resolveSize(n *enclaveNote, end uint64) (uint64, error) {
	field := NoteEnclave.String() + " SIZE"
	if n.size == 0 {
		size := uint64(minSize)
		if end > size {
			if end > 1<<63 {
				return 0, formatErr(n.off+enSize, field, n.size, "no power of two holds the image end %#x", end)
			}
			size = 1 << bits.Len64(end-1)
		}
		return size, nil
	}
	switch {
	case n.size&(n.size-1) != 0:
		return 0, formatErr(n.off+enSize, field, n.size, "not a power of two")
	case n.size < minSize:
		return 0, formatErr(n.off+enSize, field, n.size, "smaller than two pages")
	case n.size < end:
		return 0, formatErr(n.off+enSize, field, n.size, "smaller than the image, whose pages end at %#x", end)
	}
	return n.size, nil
}

// checkSECSParams checks the note's SECS parameters as ECREATE and the
// Linux driver would.
func checkSECSParams(n *enclaveNote) error {
	name := NoteEnclave.String()
	flags := sgx.AttributeFlags(n.flags)
	switch {
	case n.ssaFrameSize == 0:
		return formatErr(n.off+enSSAFrameSize, name+" SSAFRAMESIZE", 0, "zero")
	case flags&sgx.AttrInit != 0:
		return formatErr(n.off+enFlags, name+" ATTRIBUTES", n.flags, "INIT must be 0 (EINIT sets it)")
	case flags&sgx.AttrMode64Bit == 0:
		return formatErr(n.off+enFlags, name+" ATTRIBUTES", n.flags, "MODE64BIT clear in an x86-64 image")
	case n.xfrm&3 != 3:
		return formatErr(n.off+enXFRM, name+" XFRM", n.xfrm, "bits 1:0 (x87, SSE) must be set")
	}
	need := uint64(sgx.XSaveSize(n.xfrm)) + gprSGXSize + uint64(sgx.MiscSelect(n.miscSelect).MiscSize())
	if have := uint64(n.ssaFrameSize) * PageSize; have < need {
		return formatErr(n.off+enSSAFrameSize, name+" SSAFRAMESIZE", uint64(n.ssaFrameSize),
			"an SSA frame of %d bytes cannot hold XSAVE (%d for XFRM %#x) + GPRSGX (%d) + MISC (%d)",
			have, sgx.XSaveSize(n.xfrm), n.xfrm, gprSGXSize, sgx.MiscSelect(n.miscSelect).MiscSize())
	}
	return nil
}

// buildPages lists the EPC pages of the segments in offset order: file
// bytes first and zeros after p_filesz, SECINFO from p_flags (PT_TCS with
// no permissions inside a TCS region), measured unless inside an
// UNMEASURED region. Whole file-backed pages share the segment's buffer;
// whole zero-fill pages share one zero page.
func buildPages(segs []*segment, regions []Region) []Page {
	n := 0
	for _, s := range segs {
		n += int((s.end() - s.vaddr) / PageSize)
	}
	tcs := map[uint64]bool{}
	var unmeasured []Region
	for _, r := range regions {
		if r.Kind == RegionTCS {
			tcs[r.Offset] = true
		}
		if r.Unmeasured {
			unmeasured = append(unmeasured, r)
		}
	}
	unmeasured = mergeRegions(unmeasured)
	zero := make([]byte, PageSize)
	pages := make([]Page, 0, n)
	u := 0 // the unmeasured ranges before u end at or before the current page
	for _, s := range segs {
		perm := sgx.SecinfoFlags(0)
		if s.flags&4 != 0 { // PF_R
			perm |= sgx.SecinfoR
		}
		if s.flags&2 != 0 { // PF_W
			perm |= sgx.SecinfoW
		}
		if s.flags&1 != 0 { // PF_X
			perm |= sgx.SecinfoX
		}
		for off := s.vaddr; off < s.end(); off += PageSize {
			p := Page{Offset: off, Secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeREG, perm), Measured: true}
			if tcs[off] {
				p.Secinfo = sgx.MakeSecinfoFlags(sgx.PageTypeTCS, 0)
			}
			for u < len(unmeasured) && unmeasured[u].End() <= off {
				u++
			}
			if u < len(unmeasured) && unmeasured[u].Offset <= off {
				p.Measured = false
			}
			switch start := off - s.vaddr; {
			case start+PageSize <= s.filesz:
				p.Data = s.data[start : start+PageSize : start+PageSize]
			case start < s.filesz:
				p.Data = make([]byte, PageSize)
				copy(p.Data, s.data[start:])
			default:
				p.Data = zero
			}
			pages = append(pages, p)
		}
	}
	return pages
}

// mergeRegions sorts rs by offset and merges overlapping or adjacent ones,
// so that the result is disjoint and ordered.
func mergeRegions(rs []Region) []Region {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	var out []Region
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.Offset <= out[k].End() {
			out[k].Size = max(out[k].End(), r.End()) - out[k].Offset
			continue
		}
		out = append(out, r)
	}
	return out
}

// fileOffset returns the file offset of enclave offset off, or -1 when no
// file byte backs it.
func fileOffset(segs []*segment, off uint64) int64 {
	s := segmentAt(segs, off)
	if s == nil || off-s.vaddr >= s.filesz {
		return -1
	}
	return int64(s.off + off - s.vaddr)
}

// pageAt returns the page at offset off (rounded down), or nil.
func pageAt(pages []Page, off uint64) *Page {
	off &^= PageSize - 1
	i := sort.Search(len(pages), func(i int) bool { return pages[i].Offset >= off })
	if i < len(pages) && pages[i].Offset == off {
		return &pages[i]
	}
	return nil
}

// Byte offsets of the TCS fields this package reports errors at.
const (
	tcsState = 0
	tcsFlags = 8
	tcsOSSA  = 16
	tcsCSSA  = 24
	tcsNSSA  = 28
	tcsOEntr = 32
	tcsAEP   = 40
	tcsOFS   = 48
	tcsOGS   = 56
)

// checkTCS decodes and checks the TCS pages named by the TCS regions:
// the fields EADD fixes are zero in the image (so the measured bytes are
// the image's), NSSA > 0, OENTRY, OFSBASGX and OGSBASGX inside the
// enclave, and the SSA frames inside the enclave on RW REG pages.
func checkTCS(regions []Region, pages []Page, segs []*segment, n *enclaveNote, size uint64) ([]TCSInfo, error) {
	var list []TCSInfo
	for _, r := range regions {
		if r.Kind != RegionTCS {
			continue
		}
		name := fmt.Sprintf("TCS %d", r.TCSIndex)
		base := fileOffset(segs, r.Offset)
		at := func(field int64) int64 {
			if base < 0 {
				return -1
			}
			return base + field
		}
		p := pageAt(pages, r.Offset)
		var t sgx.TCS
		if err := t.UnmarshalBinary(p.Data); err != nil {
			return nil, &FormatError{Off: at(0), Field: name, Value: r.Offset, Msg: "malformed TCS page", Err: err}
		}
		switch {
		case t.State != 0:
			return nil, formatErr(at(tcsState), name+" STATE", t.State, "must be 0 in the image (EADD clears it)")
		case t.Flags&sgx.TCSDbgOptIn != 0:
			return nil, formatErr(at(tcsFlags), name+" FLAGS", uint64(t.Flags), "DBGOPTIN must be 0 in the image (EADD clears it)")
		case t.Flags&sgx.TCSAEXNotify != 0 && sgx.AttributeFlags(n.flags)&sgx.AttrAEXNotify == 0:
			return nil, formatErr(at(tcsFlags), name+" FLAGS", uint64(t.Flags), "AEXNOTIFY set but ATTRIBUTES.AEXNOTIFY is not")
		case t.CSSA != 0:
			return nil, formatErr(at(tcsCSSA), name+" CSSA", uint64(t.CSSA), "must be 0 in the image (EADD clears it)")
		case t.AEP != 0:
			return nil, formatErr(at(tcsAEP), name+" AEP", t.AEP, "must be 0 in the image (EADD clears it)")
		case t.NSSA == 0:
			return nil, formatErr(at(tcsNSSA), name+" NSSA", 0, "zero: the TCS has no SSA frame")
		case t.OENTRY >= size:
			return nil, formatErr(at(tcsOEntr), name+" OENTRY", t.OENTRY, "outside the enclave (SIZE %#x)", size)
		case pageAt(pages, t.OENTRY) == nil || pageAt(pages, t.OENTRY).Secinfo.PageType() != sgx.PageTypeREG:
			return nil, formatErr(at(tcsOEntr), name+" OENTRY", t.OENTRY, "not on a REG page of the image")
		case t.OFSBASGX >= size:
			return nil, formatErr(at(tcsOFS), name+" OFSBASGX", t.OFSBASGX, "outside the enclave (SIZE %#x)", size)
		case t.OGSBASGX >= size:
			return nil, formatErr(at(tcsOGS), name+" OGSBASGX", t.OGSBASGX, "outside the enclave (SIZE %#x)", size)
		}
		if err := t.Validate(); err != nil {
			return nil, &FormatError{Off: at(0), Field: name, Value: r.Offset, Msg: "invalid TCS", Err: err}
		}
		frame := uint64(n.ssaFrameSize) * PageSize
		hi, lo := bits.Mul64(uint64(t.NSSA), frame)
		if hi != 0 || t.OSSA >= size || lo > size-t.OSSA {
			return nil, formatErr(at(tcsOSSA), name+" OSSA", t.OSSA,
				"SSA frames [OSSA, +NSSA %d × SSAFRAMESIZE %d pages) outside the enclave (SIZE %#x)", t.NSSA, n.ssaFrameSize, size)
		}
		for off := t.OSSA; off < t.OSSA+lo; off += PageSize {
			sp := pageAt(pages, off)
			want := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW)
			if sp == nil {
				return nil, formatErr(at(tcsOSSA), name+" OSSA", t.OSSA, "SSA page %#x is not in the image", off)
			}
			if sp.Secinfo&^sgx.SecinfoX != want {
				return nil, formatErr(at(tcsOSSA), name+" OSSA", t.OSSA, "SSA page %#x is %v, not a RW REG page", off, sp.Secinfo)
			}
		}
		list = append(list, TCSInfo{Index: r.TCSIndex, Offset: r.Offset, TCS: t})
	}
	return list, nil
}
