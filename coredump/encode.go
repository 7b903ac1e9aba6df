package coredump

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// The note descriptors, as doc.go lays them out.

// prstatus encodes struct elf_prstatus with the registers of an SSA frame.
func prstatus(frame []byte, lwp, sig int) []byte {
	g := frame[len(frame)-ssa.GPRSGXSize:]
	u := func(off int) uint64 { return binary.LittleEndian.Uint64(g[off:]) }
	r := target.Regs{
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

// auxvNote encodes NT_AUXV: AT_ENTRY, AT_PAGESZ, AT_NULL.
func auxvNote(entry uint64) []byte {
	b := make([]byte, 3*16)
	le := binary.LittleEndian
	le.PutUint64(b[0:], atEntry)
	le.PutUint64(b[8:], entry)
	le.PutUint64(b[16:], atPageSz)
	le.PutUint64(b[24:], sgx.PageSize)
	le.PutUint64(b[32:], atNull)
	return b
}

// coreNote encodes NT_SGXDBG_CORE.
func coreNote(pid, tid int, pending unix.Signal, hostRegs bool, enclaves int) []byte {
	b := make([]byte, CoreNoteSize)
	le := binary.LittleEndian
	le.PutUint32(b[coreVersion:], Version)
	le.PutUint32(b[corePid:], uint32(pid))
	le.PutUint32(b[coreTid:], uint32(tid))
	le.PutUint32(b[coreSignal:], uint32(pending))
	if hostRegs {
		le.PutUint32(b[coreFlags:], CoreHostRegs)
	}
	le.PutUint32(b[coreEnclaves:], uint32(enclaves))
	return b
}

// imageNote encodes NT_SGXDBG_IMAGE.
func imageNote(base uint64, ref ImageRef) []byte {
	b := make([]byte, ImageNoteHeader+len(ref.Path))
	binary.LittleEndian.PutUint64(b[imageBase:], base)
	binary.LittleEndian.PutUint64(b[imageEntry:], ref.Entry)
	copy(b[ImageNoteHeader:], ref.Path)
	return b
}

// tcsNote encodes NT_SGXDBG_TCS.
func tcsNote(t *tcsRead) []byte {
	b := make([]byte, TCSNoteSize)
	binary.LittleEndian.PutUint64(b[tcsAddr:], t.addr)
	binary.LittleEndian.PutUint64(b[tcsEnclave:], t.encl.Base)
	copy(b[tcsRaw:], t.raw)
	return b
}

// ssaNote encodes NT_SGXDBG_SSA.
func ssaNote(tcs uint64, index int, addr uint64, frame []byte) []byte {
	b := make([]byte, SSANoteHeader+len(frame))
	le := binary.LittleEndian
	le.PutUint64(b[ssaTCS:], tcs)
	le.PutUint32(b[ssaIndex:], uint32(index))
	le.PutUint64(b[ssaAddr:], addr)
	copy(b[SSANoteHeader:], frame)
	return b
}

// hostRegsNote encodes NT_SGXDBG_HOSTREGS.
func hostRegsNote(tid int, r *target.Regs) []byte {
	b := make([]byte, HostRegsNoteSize)
	binary.LittleEndian.PutUint32(b[0:], uint32(tid))
	putRegs(b[8:], r)
	return b
}

// threadsNote encodes NT_SGXDBG_THREADS.
func threadsNote(threads []target.ThreadInfo) []byte {
	b := make([]byte, len(threads)*ThreadRecordSize)
	le := binary.LittleEndian
	for i, th := range threads {
		r := b[i*ThreadRecordSize:]
		le.PutUint32(r[0:], uint32(th.Pid))
		le.PutUint32(r[4:], uint32(th.Tid))
		if th.InEnclave {
			le.PutUint32(r[8:], ThreadInEnclave)
		}
		le.PutUint64(r[16:], th.Enclave)
		le.PutUint64(r[24:], th.TCS)
	}
	return b
}

// eventsNote encodes NT_SGXDBG_EVENTS: one JSON object per line.
func eventsNote(timeline []target.Event) ([]byte, error) {
	var b []byte
	for _, e := range timeline {
		j, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", e.Kind, err)
		}
		b = append(append(b, j...), '\n')
	}
	return b, nil
}
