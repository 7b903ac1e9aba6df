package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Layout of the scratch page MapScratch puts into a tracee.
const (
	ScratchSyscall = 0x00  // syscall; int3
	ScratchENCLU   = 0x08  // enclu; int3 (for EENTER trampolines)
	ScratchData    = 0x100 // free for the tracer's data (BPF programs, …)
	ScratchSize    = 4096
)

var scratchCode = map[int][]byte{
	ScratchSyscall: {0x0f, 0x05, 0xcc},
	ScratchENCLU:   {0x0f, 0x01, 0xd7, 0xcc},
}

// SyscallError is a negative errno returned by an injected system call.
type SyscallError struct {
	Nr    uintptr
	Errno unix.Errno
}

func (e *SyscallError) Error() string {
	return fmt.Sprintf("injected syscall %d: %v", e.Nr, e.Errno)
}

func (e *SyscallError) Unwrap() error { return e.Errno }

// Kernel-internal errnos a system call interrupted by a signal leaves in
// RAX (include/linux/errno.h). The kernel restarts the call itself when
// the signal is not delivered to a handler (arch/x86/kernel/signal.c,
// arch_do_signal_or_restart), which is what the tracer does by resuming
// the signal-delivery-stop without the signal; should one still reach the
// instruction after the syscall, InjectSyscall issues the call again.
const (
	errRestartSys          = 512 // ERESTARTSYS
	errRestartNoIntr       = 513 // ERESTARTNOINTR
	errRestartNoHand       = 514 // ERESTARTNOHAND
	errRestartRestartBlock = 516 // ERESTART_RESTARTBLOCK
)

// maxRestarts bounds the re-issues of one injected system call.
const maxRestarts = 100

// restartable reports whether rax, a system call's return value, is one
// of the ERESTART* values.
func restartable(rax uint64) bool {
	switch -int64(rax) {
	case errRestartSys, errRestartNoIntr, errRestartNoHand, errRestartRestartBlock:
		return true
	}
	return false
}

// InjectSyscall makes the stopped thread tid execute system call nr with
// args at site, the address of a `syscall; int3` sequence, and restores
// its registers afterwards. The thread must be in a ptrace stop that is
// not a syscall-entry stop. A call interrupted by a signal is restarted
// (ERESTART*); a signal that arrives meanwhile is queued again, with its
// siginfo, once the registers are back (see Requeued). Tracer thread only.
func (p *Process) InjectSyscall(tid int, site uint64, nr uintptr, args ...uint64) (uint64, error) {
	argRegs := func(r *Regs) []*uint64 { return []*uint64{&r.Rdi, &r.Rsi, &r.Rdx, &r.R10, &r.R8, &r.R9} }
	if len(args) > 6 {
		return 0, fmt.Errorf("inject syscall %d: %d arguments", nr, len(args))
	}
	saved, err := GetRegs(tid)
	if err != nil {
		return 0, err
	}
	var deferred []Siginfo
	defer func() {
		// Queued again even when the injection failed: a signal taken
		// from the thread must not be lost.
		for i := range deferred {
			p.requeue(tid, &deferred[i])
		}
	}()
	var out Regs
	for try := 0; ; try++ {
		r := saved
		r.Rip = site
		r.Rax = uint64(nr)
		r.Orig_rax = ^uint64(0) // no syscall restart on the way out of this stop
		for i, a := range args {
			*argRegs(&r)[i] = a
		}
		if err := SetRegs(tid, &r); err != nil {
			return 0, err
		}
		if out, err = p.runToTrap(tid, site, nr, &deferred); err != nil {
			return 0, err
		}
		if !restartable(out.Rax) || try == maxRestarts {
			break
		}
	}
	if err := SetRegs(tid, &saved); err != nil {
		return 0, err
	}
	if int64(out.Rax) < 0 && int64(out.Rax) >= -4095 {
		return out.Rax, &SyscallError{Nr: nr, Errno: unix.Errno(-int64(out.Rax))}
	}
	return out.Rax, nil
}

// ThreadEndedError: the thread ended (killed, or its process exited)
// while an injected system call ran in it. Status is its exit, which the
// injection's wait took from the kernel: Process.TakeEnded hands it
// over, so that the thread's end is handled like any other. It matches
// unix.ESRCH, the answer of every later request for the thread.
type ThreadEndedError struct {
	Nr     uintptr
	Status Status
}

func (e *ThreadEndedError) Error() string {
	return fmt.Sprintf("inject syscall %d into %d: thread ended: %v", e.Nr, e.Status.Tid, e.Status)
}

// Unwrap makes errors.Is(err, unix.ESRCH) hold: the thread is gone.
func (e *ThreadEndedError) Unwrap() error { return unix.ESRCH }

// TakeEnded returns, once, the exit statuses that injected system calls
// took from wait (ThreadEndedError). Tracer thread only.
func (p *Process) TakeEnded() []Status {
	out := p.ended
	p.ended = nil
	return out
}

// runToTrap resumes tid at the injected `syscall; int3` at site until it
// stops at the int3 (a SIGTRAP with si_code SI_KERNEL, RIP past it) and
// returns the registers there. Signals that stop the thread meanwhile are
// appended to deferred and not delivered.
func (p *Process) runToTrap(tid int, site uint64, nr uintptr, deferred *[]Siginfo) (Regs, error) {
	if err := Cont(tid, 0); err != nil {
		return Regs{}, err
	}
	for {
		st, err := Wait(tid)
		if errors.Is(err, ErrVanished) {
			continue // killed meanwhile: its exit status comes next
		}
		if err != nil {
			return Regs{}, err
		}
		switch st.Kind {
		case Exited, Killed:
			p.ended = append(p.ended, st)
			return Regs{}, &ThreadEndedError{Nr: nr, Status: st}
		case SignalStop:
			if st.Sig == unix.SIGTRAP && st.Info.Code == SIKernel {
				out, err := GetRegs(tid)
				if err != nil {
					return Regs{}, err
				}
				if out.Rip == site+3 {
					return out, nil
				}
				return Regs{}, fmt.Errorf("inject syscall %d into %d: stopped at %#x, not after the site %#x", nr, tid, out.Rip, site)
			}
			*deferred = append(*deferred, st.Info)
		}
		// Seccomp events cannot happen for the scratch page (the filter
		// allows it); group-stops and anything else are resumed, signals
		// without being delivered.
		if err := Cont(tid, 0); err != nil {
			return Regs{}, err
		}
	}
}

// MapScratch maps one executable page into the tracee, stopped in tid, at
// address at (0: anywhere; otherwise exactly there or an error), and fills it with the ScratchSyscall and ScratchENCLU sequences. It
// borrows the three bytes at tid's RIP for the first system call and puts
// them back. Tracer thread only.
func (p *Process) MapScratch(tid int, at uint64) (uint64, error) {
	r, err := GetRegs(tid)
	if err != nil {
		return 0, err
	}
	orig := make([]byte, 3)
	if _, err := p.ReadMemory(orig, r.Rip); err != nil {
		return 0, err
	}
	if _, err := p.WriteMemory(scratchCode[ScratchSyscall], r.Rip); err != nil {
		return 0, err
	}
	flags := uint64(unix.MAP_PRIVATE | unix.MAP_ANONYMOUS)
	if at != 0 {
		flags |= unix.MAP_FIXED_NOREPLACE
	}
	addr, ierr := p.InjectSyscall(tid, r.Rip, unix.SYS_MMAP, at, ScratchSize,
		unix.PROT_READ|unix.PROT_EXEC, flags, ^uint64(0), 0)
	if _, err := p.WriteMemory(orig, r.Rip); err != nil {
		return 0, err
	}
	if ierr != nil {
		return 0, fmt.Errorf("map scratch page: %w", ierr)
	}
	if at != 0 && addr != at {
		return 0, fmt.Errorf("map scratch page at %#x: got %#x", at, addr)
	}
	for off, code := range scratchCode {
		if _, err := p.WriteMemory(code, addr+uint64(off)); err != nil {
			return 0, fmt.Errorf("fill scratch page: %w", err)
		}
	}
	return addr, nil
}

// InstallSeccomp loads filter as a seccomp filter of the thread tid (and
// of everything it later execs), through the scratch page at scratch.
// It sets no_new_privs first, as an unprivileged filter needs. Tracer
// thread only.
func (p *Process) InstallSeccomp(tid int, scratch uint64, filter []unix.SockFilter) error {
	const insnSize = int(unsafe.Sizeof(unix.SockFilter{}))
	prog := make([]byte, 16+len(filter)*insnSize)
	progAddr := scratch + ScratchData
	insnAddr := progAddr + 16
	binary.LittleEndian.PutUint16(prog[0:], uint16(len(filter)))
	binary.LittleEndian.PutUint64(prog[8:], insnAddr)
	for i, f := range filter {
		b := prog[16+i*insnSize:]
		binary.LittleEndian.PutUint16(b[0:], f.Code)
		b[2], b[3] = f.Jt, f.Jf
		binary.LittleEndian.PutUint32(b[4:], f.K)
	}
	if ScratchData+len(prog) > ScratchSize {
		return fmt.Errorf("seccomp filter of %d instructions does not fit the scratch page", len(filter))
	}
	if _, err := p.WriteMemory(prog, progAddr); err != nil {
		return err
	}
	site := scratch + ScratchSyscall
	if _, err := p.InjectSyscall(tid, site, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	if _, err := p.InjectSyscall(tid, site, unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, progAddr); err != nil {
		return fmt.Errorf("install seccomp filter: %w", err)
	}
	return nil
}
