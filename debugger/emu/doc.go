// Package emu is sgxdbg's SGX emulator: it runs an unmodified Linux host
// program that uses the SGX driver ABI (/dev/sgx_enclave, its ioctls, and
// ENCLU) on an x86-64 CPU without SGX, under ptrace, with the enclave code
// executing natively.
//
// How each part is emulated:
//
//   - Driver. A seccomp filter (installed through an injected system call
//     right after exec) stops only openat/open, ioctl, mmap with a file,
//     mprotect, munmap, mremap, close, the dup family, and the stat and
//     access families; every other system call runs at native speed.
//     Opening /dev/sgx_enclave becomes a memfd that holds the enclave's
//     pages (the virtual EPC); the tracer maps the same memfd. ENCLAVE_CREATE,
//     ADD_PAGES, INIT and PROVISION are answered as the kernel answers them,
//     with its errno conventions; mmap and mprotect follow the driver's
//     permission rules (vm_max_prot_bits: the EADD SECINFO, RW for a TCS,
//     RWX for an EAUGed page). On sgx2, RESTRICT_PERMISSIONS (EMODPR),
//     MODIFY_TYPES (EMODT) and REMOVE_PAGES run with the kernel's checks,
//     errnos, result codes and count (sgx2ioctl.go). /dev/sgx_enclave and /dev/sgx_provision stat as the
//     driver's misc character devices (major 10), and /proc/PID/maps of a
//     host with enclaves names their mappings /dev/sgx_enclave.
//   - The processor. Options.CPU is sgx1 or sgx2 (the default): CPUID leaf
//     12H, the SGX2 leaves and ioctls, and AEX-Notify (EDECCSSA,
//     ATTRIBUTES.AEXNOTIFY; sgx2 only) follow it. CPUID faulting, which this VM has
//     (cpuid_fault in /proc/cpuinfo; the kernel answers ENODEV to
//     arch_prctl(ARCH_SET_CPUID) where the CPU has none), is turned on in
//     every traced thread after each exec: CPUID in host code is answered
//     as the emulated SGX processor would answer it, and CPUID inside an
//     enclave is the #UD AEX, with no byte of the enclave rewritten. The
//     host's own ARCH_GET_CPUID/ARCH_SET_CPUID are answered per thread. Where
//     the CPU lacks CPUID faulting, CPUID inside the enclave image's
//     function symbols is rewritten to UD2 after EINIT instead, and every
//     rewritten site is reported (EvCPUIDRewritten, EnclaveInfo).
//   - ENCLU. On a CPU without SGX, ENCLU (0F 01 D7) raises #UD; on one with
//     SGX it raises #GP or #PF outside a real enclave. The tracer takes any
//     of these faults at an ENCLU and executes EENTER, ERESUME or EEXIT with
//     the SDM's checks and effects on the thread's registers and the TCS
//     and SSA pages.
//   - SGX2 (edmm.go). An enclave access to a mapped address with no page
//     is EAUGed as the driver's fault handler does (a zeroed PENDING page);
//     EACCEPT, EMODPE and EACCEPTCOPY make the SDM's checks and EPCM
//     changes; EDECCSSA pops an SSA frame for AEX-Notify handlers. Each EPCM
//     change is an EvPagesChanged event.
//   - EREPORT and EGETKEY, with the SDM's operand checks (#GP for alignment
//     and ELRANGE, #PF for the operand's page and EPCM) and error codes,
//     on an emulated key hierarchy (sgx.KeyHierarchy) made from a 32-byte
//     CPU secret: Options.CPUSecret, else $SGXDBG_CPU_SECRET (hex), else
//     the per-user file CPUSecretPath, created mode 0600 on first use and
//     never through a symbolic link. Keys and MACs are architecturally
//     equivalent to hardware's (same inputs, same key), not equal to them.
//   - AEX. A fault a thread takes in enclave mode is turned into an
//     Asynchronous Enclave Exit: the SSA frame is written (GPRSGX, XSAVE,
//     EXITINFO, EXINFO), the synthetic state loaded, CSSA incremented, and
//     the signal the kernel would send is delivered at the AEP.
//   - Page tables and the EPCM. Enclave pages start inaccessible in the
//     host and are made accessible one page at a time on first touch, as
//     the driver fills page-table entries lazily, with what both the
//     mapping and the EPCM allow; so the tracer sees every first touch,
//     knows which pages have a present PTE (the P bit of a #PF error code),
//     and tells a page-table fault (beyond the mapping: 0x7 for a write to
//     a present read-only page) from an EPCM fault (error-code bit 15: a
//     TCS, an EMODPR-restricted, PENDING, MODIFIED or trimmed page). A
//     change of a page's EPCM entry makes it inaccessible again.
//   - Illegal instructions. SYSCALL, SYSENTER and INT 0x80 inside an
//     enclave are caught at their syscall-entry stop (a thread in enclave
//     mode runs under PTRACE_SYSCALL) and become the #UD AEX; CPUID through
//     CPUID faulting; privileged and segment instructions fault natively
//     and are relabelled #UD. No enclave code is rewritten (except by the
//     CPUID fallback above). Hardware breakpoints and watchpoints (DR0-DR3)
//     fire on this VM.
//   - vDSO. A synthetic vDSO offers __vdso_sgx_enter_enclave and forwards
//     the kernel vDSO's clock_gettime, gettimeofday, time, getcpu and
//     clock_getres to it, so the C library keeps its fast paths.
//
// Known gaps, all documented in the README: leaves the model lacks raise
// #GP(0) as on hardware; SGX2 concurrency (SGX_EPC_PAGE_CONFLICT, ETRACK,
// the driver's EBUSY/EAGAIN) and EPC paging are not modelled; host code
// touching a page the EPCM closes gets SIGSEGV instead of abort-page
// semantics; keys and report MACs are not a real processor's; RDTSC runs natively inside enclaves, as SGX2
// processors allow; after a SYSCALL in an
// enclave the SSA holds the RCX and R11 it wrote; host code that touches
// enclave memory reads the real bytes (hardware gives abort page
// semantics); the error code, trap number and CR2 in the host's signal
// frame are those of the native fault, not of the emulated one.
package emu
