package emu

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

var encluBytes = [3]byte{0x0f, 0x01, 0xd7}

// readCode reads instruction bytes at addr as th executes them: from the
// emulated EPC for enclave addresses, from the process otherwise.
func (em *Emulator) readCode(th *thread, addr uint64, buf []byte) int {
	if e := th.proc.enclaveAt(addr); e != nil {
		off := addr - e.base()
		return copy(buf, e.mem[off:min(off+uint64(len(buf)), e.size())])
	}
	n, _ := th.proc.mem.ReadMemory(buf, addr)
	return n
}

// atENCLU reports whether th stopped at an ENCLU. Host call sites are
// remembered (until exec): most stops of an SGX host are at its one or
// two ENCLU instructions.
func (em *Emulator) atENCLU(th *thread, rip uint64) bool {
	if th.proc.enclu[rip] {
		return true
	}
	var b [3]byte
	if em.readCode(th, rip, b[:]) != 3 || b != encluBytes {
		return false
	}
	if th.proc.enclaveAt(rip) == nil {
		th.proc.enclu[rip] = true
	}
	return true
}

// handleSignal handles a signal-delivery-stop.
func (em *Emulator) handleSignal(th *thread, sig unix.Signal, si ptrace.Siginfo) error {
	if d := th.deliver; d != nil && sig == unix.Signal(d.Signo) && si.Code == ptrace.SITkill {
		th.deliver = nil
		if err := ptrace.SetSiginfo(th.tid, d); err != nil {
			return err
		}
		return em.resume(th, sig)
	}
	r, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	if em.takeInterrupt(th, sig, si) {
		return em.interrupted(th, &r)
	}
	if sig == unix.SIGTRAP && si.Code == ptrace.TrapHwBkpt && !th.inEnclave() && em.drGen > 0 {
		// Host code touched a range the debugger watches in an enclave
		// (a documented gap: hardware gives the host abort-page
		// semantics there): not the host's trap.
		if dr6, _, err := em.debugTrap(th); err != nil || dr6&dr6Hits != 0 {
			if err != nil {
				return err
			}
			return em.resume(th, 0)
		}
	}
	if encluTrap(sig, &si, r.Rip) && em.atENCLU(th, r.Rip) {
		return em.enclu(th, &r)
	}
	if th.inEnclave() {
		if si.Code > 0 && isFault(sig) {
			return em.fault(th, &r, sig, &si)
		}
		// An asynchronous signal interrupts the enclave: an AEX with
		// EXITINFO invalid, then the signal at the AEP.
		return em.aex(th, &r, aexInfo{interrupt: true, rip: r.Rip, sig: sig, si: si})
	}
	if sig == unix.SIGSEGV && si.Code == ptrace.SIKernel && em.cpuid == CPUIDFaulting && !th.hostCPUIDFault && em.atCPUID(th, r.Rip) {
		return em.hostCPUID(th, &r)
	}
	if sig == unix.SIGSEGV && si.Code > 0 {
		if ok, err := em.hostTouch(th, si.Addr); ok || err != nil {
			if err != nil {
				return err
			}
			return em.resume(th, 0)
		}
	}
	return em.resume(th, sig)
}

// encluTrap reports whether a signal stopped at an ENCLU may be that
// ENCLU's own fault. Without SGX, ENCLU raises #UD (SIGILL). Where ENCLU is
// a real instruction (SGX enabled, or present with no driver) it raises
// #GP outside a real enclave (SIGSEGV, SI_KERNEL) or #PF on its operands
// (SIGSEGV or SIGBUS at the TCS address). A #PF fetching the instruction
// itself (si_addr inside its three bytes) is not, nor is a trap (SIGTRAP)
// that merely stopped there.
func encluTrap(sig unix.Signal, si *ptrace.Siginfo, rip uint64) bool {
	switch sig {
	case unix.SIGILL:
		return true
	case unix.SIGSEGV, unix.SIGBUS:
		if si.Code == ptrace.SIKernel {
			return true
		}
		if si.Code <= 0 {
			return false // sent by a process, not raised by the instruction
		}
		return si.Addr < rip || si.Addr >= rip+uint64(len(encluBytes))
	}
	return false
}

func isFault(sig unix.Signal) bool {
	switch sig {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
		return true
	}
	return false
}

// hostTouch serves a host (non-enclave-mode) access to an enclave page
// that is not yet accessible: as the driver would, the page is faulted in.
// TCS pages and pages the EPCM makes inaccessible (PENDING, MODIFIED,
// TRIM) stay so, and the host gets the SIGSEGV (hardware would give it
// abort-page semantics).
func (em *Emulator) hostTouch(th *thread, addr uint64) (bool, error) {
	e := th.proc.enclaveAt(addr)
	if e == nil || !e.mapped(addr) {
		return false, nil
	}
	p := e.page(addr)
	if p == nil || p.active || p.effectiveProt() == unix.PROT_NONE {
		return false, nil
	}
	return true, em.activate(th, p, addr)
}

// enclu executes the ENCLU leaf in EAX for a thread stopped at ENCLU.
func (em *Emulator) enclu(th *thread, r *ptrace.Regs) error {
	leaf := sgx.EncluLeaf(uint32(r.Rax))
	gp := func(reason string) error {
		if th.inEnclave() {
			return em.aex(th, r, gpInfo(r.Rip))
		}
		return em.encluFault(th, r, leaf, gpErr("%s", reason))
	}
	// SDM ENCLU operation: an undefined leaf raises #GP(0), inside an
	// enclave or not; which leaves exist follows CPUID.(12H,0).EAX.
	if !em.leafExists(leaf) {
		return gp(fmt.Sprintf("%v is not an ENCLU leaf of the %s processor", leaf, em.model))
	}
	if th.inEnclave() {
		switch leaf {
		case sgx.LeafEEXIT:
			return em.eexit(th, r)
		case sgx.LeafEENTER, sgx.LeafERESUME:
			// Inside an enclave these leaves raise #GP(0).
			return em.aex(th, r, gpInfo(r.Rip))
		case sgx.LeafEREPORT:
			return em.ereport(th, r)
		case sgx.LeafEGETKEY:
			return em.egetkey(th, r)
		case sgx.LeafEACCEPT:
			return em.eaccept(th, r)
		case sgx.LeafEMODPE:
			return em.emodpe(th, r)
		case sgx.LeafEACCEPTCOPY:
			return em.eacceptcopy(th, r)
		case sgx.LeafEDECCSSA:
			return em.edeccssa(th, r)
		}
		return em.aex(th, r, gpInfo(r.Rip)) // not reached: leafExists
	}
	switch leaf {
	case sgx.LeafEENTER:
		return em.eenter(th, r)
	case sgx.LeafERESUME:
		return em.eresume(th, r)
	}
	// Outside an enclave only EENTER and ERESUME are allowed: #GP(0).
	return gp(fmt.Sprintf("%v outside an enclave", leaf))
}

// leafExists reports whether the emulated processor defines an ENCLU
// leaf: the SGX1 leaves always, EACCEPT, EMODPE and EACCEPTCOPY with
// SGX2; EDECCSSA where CPUID reports it (the sgx2 model, with AEX-Notify);
// EVERIFYREPORT2 never (a TDX leaf).
func (em *Emulator) leafExists(l sgx.EncluLeaf) bool {
	switch l {
	case sgx.LeafEREPORT, sgx.LeafEGETKEY, sgx.LeafEENTER, sgx.LeafERESUME, sgx.LeafEEXIT:
		return true
	case sgx.LeafEACCEPT, sgx.LeafEMODPE, sgx.LeafEACCEPTCOPY:
		return em.model == CPUSGX2
	case sgx.LeafEDECCSSA:
		return em.sgx.EDECCSSA
	}
	return false
}

// encluError is a failed check of EENTER or ERESUME: the fault the SDM
// names, raised at the ENCLU instruction.
type encluError struct {
	vector sgx.Vector
	code   int32 // si_code for the SIGSEGV
	addr   uint64
	reason string
}

func gpErr(format string, a ...any) *encluError {
	return &encluError{vector: sgx.VectorGP, code: ptrace.SIKernel, reason: fmt.Sprintf(format, a...)}
}

func pfErr(code int32, addr uint64, format string, a ...any) *encluError {
	return &encluError{vector: sgx.VectorPF, code: code, addr: addr, reason: fmt.Sprintf(format, a...)}
}

// checkEntry runs the checks EENTER and ERESUME share (SDM EENTER/ERESUME
// operation) and returns the enclave and its TCS.
func (em *Emulator) checkEntry(th *thread, tcsAddr uint64) (*enclave, sgx.TCS, *encluError) {
	var t sgx.TCS
	e := th.proc.enclaveAt(tcsAddr)
	if e == nil || !e.mapped(tcsAddr) {
		return nil, t, pfErr(ptrace.SegvMapErr, tcsAddr, "TCS %#x is not in a mapped enclave", tcsAddr)
	}
	if tcsAddr&(sgx.PageSize-1) != 0 {
		return nil, t, gpErr("TCS %#x is not page aligned", tcsAddr)
	}
	if !e.inited {
		return nil, t, gpErr("enclave %#x is not initialized", e.base())
	}
	t, err := e.tcs(tcsAddr)
	if err != nil {
		return nil, t, pfErr(ptrace.SegvAccErr, tcsAddr, "%v", err)
	}
	if t.State != 0 {
		return nil, t, gpErr("TCS %#x is busy", tcsAddr)
	}
	if err := t.Validate(); err != nil {
		return nil, t, gpErr("TCS %#x: %v", tcsAddr, err)
	}
	aexn := t.Flags&sgx.TCSAEXNotify != 0
	if aexn != (e.secs.Attributes.Flags&sgx.AttrAEXNotify != 0) && t.Flags&sgx.TCSDbgOptIn == 0 {
		return nil, t, gpErr("TCS %#x AEXNOTIFY differs from the enclave's", tcsAddr)
	}
	return e, t, nil
}

// encluFault delivers the fault of a failed EENTER/ERESUME at the ENCLU.
func (em *Emulator) encluFault(th *thread, r *ptrace.Regs, leaf sgx.EncluLeaf, f *encluError) error {
	si := ptrace.Siginfo{Signo: int32(unix.SIGSEGV), Code: f.code, Addr: f.addr}
	errcd := uint64(0)
	if f.vector == sgx.VectorPF {
		errcd = 0x4 // user-mode access to a page without a usable PTE
		if f.code == ptrace.SegvAccErr {
			errcd = 0x8005 // present, but not a TCS in the EPCM
		}
	}
	d := &delivery{si: si, fix: th.proc.fixupFor(r.Rip, f.vector, errcd, f.addr)}
	ev := Event{Kind: EvENCLUFault, Pid: th.proc.pid, Tid: th.tid, TCS: r.Rbx, Leaf: leaf,
		Vector: f.vector, Reason: f.reason, RIP: r.Rip, Delivery: target.Delivery{Signal: unix.SIGSEGV}}
	if d.fix != nil {
		ev.Delivery = target.Delivery{VDSO: true}
	}
	em.emit(ev)
	if th.run != nil {
		// The EENTER of a debugger-started handler run was refused.
		return em.endRun(th, &HandlerResult{Event: &ev})
	}
	em.hold(th, ev, d)
	return nil
}

// enter puts th in enclave mode on tcs.
func (em *Emulator) enter(th *thread, r *ptrace.Regs, e *enclave, tcs, aep uint64) error {
	e.putTCS64(tcs, tcsState, 1)
	e.putTCS64(tcs, tcsAEP, aep)
	th.encl, th.tcs, th.aep = e, tcs, aep
	th.outsideFS, th.outsideGS = r.Fs_base, r.Gs_base
	return nil
}

// eenter is ENCLU[EENTER]: RBX = TCS, RCX = AEP.
func (em *Emulator) eenter(th *thread, r *ptrace.Regs) error {
	tcsAddr := r.Rbx
	e, t, ferr := em.checkEntry(th, tcsAddr)
	if ferr == nil && t.CSSA >= t.NSSA {
		ferr = gpErr("CSSA %d >= NSSA %d: no free SSA frame", t.CSSA, t.NSSA)
	}
	var frame []byte
	if ferr == nil {
		var err error
		if frame, _, err = e.ssaFrame(t, t.CSSA); err != nil {
			ferr = pfErr(ptrace.SegvAccErr, e.base()+t.OSSA, "%v", err)
		}
	}
	if ferr != nil {
		return em.encluFault(th, r, sgx.LeafEENTER, ferr)
	}
	gpr := len(frame) - ssa.GPRSGXSize
	binary.LittleEndian.PutUint64(frame[gpr+ssa.OffURSP:], r.Rsp)
	binary.LittleEndian.PutUint64(frame[gpr+ssa.OffURBP:], r.Rbp)
	if err := em.enter(th, r, e, tcsAddr, r.Rcx); err != nil {
		return err
	}
	r.Rax = uint64(t.CSSA)
	r.Rcx = r.Rip + uint64(len(encluBytes))
	r.Fs_base = e.base() + t.OFSBASGX
	r.Gs_base = e.base() + t.OGSBASGX
	r.Rip = e.base() + t.OENTRY
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	return em.transition(th, Event{Kind: EvEENTER, Pid: th.proc.pid, Tid: th.tid, Enclave: e.base(), TCS: tcsAddr, CSSA: int(t.CSSA)})
}

// eresume is ENCLU[ERESUME]: restore the thread from SSA[CSSA-1].
func (em *Emulator) eresume(th *thread, r *ptrace.Regs) error {
	tcsAddr := r.Rbx
	e, t, ferr := em.checkEntry(th, tcsAddr)
	if ferr == nil && t.CSSA == 0 {
		ferr = gpErr("CSSA is 0: no SSA frame to resume from")
	}
	var frame []byte
	if ferr == nil {
		var err error
		if frame, _, err = e.ssaFrame(t, t.CSSA-1); err != nil {
			ferr = pfErr(ptrace.SegvAccErr, e.base()+t.OSSA, "%v", err)
		}
	}
	if ferr != nil {
		return em.encluFault(th, r, sgx.LeafERESUME, ferr)
	}
	gpr := len(frame) - ssa.GPRSGXSize
	// AEX-Notify: with the TCS and the frame both opted in, ERESUME enters
	// at OENTRY like EENTER, leaving CSSA as it is.
	if t.Flags&sgx.TCSAEXNotify != 0 && frame[gpr+ssa.OffAEXNotify]&1 != 0 {
		if t.CSSA >= t.NSSA {
			return em.encluFault(th, r, sgx.LeafERESUME, gpErr("AEX-Notify entry with CSSA %d >= NSSA %d", t.CSSA, t.NSSA))
		}
		return em.eenter(th, r)
	}
	raw := make([]byte, ssa.GPRSGXSize)
	copy(raw, frame[gpr:])
	clear(raw[ssa.OffEXITINFO : ssa.OffEXITINFO+4]) // ERESUME does not read EXITINFO
	var g ssa.GPRSGX
	if err := g.UnmarshalBinary(raw); err != nil {
		return fmt.Errorf("ERESUME on TCS %#x: %w", tcsAddr, err)
	}
	xbuf, err := ptrace.GetXState(th.tid, make([]byte, em.xs.size))
	if err != nil {
		return err
	}
	if err := em.xs.fromSSA(xbuf, frame[:sgx.XSaveSize(e.secs.Attributes.XFRM)], e.secs.Attributes.XFRM); err != nil {
		return fmt.Errorf("ERESUME on TCS %#x: %w", tcsAddr, err)
	}
	if err := ptrace.SetXState(th.tid, xbuf); err != nil {
		return err
	}
	if err := em.enter(th, r, e, tcsAddr, r.Rcx); err != nil {
		return err
	}
	r.Rax, r.Rcx, r.Rdx, r.Rbx = g.RAX, g.RCX, g.RDX, g.RBX
	r.Rsp, r.Rbp, r.Rsi, r.Rdi = g.RSP, g.RBP, g.RSI, g.RDI
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = g.R8, g.R9, g.R10, g.R11, g.R12, g.R13, g.R14, g.R15
	const tf = 0x100
	r.Eflags = g.RFLAGS&^tf | r.Eflags&tf
	r.Rip = g.RIP
	r.Fs_base, r.Gs_base = g.FSBase, g.GSBase
	r.Orig_rax = ^uint64(0)
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	cssa := t.CSSA - 1
	e.putTCS32(tcsAddr, tcsCSSA, cssa)
	if cssa == 0 {
		e.rearm()
	}
	return em.transition(th, Event{Kind: EvERESUME, Pid: th.proc.pid, Tid: th.tid, Enclave: e.base(), TCS: tcsAddr, CSSA: int(cssa)})
}

// transition reports an enclave entry or exit and holds the thread there
// as a stop; inside a handler run the debugger started, the thread just
// goes on.
func (em *Emulator) transition(th *thread, ev Event) error {
	if th.encl != nil {
		ev = th.encl.osView(ev)
	}
	em.emit(ev)
	if th.run != nil {
		return em.resume(th, 0)
	}
	em.hold(th, ev, nil)
	return nil
}

// eexit is ENCLU[EEXIT]: leave the enclave to RBX, RCX = AEP. No register
// is cleared and RSP/RBP stay as the enclave left them.
func (em *Emulator) eexit(th *thread, r *ptrace.Regs) error {
	e, tcs := th.encl, th.tcs
	r.Rip = r.Rbx
	r.Rcx = th.aep
	if th.debugStep {
		// The debugger's single step ends at the EEXIT (its stop): the
		// host's code after it is not the debugger's to trap.
		const tf = 0x100
		r.Eflags &^= tf
		th.debugStep = false
	}
	r.Fs_base, r.Gs_base = th.outsideFS, th.outsideGS
	e.putTCS64(tcs, tcsState, 0)
	th.encl = nil
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	return em.transition(th, Event{Kind: EvEEXIT, Pid: th.proc.pid, Tid: th.tid, Enclave: e.base(), TCS: tcs})
}
