package debugger

import (
	"fmt"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
	"github.com/sgxdbg/sgxdbg/ssa"
)

// place is where a stopped thread is inside an enclave, as source-level
// commands need it: the enclave, its matched image and DWARF, and the
// thread's enclave registers — the newest SSA frame's GPRSGX at an AEX,
// the thread's own registers at an EENTER or ERESUME stop (the enclave
// runs natively under the emulator, so they are the enclave's).
type place struct {
	encl  target.EnclaveInfo
	cand  *candidate // nil without a matched image
	tcs   uint64
	pc    uint64
	regs  dwarfx.Registers
	frame int // the SSA frame the registers come from, -1 at a transition
}

// DWARF register numbers of x86-64 (System V psABI, figure 3.36).
const (
	dwRAX, dwRDX, dwRCX, dwRBX, dwRSI, dwRDI, dwRBP, dwRSP = 0, 1, 2, 3, 4, 5, 6, 7
	dwR8, dwRIP                                            = 8, 16
)

// placeOf finds the stopped thread's place in its enclave.
func (s *Session) placeOf(st target.Stop) (*place, error) {
	ev := st.Event()
	kind := ev.Kind
	if s.tcsSel != 0 && s.tcsSel != ev.TCS {
		kind = target.EvAEX // another TCS: its newest SSA frame
	}
	switch kind {
	case target.EvAEX:
		ts, f, err := s.stopFrame(st)
		if err != nil {
			return nil, err
		}
		return (&place{encl: ts.encl, tcs: ts.addr, cand: s.matchedAt(ts.encl.Base)}).withGPR(f.GPR, f.Index), nil
	case target.EvEENTER, target.EvERESUME:
		r, err := st.Regs()
		if err != nil {
			return nil, err
		}
		encl, ok := enclaveAt(st, r.Rip)
		if !ok {
			return nil, errorf(ErrNotAtAEX, "the thread at this %s stop is not in an enclave", ev.Kind)
		}
		p := &place{encl: encl, tcs: ev.TCS, pc: r.Rip, frame: -1}
		for i, v := range []uint64{r.Rax, r.Rdx, r.Rcx, r.Rbx, r.Rsi, r.Rdi, r.Rbp, r.Rsp,
			r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15, r.Rip} {
			p.regs.Set(i, v)
		}
		p.cand = s.matchedAt(encl.Base)
		return p, nil
	}
	return nil, errorf(ErrNotAtAEX, "the thread is not in an enclave at a %s stop", ev.Kind)
}

// withGPR is the place of an older SSA frame of the same TCS: its saved
// registers.
func (p *place) withGPR(g ssa.GPRSGX, index int) *place {
	q := &place{encl: p.encl, cand: p.cand, tcs: p.tcs, pc: g.RIP, frame: index}
	for i, v := range []uint64{g.RAX, g.RDX, g.RCX, g.RBX, g.RSI, g.RDI, g.RBP, g.RSP,
		g.R8, g.R9, g.R10, g.R11, g.R12, g.R13, g.R14, g.R15, g.RIP} {
		q.regs.Set(i, v)
	}
	return q
}

// rsp is the place's stack pointer.
func (p *place) rsp() uint64 {
	v, _ := p.regs.Get(dwRSP)
	return v
}

// program returns the DWARF of the place's image.
func (p *place) program() (*dwarfx.Program, error) {
	if p.cand == nil {
		return nil, errorf(ErrNoImage, "no enclave image matches enclave %#x (MRENCLAVE %x): pass it with --enclave", p.encl.Base, p.encl.MRENCLAVE)
	}
	return p.cand.program()
}

// program opens the candidate's DWARF on first use.
func (c *candidate) program() (*dwarfx.Program, error) {
	if c.prog == nil && c.progErr == nil {
		c.prog, c.progErr = dwarfx.Open(c.path)
	}
	if c.progErr != nil {
		return nil, fmt.Errorf("%s: %w", c.path, c.progErr)
	}
	return c.prog, nil
}

// position describes the place's PC in the source.
func (p *place) position() (dwarfx.Position, bool) {
	prog, err := p.program()
	if err != nil {
		return dwarfx.Position{}, false
	}
	return prog.PositionAt(p.encl.Base, p.pc)
}

// innermost is the place as the innermost DWARF frame.
func (p *place) innermost() *dwarfx.Frame {
	return &dwarfx.Frame{PC: p.pc, Regs: p.regs}
}

// matchedAt returns the candidate image matched to the enclave at base.
func (s *Session) matchedAt(base uint64) *candidate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.matched[base]
}

// readFunc is a DWARF memory reader over the stop's EDBGRD path (with the
// breakpoints' original bytes).
func readFunc(st target.Stop) dwarfx.ReadMemory {
	return func(buf []byte, addr uint64) (int, error) { return st.ReadEnclave(buf, addr) }
}

var _ enclave.MemReader = edbgrd{}
