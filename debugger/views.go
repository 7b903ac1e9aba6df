package debugger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/sgx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// tcsState is a TCS read through EDBGRD with its SSA frames decoded.
type tcsState struct {
	encl   target.EnclaveInfo
	addr   uint64
	tcs    sgx.TCS
	geo    ssa.Geometry
	frames []*ssa.Frame // 0..CSSA-1
}

// readTCS reads the TCS at addr (EDBGRD reads its first 72 bytes) and
// decodes its SSA frames 0..CSSA-1.
func (s *Session) readTCS(st target.Stop, addr uint64) (*tcsState, error) {
	var encl *target.EnclaveInfo
	for _, e := range st.Enclaves() {
		for _, t := range e.TCS {
			if t == addr {
				e := e
				encl = &e
			}
		}
	}
	if encl == nil {
		return nil, errorf(ErrNoFrame, "no TCS at %#x", addr)
	}
	if err := debugEnclave(*encl); err != nil {
		return nil, err
	}
	raw := make([]byte, sgx.TCSDebugReadable)
	if _, err := st.ReadEnclave(raw, addr); err != nil {
		return nil, fmt.Errorf("read TCS at %#x: %w", addr, err)
	}
	ts := &tcsState{encl: *encl, addr: addr}
	if err := ts.tcs.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("decode TCS at %#x: %w", addr, err)
	}
	ts.geo = ssa.Geometry{Base: encl.Base, OSSA: ts.tcs.OSSA, FrameSize: encl.SSAFrameSize,
		MiscSelect: encl.MiscSelect, XFRM: encl.Attributes.XFRM}
	for i := 0; i < int(ts.tcs.CSSA) && i < int(ts.tcs.NSSA); i++ {
		buf := make([]byte, ts.geo.FrameBytes())
		if _, err := st.ReadEnclave(buf, ts.geo.FrameAddr(i)); err != nil {
			return nil, fmt.Errorf("read SSA frame %d of TCS %#x: %w", i, addr, err)
		}
		f, err := ssa.DecodeFrame(buf, ts.geo, i)
		if err != nil {
			return nil, fmt.Errorf("SSA frame %d of TCS %#x: %w", i, addr, err)
		}
		ts.frames = append(ts.frames, f)
	}
	return ts, nil
}

// newest returns the newest SSA frame, or an error when CSSA is 0.
func (ts *tcsState) newest() (*ssa.Frame, error) {
	if len(ts.frames) == 0 {
		return nil, errorf(ErrNoFrame, "TCS %#x has no SSA frame in use (CSSA 0): not stopped at an AEX", ts.addr)
	}
	return ts.frames[len(ts.frames)-1], nil
}

// stopFrame returns the TCS of the current stop and its newest SSA frame.
func (s *Session) stopFrame(st target.Stop) (*tcsState, *ssa.Frame, error) {
	ts, err := s.stopTCS(st)
	if err != nil {
		return nil, nil, err
	}
	f, err := ts.newest()
	return ts, f, err
}

// stopTCS returns the TCS of the current stop.
func (s *Session) stopTCS(st target.Stop) (*tcsState, error) {
	if s.tcsSel != 0 {
		return s.readTCS(st, s.tcsSel)
	}
	ev := st.Event()
	if ev.TCS == 0 {
		return nil, errorf(ErrNoFrame, "the stop (%s) has no TCS", ev.Kind)
	}
	return s.readTCS(st, ev.TCS)
}

// symbolize names an enclave address with the matched image.
func (s *Session) symbolize(base, addr uint64) (string, string) {
	im := s.Image(base)
	if im == nil || addr < base {
		return "", ""
	}
	sym, off, ok := im.SymbolAt(addr - base)
	name := ""
	if ok {
		name = sym.Name
		if off != 0 {
			name += fmt.Sprintf("+%#x", off)
		}
	}
	src := ""
	if file, line, err := im.LineAt(addr - base); err == nil {
		src = fmt.Sprintf("%s:%d", file, line)
	}
	return name, src
}

// FrameView is one decoded SSA frame.
type FrameView struct {
	Index      int            `json:"index"`
	Addr       Hex            `json:"addr"`
	Vector     uint8          `json:"vector"`
	VectorName string         `json:"vector_name"`
	ExitType   string         `json:"exit_type"`
	Valid      bool           `json:"valid"`
	MAddr      *Hex           `json:"maddr,omitempty"`
	ErrCd      *Hex           `json:"errcd,omitempty"`
	ErrWords   string         `json:"errcd_words,omitempty"`
	RIP        Hex            `json:"rip"`
	Symbol     string         `json:"symbol,omitempty"`
	Source     string         `json:"source,omitempty"`
	Quirk      string         `json:"quirk,omitempty"`
	Diagnosis  string         `json:"diagnosis,omitempty"`
	GPRs       map[string]Hex `json:"gprs"`
	text       string
}

func (s *Session) frameView(base uint64, f *ssa.Frame) FrameView {
	g := f.GPR
	v := FrameView{Index: f.Index, Addr: Hex(f.Addr), Valid: g.ExitInfo.Valid(), RIP: Hex(g.RIP), GPRs: map[string]Hex{}}
	if v.Valid {
		v.Vector, v.VectorName, v.ExitType = uint8(g.ExitInfo.Vector()), g.ExitInfo.Vector().String(), g.ExitInfo.Type().String()
		if x := f.ExInfo; x != nil && (g.ExitInfo.Vector() == sgx.VectorPF || g.ExitInfo.Vector() == sgx.VectorGP) {
			m, e := Hex(x.MAddr), Hex(x.ErrCd)
			v.MAddr, v.ErrCd = &m, &e
			if g.ExitInfo.Vector() == sgx.VectorPF {
				v.ErrWords = x.ErrCd.Words()
				v.Diagnosis = guardDiagnosis(s.Image(base), base, x.MAddr)
			}
		}
	}
	if insn, next, quirk := f.FaultRIP(); quirk {
		v.Quirk = fmt.Sprintf("INT3 at %#x: SSA.RIP is the INT3 itself; execution continues at %#x", insn, next)
	}
	v.Symbol, v.Source = s.symbolize(base, g.RIP)
	for _, r := range ssaRegs {
		val, _ := ssaReg(&f.GPR, r)
		v.GPRs[r] = Hex(val)
	}
	var b bytes.Buffer
	_ = f.Render(&b, ssa.RenderOptions{})
	v.text = b.String()
	if v.Symbol != "" {
		v.text += fmt.Sprintf("  at %s", v.Symbol)
		if v.Source != "" {
			v.text += " (" + v.Source + ")"
		}
		v.text += "\n"
	}
	if v.Diagnosis != "" {
		v.text += "  " + v.Diagnosis + "\n"
	}
	return v
}

// guardDiagnosis names a #PF whose MADDR lies in one of the image's GUARD
// regions (its NT_SGXDBG_REGIONS note): below a stack, a stack overflow.
func guardDiagnosis(im *enclave.Image, base, maddr uint64) string {
	if im == nil || maddr < base {
		return ""
	}
	off := maddr - base
	for _, g := range im.Regions {
		if g.Kind != enclave.RegionGuard || off < g.Offset || off >= g.End() {
			continue
		}
		for _, st := range im.Regions {
			if st.Kind == enclave.RegionStack && st.Offset == g.End() {
				return fmt.Sprintf("stack overflow: MADDR is in the guard page %s below the stack %s", g, st)
			}
		}
		return fmt.Sprintf("MADDR is in the guard region %s", g)
	}
	return ""
}

// SSAResult is the SSA frame stack of one TCS.
type SSAResult struct {
	TCS    Hex         `json:"tcs"`
	CSSA   uint32      `json:"cssa"`
	NSSA   uint32      `json:"nssa"`
	Frames []FrameView `json:"frames"`
}

// Text renders every frame, newest last.
func (r *SSAResult) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TCS %#x: CSSA %d of NSSA %d\n", uint64(r.TCS), r.CSSA, r.NSSA)
	for _, f := range r.Frames {
		b.WriteString(f.text)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Session) viewSSA(st target.Stop, which int) (Result, error) {
	ts, err := s.stopTCS(st)
	if err != nil {
		return nil, err
	}
	r := &SSAResult{TCS: Hex(ts.addr), CSSA: ts.tcs.CSSA, NSSA: ts.tcs.NSSA, Frames: []FrameView{}}
	for _, f := range ts.frames {
		if which < 0 || f.Index == which {
			r.Frames = append(r.Frames, s.frameView(ts.encl.Base, f))
		}
	}
	if which >= 0 && len(r.Frames) == 0 {
		if ts.tcs.CSSA == 0 {
			return nil, errorf(ErrNoFrame, "no SSA frame %d: TCS %#x has no SSA frame in use (CSSA 0)", which, ts.addr)
		}
		return nil, errorf(ErrNoFrame, "no SSA frame %d: TCS %#x has frames 0..%d in use", which, ts.addr, int(ts.tcs.CSSA)-1)
	}
	return r, nil
}

// ssaRegs are the GPRSGX registers by name, in display order.
var ssaRegs = []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags", "fsbase", "gsbase", "ursp", "urbp"}

// ssaRegOff maps a register name to its GPRSGX offset.
var ssaRegOff = map[string]int{
	"rax": ssa.OffRAX, "rcx": ssa.OffRCX, "rdx": ssa.OffRDX, "rbx": ssa.OffRBX, "rsp": ssa.OffRSP, "rbp": ssa.OffRBP,
	"rsi": ssa.OffRSI, "rdi": ssa.OffRDI, "r8": ssa.OffR8, "r9": ssa.OffR8 + 8, "r10": ssa.OffR8 + 16, "r11": ssa.OffR8 + 24,
	"r12": ssa.OffR8 + 32, "r13": ssa.OffR8 + 40, "r14": ssa.OffR8 + 48, "r15": ssa.OffR8 + 56, "rflags": ssa.OffRFLAGS,
	"rip": ssa.OffRIP, "ursp": ssa.OffURSP, "urbp": ssa.OffURBP, "fsbase": ssa.OffFSBase, "gsbase": ssa.OffGSBase,
}

func ssaReg(g *ssa.GPRSGX, name string) (uint64, bool) {
	off, ok := ssaRegOff[name]
	if !ok {
		return 0, false
	}
	b, _ := g.MarshalBinary()
	return binary.LittleEndian.Uint64(b[off:]), true
}

// RegRow is one register in the enclave (SSA) and as the host sees it.
type RegRow struct {
	Name     string `json:"name"`
	Enclave  Hex    `json:"enclave"`
	Host     Hex    `json:"host"`
	Expected Hex    `json:"expected_synthetic"`
}

// SyntheticStateRef is where the SDM lists the synthetic state an AEX
// loads (Vol. 3D, "Synthetic State on Asynchronous Enclave Exit").
const SyntheticStateRef = "SDM Vol. 3D §40.3.1, Table 40-1"

// RegsResult puts the enclave's real registers (newest SSA frame) beside
// the synthetic state the OS sees, and checks the latter against the SDM's
// table of synthetic state (SyntheticStateRef).
type RegsResult struct {
	TCS        Hex      `json:"tcs"`
	Frame      int      `json:"frame"`
	Rows       []RegRow `json:"registers"`
	Mismatches []string `json:"synthetic_mismatches"`
}

// Text renders the two columns and marks registers that differ.
func (r *RegsResult) Text() string {
	var b strings.Builder
	if r.Frame < 0 {
		fmt.Fprintf(&b, "inside the enclave on TCS %#x, no AEX: the thread's registers are the enclave's\n", uint64(r.TCS))
		for _, row := range r.Rows {
			fmt.Fprintf(&b, "%-7s 0x%016x\n", row.Name, uint64(row.Enclave))
		}
		return strings.TrimRight(b.String(), "\n")
	}
	fmt.Fprintf(&b, "%-7s %-18s  %-18s  (TCS %#x, SSA frame %d)\n", "", "enclave (SSA)", "host sees (synthetic)", uint64(r.TCS), r.Frame)
	for _, row := range r.Rows {
		mark := "" // ≠ as in the terminal UI, where * means changed since the last stop
		if row.Enclave != row.Host {
			mark = " ≠"
		}
		fmt.Fprintf(&b, "%-7s 0x%016x  0x%016x%s\n", row.Name, uint64(row.Enclave), uint64(row.Host), mark)
	}
	if len(r.Mismatches) == 0 {
		b.WriteString("synthetic state matches the architecture (" + SyntheticStateRef + ")")
	} else {
		b.WriteString("synthetic state differs from the architecture: " + strings.Join(r.Mismatches, ", "))
	}
	return b.String()
}

func (s *Session) viewRegs(st target.Stop) (Result, error) {
	if ev := st.Event(); (ev.Kind == target.EvEENTER || ev.Kind == target.EvERESUME) && s.tcsSel == 0 {
		// Inside the enclave, no AEX: the thread's own registers are the
		// enclave's (no SSA frame; the host sees nothing of them).
		p, err := s.placeOf(st)
		if err != nil {
			return nil, err
		}
		r := &RegsResult{TCS: Hex(p.tcs), Frame: -1}
		for i, n := range gprNames {
			v, _ := p.regs.Get(i)
			r.Rows = append(r.Rows, RegRow{Name: n, Enclave: Hex(v), Host: Hex(v), Expected: Hex(v)})
		}
		return r, nil
	}
	ts, f, err := s.stopFrame(st)
	if err != nil {
		return nil, err
	}
	// The host's state is the synthetic state of the AEX it stopped at,
	// which is not the newest frame after eenter-handler's run faulted.
	at := f
	if ev := st.Event(); ev.Kind == target.EvAEX && ev.SSA < len(ts.frames) {
		at = ts.frames[ev.SSA]
	}
	regs, err := st.Regs()
	if err != nil {
		return nil, err
	}
	host := ssa.Regs{RAX: regs.Rax, RBX: regs.Rbx, RCX: regs.Rcx, RDX: regs.Rdx, RSI: regs.Rsi, RDI: regs.Rdi,
		RSP: regs.Rsp, RBP: regs.Rbp, R8: regs.R8, R9: regs.R9, R10: regs.R10, R11: regs.R11, R12: regs.R12,
		R13: regs.R13, R14: regs.R14, R15: regs.R15, RIP: regs.Rip, RFLAGS: regs.Eflags, FSBase: regs.Fs_base, GSBase: regs.Gs_base}
	want := ssa.Synthetic(ts.addr, regs.Rip, at, regs.Fs_base, regs.Gs_base, regs.Eflags)
	r := &RegsResult{TCS: Hex(ts.addr), Frame: f.Index}
	for _, name := range ssa.RegNames() {
		e, _ := ssaReg(&f.GPR, strings.ToLower(name))
		h, _ := host.Get(name)
		w, _ := want.Get(name)
		r.Rows = append(r.Rows, RegRow{Name: strings.ToLower(name), Enclave: Hex(e), Host: Hex(h), Expected: Hex(w)})
	}
	if ev := st.Event(); ev.Kind == target.EvAEX {
		for _, m := range ssa.CheckSynthetic(host, want, "FSBase", "GSBase") {
			r.Mismatches = append(r.Mismatches, m.String())
		}
	}
	return r, nil
}
