package emu

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// archGetCPUID and archSetCPUID are arch_prctl's ARCH_GET_CPUID and ARCH_SET_CPUID (arch/x86/include/uapi/asm/
// prctl.h): with 0, CPUID in the calling thread raises SIGSEGV (si_code
// SI_KERNEL, RIP at the CPUID) instead of executing. The setting is per
// thread, inherited by clone and fork, and cleared by execve. The kernel
// answers ENODEV when the CPU has no CPUID faulting (X86_FEATURE_CPUID_FAULT,
// "cpuid_fault" in /proc/cpuinfo).
const (
	archGetCPUID = 0x1011
	archSetCPUID = 0x1012
)

var cpuidBytes = [2]byte{0x0f, 0xa2}

// enableCPUIDFaulting turns CPUID faulting on in a thread stopped right
// after exec, and settles em.cpuid the first time: faulting where the CPU
// has it, rewriting where it answers ENODEV (unless faulting was asked
// for, which is then an error).
func (em *Emulator) enableCPUIDFaulting(pr *process, tid int) error {
	if em.cpuid == CPUIDRewrite {
		return nil
	}
	_, err := pr.mem.InjectSyscall(tid, pr.scratch+ptrace.ScratchSyscall, unix.SYS_ARCH_PRCTL, archSetCPUID, 0)
	switch {
	case err == nil:
		em.cpuid = CPUIDFaulting
		return nil
	case errors.Is(err, unix.ENODEV) && em.opts.CPUID == CPUIDAuto:
		em.cpuid = CPUIDRewrite
		return nil
	}
	return fmt.Errorf("enable CPUID faulting (arch_prctl ARCH_SET_CPUID): %w", err)
}

// sysArchPrctl answers the host's ARCH_GET_CPUID and ARCH_SET_CPUID
// while the emulator uses CPUID faulting itself: each thread keeps the
// setting the host chose (hostCPUIDFault; inherited by clone and fork,
// cleared by exec), ARCH_GET_CPUID reports it (1: CPUID enabled), and a
// host CPUID with it set gets the kernel's SIGSEGV. The real setting stays
// on, so CPUID inside an enclave is still caught.
func (em *Emulator) sysArchPrctl(th *thread, r *ptrace.Regs) error {
	if em.cpuid != CPUIDFaulting {
		return em.resume(th, 0) // nothing of the emulator's to hide
	}
	switch r.Rdi {
	case archGetCPUID:
		if th.hostCPUIDFault {
			return em.answer(th, r, 0)
		}
		return em.answer(th, r, 1)
	case archSetCPUID:
		th.hostCPUIDFault = r.Rsi == 0
		return em.answer(th, r, 0)
	}
	return em.resume(th, 0)
}

// atCPUID reports whether th stopped at a CPUID instruction.
func (em *Emulator) atCPUID(th *thread, rip uint64) bool {
	var b [2]byte
	return em.readCode(th, rip, b[:]) == 2 && b == cpuidBytes
}

// hostCPUID executes a host thread's faulted CPUID: the answer of this
// machine's processor for the same leaf and subleaf, adjusted to the
// emulated SGX processor, then RIP past the instruction.
func (em *Emulator) hostCPUID(th *thread, r *ptrace.Regs) error {
	out := em.cpuidAnswer(uint32(r.Rax), uint32(r.Rcx))
	// In 64-bit mode CPUID zeroes the upper halves of the four registers.
	r.Rax, r.Rbx, r.Rcx, r.Rdx = uint64(out[0]), uint64(out[1]), uint64(out[2]), uint64(out[3])
	r.Rip += uint64(len(cpuidBytes))
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	em.cpuidCount++
	return em.resume(th, 0)
}

// cpuidAnswer is CPUID.(EAX=leaf, ECX=subleaf) of the emulated processor:
// this machine's answer (executed on the tracer's thread, so the APIC IDs
// of leaves 1, 0BH and 1FH are those of the CPU the tracer runs on) with
// the SGX bits of leaf 7 set, leaf 12H replaced, and the maximum basic
// leaf raised to 12H when it is lower.
func (em *Emulator) cpuidAnswer(leaf, subleaf uint32) [4]uint32 {
	key := [2]uint32{leaf, subleaf}
	if r, ok := em.cpuidCache[key]; ok {
		return r
	}
	r := em.cpuidCompute(leaf, subleaf)
	switch leaf {
	case 0x1, 0xb, 0x1f, 0x8000001e:
		// APIC IDs: the CPU the tracer runs on now; not kept.
	default:
		// The other leaves do not change while the machine runs; each CPUID
		// in a VM is an exit to the hypervisor.
		if em.cpuidCache == nil {
			em.cpuidCache = map[[2]uint32][4]uint32{}
		}
		em.cpuidCache[key] = r
	}
	return r
}

func (em *Emulator) cpuidCompute(leaf, subleaf uint32) [4]uint32 {
	maxBasic, _, _, _ := cpuid(0, 0)
	switch {
	case leaf == sgx.CPUIDLeafSGX:
		return em.sgx.Leaf12(subleaf)
	case leaf > maxBasic && leaf < sgx.CPUIDLeafSGX:
		return [4]uint32{} // below the raised maximum: an unsupported leaf reads 0
	}
	a, b, c, d := cpuid(leaf, subleaf)
	r := [4]uint32{a, b, c, d}
	switch {
	case leaf == 0 && r[0] < sgx.CPUIDLeafSGX:
		r[0] = sgx.CPUIDLeafSGX
	case leaf == sgx.CPUIDLeafFeatures && subleaf == 0:
		r = sgx.AdjustFeatures(r)
	}
	return r
}

// CPU describes the emulated processor. Tracer thread only.
func (em *Emulator) CPU() target.CPU {
	ci := target.CPU{Model: string(em.model), CPUIDMethod: string(em.cpuid), HostCPUIDs: em.cpuidCount}
	if em.cpuid == CPUIDFaulting {
		ci.Leaf7 = em.cpuidAnswer(sgx.CPUIDLeafFeatures, 0)
	} else {
		a, b, c, d := cpuid(sgx.CPUIDLeafFeatures, 0) // host CPUID is not caught
		ci.Leaf7 = [4]uint32{a, b, c, d}
	}
	for sub := uint32(0); ; sub++ {
		r := em.sgx.Leaf12(sub)
		ci.Leaf12 = append(ci.Leaf12, r)
		if sub >= sgx.CPUIDEPCSubleaf && r == [4]uint32{} {
			break
		}
	}
	return ci
}

// CPU describes the emulated processor (target.CPUReporter).
func (s *Stop) CPU() target.CPU { return s.em.CPU() }
