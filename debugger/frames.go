package debugger

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// MaxBacktrace is how many frames bt shows (it says when it stops there).
const MaxBacktrace = 64

// stackFrame is one frame of the stopped thread's stack: enclave frames
// first (the newest SSA frame's context, then each older frame's
// interrupted context), then the host's frames.
type stackFrame struct {
	Index    int
	PC       uint64
	Host     bool
	Boundary string // a line shown before this frame ("── EENTER (TCS 0x…) ──")
	Function string
	Offset   uint64 // PC - the symbol's address
	File     string
	CompDir  string // the compilation directory of File's unit
	Line     int
	Module   string // host frames: the file the PC is in
	CFA      uint64
	// Enclave frames: where and how to evaluate.
	place *place
	dw    *dwarfx.Frame
}

// Source renders "FILE:LINE" or "".
func (f *stackFrame) source() string {
	if f.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", f.File, f.Line)
}

// stack unwinds the stop's thread: every enclave frame it can, then the
// host's. limited says it stopped at MaxBacktrace.
func (s *Session) stack(st target.Stop) (frames []*stackFrame, limited bool, err error) {
	p, err := s.placeOf(st)
	if err != nil {
		return nil, false, err
	}
	contexts := []*place{p}
	if p.frame > 0 {
		// Older SSA frames of the TCS: the contexts the newer AEXs interrupted.
		if ts, err := s.readTCS(st, p.tcs); err == nil {
			for i := p.frame - 1; i >= 0 && i < len(ts.frames); i-- {
				contexts = append(contexts, p.withGPR(ts.frames[i].GPR, i))
			}
		}
	}
	for ci, c := range contexts {
		fs, err := s.enclaveFrames(st, c, MaxBacktrace-len(frames))
		if err != nil && len(fs) == 0 {
			if ci == 0 {
				return nil, false, err
			}
			break
		}
		if ci > 0 && len(fs) > 0 {
			fs[0].Boundary = fmt.Sprintf("── interrupted by the AEX into SSA frame %d ──", contexts[ci-1].frame)
		}
		frames = append(frames, fs...)
		if len(frames) >= MaxBacktrace {
			return frames[:MaxBacktrace], true, nil
		}
	}
	if hostRegs, why, ok := s.hostEntryRegs(st, p); ok {
		hs := s.hostFrames(st, hostRegs, MaxBacktrace-len(frames))
		if len(hs) > 0 {
			hs[0].Boundary = why
		}
		frames = append(frames, hs...)
	}
	for i, f := range frames {
		f.Index = i
	}
	return frames, len(frames) >= MaxBacktrace, nil
}

// enclaveFrames unwinds one enclave context with its image's CFI.
func (s *Session) enclaveFrames(st target.Stop, p *place, limit int) ([]*stackFrame, error) {
	prog, err := p.program()
	if err != nil {
		return nil, err
	}
	dws, err := prog.Unwind(p.encl.Base, p.innermost(), readFunc(st), limit)
	var out []*stackFrame
	for i, dw := range dws {
		if i > 0 && (dw.PC < p.encl.Base || dw.PC-p.encl.Base >= p.encl.Size) {
			// A return address outside ELRANGE: the entry code's CFI
			// unwound past the enclave (into the AEP or the host); the
			// host's frames come from its own stack.
			break
		}
		f := &stackFrame{PC: dw.PC, CFA: dw.CFA, dw: dw}
		fp := *p
		fp.pc = dw.PC
		fp.regs = dw.Regs
		f.place = &fp
		look := dw.PC
		if i > 0 {
			look-- // a return address: its call is the line
		}
		if pos, ok := prog.PositionAt(p.encl.Base, look); ok {
			f.Function, f.File, f.CompDir, f.Line = pos.Function, pos.File, pos.CompDir, pos.Line
		}
		if name, off, ok := p.cand.im.SymbolAt(dw.PC - p.encl.Base); ok {
			if f.Function == "" {
				f.Function = name.Name
			}
			f.Offset = off
		}
		out = append(out, f)
	}
	return out, err
}

// hostEntryRegs are the host's registers where it entered the enclave:
// the synthetic state at the AEP after an AEX (the host's RSP and RBP from
// URSP and URBP), or the state of the EENTER at an EENTER stop.
func (s *Session) hostEntryRegs(st target.Stop, p *place) (target.Regs, string, bool) {
	ev := st.Event()
	if p.tcs != ev.TCS {
		return target.Regs{}, "", false // another thread's TCS: its host state is not this stop's
	}
	switch ev.Kind {
	case target.EvAEX:
		r, err := st.Regs()
		if err != nil {
			return r, "", false
		}
		return r, fmt.Sprintf("── EENTER (TCS %#x): the host's stack at the AEP ──", p.tcs), true
	case target.EvEENTER:
		r, err := st.Regs()
		if err != nil {
			return r, "", false
		}
		// EENTER put the address after the ENCLU in RCX and saved the
		// host's RSP and RBP in the SSA frame it will use (URSP, URBP).
		ts, err := s.readTCS(st, p.tcs)
		if err != nil {
			return r, "", false
		}
		var b [16]byte
		if _, err := st.ReadEnclave(b[:], ts.geo.FrameAddr(int(ts.tcs.CSSA))+uint64(ts.geo.GPRSGXOffset()+ssa.OffURSP)); err != nil {
			return r, "", false
		}
		host := target.Regs{Rip: r.Rcx - 3, Rsp: binary.LittleEndian.Uint64(b[:8]), Rbp: binary.LittleEndian.Uint64(b[8:])}
		return host, fmt.Sprintf("── EENTER (TCS %#x) ──", p.tcs), true
	}
	return target.Regs{}, "", false
}

// hostFrames unwinds the host's stack from r: each module's CFI (its ELF
// from /proc/PID/maps) where it has DWARF, frame pointers elsewhere (the
// vDSO's __vdso_sgx_enter_enclave keeps RBP).
func (s *Session) hostFrames(st target.Stop, r target.Regs, limit int) []*stackFrame {
	mods := hostModules(stopPid(st))
	mem := func(buf []byte, addr uint64) (int, error) { return st.ReadHost(buf, addr) }
	var out []*stackFrame
	var vdso *hostVDSO // read at the first frame outside the named modules
	fr := &dwarfx.Frame{PC: r.Rip}
	for i, v := range []uint64{r.Rax, r.Rdx, r.Rcx, r.Rbx, r.Rsi, r.Rdi, r.Rbp, r.Rsp} {
		fr.Regs.Set(i, v)
	}
	for len(out) < limit && fr != nil && fr.PC != 0 {
		f := &stackFrame{PC: fr.PC, Host: true}
		m := mods.at(fr.PC)
		var prog *dwarfx.Program
		if m == nil || m.path == "[vdso]" {
			if vdso == nil {
				vdso = readVDSO(stopPid(st), mem)
			}
			if name, off, ok := vdso.symbol(fr.PC); ok {
				f.Module, f.Function, f.Offset = "[vdso]", name, off
			}
		} else {
			f.Module = m.path
			prog = s.hostProgram(m.path)
			if prog != nil {
				look := fr.PC
				if len(out) > 0 {
					look--
				}
				if pos, ok := prog.PositionAt(m.base, look); ok {
					f.Function, f.File, f.CompDir, f.Line = pos.Function, pos.File, pos.CompDir, pos.Line
					if pos.FuncEntry != 0 {
						f.Offset = fr.PC - pos.FuncEntry
					}
				}
			}
		}
		out = append(out, f)
		if f.Function == "main" {
			break
		}
		var next *dwarfx.Frame
		if prog != nil {
			if c, err := prog.CallerFrame(m.base, fr, mem); err == nil && c != nil {
				next = c
			}
		}
		if next == nil {
			next = framePointerCaller(fr, mem)
		}
		if next != nil {
			sp, _ := next.Regs.Get(dwRSP)
			if osp, _ := fr.Regs.Get(dwRSP); sp <= osp {
				break // the stack must grow toward the caller
			}
		}
		fr = next
	}
	return out
}

// framePointerCaller unwinds one frame by RBP: the caller's RIP at
// [RBP+8], its RBP at [RBP], its RSP RBP+16.
func framePointerCaller(fr *dwarfx.Frame, mem dwarfx.ReadMemory) *dwarfx.Frame {
	rbp, ok := fr.Regs.Get(dwRBP)
	if !ok || rbp == 0 {
		return nil
	}
	var b [16]byte
	if n, _ := mem(b[:], rbp); n < 16 {
		return nil
	}
	c := &dwarfx.Frame{PC: binary.LittleEndian.Uint64(b[8:]), Outer: true}
	c.Regs.Set(dwRBP, binary.LittleEndian.Uint64(b[:8]))
	c.Regs.Set(dwRSP, rbp+16)
	return c
}

// hostModule is one ELF file mapped executable in the host.
type hostModule struct {
	path       string
	base       uint64 // the load bias: the address of file offset 0
	start, end uint64 // the executable mapping
}

type hostModuleList []hostModule

func (l hostModuleList) at(pc uint64) *hostModule {
	for i := range l {
		if pc >= l[i].start && pc < l[i].end {
			return &l[i]
		}
	}
	return nil
}

// hostModules reads the executable file mappings of pid.
func hostModules(pid int) hostModuleList {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out hostModuleList
	first := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || !strings.HasPrefix(fs[5], "/") && fs[5] != "[vdso]" {
			continue
		}
		lo, hi, _ := strings.Cut(fs[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(fs[2], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if _, ok := first[fs[5]]; !ok {
			first[fs[5]] = start - off
		}
		if strings.Contains(fs[1], "x") {
			out = append(out, hostModule{path: fs[5], base: first[fs[5]], start: start, end: end})
		}
	}
	return out
}

// hostProgram opens a host module's DWARF (cached; nil without DWARF).
func (s *Session) hostProgram(path string) *dwarfx.Program {
	if p, ok := s.hostProgs[path]; ok {
		return p
	}
	p, err := dwarfx.Open(path)
	if err != nil {
		p = nil
	}
	s.hostProgs[path] = p
	return p
}
