package dwarfx

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/frame"
)

// ErrNoCFI: no call-frame information covers a frame's PC.
var ErrNoCFI = errors.New("no call-frame information for PC")

// calleeSaved are the registers the x86-64 psABI preserves across calls:
// a CFI row that does not mention them leaves them unchanged.
var calleeSaved = []int{RegRBX, RegRBP, 12, 13, 14, RegR15}

// frameEntries parses .eh_frame and .debug_frame once (p.mu held). A
// section that does not parse is skipped.
func (p *Program) frameEntries() frame.FrameDescriptionEntries {
	if p.cfiDone {
		return p.fdes
	}
	p.cfiDone = true
	for _, name := range []string{".eh_frame", ".debug_frame"} {
		s := p.f.Section(name)
		if s == nil || s.Type != elf.SHT_PROGBITS {
			continue
		}
		ehAddr := uint64(0)
		if name == ".eh_frame" {
			if s.Addr == 0 { // delve takes address 0 for .debug_frame
				continue
			}
			ehAddr = s.Addr
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		_ = safely(func() error {
			fdes, err := frame.Parse(data, binary.LittleEndian, 0, 8, ehAddr)
			if err == nil {
				p.fdes = p.fdes.Append(fdes)
			}
			return err
		})
	}
	return p.fdes
}

// CallerFrame computes the frame that called fr, from the call-frame
// information of the program loaded at base: the CFA, the return address
// as PC, RSP = CFA, the registers the CFI row saves (read through mem),
// the callee-saved registers it does not mention (unchanged), and none of
// the others (unknown: caller-saved). The result is an outer frame
// (Outer set) whose Caller is nil; set fr.Caller to it to let entry
// values be evaluated through its call sites. Without CFI for fr's PC it
// returns ErrNoCFI; an outermost frame (return address undefined) gives
// (nil, nil).
func (p *Program) CallerFrame(base uint64, fr *Frame, mem ReadMemory) (*Frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.newFrameCtx(base, fr, mem, 0)
	pc := c.lookupPC()
	fde, err := p.frameEntries().FDEForPC(pc)
	if err != nil {
		return nil, fmt.Errorf("%w %#x", ErrNoCFI, fr.PC)
	}
	var fc *frame.FrameContext
	err = safely(func() error {
		var err error
		fc, err = fde.EstablishFrame(pc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("CFI at %#x: %w", fr.PC, err)
	}
	if fc.CFA.Rule != frame.RuleCFA {
		return nil, fmt.Errorf("CFI at %#x: CFA rule %d not supported", fr.PC, fc.CFA.Rule)
	}
	r, ok := c.reg(int(fc.CFA.Reg))
	if !ok {
		return nil, fmt.Errorf("CFI at %#x: CFA register %s %w", fr.PC, RegisterName(int(fc.CFA.Reg)), unavailable(NotSaved))
	}
	cfa := r + uint64(fc.CFA.Offset)
	caller := &Frame{CFA: 0, Outer: true}
	ra, ok := fc.Regs[fc.RetAddrReg]
	if !ok || ra.Rule == frame.RuleUndefined {
		return nil, nil
	}
	value := func(n int, rule frame.DWRule) (uint64, bool, error) {
		switch rule.Rule {
		case frame.RuleUndefined:
			return 0, false, nil
		case frame.RuleSameVal:
			v, ok := c.reg(n)
			return v, ok, nil
		case frame.RuleOffset:
			var b [8]byte
			if _, err := c.readMem(b[:], cfa+uint64(rule.Offset)); err != nil {
				return 0, false, err
			}
			return binary.LittleEndian.Uint64(b[:]), true, nil
		case frame.RuleValOffset:
			return cfa + uint64(rule.Offset), true, nil
		case frame.RuleRegister:
			v, ok := c.reg(int(rule.Reg))
			return v, ok, nil
		}
		return 0, false, nil // expressions: not evaluated, the register is unknown
	}
	pcv, ok, err := value(RegRIP, ra)
	if err != nil {
		return nil, fmt.Errorf("return address of the frame at %#x: %w", fr.PC, err)
	}
	if !ok {
		return nil, nil
	}
	caller.PC = pcv
	caller.Regs.Set(RegRSP, cfa)
	for _, n := range calleeSaved {
		if _, mentioned := fc.Regs[uint64(n)]; !mentioned {
			if v, ok := c.reg(n); ok {
				caller.Regs.Set(n, v)
			}
		}
	}
	for n, rule := range fc.Regs {
		if n >= numRegs || n == fc.RetAddrReg || n == RegRSP {
			continue
		}
		v, ok, err := value(int(n), rule)
		if err != nil {
			return nil, fmt.Errorf("register %s of the caller of %#x: %w", RegisterName(int(n)), fr.PC, err)
		}
		if ok {
			caller.Regs.Set(int(n), v)
		}
	}
	// The caller's own CFA needs its CFI row; compute it when there is one.
	if up, err := p.callerCFA(base, caller); err == nil {
		caller.CFA = up
	}
	return caller, nil
}

// callerCFA computes fr's CFA from its CFI row (p.mu held).
func (p *Program) callerCFA(base uint64, fr *Frame) (uint64, error) {
	pc := fr.PC - base
	if fr.Outer && pc > 0 {
		pc--
	}
	fde, err := p.frameEntries().FDEForPC(pc)
	if err != nil {
		return 0, ErrNoCFI
	}
	var fc *frame.FrameContext
	if err := safely(func() error {
		var err error
		fc, err = fde.EstablishFrame(pc)
		return err
	}); err != nil {
		return 0, err
	}
	if fc.CFA.Rule != frame.RuleCFA {
		return 0, ErrNoCFI
	}
	r, ok := fr.Regs.Get(int(fc.CFA.Reg))
	if !ok {
		return 0, ErrNoCFI
	}
	return r + uint64(fc.CFA.Offset), nil
}

// Unwind returns fr and its callers, innermost first, each linked to the
// next by Caller, by CallerFrame, for at most maxFrames frames; it sets
// fr.CFA from the CFI when it is 0. It stops
// without error at a frame without CFI (outside the program, or in code
// without it), at an outermost frame, or when the stack stops growing.
func (p *Program) Unwind(base uint64, fr *Frame, mem ReadMemory, maxFrames int) ([]*Frame, error) {
	if fr.CFA == 0 {
		p.mu.Lock()
		fr.CFA, _ = p.callerCFA(base, fr)
		p.mu.Unlock()
	}
	frames := []*Frame{fr}
	for len(frames) < maxFrames {
		cur := frames[len(frames)-1]
		caller, err := p.CallerFrame(base, cur, mem)
		if errors.Is(err, ErrNoCFI) {
			break
		}
		if err != nil {
			return frames, err
		}
		if caller == nil || caller.PC == 0 {
			break
		}
		if sp, ok := caller.Regs.Get(RegRSP); ok {
			if csp, ok := cur.Regs.Get(RegRSP); ok && sp <= csp {
				break
			}
		}
		cur.Caller = caller
		frames = append(frames, caller)
	}
	return frames, nil
}
