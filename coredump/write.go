package coredump

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// Source is a stopped host as the writer reads it; a target.Stop is one.
// Enclave memory is read only through ReadEnclave (the EDBGRD path).
type Source interface {
	Event() target.Event
	Pending() target.Delivery
	Regs() (target.Regs, error)
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

// buildNotes reads the TCS and SSA frames and encodes the PT_NOTE segment:
// the Linux notes first (gdb takes the first NT_PRSTATUS as the current
// thread, and that is the stopped thread's TCS), then sgxdbg's.
func buildNotes(src Source, encls []target.EnclaveInfo, opts Options, sum *Summary) ([]byte, error) {
	ev := src.Event()
	tcses, err := readTCSes(src, encls, ev.TCS)
	if err != nil {
		return nil, err
	}
	threads := src.Threads()
	pid := ev.Pid
	for _, th := range threads {
		if th.Tid == ev.Tid {
			pid = th.Pid
		}
	}
	if pid == 0 && len(encls) > 0 {
		pid = encls[0].Pid
	}
	var nb noteBuf
	sum.Threads = gdbThreadNotes(&nb, tcses, ev, src.Pending().Signal)
	if main, entry := mainEnclave(encls, tcses, ev, opts.Images); main != nil {
		sum.Main, sum.Entry = main.Base, main.Base+entry
		nb.add(linuxOwner, NoteAuxv, auxvNote(main.Base+entry))
	}
	regs, regsErr := src.Regs()
	nb.add(NoteOwner, NoteCore, coreNote(pid, ev.Tid, src.Pending().Signal, regsErr == nil, len(encls)))
	stop, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode the stop event: %w", err)
	}
	nb.add(NoteOwner, NoteStop, stop)
	for i := range encls {
		nb.add(NoteOwner, NoteSECS, secsNote(&encls[i]))
		sum.Enclaves++
		if ref, ok := opts.Images[encls[i].Base]; ok && ref.Path != "" {
			nb.add(NoteOwner, NoteImage, imageNote(encls[i].Base, ref))
		}
	}
	for _, t := range tcses {
		nb.add(NoteOwner, NoteTCS, tcsNote(t))
		g := ssa.Geometry{Base: t.encl.Base, OSSA: t.tcs.OSSA, FrameSize: t.encl.SSAFrameSize}
		for k, f := range t.frames {
			nb.add(NoteOwner, NoteSSA, ssaNote(t.addr, k, g.FrameAddr(k), f))
		}
	}
	if regsErr == nil {
		nb.add(NoteOwner, NoteHostRegs, hostRegsNote(ev.Tid, &regs))
	}
	if len(threads) > 0 {
		nb.add(NoteOwner, NoteThreads, threadsNote(threads))
	}
	events, err := eventsNote(opts.Timeline)
	if err != nil {
		return nil, err
	}
	nb.add(NoteOwner, NoteEvents, events)
	return nb.b, nil
}

// gdbThreadNotes adds an NT_PRSTATUS and NT_FPREGSET per TCS with frames
// in use and returns how many. pr_pid is the stopped thread's id for its
// TCS, small distinct numbers for the others.
func gdbThreadNotes(nb *noteBuf, tcses []*tcsRead, ev target.Event, pending unix.Signal) int {
	used := map[int]bool{}
	for _, t := range tcses {
		if len(t.frames) > 0 && t.addr == ev.TCS && ev.Tid != 0 {
			used[ev.Tid] = true
		}
	}
	n, next := 0, 1
	for _, t := range tcses {
		if len(t.frames) == 0 {
			continue
		}
		lwp, sig := ev.Tid, 0
		if t.addr == ev.TCS {
			sig = int(pending)
		}
		if t.addr != ev.TCS || ev.Tid == 0 {
			for used[next] {
				next++
			}
			lwp = next
			used[lwp] = true
		}
		newest := t.frames[len(t.frames)-1]
		nb.add(linuxOwner, NotePrstatus, prstatus(newest, lwp, sig))
		nb.add(linuxOwner, NoteFPRegset, newest[:FPRegsetSize])
		n++
	}
	return n
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
