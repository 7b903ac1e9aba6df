package coredump

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// secinfoKnown is every SECINFO.FLAGS bit with a meaning: R, W, X,
// PENDING, MODIFIED, PR and the page type.
const secinfoKnown = 0x3f | 0xff00

// decoder collects the notes of a core, then checks them against each
// other and the segments (finish).
type decoder struct {
	c          *Core
	haveCore   bool
	coreOff    int64
	nEnclaves  uint32
	flags      uint32
	haveStop   bool
	haveEvents bool
	threadsOff int64
	hostOff    int64
	hostTid    int
	images     []imageRecord
	pages      uint64 // EPC pages described in all
}

type imageRecord struct {
	off  int64
	base uint64
	ref  ImageRef
}

func (d *decoder) note(owner string, typ NoteType, desc []byte, off int64) error {
	le := binary.LittleEndian
	size := func(want int) error {
		if len(desc) != want {
			return corrupt(off, typ.String(), uint64(len(desc)), "%d bytes, want %d", len(desc), want)
		}
		return nil
	}
	c := d.c
	switch owner {
	case linuxOwner:
		switch typ {
		case NotePrstatus:
			if err := size(PrstatusSize); err != nil {
				return err
			}
			c.Prstatus = append(c.Prstatus, Prstatus{Pid: int(le.Uint32(desc[prPid:])),
				Signal: unix.Signal(le.Uint16(desc[prCursig:])), Regs: getRegs(desc[prReg:])})
		case NoteFPRegset:
			if err := size(FPRegsetSize); err != nil {
				return err
			}
			n := len(c.Prstatus)
			if n == 0 || c.Prstatus[n-1].FPRegs != nil {
				return corrupt(off, typ.String(), 0, "not directly after an NT_PRSTATUS")
			}
			c.Prstatus[n-1].FPRegs = append([]byte(nil), desc...)
		case NoteAuxv:
			if len(desc)%16 != 0 || c.Entry != 0 {
				return corrupt(off, typ.String(), uint64(len(desc)), "%d bytes: not whole (type, value) pairs, or a second NT_AUXV", len(desc))
			}
			for i := 0; i+16 <= len(desc); i += 16 {
				if le.Uint64(desc[i:]) == atEntry {
					c.Entry = le.Uint64(desc[i+8:])
				}
			}
		}
		return nil
	case NoteOwner:
	default:
		return nil
	}
	switch typ {
	case NoteCore:
		if err := size(CoreNoteSize); err != nil {
			return err
		}
		if d.haveCore {
			return corrupt(off, typ.String(), 0, "a second NT_SGXDBG_CORE")
		}
		if v := le.Uint32(desc[coreVersion:]); v != Version {
			return corrupt(off, typ.String(), uint64(v), "format version %d; this sgxdbg reads version %d", v, Version)
		}
		d.haveCore, d.coreOff = true, off
		c.Pid, c.Tid = int(le.Uint32(desc[corePid:])), int(le.Uint32(desc[coreTid:]))
		c.Signal = unix.Signal(le.Uint32(desc[coreSignal:]))
		d.flags, d.nEnclaves = le.Uint32(desc[coreFlags:]), le.Uint32(desc[coreEnclaves:])
		if d.flags&^CoreHostRegs != 0 || le.Uint64(desc[coreReserved:]) != 0 {
			return corrupt(off, typ.String(), uint64(d.flags), "unknown flags or reserved bytes set")
		}
	case NoteStop:
		if d.haveStop {
			return corrupt(off, typ.String(), 0, "a second NT_SGXDBG_STOP")
		}
		ev, err := decodeEvent(desc)
		if err != nil {
			return corrupt(off, typ.String(), 0, "the stop event: %v", err)
		}
		d.haveStop, c.Stop = true, ev
	case NoteEvents:
		if d.haveEvents {
			return corrupt(off, typ.String(), 0, "a second NT_SGXDBG_EVENTS")
		}
		d.haveEvents = true
		for i, line := range bytes.SplitAfter(desc, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if line[len(line)-1] != '\n' {
				return corrupt(off, typ.String(), uint64(i), "event %d is not a whole line", i)
			}
			ev, err := decodeEvent(line)
			if err != nil {
				return corrupt(off, typ.String(), uint64(i), "event %d: %v", i, err)
			}
			c.Events = append(c.Events, ev)
		}
	case NoteSECS:
		e, err := d.secs(desc, off)
		if err != nil {
			return err
		}
		c.Enclaves = append(c.Enclaves, e)
	case NoteImage:
		if len(desc) <= ImageNoteHeader {
			return corrupt(off, typ.String(), uint64(len(desc)), "%d bytes: no path", len(desc))
		}
		d.images = append(d.images, imageRecord{off: off, base: le.Uint64(desc[imageBase:]),
			ref: ImageRef{Entry: le.Uint64(desc[imageEntry:]), Path: string(desc[ImageNoteHeader:])}})
	case NoteTCS:
		if err := size(TCSNoteSize); err != nil {
			return err
		}
		t := TCS{Addr: le.Uint64(desc[tcsAddr:]), Enclave: le.Uint64(desc[tcsEnclave:])}
		copy(t.Raw[:], desc[tcsRaw:])
		if err := t.TCS.UnmarshalBinary(t.Raw[:]); err != nil {
			return corrupt(off, typ.String(), t.Addr, "TCS %#x: %v", t.Addr, err)
		}
		c.TCS = append(c.TCS, t)
	case NoteSSA:
		if len(desc) < SSANoteHeader+sgx.PageSize || le.Uint32(desc[ssaReserved:]) != 0 {
			return corrupt(off, typ.String(), uint64(len(desc)), "%d bytes, or reserved bytes set: not a header and a frame of whole pages", len(desc))
		}
		c.Frames = append(c.Frames, Frame{TCS: le.Uint64(desc[ssaTCS:]), Index: int(le.Uint32(desc[ssaIndex:])),
			Addr: le.Uint64(desc[ssaAddr:]), Data: append([]byte(nil), desc[SSANoteHeader:]...)})
	case NoteHostRegs:
		if err := size(HostRegsNoteSize); err != nil {
			return err
		}
		if c.HostRegs != nil || le.Uint32(desc[4:]) != 0 {
			return corrupt(off, typ.String(), 0, "a second NT_SGXDBG_HOSTREGS, or reserved bytes set")
		}
		r := getRegs(desc[8:])
		c.HostRegs, d.hostTid, d.hostOff = &r, int(le.Uint32(desc[0:])), off
	case NoteThreads:
		if len(desc)%ThreadRecordSize != 0 || c.Threads != nil {
			return corrupt(off, typ.String(), uint64(len(desc)), "%d bytes: not whole %d-byte records, or a second NT_SGXDBG_THREADS", len(desc), ThreadRecordSize)
		}
		d.threadsOff = off
		for i := 0; i < len(desc); i += ThreadRecordSize {
			r := desc[i:]
			fl := le.Uint32(r[8:])
			if fl&^ThreadInEnclave != 0 || le.Uint32(r[12:]) != 0 {
				return corrupt(off+int64(i), typ.String(), uint64(fl), "unknown thread flags or reserved bytes set")
			}
			c.Threads = append(c.Threads, threadInfo(r, fl))
		}
	}
	return nil
}

// secs decodes and checks one NT_SGXDBG_SECS.
func (d *decoder) secs(b []byte, off int64) (Enclave, error) {
	le := binary.LittleEndian
	const field = "NT_SGXDBG_SECS"
	if len(b) < SECSNoteSize {
		return Enclave{}, corrupt(off, field, uint64(len(b)), "%d bytes, want at least %d", len(b), SECSNoteSize)
	}
	e := Enclave{Base: le.Uint64(b[secsBase:]), Size: le.Uint64(b[secsSize:]), SSAFrameSize: le.Uint32(b[secsSSAFrame:]),
		MiscSelect: sgx.MiscSelect(le.Uint32(b[secsMisc:])),
		Attributes: sgx.Attributes{Flags: sgx.AttributeFlags(le.Uint64(b[secsAttr:])), XFRM: le.Uint64(b[secsXFRM:])},
		Pid:        int(le.Uint32(b[secsPid:]))}
	copy(e.MRENCLAVE[:], b[secsMREnc:])
	copy(e.MRSIGNER[:], b[secsMRSign:])
	fl, nruns := le.Uint32(b[secsFlags:]), le.Uint32(b[secsNRuns:])
	e.Initialized, e.Dumped = fl&SECSInitialized != 0, fl&SECSDumped != 0
	switch {
	case e.Size < 2*sgx.PageSize || bits.OnesCount64(e.Size) != 1:
		return e, corrupt(off+secsSize, field, e.Size, "SIZE %#x is not a power of two of at least two pages", e.Size)
	case e.Base%e.Size != 0 || e.Base+e.Size < e.Base:
		return e, corrupt(off+secsBase, field, e.Base, "BASEADDR %#x is not aligned to SIZE %#x", e.Base, e.Size)
	case e.SSAFrameSize == 0 || uint64(e.SSAFrameSize) > e.Size/sgx.PageSize:
		return e, corrupt(off+secsSSAFrame, field, uint64(e.SSAFrameSize), "SSAFRAMESIZE %d pages does not fit the enclave", e.SSAFrameSize)
	case fl&^(SECSInitialized|SECSDumped) != 0 || le.Uint32(b[secsReserved:]) != 0:
		return e, corrupt(off+secsFlags, field, uint64(fl), "unknown flags or reserved bytes set")
	case e.Dumped && e.Attributes.Flags&sgx.AttrDebug == 0:
		return e, corrupt(off+secsFlags, field, uint64(fl), "memory of a non-debug enclave cannot have been dumped")
	case uint64(len(b)) != SECSNoteSize+uint64(nruns)*PageRunSize:
		return e, corrupt(off+secsNRuns, field, uint64(nruns), "%d page runs need %d bytes, the note has %d", nruns, SECSNoteSize+uint64(nruns)*PageRunSize, len(b))
	}
	var end uint64
	for i := 0; i < int(nruns); i++ {
		r := b[SECSNoteSize+i*PageRunSize:]
		run := PageRun{Offset: le.Uint64(r[0:]), Pages: le.Uint64(r[8:]), Secinfo: sgx.SecinfoFlags(le.Uint64(r[16:]))}
		roff := off + int64(SECSNoteSize+i*PageRunSize)
		if run.Offset%sgx.PageSize != 0 || run.Offset < end || run.Pages == 0 || run.Pages > (e.Size-run.Offset)/sgx.PageSize || run.Offset >= e.Size {
			return e, corrupt(roff, field, run.Offset, "page run %d (%#x, %d pages) is unaligned, empty, out of order or outside SIZE %#x", i, run.Offset, run.Pages, e.Size)
		}
		if run.Secinfo&^secinfoKnown != 0 {
			return e, corrupt(roff+16, field, uint64(run.Secinfo), "page run %d: SECINFO %#x has reserved bits", i, uint64(run.Secinfo))
		}
		if d.pages += run.Pages; d.pages > MaxPages {
			return e, corrupt(roff, field, d.pages, "more than %d EPC pages in all", MaxPages)
		}
		end = run.Offset + run.Pages*sgx.PageSize
		e.Runs = append(e.Runs, run)
	}
	return e, nil
}

func threadInfo(r []byte, fl uint32) (t target.ThreadInfo) {
	le := binary.LittleEndian
	t.Pid, t.Tid, t.InEnclave = int(le.Uint32(r[0:])), int(le.Uint32(r[4:])), fl&ThreadInEnclave != 0
	t.Enclave, t.TCS = le.Uint64(r[16:]), le.Uint64(r[24:])
	return t
}

// finish checks the notes against each other and the segments.
func (d *decoder) finish() error {
	c := d.c
	if !d.haveCore {
		return &FormatError{Off: -1, Field: "PT_NOTE", Msg: "no NT_SGXDBG_CORE note (a core file, but not one sgxdbg wrote)", Err: ErrForeign}
	}
	if !d.haveStop || !d.haveEvents {
		return corrupt(-1, "PT_NOTE", 0, "NT_SGXDBG_STOP or NT_SGXDBG_EVENTS missing")
	}
	if uint32(len(c.Enclaves)) != d.nEnclaves {
		return corrupt(d.coreOff+coreEnclaves, "NT_SGXDBG_CORE", uint64(d.nEnclaves), "%d enclaves announced, %d NT_SGXDBG_SECS notes", d.nEnclaves, len(c.Enclaves))
	}
	sort.Slice(c.Enclaves, func(i, j int) bool { return c.Enclaves[i].Base < c.Enclaves[j].Base })
	for i := 1; i < len(c.Enclaves); i++ {
		if a, b := c.Enclaves[i-1], c.Enclaves[i]; a.Base+a.Size > b.Base {
			return corrupt(-1, "NT_SGXDBG_SECS", b.Base, "enclave %#x overlaps enclave %#x", b.Base, a.Base)
		}
	}
	for _, im := range d.images {
		e := c.Enclave(im.base)
		if e == nil || e.Base != im.base || e.Image.Path != "" {
			return corrupt(im.off, "NT_SGXDBG_IMAGE", im.base, "no enclave at %#x, or a second image for it", im.base)
		}
		e.Image = im.ref
	}
	if (d.flags&CoreHostRegs != 0) != (c.HostRegs != nil) || c.HostRegs != nil && d.hostTid != c.Tid {
		return corrupt(d.hostOff, "NT_SGXDBG_HOSTREGS", uint64(d.hostTid), "present=%v for thread %d, NT_SGXDBG_CORE says flags %#x thread %d",
			c.HostRegs != nil, d.hostTid, d.flags, c.Tid)
	}
	if err := d.checkTCS(); err != nil {
		return err
	}
	if err := d.checkFrames(); err != nil {
		return err
	}
	return d.checkSegments()
}

// checkTCS: every TCS note names a TCS page of a dumped enclave, once.
func (d *decoder) checkTCS() error {
	c := d.c
	seen := map[uint64]bool{}
	for _, t := range c.TCS {
		e := c.Enclave(t.Addr)
		si, ok := sgx.SecinfoFlags(0), false
		if e != nil {
			si, ok = e.PageAt(t.Addr)
		}
		if e == nil || e.Base != t.Enclave || !e.Dumped || t.Addr%sgx.PageSize != 0 || !ok || si.PageType() != sgx.PageTypeTCS || seen[t.Addr] {
			return corrupt(-1, "NT_SGXDBG_TCS", t.Addr, "%#x is not a TCS page of a dumped enclave %#x, or is listed twice", t.Addr, t.Enclave)
		}
		seen[t.Addr] = true
	}
	return nil
}

// checkFrames: each TCS has exactly its frames 0..min(CSSA,NSSA)-1, each
// of SSAFRAMESIZE pages at its address; one NT_PRSTATUS per such TCS.
func (d *decoder) checkFrames() error {
	c := d.c
	tcs := map[uint64]*TCS{}
	for i := range c.TCS {
		tcs[c.TCS[i].Addr] = &c.TCS[i]
	}
	have := map[uint64]map[int]bool{}
	for _, f := range c.Frames {
		t := tcs[f.TCS]
		if t == nil {
			return corrupt(-1, "NT_SGXDBG_SSA", f.TCS, "frame %d of TCS %#x, which has no NT_SGXDBG_TCS", f.Index, f.TCS)
		}
		e := c.Enclave(t.Addr)
		g := ssa.Geometry{Base: e.Base, OSSA: t.TCS.OSSA, FrameSize: e.SSAFrameSize}
		if f.Index >= int(min(t.TCS.CSSA, t.TCS.NSSA)) || len(f.Data) != g.FrameBytes() || f.Addr != g.FrameAddr(f.Index) || have[f.TCS][f.Index] {
			return corrupt(-1, "NT_SGXDBG_SSA", uint64(f.Index), "frame %d of TCS %#x (CSSA %d, NSSA %d) at %#x, %d bytes: want a frame in use, once, at %#x, of %d bytes",
				f.Index, f.TCS, t.TCS.CSSA, t.TCS.NSSA, f.Addr, len(f.Data), g.FrameAddr(f.Index), g.FrameBytes())
		}
		if have[f.TCS] == nil {
			have[f.TCS] = map[int]bool{}
		}
		have[f.TCS][f.Index] = true
	}
	busy := 0
	for _, t := range c.TCS {
		n := int(min(t.TCS.CSSA, t.TCS.NSSA))
		if len(have[t.Addr]) != n {
			return corrupt(-1, "NT_SGXDBG_SSA", t.Addr, "TCS %#x has CSSA %d but %d frames in the core", t.Addr, t.TCS.CSSA, len(have[t.Addr]))
		}
		if n > 0 {
			busy++
		}
	}
	if len(c.Prstatus) != busy {
		return corrupt(-1, "NT_PRSTATUS", uint64(len(c.Prstatus)), "%d notes for %d TCS with SSA frames in use", len(c.Prstatus), busy)
	}
	sort.SliceStable(c.Frames, func(i, j int) bool {
		if c.Frames[i].TCS != c.Frames[j].TCS {
			return c.Frames[i].TCS < c.Frames[j].TCS
		}
		return c.Frames[i].Index < c.Frames[j].Index
	})
	return nil
}

// checkSegments: the PT_LOADs hold exactly the debuggable pages of the
// dumped enclaves.
func (d *decoder) checkSegments() error {
	c := d.c
	inCore := map[uint64]uint64{} // enclave base → pages in segments
	for _, s := range c.Segments {
		e := c.Enclave(s.Vaddr)
		if e == nil || !e.Dumped || s.Size > e.Base+e.Size-s.Vaddr {
			return corrupt(s.Off, "PT_LOAD", s.Vaddr, "segment %#x..%#x is not inside a dumped enclave", s.Vaddr, s.Vaddr+s.Size)
		}
		for a := s.Vaddr; a < s.Vaddr+s.Size; {
			si, ok := e.PageAt(a)
			if !ok || !dumpableSecinfo(si) {
				return corrupt(s.Off+int64(a-s.Vaddr), "PT_LOAD", a, "page %#x is not a debuggable EPC page of enclave %#x", a, e.Base)
			}
			// Skip to the end of this page's run or the segment.
			next := e.Base + runEnd(e, a-e.Base)
			next = min(next, s.Vaddr+s.Size)
			inCore[e.Base] += (next - a) / sgx.PageSize
			a = next
		}
	}
	for i := range c.Enclaves {
		e := &c.Enclaves[i]
		if !e.Dumped {
			continue
		}
		var want uint64
		for _, r := range e.Runs {
			if dumpableSecinfo(r.Secinfo) {
				want += r.Pages
			}
		}
		if inCore[e.Base] != want {
			return corrupt(-1, "PT_LOAD", e.Base, "enclave %#x has %d debuggable pages, the segments hold %d", e.Base, want, inCore[e.Base])
		}
	}
	return nil
}

// runEnd returns the end offset of the page run holding offset off.
func runEnd(e *Enclave, off uint64) uint64 {
	i := sort.Search(len(e.Runs), func(i int) bool { return e.Runs[i].Offset+e.Runs[i].Pages*sgx.PageSize > off })
	r := e.Runs[i]
	return r.Offset + r.Pages*sgx.PageSize
}

func dumpableSecinfo(s sgx.SecinfoFlags) bool {
	t := s.PageType()
	return (t == sgx.PageTypeREG || t == sgx.PageTypeTCS) && s&(sgx.SecinfoPending|sgx.SecinfoModified) == 0
}

// decodeEvent reads one event of the timeline notes.
func decodeEvent(b []byte) (target.Event, error) {
	var e target.Event
	err := e.UnmarshalJSON(b)
	return e, err
}
