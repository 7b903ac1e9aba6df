package ssa

import (
	"fmt"
	"io"
	"strings"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// RenderOptions selects what Frame.Render shows.
type RenderOptions struct {
	XSave bool // also list the XSAVE registers that are not in their initial state
}

// xfeatureNames names XSTATE_BV / XFRM bits.
var xfeatureNames = []intName{
	{1 << sgx.XFeatureX87, "x87"}, {1 << sgx.XFeatureSSE, "SSE"}, {1 << sgx.XFeatureAVX, "AVX"},
	{1 << sgx.XFeatureBNDREGS, "BNDREGS"}, {1 << sgx.XFeatureBNDCSR, "BNDCSR"},
	{1 << sgx.XFeatureOpmask, "opmask"}, {1 << sgx.XFeatureZMMHi256, "ZMM_Hi256"},
	{1 << sgx.XFeatureHi16ZMM, "Hi16_ZMM"}, {1 << sgx.XFeaturePKRU, "PKRU"},
}

// errWriter keeps the first write error and skips later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// Render writes f as plain text: a header line with the frame index and
// address; EXITINFO in words; EXINFO (MADDR, ERRCD bits and words) when
// present; RIP, with a note for the INT3 quirk; the general registers in a
// fixed two-column table; FS/GS base, URSP/URBP and AEXNOTIFY; and, with
// opts.XSave, the XSAVE registers not in their initial state. It returns
// the first error from w.
func (f *Frame) Render(w io.Writer, opts RenderOptions) error {
	ew := &errWriter{w: w}
	g := &f.GPR
	ew.printf("SSA frame %d at %#016x\n", f.Index, f.Addr)
	ew.printf("%-9s 0x%08x  %s\n", "EXITINFO", uint32(g.ExitInfo), g.ExitInfo.Words())
	if f.ExInfo != nil {
		f.renderExInfo(ew)
	}
	insn, next, quirk := f.FaultRIP()
	if quirk {
		ew.printf("%-9s %#016x  INT3 at %#x; the SSA holds the INT3's own address, the next instruction is at %#x\n",
			"RIP", insn, insn, next)
	} else {
		ew.printf("%-9s %#016x\n", "RIP", g.RIP)
	}
	rows := [][4]any{
		{"RAX", g.RAX, "R8", g.R8}, {"RBX", g.RBX, "R9", g.R9},
		{"RCX", g.RCX, "R10", g.R10}, {"RDX", g.RDX, "R11", g.R11},
		{"RSI", g.RSI, "R12", g.R12}, {"RDI", g.RDI, "R13", g.R13},
		{"RBP", g.RBP, "R14", g.R14}, {"RSP", g.RSP, "R15", g.R15},
		{"FSBASE", g.FSBase, "GSBASE", g.GSBase}, {"URSP", g.URSP, "URBP", g.URBP},
	}
	for _, r := range rows {
		ew.printf("%-9s %#016x  %-9s %#016x\n", r[0], r[1], r[2], r[3])
	}
	ew.printf("%-9s %#016x  %v\n", "RFLAGS", g.RFLAGS, RFlags(g.RFLAGS))
	state := "disabled"
	if g.AEXNotify&1 != 0 {
		state = "enabled"
	}
	ew.printf("%-9s 0x%02x (%s)\n", "AEXNOTIFY", g.AEXNotify, state)
	if g.Reserved != [3]byte{} {
		ew.printf("%-9s % x (should be 0)\n", "RESERVED", g.Reserved[:])
	}
	if opts.XSave && f.XSave != nil {
		renderXSave(ew, f.XSave)
	}
	return ew.err
}

// renderExInfo writes the EXINFO line. An AEX writes EXINFO only for a
// reported #PF or #GP; otherwise it holds whatever an earlier exit left.
func (f *Frame) renderExInfo(ew *errWriter) {
	x, e := f.ExInfo, f.GPR.ExitInfo
	switch {
	case e.Valid() && e.Vector() == sgx.VectorPF:
		ew.printf("%-9s MADDR %#016x  ERRCD %#x %v: %s\n", "EXINFO", x.MAddr, uint32(x.ErrCd), x.ErrCd, x.ErrCd.Words())
	case e.Valid() && e.Vector() == sgx.VectorGP:
		ew.printf("%-9s MADDR %#x  ERRCD %#x (#GP error code)\n", "EXINFO", x.MAddr, uint32(x.ErrCd))
	default:
		ew.printf("%-9s not written by this exit (holds MADDR %#x ERRCD %#x)\n", "EXINFO", x.MAddr, uint32(x.ErrCd))
	}
	if x.Reserved != 0 {
		ew.printf("%-9s EXINFO reserved %#x (should be 0)\n", "", x.Reserved)
	}
}

// beHex renders little-endian register bytes as one 0x… number, most
// significant byte first.
func beHex(b []byte) string {
	var s strings.Builder
	s.WriteString("0x")
	for i := len(b) - 1; i >= 0; i-- {
		fmt.Fprintf(&s, "%02x", b[i])
	}
	return s.String()
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// renderXSave lists XSAVE registers that differ from their initial state.
func renderXSave(ew *errWriter, x *XSave) {
	inUse := "none in use"
	if x.XStateBV != 0 {
		inUse = flagName(x.XStateBV, xfeatureNames)
	}
	ew.printf("%-9s XSTATE_BV %#x (%s)\n", "XSAVE", x.XStateBV, inUse)
	n := 0
	line := func(name, val string) {
		ew.printf("  %-7s %s\n", name, val)
		n++
	}
	if x.FCW != FCWInit {
		line("FCW", fmt.Sprintf("0x%04x", x.FCW))
	}
	for _, r := range []struct {
		name string
		v    uint64
	}{{"FSW", uint64(x.FSW)}, {"FTW", uint64(x.FTW)}, {"FOP", uint64(x.FOP)}, {"FIP", x.FIP}, {"FDP", x.FDP}} {
		if r.v != 0 {
			line(r.name, fmt.Sprintf("%#x", r.v))
		}
	}
	if x.MXCSR != MXCSRInit {
		line("MXCSR", fmt.Sprintf("%#x", x.MXCSR))
	}
	for i := range x.ST {
		if !zero(x.ST[i][:]) {
			line(fmt.Sprintf("ST%d", i), beHex(x.ST[i][:]))
		}
	}
	for i := 0; i < 16; i++ {
		z := x.ZMM(i)
		switch {
		case x.XStateBV&(1<<sgx.XFeatureZMMHi256) != 0 && !zero(z[32:]):
			line(fmt.Sprintf("ZMM%d", i), beHex(z[:]))
		case !zero(z[16:32]):
			line(fmt.Sprintf("YMM%d", i), beHex(z[:32]))
		case !zero(z[:16]):
			line(fmt.Sprintf("XMM%d", i), beHex(z[:16]))
		}
	}
	for i := 16; i < 32; i++ {
		if z := x.ZMM(i); !zero(z[:]) {
			line(fmt.Sprintf("ZMM%d", i), beHex(z[:]))
		}
	}
	for i, k := range x.Opmask {
		if k != 0 {
			line(fmt.Sprintf("K%d", i), fmt.Sprintf("%#x", k))
		}
	}
	if !zero(x.BNDRegs[:]) {
		line("BNDREGS", fmt.Sprintf("% x", x.BNDRegs[:]))
	}
	if !zero(x.BNDCSR[:]) {
		line("BNDCSR", fmt.Sprintf("% x", x.BNDCSR[:]))
	}
	if x.PKRU != 0 {
		line("PKRU", fmt.Sprintf("%#x", x.PKRU))
	}
	if n == 0 {
		ew.printf("  all registers in their initial state\n")
	}
}
