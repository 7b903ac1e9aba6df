package emu

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// SGX2 (Enclave Dynamic Memory Management): the leaves an enclave runs
// (EACCEPT, EMODPE, EACCEPTCOPY) and the EAUG the driver's fault handler
// does. The ioctls that run EMODPR and EMODT and remove pages are in
// sgx2ioctl.go. The EPCM state is epcPage.secinfo: type, R/W/X and the
// PENDING, MODIFIED and PR bits.

// secinfoReservedFlags are the SECINFO.FLAGS bits with no meaning: 7:6
// and 63:16.
const secinfoReservedFlags = ^sgx.SecinfoFlags(0x3f | 0xff00)

// rwx is the R/W/X mask of SECINFO.FLAGS.
const rwx = sgx.SecinfoR | sgx.SecinfoW | sgx.SecinfoX

// eaug is ENCLS[EAUG] as sgx_encl_eaug_page runs it on an enclave access
// to addr that has no EPC page: a zeroed PT_REG page, RW in the EPCM and
// PENDING until the enclave accepts it, that any mapping may map (the
// driver gives it vm_max_prot_bits RWX), with a present PTE.
func (em *Emulator) eaug(th *thread, e *enclave, addr uint64, mprot int) *epcPage {
	off := (addr - e.base()) &^ (sgx.PageSize - 1)
	clear(e.mem[off : off+sgx.PageSize])
	p := &epcPage{
		secinfo: sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW) | sgx.SecinfoPending,
		maxProt: unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC,
		mapped:  true, prot: mprot, touched: true,
	}
	e.pages[off] = p
	em.pagesChanged(th, e, off, sgx.PageSize, p.secinfo, "EAUG")
	return p
}

// pagesChanged reports EPCM entries that SGX2 changed.
func (em *Emulator) pagesChanged(th *thread, e *enclave, off, length uint64, s sgx.SecinfoFlags, why string) {
	em.emit(Event{Kind: EvPagesChanged, Pid: th.proc.pid, Tid: th.tid, Enclave: e.base(), Offset: off, Length: length,
		Secinfo: s, Reason: why})
}

// secinfoOperand reads the SECINFO an SGX2 leaf takes at RBX: 64-byte
// aligned and inside ELRANGE (else #GP(0)), on a readable PT_REG page of
// the enclave (else #PF), with its reserved bytes zero (else #GP(0)).
func (em *Emulator) secinfoOperand(th *thread, e *enclave, addr, rip uint64) (sgx.SecinfoFlags, *aexInfo, error) {
	op := operand{addr, sgx.SecinfoSize, sgx.SecinfoSize, false}
	if !op.aligned() || !op.inside(e) {
		return 0, ptr(gpInfo(rip)), nil
	}
	if a, err := em.resolve(th, e, op, rip); a != nil || err != nil {
		return 0, a, err
	}
	b := e.bytesAt(op)
	f := sgx.SecinfoFlags(binary.LittleEndian.Uint64(b))
	for _, c := range b[8:] {
		if c != 0 {
			return 0, ptr(gpInfo(rip)), nil
		}
	}
	if f&secinfoReservedFlags != 0 {
		return 0, ptr(gpInfo(rip)), nil
	}
	return f, nil, nil
}

// epcOperand makes the checks of an EPC page operand of an SGX2 leaf:
// 4 KiB aligned and inside ELRANGE (else #GP(0)), then the page-table walk
// (an EAUG where the driver would do one). The caller checks the EPCM.
func (em *Emulator) epcOperand(th *thread, e *enclave, addr, rip uint64, acc access) (*epcPage, *aexInfo, error) {
	if addr&(sgx.PageSize-1) != 0 || !e.contains(addr) {
		return nil, ptr(gpInfo(rip)), nil
	}
	p, a, err := em.translate(th, e, addr, acc)
	if a != nil || err != nil {
		if a != nil {
			a.rip = rip
		}
		return nil, a, err
	}
	p.touched = true
	return p, nil, nil
}

// epcmFault is the #PF an SGX2 leaf raises when an operand's EPCM entry
// is not what it needs: the page tables allowed the access, so P and SGX.
func epcmFault(rip, addr uint64, acc access) *aexInfo {
	errcd := uint32(pfU | pfP | pfSGX)
	if acc == accWrite {
		errcd |= pfW
	}
	return ptr(pfInfo(rip, addr, errcd))
}

// sgx2Done ends an SGX2 leaf: with setFlags, RAX = code, ZF set when it
// is not 0, CF PF AF OF SF cleared (as EACCEPT's and EACCEPTCOPY's
// operation sections say; EMODPE affects no flag); then leafDone.
func (em *Emulator) sgx2Done(th *thread, r *ptrace.Regs, code sgx.ErrorCode, setFlags bool) error {
	if setFlags {
		r.Rax = uint64(code)
		r.Eflags &^= flagCF | flagPF | flagAF | flagOF | flagSF | flagZF
		if code != 0 {
			r.Eflags |= flagZF
		}
	}
	return em.leafDone(th, r)
}

// eaccept is ENCLU[EACCEPT]: RBX = SECINFO, RCX = the page. The enclave
// accepts an EAUG (PENDING), an EMODPR (PR) or an EMODT (MODIFIED) when
// SECINFO matches the page's EPCM entry; that clears PENDING, MODIFIED
// and PR. A mismatch is SGX_PAGE_ATTRIBUTES_MISMATCH in RAX with ZF set.
func (em *Emulator) eaccept(th *thread, r *ptrace.Regs) error {
	e, rip := th.encl, r.Rip
	si, a, err := em.secinfoOperand(th, e, r.Rbx, rip)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	if r.Rcx&(sgx.PageSize-1) != 0 || !e.contains(r.Rcx) {
		return em.aex(th, r, gpInfo(rip))
	}
	p, a, err := em.epcOperand(th, e, r.Rcx, rip, accRead)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	// The combinations of PT, PENDING, MODIFIED and PR one may accept.
	pt := si.PageType()
	regOK := pt == sgx.PageTypeREG && si&(sgx.SecinfoPR|sgx.SecinfoPending) != 0 && si&sgx.SecinfoModified == 0
	typeOK := (pt == sgx.PageTypeTCS || pt == sgx.PageTypeTRIM) && si&(sgx.SecinfoPR|sgx.SecinfoPending) == 0 && si&sgx.SecinfoModified != 0
	if !regOK && !typeOK {
		return em.aex(th, r, gpInfo(rip))
	}
	switch p.secinfo.PageType() {
	case sgx.PageTypeREG, sgx.PageTypeTCS, sgx.PageTypeTRIM:
	default:
		return em.aex(th, r, *epcmFault(rip, r.Rcx, accRead))
	}
	const match = sgx.SecinfoPending | sgx.SecinfoModified | rwx | sgx.SecinfoFlags(0xff00)
	if p.secinfo&match != si&match {
		return em.sgx2Done(th, r, sgx.ErrPageAttributesMismatch, true)
	}
	off := r.Rcx - e.base()
	if pt == sgx.PageTypeTCS {
		var t sgx.TCS
		page := e.mem[off : off+sgx.PageSize]
		if t.UnmarshalBinary(page[:sgx.TCSSize]) != nil || t.Validate() != nil || !allZero(page[sgx.TCSSize:]) ||
			t.Flags&sgx.TCSDbgOptIn != 0 || t.CSSA >= t.NSSA || t.AEP != 0 || t.State != 0 {
			return em.aex(th, r, gpInfo(rip))
		}
	}
	p.secinfo &^= sgx.SecinfoPending | sgx.SecinfoModified | sgx.SecinfoPR
	if err := em.revokeAt(th, p, r.Rcx); err != nil {
		return err
	}
	em.pagesChanged(th, e, off, sgx.PageSize, p.secinfo, "EACCEPT")
	return em.sgx2Done(th, r, 0, true)
}

// emodpe is ENCLU[EMODPE]: RBX = SECINFO, RCX = the page. It extends the
// EPCM permissions of a PT_REG page (never restricts them); no flags.
func (em *Emulator) emodpe(th *thread, r *ptrace.Regs) error {
	e, rip := th.encl, r.Rip
	if r.Rbx&(sgx.SecinfoSize-1) != 0 || r.Rcx&(sgx.PageSize-1) != 0 || !e.contains(r.Rbx) || !e.contains(r.Rcx) {
		return em.aex(th, r, gpInfo(rip))
	}
	si, a, err := em.secinfoOperand(th, e, r.Rbx, rip)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	p, a, err := em.epcOperand(th, e, r.Rcx, rip, accRead)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	if p.secinfo.PageType() != sgx.PageTypeREG || p.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0 {
		return em.aex(th, r, *epcmFault(rip, r.Rcx, accRead))
	}
	if p.secinfo&sgx.SecinfoR == 0 && si&sgx.SecinfoR == 0 && si&sgx.SecinfoW != 0 {
		return em.aex(th, r, gpInfo(rip))
	}
	p.secinfo |= si & rwx
	if err := em.revokeAt(th, p, r.Rcx); err != nil {
		return err
	}
	em.pagesChanged(th, e, r.Rcx-e.base(), sgx.PageSize, p.secinfo, "EMODPE")
	return em.sgx2Done(th, r, 0, false)
}

// eacceptcopy is ENCLU[EACCEPTCOPY]: RBX = SECINFO, RCX = a PENDING page,
// RDX = the source page. It copies the source into the pending page and
// gives it SECINFO's permissions, accepting it.
func (em *Emulator) eacceptcopy(th *thread, r *ptrace.Regs) error {
	e, rip := th.encl, r.Rip
	if r.Rbx&(sgx.SecinfoSize-1) != 0 || (r.Rcx|r.Rdx)&(sgx.PageSize-1) != 0 ||
		!e.contains(r.Rbx) || !e.contains(r.Rcx) || !e.contains(r.Rdx) {
		return em.aex(th, r, gpInfo(rip))
	}
	si, a, err := em.secinfoOperand(th, e, r.Rbx, rip)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	if si.PageType() != sgx.PageTypeREG || si&sgx.SecinfoR == 0 && si&sgx.SecinfoW != 0 {
		return em.aex(th, r, gpInfo(rip))
	}
	src, a, err := em.epcOperand(th, e, r.Rdx, rip, accRead)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	if !epcmAllows(src, accRead) {
		return em.aex(th, r, *epcmFault(rip, r.Rdx, accRead))
	}
	dst, a, err := em.epcOperand(th, e, r.Rcx, rip, accWrite)
	if a != nil || err != nil {
		return em.leafFault(th, r, a, err)
	}
	want := sgx.MakeSecinfoFlags(sgx.PageTypeREG, sgx.SecinfoR|sgx.SecinfoW) | sgx.SecinfoPending
	if dst.secinfo&^sgx.SecinfoPR != want {
		return em.sgx2Done(th, r, sgx.ErrPageAttributesMismatch, true)
	}
	doff, soff := r.Rcx-e.base(), r.Rdx-e.base()
	copy(e.mem[doff:doff+sgx.PageSize], e.mem[soff:soff+sgx.PageSize])
	dst.secinfo = dst.secinfo&^(rwx|sgx.SecinfoPending) | si&rwx
	if err := em.revokeAt(th, dst, r.Rcx); err != nil {
		return err
	}
	em.pagesChanged(th, e, doff, sgx.PageSize, dst.secinfo, "EACCEPTCOPY")
	return em.sgx2Done(th, r, 0, true)
}

// leafFault raises the AEX an operand check produced, or returns err.
func (em *Emulator) leafFault(th *thread, r *ptrace.Regs, a *aexInfo, err error) error {
	if err != nil {
		return err
	}
	return em.aex(th, r, *a)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// edeccssa is ENCLU[EDECCSSA] (AEX-Notify): CSSA − 1 on the thread's TCS,
// so that a handler the AEX-Notify ERESUME entered can make the
// interrupted frame current again and resume it itself. #GP(0) when CSSA
// is 0; #PF when the frame that becomes current is not RW PT_REG pages.
// No flags are affected.
func (em *Emulator) edeccssa(th *thread, r *ptrace.Regs) error {
	e := th.encl
	t, err := e.currentTCS(th.tcs)
	if err != nil {
		return err
	}
	if t.CSSA == 0 {
		return em.aex(th, r, gpInfo(r.Rip))
	}
	if _, _, err := e.ssaFrame(t, t.CSSA-1); err != nil {
		frame := e.base() + t.OSSA + uint64(t.CSSA-1)*uint64(e.secs.SSAFrameSize)*sgx.PageSize
		return em.aex(th, r, *epcmFault(r.Rip, frame, accWrite))
	}
	e.putTCS32(th.tcs, tcsCSSA, t.CSSA-1)
	if t.CSSA == 1 {
		e.rearm() // as ERESUME does when no frame is left
	}
	return em.leafDone(th, r)
}
