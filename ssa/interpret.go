package ssa

import (
	"strings"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// Quirk is a set of known ways an SSA frame differs from what a debugger
// should show.
type Quirk uint8

// Quirks.
const (
	// QuirkINT3RIP: an INT3 inside an enclave (EXITINFO #BP, exit type
	// software) saves SSA.RIP = the address of the INT3 itself, not of the
	// next instruction as an INT3 outside an enclave reports (SGX.md §3;
	// the Intel SDK, Gramine and Open Enclave debuggers all add 1).
	QuirkINT3RIP Quirk = 1 << 0
)

var quirkNames = []intName{{uint64(QuirkINT3RIP), "INT3RIP"}}

// String renders the set, "INT3RIP", or "0".
func (q Quirk) String() string { return flagName(uint64(q), quirkNames) }

// Quirks reports the quirks that apply to f.
func (f *Frame) Quirks() Quirk {
	var q Quirk
	e := f.GPR.ExitInfo
	if e.Valid() && e.Vector() == sgx.VectorBP && e.Type() == sgx.ExitSoftware {
		q |= QuirkINT3RIP
	}
	return q
}

// FaultRIP returns where the event happened. With the INT3 quirk, insn is
// the INT3 (SSA.RIP) and next the instruction after it (SSA.RIP+1, INT3
// being the one-byte CC: INT n is #UD in an enclave), and quirk is true;
// note that ERESUME itself resumes at SSA.RIP, re-executing the INT3,
// unless a handler advances it. For every other event insn and next are
// both SSA.RIP, the instruction ERESUME will execute: the faulting
// instruction for faults, the one after the trapping instruction for
// traps such as a single-step #DB.
func (f *Frame) FaultRIP() (insn uint64, next uint64, quirk bool) {
	rip := f.GPR.RIP
	if f.Quirks()&QuirkINT3RIP != 0 {
		return rip, rip + 1, true
	}
	return rip, rip, false
}

// Regs is a thread's general registers as the operating system (ptrace,
// a signal frame, a core file) sees them.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS, FSBase, GSBase            uint64
}

// regNames are the register names CheckSynthetic reports, in Regs order.
var regNames = []string{
	"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
	"RIP", "RFLAGS", "FSBASE", "GSBASE",
}

// RegNames returns the register names used by Mismatch and accepted by
// CheckSynthetic's ignore list, in Regs field order.
func RegNames() []string { return append([]string(nil), regNames...) }

// values returns r's registers in regNames order.
func (r Regs) values() []uint64 {
	return []uint64{
		r.RAX, r.RBX, r.RCX, r.RDX, r.RSI, r.RDI, r.RSP, r.RBP,
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RIP, r.RFLAGS, r.FSBase, r.GSBase,
	}
}

// Get returns the register named name (case-insensitive, as in RegNames).
func (r Regs) Get(name string) (uint64, bool) {
	v := r.values()
	for i, n := range regNames {
		if strings.EqualFold(n, name) {
			return v[i], true
		}
	}
	return 0, false
}

// synthClearedFlags are the RFLAGS bits an AEX clears (SDM Vol. 3D §40.1,
// Table 40-1): CF PF AF ZF SF OF RF.
const synthClearedFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF | FlagRF

// Synthetic returns the registers an AEX from frame f leaves at the AEP
// (SDM Vol. 3D §40.3, Table 40-1, and the AEX flow of §40.4.1; SGX.md §3
// step 2): RAX = 3 (ERESUME), RBX = tcs, RCX = RIP = aep; RDX, RSI, RDI
// and R8..R15 = 0 (64-bit mode); RSP = SSA.URSP, RBP = SSA.URBP; FS and GS
// bases restored to the outside values of the last EENTER/ERESUME
// (outsideFS, outsideGS).
//
// RFLAGS: the SDM clears CF PF AF ZF SF OF RF and leaves the other bits
// unchanged, i.e. as they were inside the enclave, which the frame saved
// in SSA.RFLAGS (DF, AC, … therefore come from the enclave, not from the
// host). TF is the exception: the frame saves it as 0, and the AEX
// restores the TF saved by an opt-out EENTER (DBGOPTIN=0); with
// DBGOPTIN=1 TF is left as it was inside, which is the outside TF unless
// the enclave changed it. Synthetic takes TF from outsideRFLAGS, the host
// RFLAGS at EENTER/ERESUME, and ignores its other bits.
//
// The x87, SSE and extended-feature synthetic state of Table 40-1 and
// §40.3.2 is not part of Regs. A nil f gives RSP = RBP = 0 and RFLAGS from
// outsideRFLAGS with the same bits cleared.
func Synthetic(tcs, aep uint64, f *Frame, outsideFS, outsideGS uint64, outsideRFLAGS uint64) Regs {
	r := Regs{RAX: 3, RBX: tcs, RCX: aep, RIP: aep, FSBase: outsideFS, GSBase: outsideGS}
	flags := RFlags(outsideRFLAGS)
	if f != nil {
		r.RSP, r.RBP = f.GPR.URSP, f.GPR.URBP
		flags = RFlags(f.GPR.RFLAGS)&^FlagTF | RFlags(outsideRFLAGS)&FlagTF
	}
	r.RFLAGS = uint64(flags &^ synthClearedFlags)
	return r
}

// Mismatch is one register whose observed value differs from the expected.
type Mismatch struct {
	Reg       string // as in RegNames: "RAX", "RFLAGS", "FSBASE", …
	Want, Got uint64
}

// String renders "RSP: want 0x7ffd0100, got 0x7ffd0108".
func (m Mismatch) String() string {
	return m.Reg + ": want 0x" + hex(m.Want) + ", got 0x" + hex(m.Got)
}

// CheckSynthetic compares got (what the OS shows at the AEP) with want
// (usually Synthetic's result) and returns every register that differs,
// in RegNames order, except those named in ignore (case-insensitive;
// unknown names match nothing). It returns nil when all agree.
func CheckSynthetic(got Regs, want Regs, ignore ...string) []Mismatch {
	var ms []Mismatch
	g, w := got.values(), want.values()
	for i, n := range regNames {
		if g[i] == w[i] || ignored(n, ignore) {
			continue
		}
		ms = append(ms, Mismatch{Reg: n, Want: w[i], Got: g[i]})
	}
	return ms
}

// ignored reports whether name is in list, ignoring case.
func ignored(name string, list []string) bool {
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}
