// Package coredump writes and reads enclave core files: an ELF core that
// keeps a stopped host's enclaves — every debuggable EPC page as read
// through EDBGRD, every TCS and SSA frame in use, the stopped thread's
// synthetic registers and the event timeline — so that the crash can be
// examined after the process is gone, with `sgxdbg core`, `sgxdbg inspect`
// or a stock gdb. It does no process control: the writer reads a Source
// (a target.Stop), the reader decodes bytes.
//
// # File layout
//
// ELF64, little-endian, e_type ET_CORE, e_machine EM_X86_64, no sections.
// Program header 0 is the PT_NOTE (p_align 4); then one PT_LOAD per run of
// contiguous enclave pages with the same SECINFO R/W/X (p_flags R/W/X from
// SECINFO, p_vaddr the linear address, p_filesz = p_memsz, p_align 4096),
// by address. The notes follow the program headers; page data starts at
// the next page boundary. Only REG and TCS pages of debug enclaves that
// are neither PENDING nor MODIFIED are written (what EDBGRD can read); a
// TCS page holds its 72 readable bytes and zeros. More than 65534
// segments (PN_XNUM) are refused.
//
// # Linux notes (owner "CORE"), for gdb
//
//   - NT_PRSTATUS (1), 336 bytes, one per TCS whose CSSA > 0, the stopped
//     thread's TCS first (gdb's current thread): struct elf_prstatus for
//     x86-64 with pr_reg (struct user_regs_struct, at 112) from the
//     GPRSGX of the TCS's newest SSA frame (CS 0x33, SS 0x2b, orig_rax −1,
//     FS/GS base from FSBASE/GSBASE), pr_cursig and si_signo the signal
//     pending for the host (stopped TCS only), pr_pid the stopped thread's
//     id for its TCS and small distinct numbers (1, 2, …) for the others,
//     pr_fpvalid 1.
//   - NT_FPREGSET (2), 512 bytes, after each NT_PRSTATUS: the legacy
//     (FXSAVE) region of the same frame's XSAVE area.
//   - NT_AUXV (6): AT_ENTRY = base + the ELF's e_entry (or TCS 0's OENTRY
//     when the image is unknown) of the stopped thread's enclave,
//     AT_PAGESZ 4096, AT_NULL. gdb relocates a position-independent
//     executable by AT_ENTRY − e_entry, so `gdb ENCLAVE.elf FILE` shows
//     the enclave's symbols, source lines and backtrace at their run-time
//     addresses. For another enclave of the same core use
//     `add-symbol-file ELF -o BASE`.
//
// # sgxdbg notes (owner "SGXDBG")
//
// All integers little-endian, offsets in bytes; reserved fields are zero.
// Types start at 0x100 (the image notes of the same owner are 1 and 2).
//
// NT_SGXDBG_CORE (0x100), 32 bytes, exactly one:
//
//	0  u32 version (1)       4  u32 host pid        8  u32 stopped thread id
//	12 u32 pending signal    16 u32 flags: bit 0 NT_SGXDBG_HOSTREGS present
//	20 u32 number of NT_SGXDBG_SECS notes          24 u64 reserved
//
// NT_SGXDBG_STOP (0x101): the event the thread stopped at, one JSON object
// in the form of target.Event.MarshalJSON (`sgxdbg emulate --json`).
//
// NT_SGXDBG_SECS (0x102), one per enclave, 120 + 24·NRUNS bytes:
//
//	0   u64 BASEADDR         8   u64 SIZE           16 u32 SSAFRAMESIZE
//	20  u32 MISCSELECT       24  u64 ATTRIBUTES.FLAGS 32 u64 XFRM
//	40  [32] MRENCLAVE       72  [32] MRSIGNER
//	104 u32 flags: bit 0 initialized, bit 1 pages dumped (debug enclave)
//	108 u32 pid              112 u32 NRUNS          116 u32 reserved
//	120 NRUNS × { u64 offset, u64 pages, u64 SECINFO.FLAGS }: every EPC
//	    page, in runs of equal SECINFO, by offset
//
// NT_SGXDBG_TCS (0x103), 88 bytes, one per TCS of a debug enclave:
// u64 TCS address at 0, u64 enclave base at 8, the 72 EDBGRD-readable TCS
// bytes at 16 (STATE, FLAGS, OSSA, CSSA, NSSA, OENTRY, AEP, OFSBASGX,
// OGSBASGX, FSLIMIT, GSLIMIT).
//
// NT_SGXDBG_SSA (0x104), 24 + SSAFRAMESIZE·4096 bytes, one per SSA frame in
// use (frames 0..CSSA−1 of each TCS; the others are in the PT_LOADs): u64
// TCS address at 0, u32 frame index at 8, u32 reserved at 12, u64 frame
// address at 16, the raw frame (XSAVE area … MISC, GPRSGX) at 24.
//
// NT_SGXDBG_HOSTREGS (0x105), 224 bytes, at most one: u32 thread id at 0,
// u32 reserved, struct user_regs_struct at 8 — the stopped thread's
// registers as the OS saw them (after an AEX: the synthetic state at the
// AEP).
//
// NT_SGXDBG_THREADS (0x106): the host's traced threads, 32-byte records {
// u32 pid, u32 tid, u32 flags (bit 0 inside an enclave), u32 reserved, u64
// enclave base, u64 TCS }.
//
// NT_SGXDBG_EVENTS (0x107): the timeline up to the stop, one JSON object
// per line as in NT_SGXDBG_STOP, each line ending in "\n".
//
// NT_SGXDBG_IMAGE (0x108), at most one per enclave: u64 enclave base at 0,
// u64 e_entry of its ELF at 8, the ELF's path (absolute, as the dumping
// session matched it by MRENCLAVE) from 16 to the end.
//
// # Security
//
// Core files are untrusted input: New checks the ELF header (magic, class,
// byte order, type, machine), that every program header and note lies in
// the file, the size of every fixed-size note, the SECS parameters (SIZE a
// power of two, BASEADDR aligned, SSAFRAMESIZE inside the enclave, page
// runs ordered and inside SIZE, at most MaxPages pages in all), that each
// TCS is a TCS page of a dumped enclave, that each TCS has exactly its
// frames in use at their architectural addresses with one NT_PRSTATUS per
// busy TCS, that the PT_LOADs hold exactly the debuggable pages of the
// dumped enclaves, and every event's JSON. A bad file is a *FormatError
// whose Err says ErrNotELF, ErrForeign, ErrTruncated or ErrCorrupt; its
// allocations are bounded by the file's size. The image path of
// NT_SGXDBG_IMAGE is only a hint: `sgxdbg core` opens it as an enclave
// image (a checked parse) and uses it only if its MRENCLAVE matches the
// enclave's. Core files contain enclave secrets: the dump command writes
// them with mode 0600.
package coredump
