package emu

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// operand is one memory operand of EREPORT or EGETKEY.
type operand struct {
	addr  uint64
	align uint64
	size  uint64
	write bool
}

// gpInfo is the #GP(0) AEX of a failed operand check at the ENCLU.
func gpInfo(rip uint64) aexInfo {
	return aexInfo{vector: sgx.VectorGP, exitType: sgx.ExitHardware, rip: rip, exinfo: true,
		sig: unix.SIGSEGV, si: ptrace.Siginfo{Signo: int32(unix.SIGSEGV), Code: ptrace.SIKernel}}
}

// aligned and inside are the #GP(0) checks of an operand (SDM EREPORT and
// EGETKEY operation: "not nByte aligned", "not within CR_ELRANGE").
func (op operand) aligned() bool { return op.addr&(op.align-1) == 0 }

func (op operand) inside(e *enclave) bool {
	return op.addr >= e.base() && op.addr-e.base() < e.size() && e.size()-(op.addr-e.base()) >= op.size
}

// resolve makes the #PF checks of an operand inside ELRANGE: the page must
// be mapped and allow the access in the host's page tables (else an
// ordinary page-table fault; a missing page is EAUGed on SGX2, as the
// driver's fault handler does), and be a REG page of this enclave whose
// EPCM entry allows it (else an EPCM fault, error code bit SGX). A page
// the driver would fault in silently is made accessible, as the
// processor's access would. It returns nil when the operand may be
// accessed.
func (em *Emulator) resolve(th *thread, e *enclave, op operand, rip uint64) (*aexInfo, error) {
	acc := accRead
	if op.write {
		acc = accWrite
	}
	p, a, err := em.translate(th, e, op.addr, acc)
	if a != nil || err != nil {
		if a != nil {
			a.rip = rip
		}
		return a, err
	}
	if !epcmAllows(p, acc) {
		p.touched = true
		a := pfInfo(rip, op.addr, pfU|pfP|pfSGX)
		if op.write {
			a.errcd |= pfW
		}
		return &a, nil
	}
	if !p.active {
		if err := em.activate(th, p, op.addr); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// pfInfo is the #PF AEX of an access to addr with error code errcd.
func pfInfo(rip, addr uint64, errcd uint32) aexInfo {
	return aexInfo{vector: sgx.VectorPF, exitType: sgx.ExitHardware, rip: rip, exinfo: true, maddr: addr, errcd: errcd,
		sig: unix.SIGSEGV, si: ptrace.Siginfo{Signo: int32(unix.SIGSEGV), Code: ptrace.SegvAccErr}}
}

// checkOperands makes the operand checks of EREPORT and EGETKEY in their
// operation sections' order, operand by operand: alignment and ELRANGE
// (#GP(0)), then the page (#PF). It returns the AEX to raise, or nil.
func (em *Emulator) checkOperands(th *thread, e *enclave, rip uint64, ops ...operand) (*aexInfo, error) {
	for _, op := range ops {
		if !op.aligned() || !op.inside(e) {
			return ptr(gpInfo(rip)), nil
		}
		if a, err := em.resolve(th, e, op, rip); a != nil || err != nil {
			return a, err
		}
	}
	return nil, nil
}

func ptr[T any](v T) *T { return &v }

// bytesAt returns the enclave bytes of a checked operand.
func (e *enclave) bytesAt(op operand) []byte {
	off := op.addr - e.base()
	return e.mem[off : off+op.size]
}

// RFLAGS bits EGETKEY clears (and sets ZF on failure).
const (
	flagCF = 1 << 0
	flagPF = 1 << 2
	flagAF = 1 << 4
	flagZF = 1 << 6
	flagSF = 1 << 7
	flagOF = 1 << 11
)

// ereport is ENCLU[EREPORT] in enclave mode: RBX = TARGETINFO (512-byte
// aligned), RCX = REPORTDATA (128-byte aligned), RDX = OUTPUTDATA (512-byte
// aligned), all inside the enclave. It writes the REPORT, MACed with the
// target's REPORT key. Flags are not affected.
func (em *Emulator) ereport(th *thread, r *ptrace.Regs) error {
	e := th.encl
	ti := operand{r.Rbx, sgx.TargetInfoAlign, sgx.TargetInfoSize, false}
	rd := operand{r.Rcx, sgx.ReportDataAlign, sgx.ReportDataSize, false}
	out := operand{r.Rdx, sgx.ReportAlign, sgx.ReportSize, true}
	a, err := em.checkOperands(th, e, r.Rip, ti, rd, out)
	if err != nil {
		return err
	}
	if a != nil {
		return em.aex(th, r, *a)
	}
	h, err := em.keyHierarchy()
	if err != nil {
		return fmt.Errorf("EREPORT at %#x: %w", r.Rip, err)
	}
	var target sgx.TargetInfo
	if err := target.UnmarshalBinary(e.bytesAt(ti)); err != nil {
		return fmt.Errorf("EREPORT at %#x: %w", r.Rip, err)
	}
	var data [sgx.ReportDataSize]byte
	copy(data[:], e.bytesAt(rd))
	rep := h.Report(&e.ident, &target, data)
	b, err := rep.MarshalBinary()
	if err != nil {
		return err
	}
	copy(e.bytesAt(out), b)
	return em.leafDone(th, r)
}

// egetkey is ENCLU[EGETKEY] in enclave mode: RBX = KEYREQUEST (512-byte
// aligned), RCX = OUTPUTDATA (16-byte aligned), both inside the enclave.
// Reserved KEYREQUEST bytes or KEYPOLICY bits, and KSS-only requests
// without KSS, raise #GP(0); the checks with an error code leave it in RAX
// with ZF = 1; on success the key is written, RAX = 0 and ZF = 0. CF, PF,
// AF, OF and SF are cleared either way.
func (em *Emulator) egetkey(th *thread, r *ptrace.Regs) error {
	e := th.encl
	kr := operand{r.Rbx, sgx.KeyRequestAlign, sgx.KeyRequestSize, false}
	out := operand{r.Rcx, sgx.KeyAlign, sgx.KeySize, true}
	a, err := em.checkOperands(th, e, r.Rip, kr, out)
	if err != nil {
		return err
	}
	if a != nil {
		return em.aex(th, r, *a)
	}
	var req sgx.KeyRequest
	if err := req.UnmarshalBinary(e.bytesAt(kr)); err != nil {
		return em.aex(th, r, gpInfo(r.Rip)) // reserved bytes set
	}
	h, err := em.keyHierarchy()
	if err != nil {
		return fmt.Errorf("EGETKEY at %#x: %w", r.Rip, err)
	}
	key, err := h.GetKey(&e.ident, &req)
	var ke *sgx.KeyError
	r.Eflags &^= flagCF | flagPF | flagAF | flagZF | flagSF | flagOF
	switch {
	case err == nil:
		copy(e.bytesAt(out), key[:])
		r.Rax = 0
	case errors.As(err, &ke):
		r.Rax = uint64(ke.Code)
		r.Eflags |= flagZF
	default: // a *sgx.RuleError: #GP(0)
		return em.aex(th, r, gpInfo(r.Rip))
	}
	return em.leafDone(th, r)
}

// leafDone ends an ENCLU leaf that stays in the enclave: the thread goes
// on after the instruction. With RFLAGS.TF set (a debugger single-steps
// the enclave), the emulated instruction completes like any other: the
// single-step #DB is taken right after it, as an AEX with SSA.RIP at the
// next instruction. (Resuming with TF would trap only after the next
// instruction: the #UD the tracer caught came before TF's trap.)
func (em *Emulator) leafDone(th *thread, r *ptrace.Regs) error {
	r.Rip += uint64(len(encluBytes))
	const tf = 0x100
	if r.Eflags&tf != 0 {
		return em.aex(th, r, aexInfo{vector: sgx.VectorDB, exitType: sgx.ExitHardware, rip: r.Rip,
			sig: unix.SIGTRAP, si: ptrace.Siginfo{Signo: int32(unix.SIGTRAP), Code: ptrace.TrapTrace}})
	}
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	return em.resume(th, 0)
}
