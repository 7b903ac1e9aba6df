package emu

import (
	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// The SGX2 ioctls, as arch/x86/kernel/cpu/sgx/ioctl.c answers them:
// SGX_IOC_ENCLAVE_RESTRICT_PERMISSIONS (EMODPR), SGX_IOC_ENCLAVE_MODIFY_TYPES
// (EMODT to PT_TCS or PT_TRIM) and SGX_IOC_ENCLAVE_REMOVE_PAGES. Each walks
// its range a page at a time and stops at the first page that fails; count
// says how many bytes were done and is written back with the rest of the
// argument, also on failure.

// sgx2Op is the page work of one SGX2 ioctl: changed pages whose tracee
// mapping must lose its rights, and events to report.
type sgx2Op struct {
	revoke []revokeReq
	events []Event
}

type revokeReq struct {
	p    *epcPage
	addr uint64
}

// note records that the page at off changed to s (why); consecutive pages
// that end in the same state make one event.
func (o *sgx2Op) note(pid int, e *enclave, off uint64, s sgx.SecinfoFlags, why string) {
	if n := len(o.events); n > 0 {
		last := &o.events[n-1]
		if last.Offset+last.Length == off && last.Secinfo == s {
			last.Length += sgx.PageSize
			return
		}
	}
	o.events = append(o.events, Event{Kind: EvPagesChanged, Pid: pid, Enclave: e.base(), Offset: off,
		Length: sgx.PageSize, Secinfo: s, Reason: why})
}

// sysSGX2Ioctl runs an SGX2 ioctl. The system call itself is skipped; at
// its exit the pages whose rights shrank are made inaccessible in the
// tracee (an injected mprotect cannot run at the seccomp stop) and the
// result is set.
func (em *Emulator) sysSGX2Ioctl(th *thread, r *ptrace.Regs, e *enclave, req uint32, arg uint64) error {
	var op sgx2Op
	ret := em.sgx2Ioctl(th, e, req, arg, &op)
	if len(op.revoke) == 0 {
		for _, ev := range op.events {
			ev.Tid = th.tid
			em.emit(ev)
		}
		return em.answer(th, r, ret)
	}
	r.Orig_rax = ^uint64(0)
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	th.afterSyscall = func(out *ptrace.Regs) error {
		for _, q := range op.revoke {
			if err := em.revokeAt(th, q.p, q.addr); err != nil {
				return err
			}
		}
		for _, ev := range op.events {
			ev.Tid = th.tid
			em.emit(ev)
		}
		out.Rax = uint64(ret)
		return ptrace.SetRegs(th.tid, out)
	}
	return em.resume(th, 0)
}

// sgx2Ioctl returns the ioctl's result, making the kernel's checks in its
// order: sgx_ioc_sgx2_ready (ENODEV without SGX2, EINVAL before EINIT),
// the copy of the argument (EFAULT), the range (EINVAL), the fields
// (EINVAL), then the pages.
func (em *Emulator) sgx2Ioctl(th *thread, e *enclave, req uint32, arg uint64, op *sgx2Op) int64 {
	if em.model != CPUSGX2 {
		return errnoRet(unix.ENODEV)
	}
	if !e.inited {
		return errnoRet(unix.EINVAL)
	}
	var arg2 sgx2Arg
	switch req {
	case sgx.IocEnclaveRestrictPermissions:
		arg2 = new(sgx.EnclaveRestrictPermissions)
	case sgx.IocEnclaveModifyTypes:
		arg2 = new(sgx.EnclaveModifyTypes)
	default:
		arg2 = new(sgx.EnclaveRemovePages)
	}
	b, ok := readStruct(th.proc, arg, sgx.Ioctl(req).Size())
	if !ok || arg2.UnmarshalBinary(b) != nil {
		return errnoRet(unix.EFAULT)
	}
	var ret int64
	switch a := arg2.(type) {
	case *sgx.EnclaveRestrictPermissions:
		perm := sgx.SecinfoFlags(a.Permissions)
		switch {
		case !validRange(e, a.Offset, a.Length):
			return errnoRet(unix.EINVAL)
		case perm&^rwx != 0, perm&sgx.SecinfoW != 0 && perm&sgx.SecinfoR == 0, a.Result != 0 || a.Count != 0:
			return errnoRet(unix.EINVAL)
		}
		var code sgx.ErrorCode
		a.Count, code, ret = em.restrictPermissions(th, e, a.Offset, a.Length, perm, op)
		a.Result = uint64(code)
	case *sgx.EnclaveModifyTypes:
		switch {
		case !validRange(e, a.Offset, a.Length):
			return errnoRet(unix.EINVAL)
		case a.PageType&^0xff != 0, a.Result != 0 || a.Count != 0:
			return errnoRet(unix.EINVAL)
		}
		var code sgx.ErrorCode
		a.Count, code, ret = em.modifyTypes(th, e, a.Offset, a.Length, sgx.PageType(a.PageType), op)
		a.Result = uint64(code)
	case *sgx.EnclaveRemovePages:
		if !validRange(e, a.Offset, a.Length) || a.Count != 0 {
			return errnoRet(unix.EINVAL)
		}
		a.Count, ret = em.removePages(th, e, a.Offset, a.Length, op)
	}
	out, _ := arg2.MarshalBinary()
	if _, err := th.proc.mem.WriteMemory(out, arg); err != nil {
		return errnoRet(unix.EFAULT)
	}
	return ret
}

// sgx2Arg is the argument of an SGX2 ioctl.
type sgx2Arg interface {
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// validRange is sgx_validate_offset_length.
func validRange(e *enclave, offset, length uint64) bool {
	return offset&(sgx.PageSize-1) == 0 && length != 0 && length&(sgx.PageSize-1) == 0 &&
		offset+length >= offset && offset+length-sgx.PageSize < e.size()
}

// restrictPermissions is sgx_enclave_restrict_permissions: EMODPR of each
// page (R/W/X ANDed with perm, PR set). A page that does not exist is
// EFAULT, one that is not PT_REG EINVAL; EMODPR's SGX_PAGE_NOT_MODIFIABLE
// (a PENDING or MODIFIED page) is EFAULT with the code in result. The
// driver leaves vm_max_prot_bits and the PTEs as they are: the EPCM alone
// refuses what was taken away.
func (em *Emulator) restrictPermissions(th *thread, e *enclave, offset, length uint64, perm sgx.SecinfoFlags, op *sgx2Op) (uint64, sgx.ErrorCode, int64) {
	for c := uint64(0); c < length; c += sgx.PageSize {
		off := offset + c
		p := e.pages[off]
		switch {
		case p == nil:
			return c, 0, errnoRet(unix.EFAULT)
		case p.secinfo.PageType() != sgx.PageTypeREG:
			return c, 0, errnoRet(unix.EINVAL)
		case p.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0:
			return c, sgx.ErrPageNotModifiable, errnoRet(unix.EFAULT)
		}
		p.secinfo = p.secinfo&^rwx | p.secinfo&perm | sgx.SecinfoPR
		op.revoke = append(op.revoke, revokeReq{p, e.base() + off})
		op.note(th.proc.pid, e, off, p.secinfo, "EMODPR")
	}
	return length, 0, 0
}

// modifyTypes is sgx_enclave_modify_types: EMODT of each page to PT_TCS
// (from PT_REG) or PT_TRIM (from PT_REG or PT_TCS). Another type is EINVAL
// before any page; a missing page EFAULT; a page of another type EINVAL;
// a PT_REG page that was not mapped RW at build time cannot become a TCS
// (EPERM); SGX_PAGE_NOT_MODIFIABLE is EFAULT with the code in result.
// EMODT clears R/W/X and PR and sets MODIFIED; a new TCS gets
// vm_max_prot_bits RW and loses its PTEs.
func (em *Emulator) modifyTypes(th *thread, e *enclave, offset, length uint64, typ sgx.PageType, op *sgx2Op) (uint64, sgx.ErrorCode, int64) {
	if typ != sgx.PageTypeTCS && typ != sgx.PageTypeTRIM {
		return 0, 0, errnoRet(unix.EINVAL)
	}
	for c := uint64(0); c < length; c += sgx.PageSize {
		off := offset + c
		p := e.pages[off]
		if p == nil {
			return c, 0, errnoRet(unix.EFAULT)
		}
		cur := p.secinfo.PageType()
		if cur != sgx.PageTypeREG && (cur != sgx.PageTypeTCS || typ != sgx.PageTypeTRIM) {
			return c, 0, errnoRet(unix.EINVAL)
		}
		toTCS := cur == sgx.PageTypeREG && typ == sgx.PageTypeTCS
		if toTCS && p.maxProt&(unix.PROT_READ|unix.PROT_WRITE) != unix.PROT_READ|unix.PROT_WRITE {
			return c, 0, errnoRet(unix.EPERM)
		}
		if p.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0 {
			return c, sgx.ErrPageNotModifiable, errnoRet(unix.EFAULT)
		}
		if toTCS {
			p.maxProt = unix.PROT_READ | unix.PROT_WRITE
			p.touched = false // sgx_zap_enclave_ptes
		}
		p.secinfo = sgx.MakeSecinfoFlags(typ, 0) | sgx.SecinfoModified
		op.revoke = append(op.revoke, revokeReq{p, e.base() + off})
		op.note(th.proc.pid, e, off, p.secinfo, "EMODT")
	}
	return length, 0, 0
}

// removePages is sgx_encl_remove_pages: each page must be PT_TRIM (else
// EPERM) and its trimming accepted by the enclave (EMODPR then faults;
// else EPERM); its PTEs are zapped and the page freed. A missing page is
// EFAULT.
func (em *Emulator) removePages(th *thread, e *enclave, offset, length uint64, op *sgx2Op) (uint64, int64) {
	for c := uint64(0); c < length; c += sgx.PageSize {
		off := offset + c
		p := e.pages[off]
		switch {
		case p == nil:
			return c, errnoRet(unix.EFAULT)
		case p.secinfo.PageType() != sgx.PageTypeTRIM, p.secinfo&sgx.SecinfoModified != 0:
			return c, errnoRet(unix.EPERM)
		}
		delete(e.pages, off)
		op.revoke = append(op.revoke, revokeReq{p, e.base() + off})
		op.note(th.proc.pid, e, off, 0, "EREMOVE")
	}
	return length, 0
}
