package coredump

import (
	"encoding/binary"
	"strconv"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// NoteOwner is the ELF note name of sgxdbg's core notes.
const NoteOwner = "SGXDBG"

// linuxOwner is the note name of the Linux core notes (NT_PRSTATUS, …).
const linuxOwner = "CORE"

// NoteType is the type of a note in a core's PT_NOTE segment. The Linux
// types (owner "CORE") and sgxdbg's (owner "SGXDBG") share the type so
// that one String names both; sgxdbg's start at 0x100, away from the
// enclave image notes (enclave.NoteEnclave, 1 and 2) of the same owner.
type NoteType uint32

// Note types. The layouts are documented in doc.go.
const (
	NotePrstatus NoteType = 1 // NT_PRSTATUS ("CORE"): struct elf_prstatus, one per TCS with CSSA > 0
	NoteFPRegset NoteType = 2 // NT_FPREGSET ("CORE"): the FXSAVE image of that TCS's newest SSA frame
	NoteAuxv     NoteType = 6 // NT_AUXV ("CORE"): AT_ENTRY so that gdb relocates the enclave ELF

	NoteCore     NoteType = 0x100 // NT_SGXDBG_CORE: version, pid, stopped thread, pending signal
	NoteStop     NoteType = 0x101 // NT_SGXDBG_STOP: the event the thread stopped at, JSON
	NoteSECS     NoteType = 0x102 // NT_SGXDBG_SECS: one enclave's SECS parameters and EPC page runs
	NoteTCS      NoteType = 0x103 // NT_SGXDBG_TCS: one TCS, its 72 EDBGRD-readable bytes
	NoteSSA      NoteType = 0x104 // NT_SGXDBG_SSA: one SSA frame in use, raw
	NoteHostRegs NoteType = 0x105 // NT_SGXDBG_HOSTREGS: the stopped thread's registers as the OS saw them
	NoteThreads  NoteType = 0x106 // NT_SGXDBG_THREADS: the host's threads
	NoteEvents   NoteType = 0x107 // NT_SGXDBG_EVENTS: the event timeline, JSON lines
	NoteImage    NoteType = 0x108 // NT_SGXDBG_IMAGE: the enclave ELF matched to an enclave
)

var noteNames = map[NoteType]string{
	NotePrstatus: "NT_PRSTATUS", NoteFPRegset: "NT_FPREGSET", NoteAuxv: "NT_AUXV",
	NoteCore: "NT_SGXDBG_CORE", NoteStop: "NT_SGXDBG_STOP", NoteSECS: "NT_SGXDBG_SECS",
	NoteTCS: "NT_SGXDBG_TCS", NoteSSA: "NT_SGXDBG_SSA", NoteHostRegs: "NT_SGXDBG_HOSTREGS",
	NoteThreads: "NT_SGXDBG_THREADS", NoteEvents: "NT_SGXDBG_EVENTS", NoteImage: "NT_SGXDBG_IMAGE",
}

// String returns the note's name ("NT_SGXDBG_SSA") or "NoteType(N)".
func (t NoteType) String() string {
	if s, ok := noteNames[t]; ok {
		return s
	}
	return "NoteType(" + strconv.FormatUint(uint64(t), 10) + ")"
}

// Version is the NT_SGXDBG_CORE format version this package writes and
// reads.
const Version = 1

// Descriptor sizes of the fixed-size notes.
const (
	CoreNoteSize     = 32
	SECSNoteSize     = 120 // then NRUNS page runs of PageRunSize
	PageRunSize      = 24
	TCSNoteSize      = 88
	SSANoteHeader    = 24 // then the frame, SSAFRAMESIZE pages
	HostRegsNoteSize = 8 + userRegsSize
	ThreadRecordSize = 32
	ImageNoteHeader  = 16 // then the path
	PrstatusSize     = 336
	FPRegsetSize     = 512
)

// NT_SGXDBG_CORE flags.
const (
	CoreHostRegs = 1 << 0 // an NT_SGXDBG_HOSTREGS note is present
)

// NT_SGXDBG_SECS flags.
const (
	SECSInitialized = 1 << 0 // EINIT succeeded
	SECSDumped      = 1 << 1 // the enclave's debuggable pages are in PT_LOAD segments
)

// NT_SGXDBG_THREADS record flags.
const (
	ThreadInEnclave = 1 << 0
)

// Byte offsets in the descriptors (doc.go has the tables).
const (
	coreVersion  = 0
	corePid      = 4
	coreTid      = 8
	coreSignal   = 12
	coreFlags    = 16
	coreEnclaves = 20
	coreReserved = 24

	secsBase     = 0
	secsSize     = 8
	secsSSAFrame = 16
	secsMisc     = 20
	secsAttr     = 24
	secsXFRM     = 32
	secsMREnc    = 40
	secsMRSign   = 72
	secsFlags    = 104
	secsPid      = 108
	secsNRuns    = 112
	secsReserved = 116

	tcsAddr    = 0
	tcsEnclave = 8
	tcsRaw     = 16

	ssaTCS      = 0
	ssaIndex    = 8
	ssaReserved = 12
	ssaAddr     = 16

	imageBase  = 0
	imageEntry = 8
)

// struct elf_prstatus for x86-64 (include/uapi/linux/elfcore.h with the
// kernel's x86-64 types): pr_info (si_signo, si_code, si_errno) at 0,
// pr_cursig at 12, pr_pid at 32, pr_reg (struct user_regs_struct) at 112,
// pr_fpvalid at 328; 336 bytes.
const (
	prSigno   = 0
	prCursig  = 12
	prPid     = 32
	prReg     = 112
	prFPValid = 328
)

// userRegsSize is struct user_regs_struct: 27 registers.
const userRegsSize = 27 * 8

// x86-64 Linux user segment selectors, as a thread in 64-bit user mode has
// them (__USER_CS, __USER_DS).
const (
	userCS = 0x33
	userSS = 0x2b
)

// Auxiliary vector entries (include/uapi/linux/auxvec.h).
const (
	atNull   = 0
	atPageSz = 6
	atEntry  = 9
)

// putRegs encodes r as struct user_regs_struct (the field order of
// target.Regs is the kernel's).
func putRegs(b []byte, r *target.Regs) {
	_, _ = binary.Encode(b[:userRegsSize], binary.LittleEndian, r) // fixed-size struct into a buffer of its size: cannot fail
}

// getRegs decodes struct user_regs_struct.
func getRegs(b []byte) target.Regs {
	var r target.Regs
	_, _ = binary.Decode(b[:userRegsSize], binary.LittleEndian, &r)
	return r
}
