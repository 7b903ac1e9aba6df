package enclave

import (
	"fmt"
	"strconv"
)

// RegionKind is the kind of an NT_SGXDBG_REGIONS record.
type RegionKind uint32

// Region kinds (enclaves/debug/README.md).
const (
	RegionTCS    RegionKind = 1 // one TCS page
	RegionSSA    RegionKind = 2 // SSA frames of a TCS
	RegionStack  RegionKind = 3 // a thread's stack
	RegionHeap   RegionKind = 4 // the heap
	RegionGuard  RegionKind = 5 // a hole: no pages are added
	RegionThread RegionKind = 6 // per-TCS runtime data
)

var regionKindNames = [...]string{
	RegionTCS: "TCS", RegionSSA: "SSA", RegionStack: "STACK",
	RegionHeap: "HEAP", RegionGuard: "GUARD", RegionThread: "THREAD",
}

// String returns "TCS", "SSA", "STACK", "HEAP", "GUARD", "THREAD" or
// "RegionKind(N)".
func (k RegionKind) String() string {
	if k >= RegionTCS && k <= RegionThread {
		return regionKindNames[k]
	}
	return "RegionKind(" + strconv.FormatUint(uint64(k), 10) + ")"
}

// RegionFlags are the flags of a region record.
type RegionFlags uint32

// RegionUnmeasured marks a region whose pages are added without EEXTEND.
const RegionUnmeasured RegionFlags = 1 << 0

// noTCS is the record's TCS index meaning "no TCS".
const noTCS = 0xFFFFFFFF

// Region is one declared region of the enclave.
type Region struct {
	Offset     uint64 // page-aligned offset from the enclave base
	Size       uint64 // a multiple of PageSize, > 0
	Kind       RegionKind
	Unmeasured bool // pages are added without EEXTEND
	TCSIndex   int  // the TCS the region belongs to (a TCS region: its own index), or -1
}

// End returns Offset+Size.
func (r Region) End() uint64 { return r.Offset + r.Size }

// String renders "STACK [0x4000, 0x6000) TCS 0 unmeasured".
func (r Region) String() string {
	s := fmt.Sprintf("%v [%#x, %#x)", r.Kind, r.Offset, r.End())
	if r.TCSIndex >= 0 {
		s += " TCS " + strconv.Itoa(r.TCSIndex)
	}
	if r.Unmeasured {
		s += " unmeasured"
	}
	return s
}

// checkRegions validates the region records against SIZE and the
// segments and returns them as Regions, TCS regions numbered in record
// order.
func checkRegions(recs []regionRecord, size uint64, segs []*segment) ([]Region, error) {
	nTCS := 0
	for _, r := range recs {
		if RegionKind(r.kind) == RegionTCS {
			nTCS++
		}
	}
	regions := make([]Region, 0, len(recs))
	tcs := 0
	for i, r := range recs {
		name := fmt.Sprintf("region %d", i)
		kind := RegionKind(r.kind)
		switch {
		case kind < RegionTCS || kind > RegionThread:
			return nil, formatErr(r.off+rgKind, name+" kind", uint64(r.kind), "unknown region kind")
		case RegionFlags(r.flags)&^RegionUnmeasured != 0:
			return nil, formatErr(r.off+rgFlags, name+" flags", uint64(r.flags), "unknown flag bits")
		case r.offset%PageSize != 0:
			return nil, formatErr(r.off+rgOffset, name+" offset", r.offset, "%v region not page aligned", kind)
		case r.size == 0 || r.size%PageSize != 0:
			return nil, formatErr(r.off+rgSize, name+" size", r.size, "%v region size not a positive multiple of %d", kind, PageSize)
		case r.offset >= size || r.size > size-r.offset:
			return nil, formatErr(r.off+rgOffset, name+" offset", r.offset,
				"%v region [%#x, +%#x) outside the enclave (SIZE %#x)", kind, r.offset, r.size, size)
		case kind == RegionTCS && r.size != PageSize:
			return nil, formatErr(r.off+rgSize, name+" size", r.size, "a TCS region is exactly one page")
		}
		reg := Region{Offset: r.offset, Size: r.size, Kind: kind,
			Unmeasured: RegionFlags(r.flags)&RegionUnmeasured != 0, TCSIndex: -1}
		switch {
		case kind == RegionTCS:
			if r.tcs != noTCS && r.tcs != uint32(tcs) {
				return nil, formatErr(r.off+rgTCS, name+" TCS index", uint64(r.tcs),
					"a TCS region's index is its order among TCS regions (%d) or 0xFFFFFFFF", tcs)
			}
			reg.TCSIndex = tcs
			tcs++
		case r.tcs != noTCS && r.tcs >= uint32(nTCS):
			return nil, formatErr(r.off+rgTCS, name+" TCS index", uint64(r.tcs),
				"no such TCS: the image declares %d", nTCS)
		case r.tcs != noTCS:
			reg.TCSIndex = int(r.tcs)
		}
		if err := checkRegionPages(reg, r, name, segs); err != nil {
			return nil, err
		}
		for j, o := range regions {
			if conflicting(reg, o) {
				return nil, formatErr(r.off+rgOffset, name+" offset", r.offset,
					"%v region [%#x, %#x) overlaps region %d (%v [%#x, %#x))", kind, reg.Offset, reg.End(), j, o.Kind, o.Offset, o.End())
			}
		}
		regions = append(regions, reg)
	}
	return regions, nil
}

// conflicting reports whether two regions may not share pages: a TCS page
// belongs to no other region, except the THREAD region of runtime data
// that may enclose a whole thread's layout.
func conflicting(a, b Region) bool {
	if a.Offset >= b.End() || b.Offset >= a.End() {
		return false
	}
	switch {
	case a.Kind == RegionTCS:
		return b.Kind != RegionThread
	case b.Kind == RegionTCS:
		return a.Kind != RegionThread
	}
	return false
}

// checkRegionPages checks a region against the segments: a GUARD region
// must not overlap any PT_LOAD page, every other region must lie inside
// PT_LOAD pages.
func checkRegionPages(reg Region, r regionRecord, name string, segs []*segment) error {
	if reg.Kind == RegionGuard {
		for _, s := range segs {
			if reg.Offset < s.end() && s.vaddr < reg.End() {
				return formatErr(r.off+rgOffset, name+" offset", r.offset,
					"GUARD region [%#x, %#x) overlaps PT_LOAD %d [%#x, %#x)", reg.Offset, reg.End(), s.index, s.vaddr, s.end())
			}
		}
		return nil
	}
	for off := reg.Offset; off < reg.End(); {
		s := segmentAt(segs, off)
		if s == nil {
			return formatErr(r.off+rgOffset, name+" offset", r.offset,
				"%v region [%#x, %#x) not inside PT_LOAD pages: page %#x is a hole", reg.Kind, reg.Offset, reg.End(), off)
		}
		off = s.end()
	}
	return nil
}

// segmentAt returns the segment whose pages contain off, or nil.
func segmentAt(segs []*segment, off uint64) *segment {
	lo, hi := 0, len(segs)
	for lo < hi {
		m := lo + (hi-lo)/2
		if segs[m].end() <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(segs) && segs[lo].vaddr <= off {
		return segs[lo]
	}
	return nil
}
