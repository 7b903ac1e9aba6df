package ptrace

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Regs is the general register set of an x86-64 thread (struct
// user_regs_struct).
type Regs = unix.PtraceRegs

// ntX86XState is the regset note type of the XSAVE area
// (include/uapi/linux/elf.h NT_X86_XSTATE).
const ntX86XState = 0x202

// GetRegs reads tid's general registers. Tracer thread only.
func GetRegs(tid int) (Regs, error) {
	var r Regs
	if err := unix.PtraceGetRegs(tid, &r); err != nil {
		return r, fmt.Errorf("PTRACE_GETREGS %d: %w", tid, err)
	}
	return r, nil
}

// SetRegs writes tid's general registers. Tracer thread only.
func SetRegs(tid int, r *Regs) error {
	if err := unix.PtraceSetRegs(tid, r); err != nil {
		return fmt.Errorf("PTRACE_SETREGS %d: %w", tid, err)
	}
	return nil
}

// GetXState reads tid's XSAVE area (standard format, as laid out by this
// CPU) into buf and returns the part the kernel filled. buf should be at
// least the CPU's XSAVE size. Tracer thread only.
func GetXState(tid int, buf []byte) ([]byte, error) {
	if len(buf) == 0 {
		return nil, fmt.Errorf("PTRACE_GETREGSET NT_X86_XSTATE %d: empty buffer", tid)
	}
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(tid), ntX86XState, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if e != 0 {
		return nil, fmt.Errorf("PTRACE_GETREGSET NT_X86_XSTATE %d: %w", tid, e)
	}
	return buf[:iov.Len], nil
}

// SetXState writes tid's XSAVE area from buf. Tracer thread only.
func SetXState(tid int, buf []byte) error {
	if len(buf) == 0 {
		return fmt.Errorf("PTRACE_SETREGSET NT_X86_XSTATE %d: empty buffer", tid)
	}
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SETREGSET, uintptr(tid), ntX86XState, uintptr(unsafe.Pointer(&iov)), 0, 0)
	if e != 0 {
		return fmt.Errorf("PTRACE_SETREGSET NT_X86_XSTATE %d: %w", tid, e)
	}
	return nil
}

// Siginfo is the kernel's siginfo_t for the fields a debugger needs: the
// signal, its code and, for faults, the address. The rest of the 128 bytes
// is kept so that SetSiginfo round-trips what GetSiginfo read.
type Siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	Addr  uint64 // si_addr for SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP
	Rest  [104]byte
}

// Codes of si_code used by the emulator (include/uapi/asm-generic/siginfo.h).
const (
	SIUser      = 0
	SIKernel    = 0x80
	SITkill     = -6
	SegvMapErr  = 1
	SegvAccErr  = 2
	BusAdrAln   = 1
	BusAdrErr   = 2
	IllIllOpn   = 2
	IllIllOpc   = 1
	FpeIntDiv   = 1
	FpeIntOvf   = 2
	TrapBrkpt   = 1
	TrapTrace   = 2
	TrapHwBkpt  = 4
	SigSysTrace = 0x80 | int(unix.SIGTRAP) // stop signal of a syscall-stop with PTRACE_O_TRACESYSGOOD
)

// GetSiginfo reads the siginfo of tid's current signal-delivery-stop.
// Tracer thread only.
func GetSiginfo(tid int) (Siginfo, error) {
	var si Siginfo
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(&si)), 0, 0)
	if e != 0 {
		return si, fmt.Errorf("PTRACE_GETSIGINFO %d: %w", tid, e)
	}
	return si, nil
}

// SetSiginfo replaces the siginfo of tid's current signal-delivery-stop.
// The signal delivered is the one passed to the resuming request; it must
// equal si.Signo, or the kernel replaces si with an SI_USER record.
// Tracer thread only.
func SetSiginfo(tid int, si *Siginfo) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(si)), 0, 0)
	if e != 0 {
		return fmt.Errorf("PTRACE_SETSIGINFO %d: %w", tid, e)
	}
	return nil
}
