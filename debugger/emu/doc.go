// Package emu is sgxdbg's SGX emulator: it runs an unmodified Linux host
// program that uses the SGX driver ABI (/dev/sgx_enclave, its ioctls, and
// ENCLU) on an x86-64 CPU without SGX, under ptrace, with the enclave code
// executing natively.
//
// How each part is emulated:
//
//   - Driver. A seccomp filter (installed through an injected system call
//     right after exec) stops only openat/open, ioctl, mmap with a file,
//     mprotect, munmap, mremap, close and the dup family; every other system
//     call runs at native speed. Opening /dev/sgx_enclave becomes a memfd
//     that holds the enclave's pages (the virtual EPC); the tracer maps the
//     same memfd. ENCLAVE_CREATE, ADD_PAGES and INIT are answered as the
//     kernel answers them, with its errno conventions; mmap and mprotect
//     follow the driver's permission rules.
//   - ENCLU. On this CPU ENCLU (0F 01 D7) raises #UD; the tracer takes the
//     SIGILL and executes EENTER, ERESUME or EEXIT with the SDM's checks
//     and effects on the thread's registers and the TCS and SSA pages.
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
//     the driver fills page-table entries lazily; so the tracer sees every
//     first touch, knows which pages have a present PTE (the P bit of a #PF
//     error code), and keeps TCS pages inaccessible to enclave code (an
//     EPCM fault, error-code bit 15).
//   - Illegal instructions. CPUID, SYSCALL, SYSENTER and INT 0x80 in the
//     enclave's executable pages are replaced by UD2 in the copy that runs
//     after EINIT (found by a linear sweep, as objdump does), so they raise
//     #UD exactly where hardware would; EDBGRD and core files show the
//     original bytes. A system call made from code the sweep missed is
//     still caught (the thread runs under PTRACE_SYSCALL in enclave mode).
//
// Known gaps, all documented in the README: the SGX2 leaves and
// EVERIFYREPORT2 are unsupported (an ENCLU with those leaves is reported as
// #UD); keys and report MACs are not a real processor's;
// RDTSC runs natively inside enclaves, as SGX2 processors allow; host code
// that touches enclave memory reads the real bytes (hardware gives abort
// page semantics); the error code, trap number and CR2 in the host's signal
// frame are those of the native fault, not of the emulated one.
package emu
