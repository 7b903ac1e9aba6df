package emu

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// aexInfo describes one asynchronous exit: what goes into the SSA frame
// and what the host is sent at the AEP.
type aexInfo struct {
	vector    sgx.Vector
	exitType  sgx.ExitType
	interrupt bool   // not an exception: EXITINFO invalid
	rip       uint64 // SSA.RIP
	exinfo    bool   // #PF or #GP: EXINFO applies
	maddr     uint64
	errcd     uint32
	sig       unix.Signal // delivered at the AEP
	si        ptrace.Siginfo
	viaTkill  bool // the thread is in a syscall-stop: deliver through tgkill
}

// RFLAGS bits an AEX clears in the synthetic state.
const aexClearedFlags = 1<<0 | 1<<2 | 1<<4 | 1<<6 | 1<<7 | 1<<11 | 1<<16 // CF PF AF ZF SF OF RF

func udInfo(rip uint64) aexInfo {
	return aexInfo{vector: sgx.VectorUD, exitType: sgx.ExitHardware, rip: rip, sig: unix.SIGILL,
		si: ptrace.Siginfo{Signo: int32(unix.SIGILL), Code: ptrace.IllIllOpn}}
}

// aex performs an Asynchronous Enclave Exit for th (SDM Vol. 3D "Asynchronous
// Enclave Exit"): save the enclave state into SSA[CSSA], load the synthetic
// state, CSSA+1, and hold the thread at the AEP as a stop whose Continue
// delivers the signal (or the vDSO's fixup). r holds the enclave's
// registers at the event.
func (em *Emulator) aex(th *thread, r *ptrace.Regs, a aexInfo) error {
	e, tcsAddr := th.encl, th.tcs
	th.debugStep = false
	t, err := e.currentTCS(tcsAddr)
	if err != nil {
		return fmt.Errorf("AEX on %#x: %w", tcsAddr, err)
	}
	frame, _, err := e.frameOf(t, t.CSSA)
	if err != nil {
		return fmt.Errorf("AEX on %#x: %w", tcsAddr, err)
	}
	gpr := len(frame) - ssa.GPRSGXSize
	misc := e.secs.MiscSelect
	var exit ssa.ExitInfo
	valid := !a.interrupt && a.vector.ReportedInEXITINFO(misc)
	if valid {
		exit = ssa.MakeExitInfo(a.vector, a.exitType)
	}
	const tf = 0x100
	g := ssa.GPRSGX{
		RAX: r.Rax, RCX: r.Rcx, RDX: r.Rdx, RBX: r.Rbx, RSP: r.Rsp, RBP: r.Rbp, RSI: r.Rsi, RDI: r.Rdi,
		R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11, R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15,
		RFLAGS: r.Eflags &^ tf, RIP: a.rip,
		URSP:     binary.LittleEndian.Uint64(frame[gpr+ssa.OffURSP:]),
		URBP:     binary.LittleEndian.Uint64(frame[gpr+ssa.OffURBP:]),
		ExitInfo: exit,
		FSBase:   r.Fs_base, GSBase: r.Gs_base,
	}
	if t.Flags&sgx.TCSAEXNotify != 0 {
		g.AEXNotify = 1
	}
	raw, err := g.MarshalBinary()
	if err != nil {
		return err
	}
	copy(frame[gpr:], raw)
	if valid && a.exinfo && misc&sgx.MiscEXINFO != 0 {
		x := ssa.ExInfo{MAddr: a.maddr, ErrCd: ssa.PFErrorCode(a.errcd)}
		xb, _ := x.MarshalBinary()
		copy(frame[gpr-ssa.ExInfoSize:], xb)
	}
	xfrm := e.secs.Attributes.XFRM
	xbuf, err := ptrace.GetXState(th.tid, make([]byte, em.xs.size))
	if err != nil {
		return err
	}
	if err := em.xs.toSSA(frame[:sgx.XSaveSize(xfrm)], xbuf, xfrm); err != nil {
		return fmt.Errorf("AEX on %#x: %w", tcsAddr, err)
	}

	// The synthetic state the host sees at the AEP.
	s := *r
	s.Rax, s.Rbx, s.Rcx, s.Rip = uint64(sgx.LeafERESUME), tcsAddr, th.aep, th.aep
	s.Rdx, s.Rsi, s.Rdi = 0, 0, 0
	s.R8, s.R9, s.R10, s.R11, s.R12, s.R13, s.R14, s.R15 = 0, 0, 0, 0, 0, 0, 0, 0
	s.Rsp, s.Rbp = g.URSP, g.URBP
	s.Eflags &^= aexClearedFlags | tf
	s.Fs_base, s.Gs_base = th.outsideFS, th.outsideGS
	s.Orig_rax = ^uint64(0)
	em.xs.initState(xbuf, xfrm)
	if err := ptrace.SetXState(th.tid, xbuf); err != nil {
		return err
	}
	if err := ptrace.SetRegs(th.tid, &s); err != nil {
		return err
	}
	e.putTCS32(tcsAddr, tcsCSSA, t.CSSA+1)
	e.putTCS64(tcsAddr, tcsState, 0)
	th.encl = nil

	si := a.si
	si.Signo = int32(a.sig)
	if !a.interrupt {
		si.Addr = siAddr(a, th.aep)
	}
	ev := Event{Kind: EvAEX, Pid: th.proc.pid, Tid: th.tid, Enclave: e.base(), TCS: tcsAddr,
		SSA: int(t.CSSA), CSSA: int(t.CSSA + 1), Valid: valid, RIP: a.rip, AEP: th.aep}
	if valid {
		ev.Vector, ev.ExitType = a.vector, a.exitType
		if a.exinfo {
			ev.MAddr, ev.ErrCd = a.maddr, a.errcd
		}
	}
	if valid && a.vector == sgx.VectorUD {
		e.showOriginal(a.rip)
	}
	d := &delivery{si: si, viaTkill: a.viaTkill}
	ev.Delivery = target.Delivery{Signal: a.sig}
	if a.sig == 0 {
		// The debugger's interrupt: nothing for the host, which resumes at
		// the AEP (its ERESUME) as after any interrupt.
		d = nil
	}
	if !a.interrupt {
		addr := uint64(0)
		if a.vector == sgx.VectorPF {
			addr = a.maddr &^ (sgx.PageSize - 1)
		}
		errcd := uint64(0)
		if a.exinfo {
			errcd = uint64(a.errcd)
		}
		d.fix = th.proc.fixupFor(th.aep, a.vector, errcd, addr)
		if d.fix != nil {
			ev.Delivery = target.Delivery{VDSO: true}
		}
	}
	ev = e.osView(ev)
	em.emit(ev)
	if th.run != nil {
		// A nested AEX ends the handler run the debugger started.
		return em.endRun(th, &HandlerResult{Event: &ev})
	}
	em.hold(th, ev, d)
	return nil
}

// delivery is how the host learns of an AEX: a signal at the AEP, or the
// vDSO's exception fixup.
type delivery struct {
	si       ptrace.Siginfo
	viaTkill bool
	fix      *fixup
}

// deliverAt sends the host the signal of an AEX, th being stopped at the
// AEP with the synthetic state. From a syscall-stop the signal cannot be
// injected: the tracer sends it with tgkill and replaces its siginfo at the
// signal-delivery-stop that follows.
func (em *Emulator) deliverAt(th *thread, d *delivery) error {
	if d.fix != nil {
		if err := th.proc.applyFixup(th.tid, d.fix); err != nil {
			return err
		}
		return em.resume(th, 0)
	}
	si := &d.si
	sig := unix.Signal(si.Signo)
	if d.viaTkill {
		th.deliver = si
		if err := unix.Tgkill(th.proc.pid, th.tid, sig); err != nil {
			return fmt.Errorf("tgkill %d: %w", th.tid, err)
		}
		return em.resume(th, 0)
	}
	if err := ptrace.SetSiginfo(th.tid, si); err != nil {
		return err
	}
	return em.resume(th, sig)
}

// siAddr is si_addr as the kernel reports the event at the AEP: the
// page-aligned address for a #PF (CR2's low 12 bits are cleared by the
// AEX), nothing for #GP and #BP, the AEP for the others.
func siAddr(a aexInfo, aep uint64) uint64 {
	switch a.vector {
	case sgx.VectorPF:
		return a.maddr &^ (sgx.PageSize - 1)
	case sgx.VectorGP, sgx.VectorBP:
		return 0
	}
	return aep
}

// fault turns a synchronous fault taken in enclave mode into an AEX, or
// serves it silently when it is a first touch the driver would resolve.
func (em *Emulator) fault(th *thread, r *ptrace.Regs, sig unix.Signal, si *ptrace.Siginfo) error {
	a := aexInfo{vector: sgx.VectorUD, exitType: sgx.ExitHardware, rip: r.Rip, sig: sig,
		si: ptrace.Siginfo{Signo: si.Signo, Code: si.Code}}
	switch sig {
	case unix.SIGSEGV:
		if si.Code != ptrace.SIKernel {
			pa, handled, err := em.pageFault(th, r, si)
			if err != nil {
				return err
			}
			if handled {
				return em.resume(th, 0)
			}
			a = pa
			break
		}
		if inst, ok := em.decode(th, r.Rip); ok && illegalInEnclave(inst) {
			a = udInfo(r.Rip)
			break
		}
		a.vector, a.exinfo = sgx.VectorGP, true
		a.si.Code = ptrace.SIKernel
	case unix.SIGBUS:
		if si.Code == ptrace.BusAdrAln {
			a.vector = sgx.VectorAC
		} else {
			a.vector, a.exinfo, a.maddr = sgx.VectorPF, true, si.Addr
			a.errcd = uint32(ssa.PFUser)
		}
	case unix.SIGFPE:
		switch {
		case si.Code == ptrace.FpeIntDiv || si.Code == ptrace.FpeIntOvf:
			a.vector = sgx.VectorDE
		case em.isSSE(th, r.Rip):
			a.vector = sgx.VectorXM
		default:
			a.vector = sgx.VectorMF
		}
	case unix.SIGILL:
		a.vector = sgx.VectorUD
	case unix.SIGTRAP:
		var b [2]byte
		switch {
		case si.Code == ptrace.TrapTrace || si.Code == ptrace.TrapHwBkpt:
			dr6, suppressed, err := em.debugTrap(th)
			if err != nil {
				return err
			}
			if suppressed {
				return em.resume(th, 0)
			}
			a.vector, th.dr6 = sgx.VectorDB, dr6
		case em.readCode(th, r.Rip-1, b[:1]) == 1 && b[0] == 0xcc:
			a.vector, a.exitType, a.rip = sgx.VectorBP, sgx.ExitSoftware, r.Rip-1
		case em.readCode(th, r.Rip-2, b[:]) == 2 && b == [2]byte{0xcd, 0x03}:
			a.vector, a.exitType, a.rip = sgx.VectorBP, sgx.ExitSoftware, r.Rip-2
		default:
			a.vector = sgx.VectorDB
		}
	}
	return em.aex(th, r, a)
}

// Page-fault error code bits (SDM Vol. 3A §4.7).
const (
	pfP   = 1 << 0
	pfW   = 1 << 1
	pfU   = 1 << 2
	pfID  = 1 << 4
	pfSGX = 1 << 15
)

type access int

const (
	accRead access = iota
	accWrite
	accExec
)

// pageFault classifies a SIGSEGV with a fault address taken in enclave
// mode. It derives the #PF error code the processor would have reported
// (the kernel never tells a tracer): U always; W and I/D from the faulting
// instruction; P from whether the page has a PTE; SGX from the EPCM model.
// handled is true when the fault was a first touch served like the driver
// serves it, invisibly to the host.
func (em *Emulator) pageFault(th *thread, r *ptrace.Regs, si *ptrace.Siginfo) (aexInfo, bool, error) {
	addr := si.Addr
	acc := em.accessKind(th, r, addr)
	errcd := uint32(pfU)
	switch acc {
	case accWrite:
		errcd |= pfW
	case accExec:
		errcd |= pfID
	}
	a := aexInfo{vector: sgx.VectorPF, exitType: sgx.ExitHardware, rip: r.Rip, exinfo: true, maddr: addr,
		sig: unix.SIGSEGV, si: ptrace.Siginfo{Signo: int32(unix.SIGSEGV), Code: si.Code}}
	e := th.proc.enclaveAt(addr)
	if e == nil || !e.mapped(addr) {
		if pagePresent(th.proc.pid, addr) {
			errcd |= pfP
		}
		a.errcd = errcd
		return a, false, nil
	}
	a.si.Code = ptrace.SegvAccErr
	p, fa, err := em.translate(th, e, addr, acc)
	if fa != nil || err != nil {
		if fa != nil {
			fa.rip = r.Rip
		}
		return deref(fa), false, err
	}
	if epcmAllows(p, acc) {
		if !p.active {
			th.retried = 0
			return a, true, em.activate(th, p, addr)
		}
		// Another thread activated the page after this fault was raised:
		// run the instruction again (once).
		if th.retried != addr {
			th.retried = addr
			return a, true, nil
		}
		errcd |= pfP
	} else {
		// The page tables allow the access (the driver fills the PTE on
		// the first fault); the EPCM does not.
		p.touched = true
		errcd |= pfP | pfSGX
	}
	a.errcd = errcd
	return a, false, nil
}

func deref(a *aexInfo) aexInfo {
	if a == nil {
		return aexInfo{}
	}
	return *a
}

// translate is the page-table walk of an enclave access to addr, inside a
// mapping of e, the way the driver serves its faults: an access the
// mapping does not allow is an ordinary #PF (P when the PTE is present);
// an address with no EPC page is EAUGed by the driver's fault handler on
// an SGX2 processor once the enclave is initialized (a PENDING page that
// EACCEPT must accept), and answered with SIGBUS otherwise. It returns the
// page, or the AEX to raise.
func (em *Emulator) translate(th *thread, e *enclave, addr uint64, acc access) (*epcPage, *aexInfo, error) {
	errcd := uint32(pfU)
	switch acc {
	case accWrite:
		errcd |= pfW
	case accExec:
		errcd |= pfID
	}
	a := &aexInfo{vector: sgx.VectorPF, exitType: sgx.ExitHardware, exinfo: true, maddr: addr,
		sig: unix.SIGSEGV, si: ptrace.Siginfo{Signo: int32(unix.SIGSEGV), Code: ptrace.SegvAccErr}}
	mprot, ok := e.mapProt(addr)
	if !ok {
		a.si.Code = ptrace.SegvMapErr
		if pagePresent(th.proc.pid, addr) {
			errcd |= pfP
			a.si.Code = ptrace.SegvAccErr
		}
		a.errcd = errcd
		return nil, a, nil
	}
	p := e.page(addr)
	if p == nil {
		if !protAllows(mprot, acc) {
			a.errcd = errcd
			return nil, a, nil
		}
		if em.model != CPUSGX2 || !e.inited {
			// No EPC page behind the mapping: sgx_vma_fault answers
			// VM_FAULT_SIGBUS.
			a.sig = unix.SIGBUS
			a.si = ptrace.Siginfo{Signo: int32(unix.SIGBUS), Code: ptrace.BusAdrErr}
			a.errcd = errcd
			return nil, a, nil
		}
		p = em.eaug(th, e, addr, mprot)
	}
	if !protAllows(p.prot, acc) {
		if p.touched {
			errcd |= pfP
		}
		a.errcd = errcd
		return nil, a, nil
	}
	return p, nil, nil
}

// epcmAllows is the EPCM check of an enclave access to a page the page
// tables let through.
func epcmAllows(p *epcPage, acc access) bool {
	ep := epcmProt(p.secinfo)
	switch acc {
	case accWrite:
		return ep&unix.PROT_WRITE != 0
	case accExec:
		return ep&unix.PROT_EXEC != 0
	}
	return ep&unix.PROT_READ != 0
}

func protAllows(prot int, acc access) bool {
	switch acc {
	case accWrite:
		return prot&unix.PROT_WRITE != 0
	case accExec:
		return prot&unix.PROT_EXEC != 0
	}
	return prot&(unix.PROT_READ|unix.PROT_EXEC) != 0
}

// pagePresent reads the present bit of addr's PTE from /proc/PID/pagemap.
func pagePresent(pid int, addr uint64) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return false
	}
	defer f.Close()
	var b [8]byte
	if _, err := f.ReadAt(b[:], int64(addr/sgx.PageSize*8)); err != nil {
		return false
	}
	return binary.LittleEndian.Uint64(b[:])&(1<<63) != 0
}

// decode decodes the instruction at addr as th executes it.
func (em *Emulator) decode(th *thread, addr uint64) (x86asm.Inst, bool) {
	buf := make([]byte, 15)
	n := em.readCode(th, addr, buf)
	inst, err := x86asm.Decode(buf[:n], 64)
	return inst, err == nil
}

// accessKind tells whether the access to addr that faulted was an
// instruction fetch, a write or a read.
func (em *Emulator) accessKind(th *thread, r *ptrace.Regs, addr uint64) access {
	inst, ok := em.decode(th, r.Rip)
	if !ok {
		if addr&^(sgx.PageSize-1) == r.Rip&^(sgx.PageSize-1) {
			return accExec
		}
		return accRead
	}
	// A fault address inside the instruction's own bytes is a fetch,
	// unless those bytes are on a page the thread can already execute (the
	// instruction then accessed itself as data).
	if addr >= r.Rip && addr < r.Rip+uint64(inst.Len) && !em.executable(th, addr) {
		return accExec
	}
	if writes(inst, addr, r) {
		return accWrite
	}
	return accRead
}

// executable reports whether the tracee can currently fetch from the
// enclave page at addr.
func (em *Emulator) executable(th *thread, addr uint64) bool {
	e := th.proc.enclaveAt(addr)
	if e == nil {
		return false
	}
	p := e.page(addr)
	return p != nil && p.active && p.prot&unix.PROT_EXEC != 0
}

// writes reports whether inst's access to addr is a write. Memory
// destinations, read-modify-write, PUSH/CALL, string stores and exchanges
// count as writes; CMP/TEST/BT only read.
func writes(inst x86asm.Inst, addr uint64, r *ptrace.Regs) bool {
	switch inst.Op {
	case x86asm.PUSH, x86asm.CALL:
		// Write the stack; PUSH/CALL through memory also read their operand.
		if _, ok := inst.Args[0].(x86asm.Mem); ok {
			return nearStack(addr, r.Rsp-8)
		}
		return true
	case x86asm.PUSHF, x86asm.PUSHFQ, x86asm.ENTER:
		return true
	case x86asm.LDMXCSR, x86asm.FLDCW, x86asm.FLDENV, x86asm.FRSTOR, x86asm.FXRSTOR, x86asm.FXRSTOR64,
		x86asm.XRSTOR, x86asm.XRSTOR64, x86asm.XRSTORS, x86asm.XRSTORS64, x86asm.FLD, x86asm.FILD, x86asm.FBLD,
		x86asm.FCOM, x86asm.FCOMP, x86asm.FICOM, x86asm.FICOMP, x86asm.FADD, x86asm.FIADD, x86asm.FSUB,
		x86asm.FSUBR, x86asm.FISUB, x86asm.FISUBR, x86asm.FMUL, x86asm.FIMUL, x86asm.FDIV, x86asm.FDIVR,
		x86asm.FIDIV, x86asm.FIDIVR, x86asm.CLFLUSH, x86asm.JMP, x86asm.PREFETCHW,
		x86asm.VERR, x86asm.VERW:
		// A memory operand in first position that is only read.
		return false
	case x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ:
		return true
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ:
		// Source [RSI], destination [RDI]: the closer one faulted.
		return dist(addr, r.Rdi) <= dist(addr, r.Rsi)
	case x86asm.CMP, x86asm.TEST, x86asm.BT, x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ,
		x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ, x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ,
		x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHNTA, x86asm.LEA, x86asm.NOP,
		x86asm.UCOMISS, x86asm.UCOMISD, x86asm.COMISS, x86asm.COMISD, x86asm.PTEST:
		return false
	case x86asm.POP, x86asm.POPF, x86asm.POPFQ, x86asm.RET, x86asm.LEAVE:
		// Reads the stack; POP to memory writes its destination.
		if m, ok := inst.Args[0].(x86asm.Mem); ok && inst.Op == x86asm.POP && !nearStack(addr, r.Rsp) {
			_ = m
			return true
		}
		return false
	case x86asm.XCHG, x86asm.XADD, x86asm.CMPXCHG, x86asm.CMPXCHG8B, x86asm.CMPXCHG16B:
		for _, arg := range inst.Args {
			if _, ok := arg.(x86asm.Mem); ok {
				return true
			}
		}
		return false
	}
	_, ok := inst.Args[0].(x86asm.Mem)
	return ok
}

func dist(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

func nearStack(addr, rsp uint64) bool { return dist(addr, rsp) < 64 }

// illegalInEnclave reports instructions that raise #UD inside an enclave
// (SDM "Instructions illegal in an enclave") and that fault natively with
// #GP in user mode, so that the AEX says #UD as hardware would.
func illegalInEnclave(inst x86asm.Inst) bool {
	switch inst.Op {
	case x86asm.INT, x86asm.INTO, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ,
		x86asm.IN, x86asm.INSB, x86asm.INSW, x86asm.INSD, x86asm.OUT, x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD,
		x86asm.LFS, x86asm.LGS, x86asm.LSS, x86asm.LDS, x86asm.LES, x86asm.RDPMC,
		x86asm.SGDT, x86asm.SIDT, x86asm.SLDT, x86asm.STR, x86asm.LGDT, x86asm.LIDT, x86asm.LLDT, x86asm.LTR,
		x86asm.SYSCALL, x86asm.SYSENTER, x86asm.CPUID, x86asm.LRET:
		return true
	case x86asm.MOV:
		if _, ok := inst.Args[0].(x86asm.Reg); ok && isSegReg(inst.Args[0]) {
			return true
		}
	case x86asm.CALL, x86asm.JMP:
		if _, ok := inst.Args[0].(x86asm.Mem); ok && inst.MemBytes > 8 {
			return true // far CALL/JMP through memory
		}
	}
	return false
}

func isSegReg(a x86asm.Arg) bool {
	r, ok := a.(x86asm.Reg)
	return ok && r >= x86asm.ES && r <= x86asm.GS
}

func (em *Emulator) isSSE(th *thread, rip uint64) bool {
	inst, ok := em.decode(th, rip)
	if !ok {
		return false
	}
	for _, a := range inst.Args {
		if r, ok := a.(x86asm.Reg); ok && r >= x86asm.X0 && r <= x86asm.X15 {
			return true
		}
	}
	return false
}

// syscallInEnclave handles a syscall-entry stop of a thread in enclave
// mode: SYSCALL, SYSENTER and INT 0x80 raise #UD in an enclave, and the
// thread runs under PTRACE_SYSCALL, so each one stops here; no code is
// rewritten. The system call is cancelled and the AEX made at its exit
// stop. (Natively SYSCALL has already overwritten RCX and R11 with the
// next RIP and RFLAGS; the SSA shows those values, where hardware would
// show the values before the SYSCALL.)
func (em *Emulator) syscallInEnclave(th *thread, r *ptrace.Regs) error {
	saved := *r
	saved.Rax = saved.Orig_rax
	saved.Rip -= 2 // SYSCALL, SYSENTER and INT 0x80 are all two bytes
	r.Orig_rax = ^uint64(0)
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	th.afterSyscall = func(*ptrace.Regs) error {
		a := udInfo(saved.Rip)
		a.viaTkill = true
		return em.aex(th, &saved, a)
	}
	return ptrace.ContSyscall(th.tid, 0)
}
