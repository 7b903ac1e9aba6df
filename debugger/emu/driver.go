package emu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// DevicePath is the SGX driver's enclave device.
const DevicePath = "/dev/sgx_enclave"

// handleSyscall answers a seccomp stop: a driver-related system call that
// the emulator may run, rewrite or answer itself.
func (em *Emulator) handleSyscall(th *thread) error {
	r, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	pr := th.proc
	switch r.Orig_rax {
	case unix.SYS_OPENAT:
		return em.sysOpen(th, &r, int32(r.Rdi), r.Rsi, r.Rdx)
	case unix.SYS_OPEN:
		return em.sysOpen(th, &r, unix.AT_FDCWD, r.Rdi, r.Rsi)
	case unix.SYS_IOCTL:
		if e := pr.fds[int(int32(r.Rdi))]; e != nil && !genericIoctl(uint32(r.Rsi)) {
			switch req := uint32(r.Rsi); req {
			case sgx.IocEnclaveRestrictPermissions, sgx.IocEnclaveModifyTypes, sgx.IocEnclaveRemovePages:
				return em.sysSGX2Ioctl(th, &r, e, req, r.Rdx)
			}
			return em.answer(th, &r, em.ioctl(pr, e, uint32(r.Rsi), r.Rdx))
		}
	case unix.SYS_MMAP:
		if e := pr.fds[int(int32(r.R8))]; e != nil {
			return em.sysMmap(th, &r, e)
		}
		if pr.prov[int(int32(r.R8))] {
			return em.answer(th, &r, errnoRet(unix.ENODEV)) // sgx_provision_fops has no mmap
		}
	case unix.SYS_MPROTECT:
		if e := pr.mappedEnclave(r.Rdi, r.Rsi); e != nil {
			return em.sysMprotect(th, &r, e)
		}
	case unix.SYS_MUNMAP:
		if e := pr.mappedEnclave(r.Rdi, r.Rsi); e != nil {
			start, length := r.Rdi, r.Rsi
			th.afterSyscall = func(out *ptrace.Regs) error {
				if out.Rax == 0 {
					e.unmap(start, length)
					em.maybeRelease(pr, e)
				}
				return nil
			}
		}
	case unix.SYS_MREMAP:
		if e := pr.mappedEnclave(r.Rdi, r.Rsi); e != nil {
			// The driver's VMAs cannot be moved or grown meaningfully.
			return em.answer(th, &r, -int64(unix.EINVAL))
		}
	case unix.SYS_STAT, unix.SYS_LSTAT, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX,
		unix.SYS_ACCESS, unix.SYS_FACCESSAT, unix.SYS_FACCESSAT2:
		return em.sysStat(th, &r)
	case unix.SYS_ARCH_PRCTL:
		return em.sysArchPrctl(th, &r)
	case unix.SYS_CLOSE:
		delete(pr.prov, int(int32(r.Rdi)))
		if e := pr.fds[int(int32(r.Rdi))]; e != nil {
			delete(pr.fds, int(int32(r.Rdi)))
			em.maybeRelease(pr, e)
		}
	case unix.SYS_DUP, unix.SYS_DUP2, unix.SYS_DUP3, unix.SYS_FCNTL:
		em.sysDup(th, &r)
	case unix.SYS_OPENAT2:
		// openat2 of the device is not emulated; the file does not exist.
	}
	return em.resume(th, 0)
}

// answer skips the system call and makes it return ret.
func (em *Emulator) answer(th *thread, r *ptrace.Regs, ret int64) error {
	r.Orig_rax = ^uint64(0)
	r.Rax = uint64(ret)
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	return em.resume(th, 0)
}

// readString reads a NUL-terminated string of at most max bytes.
func readString(p *ptrace.Process, addr uint64, max int) (string, error) {
	var out []byte
	buf := make([]byte, 256)
	for len(out) < max {
		n, err := p.ReadMemory(buf, addr+uint64(len(out)))
		if n == 0 && err != nil {
			return "", err
		}
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			return string(append(out, buf[:i]...)), nil
		}
		out = append(out, buf[:n]...)
	}
	return "", fmt.Errorf("string at %#x longer than %d bytes", addr, max)
}

// sysOpen turns an open of an SGX device into memfd_create: for
// /dev/sgx_enclave the memfd holds the enclave's pages and the tracer maps
// it too; a /dev/sgx_provision fd only needs to be recognized later. An
// open of the maps file of a process with enclaves is served a rewritten
// copy (serveMaps).
func (em *Emulator) sysOpen(th *thread, r *ptrace.Regs, dirfd int32, pathAddr, flags uint64) error {
	p, err := readString(th.proc.mem, pathAddr, unix.PathMax)
	if err != nil {
		return em.resume(th, 0)
	}
	abs, ok := resolvePath(th.tid, dirfd, p)
	if !ok {
		return em.resume(th, 0)
	}
	n := nodeByPath(abs)
	if n == nil {
		if t := em.mapsTarget(th.proc, abs); t != nil && flags&unix.O_ACCMODE == unix.O_RDONLY {
			return em.serveMaps(th, r, t, flags)
		}
		return em.resume(th, 0)
	}
	pr := th.proc
	name := pr.scratch + scratchEnclaveName
	if n.path == ProvisionPath {
		name = pr.scratch + scratchProvisionName
	}
	return em.openAsMemfd(th, r, name, flags, func(fd int) error {
		if n.path == ProvisionPath {
			pr.prov[fd] = true
			return nil
		}
		f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/%d", pr.pid, fd), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("open the enclave memfd of %d: %w", pr.pid, err)
		}
		e := &enclave{pid: pr.pid, fds: map[int]bool{fd: true}, file: f}
		pr.enclaves = append(pr.enclaves, e)
		pr.fds[fd] = e
		return nil
	})
}

// openAsMemfd turns the open the thread is stopped in into
// memfd_create(name, MFD_CLOEXEC if the open asked O_CLOEXEC) and, when it
// returns a descriptor, calls created with it.
func (em *Emulator) openAsMemfd(th *thread, r *ptrace.Regs, name, flags uint64, created func(fd int) error) error {
	mfd := uint64(0)
	if flags&unix.O_CLOEXEC != 0 {
		mfd = unix.MFD_CLOEXEC
	}
	r.Orig_rax = unix.SYS_MEMFD_CREATE
	r.Rdi = name
	r.Rsi = mfd
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	th.afterSyscall = func(out *ptrace.Regs) error {
		fd := int(int64(out.Rax))
		if fd < 0 {
			return nil
		}
		return created(fd)
	}
	return em.resume(th, 0)
}

// sysDup follows enclave file descriptors through dup, dup2, dup3 and
// fcntl(F_DUPFD*), and forgets those that dup2/dup3 replace.
func (em *Emulator) sysDup(th *thread, r *ptrace.Regs) {
	pr := th.proc
	old := int(int32(r.Rdi))
	replaced := -1
	switch r.Orig_rax {
	case unix.SYS_FCNTL:
		if r.Rsi != unix.F_DUPFD && r.Rsi != unix.F_DUPFD_CLOEXEC {
			return
		}
	case unix.SYS_DUP2, unix.SYS_DUP3:
		replaced = int(int32(r.Rsi))
	}
	e := pr.fds[old]
	prov := pr.prov[old]
	if e == nil && pr.fds[replaced] == nil && !prov && !pr.prov[replaced] {
		return
	}
	th.afterSyscall = func(out *ptrace.Regs) error {
		fd := int(int64(out.Rax))
		if fd < 0 {
			return nil
		}
		delete(pr.prov, fd)
		if prov {
			pr.prov[fd] = true
		}
		if x := pr.fds[fd]; x != nil && x != e {
			delete(pr.fds, fd)
			em.maybeRelease(pr, x)
		}
		if e != nil {
			pr.fds[fd] = e
		}
		return nil
	}
}

// maybeRelease removes an enclave once no file descriptor and no mapping
// refers to it, as the driver releases it.
func (em *Emulator) maybeRelease(pr *process, e *enclave) {
	for _, x := range pr.fds {
		if x == e {
			return
		}
	}
	if len(e.maps) > 0 {
		return
	}
	em.removeEnclave(pr, e)
}

// genericIoctl reports the requests the kernel serves for every file
// before the driver sees them (fs/ioctl.c do_vfs_ioctl): they run natively
// on the memfd.
func genericIoctl(req uint32) bool {
	const fionbio, fionclex, fioclex, fioasync = 0x5421, 0x5450, 0x5451, 0x5452 // asm-generic/ioctls.h
	switch req {
	case fioclex, fionclex, fionbio, fioasync:
		return true
	}
	return false
}

// ioctl runs one SGX_IOC_* request and returns the system call's result.
func (em *Emulator) ioctl(pr *process, e *enclave, req uint32, arg uint64) int64 {
	switch req {
	case sgx.IocEnclaveCreate:
		return em.ioctlCreate(pr, e, arg)
	case sgx.IocEnclaveAddPages:
		return em.ioctlAddPages(pr, e, arg)
	case sgx.IocEnclaveInit:
		return em.ioctlInit(pr, e, arg)
	case sgx.IocEnclaveProvision:
		return em.ioctlProvision(pr, e, arg)
	}
	return -int64(unix.ENOTTY)
}

func readStruct(pr *process, addr uint64, size int) ([]byte, bool) {
	b := make([]byte, size)
	if _, err := pr.mem.ReadMemory(b, addr); err != nil {
		return nil, false
	}
	return b, true
}

func (em *Emulator) ioctlCreate(pr *process, e *enclave, arg uint64) int64 {
	if e.created {
		return -int64(unix.EINVAL)
	}
	b, ok := readStruct(pr, arg, 8)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var c sgx.EnclaveCreate
	if err := c.UnmarshalBinary(b); err != nil {
		return -int64(unix.EFAULT)
	}
	page, ok := readStruct(pr, c.Src, sgx.SECSSize)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var secs sgx.SECS
	if err := secs.UnmarshalBinary(page); err != nil {
		return -int64(unix.EINVAL)
	}
	if err := secs.Validate(); err != nil {
		return -int64(unix.EINVAL)
	}
	if secs.Attributes.Flags&sgx.AttrMode64Bit == 0 {
		return -int64(unix.EINVAL) // 32-bit enclaves are not emulated
	}
	if secs.Attributes.XFRM&^em.xs.xcr0 != 0 {
		return -int64(unix.EINVAL) // XFRM not enabled in this CPU's XCR0
	}
	// ECREATE computes MRENCLAVE itself and ignores the other SECS fields.
	secs.MRENCLAVE, secs.MRSIGNER = [32]byte{}, [32]byte{}
	if secs.Attributes.Flags&^em.sgx.Attributes != 0 || secs.MiscSelect&^em.sgx.MiscSelect != 0 {
		return -int64(unix.EIO) // ECREATE #GP: not allowed by CPUID.(12H,1) or (12H,0).EBX
	}
	if err := e.create(secs); err != nil {
		return -int64(unix.ENOMEM)
	}
	e.attrMask = sgx.AttrDebug | sgx.AttrMode64Bit | sgx.AttrKSS | sgx.AttrAEXNotify // SGX_ATTR_UNPRIV_MASK
	em.emit(Event{Kind: EvEnclaveCreated, Pid: pr.pid, Enclave: secs.BaseAddr, Size: secs.Size,
		SSAFrameSize: secs.SSAFrameSize, MiscSelect: secs.MiscSelect,
		Attributes: secs.Attributes})
	return 0
}

func (em *Emulator) ioctlAddPages(pr *process, e *enclave, arg uint64) int64 {
	if !e.created || e.inited {
		return -int64(unix.EINVAL)
	}
	b, ok := readStruct(pr, arg, 48)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var a sgx.EnclaveAddPages
	if err := a.UnmarshalBinary(b); err != nil {
		return -int64(unix.EFAULT)
	}
	if (a.Offset|a.Src)&(sgx.PageSize-1) != 0 || a.Length == 0 || a.Length&(sgx.PageSize-1) != 0 {
		return -int64(unix.EINVAL)
	}
	if a.Offset+a.Length-sgx.PageSize >= e.size() || a.Offset+a.Length < a.Offset {
		return -int64(unix.EINVAL)
	}
	sb, ok := readStruct(pr, a.Secinfo, 64)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var si sgx.Secinfo
	if err := si.UnmarshalBinary(sb); err != nil || si.Validate() != nil {
		return -int64(unix.EINVAL)
	}
	measure := a.Flags&sgx.PageMeasure != 0
	done, ret := em.addPages(pr, e, a.Src, a.Offset, a.Length, si.Flags, measure)
	binary.LittleEndian.PutUint64(b[40:], done)
	if _, err := pr.mem.WriteMemory(b[40:48], arg+40); err != nil {
		return -int64(unix.EFAULT)
	}
	if done > 0 {
		em.emit(Event{Kind: EvPagesAdded, Pid: pr.pid, Enclave: e.base(), Offset: a.Offset, Length: done,
			Secinfo: si.Flags, Measure: measure})
	}
	return ret
}

// addPage is EADD (and, when measure, 16 EEXTENDs) of one page.
// addPages is EADD (and, when measure, EEXTEND) of length bytes of pages
// copied from src in the host to off in the enclave. It returns how many
// bytes were added and the ioctl's result. A second goroutine reads the
// host's pages a chunk ahead of the measurement; each chunk is measured from
// that buffer and written to the memfd with pwrite (on this VM, a first
// touch through a mapping costs a fault per page, a file write does not).
func (em *Emulator) addPages(pr *process, e *enclave, src, off, length uint64, flags sgx.SecinfoFlags, measure bool) (uint64, int64) {
	// A page already added ends the run (the driver's xa_insert fails)
	// before anything is copied over it.
	limit, ret := length, int64(0)
	for p := uint64(0); p < length; p += sgx.PageSize {
		if e.pages[off+p] != nil {
			limit, ret = p, -int64(unix.EBUSY)
			break
		}
	}
	const chunk = 1 << 20
	if limit <= sgx.PageSize {
		// One page (loaders that add page by page): no pipeline.
		if limit == 0 {
			return 0, ret
		}
		page := make([]byte, sgx.PageSize)
		if _, err := pr.mem.ReadMemory(page, src); err != nil {
			return 0, -int64(unix.EFAULT)
		}
		if r := em.addPage(e, off, page, flags, measure); r != 0 {
			return 0, r
		}
		if _, err := e.file.WriteAt(page, int64(off)); err != nil {
			delete(e.pages, off)
			return 0, -int64(unix.ENOMEM)
		}
		return sgx.PageSize, ret
	}
	type piece struct {
		at, n uint64
		buf   []byte
		err   error
	}
	free := make(chan []byte, 3)
	for i := 0; i < cap(free); i++ {
		free <- make([]byte, min(chunk, limit))
	}
	pieces := make(chan piece, cap(free))
	writes := make(chan piece, cap(free))
	stop := make(chan struct{})
	// Stage 1 reads the host's pages, stage 2 (this goroutine) measures
	// them, stage 3 writes them to the memfd; the stages overlap.
	go func() {
		defer close(pieces)
		for at := uint64(0); at < limit; {
			n := min(chunk, limit-at)
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			_, err := pr.mem.ReadMemory(buf[:n], src+at)
			select {
			case pieces <- piece{at, n, buf, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
			at += n
		}
	}()
	var written uint64 // bytes the writer stored, in order
	var werr error
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		for w := range writes {
			if werr == nil {
				if _, werr = e.file.WriteAt(w.buf[:w.n], int64(off+w.at)); werr == nil {
					written = w.at + w.n
				}
			}
			free <- w.buf
		}
	}()
	var done uint64
	for pc := range pieces {
		good := uint64(0)
		for p := uint64(0); p < pc.n; p += sgx.PageSize {
			page := pc.buf[p : p+sgx.PageSize]
			if pc.err != nil {
				// Find the first page of the chunk that cannot be read.
				if _, err := pr.mem.ReadMemory(page, src+pc.at+p); err != nil {
					ret = -int64(unix.EFAULT)
					break
				}
			}
			if r := em.addPage(e, off+pc.at+p, page, flags, measure); r != 0 {
				ret = r
				break
			}
			good += sgx.PageSize
		}
		writes <- piece{at: pc.at, n: good, buf: pc.buf}
		done += good
		if good < pc.n {
			break
		}
	}
	close(writes)
	<-wdone
	close(stop)
	for range pieces {
	}
	if werr != nil {
		// Pages the memfd did not take were not added.
		for p := written; p < done; p += sgx.PageSize {
			delete(e.pages, off+p)
		}
		return written, -int64(unix.ENOMEM)
	}
	return done, ret
}

// addPage is EADD (and EEXTENDs) of one page, given its bytes in dst
// (which it changes as EADD changes a TCS).
func (em *Emulator) addPage(e *enclave, off uint64, dst []byte, flags sgx.SecinfoFlags, measure bool) int64 {
	if flags.PageType() == sgx.PageTypeTCS {
		var t sgx.TCS
		if t.UnmarshalBinary(dst) != nil || t.Validate() != nil {
			return -int64(unix.EIO) // EADD #GP on a malformed TCS
		}
		// EADD forces these fields (SDM EADD operation).
		binary.LittleEndian.PutUint64(dst[tcsState:], 0)
		binary.LittleEndian.PutUint32(dst[tcsCSSA:], 0)
		binary.LittleEndian.PutUint64(dst[tcsAEP:], 0)
		binary.LittleEndian.PutUint64(dst[tcsFlags:], uint64(t.Flags&^sgx.TCSDbgOptIn))
	}
	if err := e.meas.AddPage(off, flags, dst, measure); err != nil {
		return -int64(unix.EIO)
	}
	e.pages[off] = &epcPage{secinfo: flags, maxProt: maxProt(flags)}
	return 0
}

func (em *Emulator) ioctlInit(pr *process, e *enclave, arg uint64) int64 {
	if !e.created || e.inited {
		return -int64(unix.EINVAL)
	}
	b, ok := readStruct(pr, arg, 8)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var in sgx.EnclaveInit
	if err := in.UnmarshalBinary(b); err != nil {
		return -int64(unix.EFAULT)
	}
	raw, ok := readStruct(pr, in.SigStruct, sgx.SigStructSize)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var sig sgx.SigStruct
	if err := sig.UnmarshalBinary(raw); err != nil {
		return -int64(unix.EPERM) // EINIT: SGX_INVALID_SIG_STRUCT
	}
	// sgx_encl_init: attributes the driver has not allowed (PROVISIONKEY
	// without SGX_IOC_ENCLAVE_PROVISION, EINITTOKENKEY) are refused.
	if e.secs.Attributes.Flags&^e.attrMask != 0 {
		return -int64(unix.EACCES)
	}
	mr := e.meas.Sum()
	if err := sgx.CheckEINIT(&e.secs, mr, &sig); err != nil {
		e.initErr = err
		return -int64(unix.EPERM)
	}
	// EINIT's commit (SDM EINIT operation): MRENCLAVE, MRSIGNER and the
	// ISV identity from the SIGSTRUCT, then INIT.
	e.secs.MRENCLAVE = mr
	e.secs.MRSIGNER = sig.MRSIGNER()
	e.secs.ISVProdID, e.secs.ISVSVN = sig.ISVProdID, sig.ISVSVN
	e.ident = sgx.IdentityAfterEINIT(&e.secs, &sig)
	e.secs.Attributes.Flags |= sgx.AttrInit
	e.inited = true
	em.emit(Event{Kind: EvEnclaveInitialized, Pid: pr.pid, Enclave: e.base(), MRENCLAVE: e.secs.MRENCLAVE, MRSIGNER: e.secs.MRSIGNER})
	if em.cpuid == CPUIDRewrite {
		em.rewriteEnclave(pr, e)
	}
	return 0
}

// ioctlProvision is SGX_IOC_ENCLAVE_PROVISION: the argument names a
// /dev/sgx_provision file descriptor, which allows ATTRIBUTES.PROVISIONKEY
// at EINIT (sgx_set_attribute: EINVAL for any other file). As in the
// kernel, ENCLAVE_CREATE resets what was allowed.
func (em *Emulator) ioctlProvision(pr *process, e *enclave, arg uint64) int64 {
	b, ok := readStruct(pr, arg, 8)
	if !ok {
		return -int64(unix.EFAULT)
	}
	var p sgx.EnclaveProvision
	if err := p.UnmarshalBinary(b); err != nil {
		return -int64(unix.EFAULT)
	}
	if !pr.prov[int(int32(p.Fd))] {
		return -int64(unix.EINVAL)
	}
	e.attrMask |= sgx.AttrProvisionKey
	return 0
}

// errnoRet is a system call's return value for errno.
func errnoRet(e unix.Errno) int64 { return -int64(e) }
