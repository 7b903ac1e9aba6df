package emu

import "golang.org/x/sys/unix"

// tracedSyscalls stop the host at a seccomp RET_TRACE; all others run
// natively. mmap is traced only when it maps a file.
var tracedSyscalls = []uint32{
	unix.SYS_OPEN, unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_IOCTL,
	unix.SYS_MPROTECT, unix.SYS_MUNMAP, unix.SYS_MREMAP, unix.SYS_CLOSE,
	unix.SYS_DUP, unix.SYS_DUP2, unix.SYS_DUP3, unix.SYS_FCNTL,
	// The device nodes answer stat and access as character devices.
	unix.SYS_STAT, unix.SYS_LSTAT, unix.SYS_FSTAT, unix.SYS_NEWFSTATAT, unix.SYS_STATX,
	unix.SYS_ACCESS, unix.SYS_FACCESSAT, unix.SYS_FACCESSAT2,
}

const auditArchX86_64 = 0xc000003e

// seccomp_data offsets (include/uapi/linux/seccomp.h).
const (
	sdNr     = 0
	sdArch   = 4
	sdIPLo   = 8
	sdIPHi   = 12
	sdArgsLo = 16 // + 8*i
)

// seccompFilter builds the BPF program: system calls made from the scratch
// page (the tracer's own injections) and non-x86-64 calls are allowed, the
// driver-related calls are traced, the rest allowed.
func seccompFilter(scratch uint64) []unix.SockFilter {
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	jge := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	jgt := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ret := func(k uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}
	}
	lo, hi := uint32(scratch), uint32(scratch>>32)
	f := []unix.SockFilter{
		/* 0 */ ld(sdArch),
		/* 1 */ jeq(auditArchX86_64, 1, 0),
		/* 2 */ ret(unix.SECCOMP_RET_ALLOW),
		/* 3 */ ld(sdIPHi),
		/* 4 */ jeq(hi, 0, 4), // → 9
		/* 5 */ ld(sdIPLo),
		/* 6 */ jge(lo, 0, 2), // → 9
		/* 7 */ jgt(lo+0xfff, 1, 0), // → 9 : → 8
		/* 8 */ ret(unix.SECCOMP_RET_ALLOW),
		/* 9 */ ld(sdNr),
	}
	// arch_prctl: traced for ARCH_GET_CPUID and ARCH_SET_CPUID only, which
	// the emulator answers for the host (CPUID faulting is its own).
	f = append(f,
		jeq(unix.SYS_ARCH_PRCTL, 0, 5),
		ld(sdArgsLo),
		jeq(archGetCPUID, 2, 0),
		jeq(archSetCPUID, 1, 0),
		ret(unix.SECCOMP_RET_ALLOW),
		ret(unix.SECCOMP_RET_TRACE),
	)
	// mmap: traced when args[4] (fd) is not -1.
	f = append(f,
		jeq(unix.SYS_MMAP, 0, 3),
		ld(sdArgsLo+8*4),
		jeq(0xffffffff, 0, uint8(len(tracedSyscalls)+2)), // fd == -1 → allow
		ret(unix.SECCOMP_RET_ALLOW),
	)
	for i, nr := range tracedSyscalls {
		// jump to the final RET_TRACE: past the remaining compares and the RET_ALLOW.
		f = append(f, jeq(nr, uint8(len(tracedSyscalls)-i), 0))
	}
	f = append(f, ret(unix.SECCOMP_RET_ALLOW), ret(unix.SECCOMP_RET_TRACE))
	return f
}
