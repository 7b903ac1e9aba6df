package ptrace

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// debugRegOffset is offsetof(struct user, u_debugreg) on x86-64
// (arch/x86/include/asm/user_64.h): PTRACE_PEEKUSER/POKEUSER at
// debugRegOffset + 8*i reach DR i.
const debugRegOffset = 848

// GetDebugReg reads tid's debug register i (0–3, 6 or 7). Tracer thread
// only.
func GetDebugReg(tid, i int) (uint64, error) {
	var v uint64
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_PEEKUSR, uintptr(tid), uintptr(debugRegOffset+8*i), uintptr(unsafe.Pointer(&v)), 0, 0)
	if e != 0 {
		return 0, fmt.Errorf("PTRACE_PEEKUSER DR%d of %d: %w", i, tid, e)
	}
	return v, nil
}

// SetDebugReg writes tid's debug register i; the kernel checks addresses
// (user space, aligned to the length) when DR7 enables them. Tracer
// thread only.
func SetDebugReg(tid, i int, v uint64) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_POKEUSR, uintptr(tid), uintptr(debugRegOffset+8*i), uintptr(v), 0, 0)
	if e != 0 {
		return fmt.Errorf("PTRACE_POKEUSER DR%d of %d = %#x: %w", i, tid, v, e)
	}
	return nil
}
