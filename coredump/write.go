package coredump

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// Source is a stopped host as the writer reads it; a target.Stop is one.
// Enclave memory is read only through ReadEnclave (the EDBGRD path).
type Source interface {
	Event() target.Event
	Pending() unix.Signal
	Regs() (ptrace.Regs, error)
	ReadEnclave(buf []byte, addr uint64) (int, error)
	Enclaves() []target.EnclaveInfo
	Threads() []target.ThreadInfo
}

// ImageRef names the enclave ELF matched to an enclave.
type ImageRef struct {
	Path  string // the ELF file, as the dumper found it
	Entry uint64 // its e_entry: an offset from the enclave base; 0 if unknown
}

// Options tune Write.
type Options struct {
	Timeline []target.Event      // the events so far, stored as NT_SGXDBG_EVENTS
	Images   map[uint64]ImageRef // by enclave base
	// Progress, if set, is called after each chunk of enclave memory with
	// the bytes of pages written so far and in all.
	Progress func(done, total uint64)
}

// Summary says what Write wrote.
type Summary struct {
	Bytes    int64  // the file's size
	Enclaves int    // NT_SGXDBG_SECS notes
	Pages    int    // enclave pages in PT_LOAD segments
	Threads  int    // NT_PRSTATUS notes (TCS with CSSA > 0)
	Main     uint64 // base of the enclave NT_AUXV's AT_ENTRY points into (0: none)
	Entry    uint64 // that AT_ENTRY
}

// chunkPages is how many REG pages one ReadEnclave call and one write
// move: the writer's whole buffer (1 MiB).
const chunkPages = 256

// maxSegments is the most program headers an ELF file can count without
// the PN_XNUM extension, which this package does not write: 0xffff − 1
// (e_phnum 0xffff means PN_XNUM), one of them the PT_NOTE.
const maxSegments = 0xfffe

// load is one PT_LOAD: pages [first, end) of an enclave's page list,
// contiguous and with the same R/W/X.
type load struct {
	encl        *target.EnclaveInfo
	first, end  int
	vaddr, size uint64
	flags       uint32
	offset      uint64 // file offset, set by the layout
}

// Write writes a core file of src, stopped, to w: the ELF header, the
// program headers, the notes, then every debuggable enclave page read
// through src.ReadEnclave, streamed in chunks of 1 MiB (memory use does not
// grow with the enclave). On error w holds a partial file.
func Write(w io.Writer, src Source, opts Options) (Summary, error) {
	var sum Summary
	encls := src.Enclaves()
	var loads []*load
	for i := range encls {
		loads = append(loads, loadsOf(&encls[i])...)
	}
	if len(loads) == 0 {
		return sum, ErrNothingToDump
	}
	if len(loads) > maxSegments-1 {
		return sum, fmt.Errorf("%d PT_LOAD segments: more than an ELF file can count without PN_XNUM (%d)", len(loads), maxSegments-1)
	}
	notes, err := buildNotes(src, encls, opts, &sum)
	if err != nil {
		return sum, err
	}

	// Layout: headers, notes, then page data from a page boundary.
	phnum := 1 + len(loads)
	notesOff := uint64(ehdrSize + phnum*phdrSize)
	dataOff := pageUp(notesOff + uint64(len(notes)))
	off := dataOff
	var total uint64
	for _, l := range loads {
		l.offset = off
		off += l.size
		total += l.size
		sum.Pages += l.end - l.first
	}
	head := make([]byte, dataOff)
	putEhdr(head, phnum)
	putPhdr(head[ehdrSize:], uint32(elfPTNote), 0, notesOff, 0, uint64(len(notes)), 4)
	for i, l := range loads {
		ph := head[ehdrSize+(i+1)*phdrSize:]
		putPhdr(ph, uint32(elfPTLoad), l.flags, l.offset, l.vaddr, l.size, sgx.PageSize)
	}
	copy(head[notesOff:], notes)
	cw := &countWriter{w: w}
	if _, err := cw.Write(head); err != nil {
		return sum, fmt.Errorf("write core headers: %w", err)
	}
	buf := make([]byte, chunkPages*sgx.PageSize)
	var done uint64
	for _, l := range loads {
		if err := writeLoad(cw, src, l, buf, func(n uint64) {
			done += n
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}); err != nil {
			return sum, err
		}
	}
	sum.Bytes = cw.n
	return sum, nil
}

// dumpable reports whether EDBGRD can read a page: REG and TCS pages that
// are neither PENDING nor MODIFIED.
func dumpable(p target.Page) bool { return dumpableSecinfo(p.Secinfo) }

// elfFlags maps SECINFO R/W/X to p_flags.
func elfFlags(s sgx.SecinfoFlags) uint32 {
	var f uint32
	if s&sgx.SecinfoR != 0 {
		f |= elfPFR
	}
	if s&sgx.SecinfoW != 0 {
		f |= elfPFW
	}
	if s&sgx.SecinfoX != 0 {
		f |= elfPFX
	}
	return f
}

// loadsOf groups a debug enclave's dumpable pages into PT_LOAD segments.
func loadsOf(e *target.EnclaveInfo) []*load {
	if e.Attributes.Flags&sgx.AttrDebug == 0 {
		return nil
	}
	var out []*load
	var cur *load
	for i, p := range e.Pages {
		if !dumpable(p) {
			cur = nil
			continue
		}
		fl := elfFlags(p.Secinfo)
		addr := e.Base + p.Offset
		if cur != nil && cur.flags == fl && cur.vaddr+cur.size == addr {
			cur.end, cur.size = i+1, cur.size+sgx.PageSize
			continue
		}
		cur = &load{encl: e, first: i, end: i + 1, vaddr: addr, size: sgx.PageSize, flags: fl}
		out = append(out, cur)
	}
	return out
}

// writeLoad streams one segment: REG pages in chunks, each TCS page as its
// 72 readable bytes and zeros.
func writeLoad(w io.Writer, src Source, l *load, buf []byte, progress func(uint64)) error {
	pages := l.encl.Pages[l.first:l.end]
	for i := 0; i < len(pages); {
		addr := l.encl.Base + pages[i].Offset
		if pages[i].Secinfo.PageType() == sgx.PageTypeTCS {
			clear(buf[:sgx.PageSize])
			if _, err := src.ReadEnclave(buf[:sgx.TCSDebugReadable], addr); err != nil {
				return fmt.Errorf("read TCS page %#x: %w", addr, err)
			}
			if _, err := w.Write(buf[:sgx.PageSize]); err != nil {
				return fmt.Errorf("write page %#x: %w", addr, err)
			}
			progress(sgx.PageSize)
			i++
			continue
		}
		n := 1
		for n < chunkPages && i+n < len(pages) && pages[i+n].Secinfo.PageType() != sgx.PageTypeTCS {
			n++
		}
		chunk := buf[:n*sgx.PageSize]
		if got, err := src.ReadEnclave(chunk, addr); err != nil || got != len(chunk) {
			return fmt.Errorf("read %d enclave pages at %#x (EDBGRD): %d bytes: %w", n, addr, got, err)
		}
		if _, err := w.Write(chunk); err != nil {
			return fmt.Errorf("write pages at %#x: %w", addr, err)
		}
		progress(uint64(len(chunk)))
		i += n
	}
	return nil
}

// tcsRead is one TCS as the notes need it.
type tcsRead struct {
	encl   *target.EnclaveInfo
	addr   uint64
	raw    []byte
	tcs    sgx.TCS
	frames [][]byte // 0..CSSA-1
}

// readTCSes reads every TCS of the debug enclaves and their SSA frames in
// use, the stopped thread's TCS first.
func readTCSes(src Source, encls []target.EnclaveInfo, stopTCS uint64) ([]*tcsRead, error) {
	var out []*tcsRead
	for i := range encls {
		e := &encls[i]
		if e.Attributes.Flags&sgx.AttrDebug == 0 {
			continue
		}
		for _, addr := range e.TCS {
			t := &tcsRead{encl: e, addr: addr, raw: make([]byte, sgx.TCSDebugReadable)}
			if _, err := src.ReadEnclave(t.raw, addr); err != nil {
				return nil, fmt.Errorf("read TCS at %#x: %w", addr, err)
			}
			if err := t.tcs.UnmarshalBinary(t.raw); err != nil {
				return nil, fmt.Errorf("decode TCS at %#x: %w", addr, err)
			}
			g := ssa.Geometry{Base: e.Base, OSSA: t.tcs.OSSA, FrameSize: e.SSAFrameSize}
			for k := 0; k < int(min(t.tcs.CSSA, t.tcs.NSSA)); k++ {
				f := make([]byte, g.FrameBytes())
				if _, err := src.ReadEnclave(f, g.FrameAddr(k)); err != nil {
					return nil, fmt.Errorf("read SSA frame %d of TCS %#x: %w", k, addr, err)
				}
				t.frames = append(t.frames, f)
			}
			if addr == stopTCS {
				out = append([]*tcsRead{t}, out...)
			} else {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// buildNotes reads the TCS and SSA frames and encodes the PT_NOTE segment.
func buildNotes(src Source, encls []target.EnclaveInfo, opts Options, sum *Summary) ([]byte, error) {
	ev := src.Event()
	tcses, err := readTCSes(src, encls, ev.TCS)
	if err != nil {
		return nil, err
	}
	var nb noteBuf
	pid, tid := ev.Pid, ev.Tid
	threads := src.Threads()
	for _, th := range threads {
		if th.Tid == tid {
			pid = th.Pid
		}
	}
	if pid == 0 && len(encls) > 0 {
		pid = encls[0].Pid
	}

	// Linux notes first: gdb takes the first NT_PRSTATUS as the current
	// thread, and that is the stopped thread's TCS.
	used := map[int]bool{}
	for _, t := range tcses {
		if len(t.frames) > 0 && t.addr == ev.TCS && tid != 0 {
			used[tid] = true
		}
	}
	next := 1
	for _, t := range tcses {
		if len(t.frames) == 0 {
			continue
		}
		lwp := tid
		if t.addr != ev.TCS || tid == 0 {
			for used[next] {
				next++
			}
			lwp = next
			used[lwp] = true
		}
		sig := 0
		if t.addr == ev.TCS {
			sig = int(src.Pending())
		}
		newest := t.frames[len(t.frames)-1]
		nb.add(linuxOwner, NotePrstatus, prstatus(newest, lwp, sig))
		nb.add(linuxOwner, NoteFPRegset, newest[:FPRegsetSize])
		sum.Threads++
	}
	main, entry := mainEnclave(encls, tcses, ev, opts.Images)
	if main != nil {
		sum.Main, sum.Entry = main.Base, main.Base+entry
		auxv := make([]byte, 3*16)
		le := binary.LittleEndian
		le.PutUint64(auxv[0:], atEntry)
		le.PutUint64(auxv[8:], main.Base+entry)
		le.PutUint64(auxv[16:], atPageSz)
		le.PutUint64(auxv[24:], sgx.PageSize)
		le.PutUint64(auxv[32:], atNull)
		nb.add(linuxOwner, NoteAuxv, auxv)
	}

	regs, regsErr := src.Regs()
	core := make([]byte, CoreNoteSize)
	le := binary.LittleEndian
	le.PutUint32(core[coreVersion:], Version)
	le.PutUint32(core[corePid:], uint32(pid))
	le.PutUint32(core[coreTid:], uint32(tid))
	le.PutUint32(core[coreSignal:], uint32(src.Pending()))
	if regsErr == nil {
		le.PutUint32(core[coreFlags:], CoreHostRegs)
	}
	le.PutUint32(core[coreEnclaves:], uint32(len(encls)))
	nb.add(NoteOwner, NoteCore, core)
	stop, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode the stop event: %w", err)
	}
	nb.add(NoteOwner, NoteStop, stop)
	for i := range encls {
		nb.add(NoteOwner, NoteSECS, secsNote(&encls[i]))
		sum.Enclaves++
		if ref, ok := opts.Images[encls[i].Base]; ok && ref.Path != "" {
			d := make([]byte, ImageNoteHeader+len(ref.Path))
			le.PutUint64(d[imageBase:], encls[i].Base)
			le.PutUint64(d[imageEntry:], ref.Entry)
			copy(d[ImageNoteHeader:], ref.Path)
			nb.add(NoteOwner, NoteImage, d)
		}
	}
	for _, t := range tcses {
		d := make([]byte, TCSNoteSize)
		le.PutUint64(d[tcsAddr:], t.addr)
		le.PutUint64(d[tcsEnclave:], t.encl.Base)
		copy(d[tcsRaw:], t.raw)
		nb.add(NoteOwner, NoteTCS, d)
		g := ssa.Geometry{Base: t.encl.Base, OSSA: t.tcs.OSSA, FrameSize: t.encl.SSAFrameSize}
		for k, f := range t.frames {
			d := make([]byte, SSANoteHeader+len(f))
			le.PutUint64(d[ssaTCS:], t.addr)
			le.PutUint32(d[ssaIndex:], uint32(k))
			le.PutUint64(d[ssaAddr:], g.FrameAddr(k))
			copy(d[SSANoteHeader:], f)
			nb.add(NoteOwner, NoteSSA, d)
		}
	}
	if regsErr == nil {
		d := make([]byte, HostRegsNoteSize)
		le.PutUint32(d[0:], uint32(tid))
		putRegs(d[8:], &regs)
		nb.add(NoteOwner, NoteHostRegs, d)
	}
	if len(threads) > 0 {
		d := make([]byte, 0, len(threads)*ThreadRecordSize)
		for _, th := range threads {
			r := make([]byte, ThreadRecordSize)
			le.PutUint32(r[0:], uint32(th.Pid))
			le.PutUint32(r[4:], uint32(th.Tid))
			if th.InEnclave {
				le.PutUint32(r[8:], ThreadInEnclave)
			}
			le.PutUint64(r[16:], th.Enclave)
			le.PutUint64(r[24:], th.TCS)
			d = append(d, r...)
		}
		nb.add(NoteOwner, NoteThreads, d)
	}
	var events []byte
	for _, e := range opts.Timeline {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", e.Kind, err)
		}
		events = append(append(events, b...), '\n')
	}
	nb.add(NoteOwner, NoteEvents, events)
	return nb.b, nil
}

// mainEnclave picks the enclave whose ELF gdb relocates through AT_ENTRY:
// the stopped thread's, else the first debug enclave; its entry offset is
// the ELF's e_entry when known, else TCS 0's OENTRY.
func mainEnclave(encls []target.EnclaveInfo, tcses []*tcsRead, ev target.Event, images map[uint64]ImageRef) (*target.EnclaveInfo, uint64) {
	var main *target.EnclaveInfo
	for i := range encls {
		e := &encls[i]
		if e.Attributes.Flags&sgx.AttrDebug == 0 {
			continue
		}
		in := ev.Enclave == e.Base || ev.TCS >= e.Base && ev.TCS-e.Base < e.Size
		if main == nil || in {
			main = e
		}
		if in {
			break
		}
	}
	if main == nil {
		return nil, 0
	}
	if ref, ok := images[main.Base]; ok && ref.Entry != 0 {
		return main, ref.Entry
	}
	for _, t := range tcses {
		if t.encl.Base == main.Base && (len(main.TCS) == 0 || t.addr == main.TCS[0]) {
			return main, t.tcs.OENTRY
		}
	}
	return main, 0
}

// prstatus encodes struct elf_prstatus with the registers of an SSA frame.
func prstatus(frame []byte, lwp, sig int) []byte {
	g := frame[len(frame)-ssa.GPRSGXSize:]
	u := func(off int) uint64 { return binary.LittleEndian.Uint64(g[off:]) }
	r := ptrace.Regs{
		R15: u(ssa.OffR8 + 56), R14: u(ssa.OffR8 + 48), R13: u(ssa.OffR8 + 40), R12: u(ssa.OffR8 + 32),
		Rbp: u(ssa.OffRBP), Rbx: u(ssa.OffRBX), R11: u(ssa.OffR8 + 24), R10: u(ssa.OffR8 + 16),
		R9: u(ssa.OffR8 + 8), R8: u(ssa.OffR8), Rax: u(ssa.OffRAX), Rcx: u(ssa.OffRCX), Rdx: u(ssa.OffRDX),
		Rsi: u(ssa.OffRSI), Rdi: u(ssa.OffRDI), Orig_rax: ^uint64(0), Rip: u(ssa.OffRIP), Cs: userCS,
		Eflags: u(ssa.OffRFLAGS), Rsp: u(ssa.OffRSP), Ss: userSS, Fs_base: u(ssa.OffFSBase), Gs_base: u(ssa.OffGSBase),
	}
	b := make([]byte, PrstatusSize)
	le := binary.LittleEndian
	le.PutUint32(b[prSigno:], uint32(sig))
	le.PutUint16(b[prCursig:], uint16(sig))
	le.PutUint32(b[prPid:], uint32(lwp))
	putRegs(b[prReg:], &r)
	le.PutUint32(b[prFPValid:], 1)
	return b
}

// secsNote encodes NT_SGXDBG_SECS: the parameters and the page runs.
func secsNote(e *target.EnclaveInfo) []byte {
	type run struct{ off, n, secinfo uint64 }
	var runs []run
	for _, p := range e.Pages {
		if k := len(runs) - 1; k >= 0 && runs[k].secinfo == uint64(p.Secinfo) && runs[k].off+runs[k].n*sgx.PageSize == p.Offset {
			runs[k].n++
			continue
		}
		runs = append(runs, run{p.Offset, 1, uint64(p.Secinfo)})
	}
	b := make([]byte, SECSNoteSize+len(runs)*PageRunSize)
	le := binary.LittleEndian
	le.PutUint64(b[secsBase:], e.Base)
	le.PutUint64(b[secsSize:], e.Size)
	le.PutUint32(b[secsSSAFrame:], e.SSAFrameSize)
	le.PutUint32(b[secsMisc:], uint32(e.MiscSelect))
	le.PutUint64(b[secsAttr:], uint64(e.Attributes.Flags))
	le.PutUint64(b[secsXFRM:], e.Attributes.XFRM)
	copy(b[secsMREnc:], e.MRENCLAVE[:])
	copy(b[secsMRSign:], e.MRSIGNER[:])
	var fl uint32
	if e.Initialized {
		fl |= SECSInitialized
	}
	if e.Attributes.Flags&sgx.AttrDebug != 0 {
		fl |= SECSDumped
	}
	le.PutUint32(b[secsFlags:], fl)
	le.PutUint32(b[secsPid:], uint32(e.Pid))
	le.PutUint32(b[secsNRuns:], uint32(len(runs)))
	for i, r := range runs {
		o := b[SECSNoteSize+i*PageRunSize:]
		le.PutUint64(o[0:], r.off)
		le.PutUint64(o[8:], r.n)
		le.PutUint64(o[16:], r.secinfo)
	}
	return b
}

// noteBuf accumulates ELF notes (4-byte aligned names and descriptors).
type noteBuf struct{ b []byte }

func (nb *noteBuf) add(owner string, typ NoteType, desc []byte) {
	le := binary.LittleEndian
	var h [12]byte
	le.PutUint32(h[0:], uint32(len(owner)+1))
	le.PutUint32(h[4:], uint32(len(desc)))
	le.PutUint32(h[8:], uint32(typ))
	nb.b = append(nb.b, h[:]...)
	nb.b = append(nb.b, owner...)
	nb.b = append(nb.b, make([]byte, align4(len(owner)+1)-len(owner))...)
	nb.b = append(nb.b, desc...)
	nb.b = append(nb.b, make([]byte, align4(len(desc))-len(desc))...)
}

func align4(n int) int { return (n + 3) &^ 3 }

func pageUp(n uint64) uint64 { return (n + sgx.PageSize - 1) &^ (sgx.PageSize - 1) }

// countWriter counts the bytes written.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
