package enclave

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/go-delve/delve/pkg/dwarf/frame"
)

// MemReader reads enclave memory, through the EDBGRD path on hardware or
// the emulator's model: like io.ReaderAt with a virtual address.
type MemReader interface {
	ReadMemory(buf []byte, addr uint64) (int, error)
}

// UnwindRegs are the registers the unwinder starts from: those of the
// innermost frame (for an AEX, the SSA's GPRSGX values).
type UnwindRegs struct {
	RIP, RSP, RBP uint64
}

// Frame is one frame of a backtrace.
type Frame struct {
	PC     uint64 // the frame's address: RIP for the innermost frame, else the return address
	CFA    uint64 // canonical frame address (the caller's RSP after return); 0 if unknown
	Symbol string // the function containing PC ("" if none)
	Offset uint64 // PC - the function's start
	File   string // source position of PC (of PC-1 for callers, the call instruction)
	Line   int
}

// DefaultMaxFrames is the frame limit Unwind uses when given max <= 0.
const DefaultMaxFrames = 256

// DWARF register numbers of the x86-64 psABI.
const (
	dwarfRBP = 6
	dwarfRSP = 7
)

// Unwind walks the stack of the image loaded at base, starting from regs:
// with the call-frame information of .eh_frame and .debug_frame where an
// FDE covers the PC, else by the frame-pointer chain (RBP → saved RBP,
// return address at RBP+8). It stops, without error, at a PC outside the
// image, at a frame whose return address is undefined (the outermost
// frame), when the stack or frame pointer leaves the enclave or stops
// growing, or after max frames (DefaultMaxFrames if max <= 0). Memory is
// read only through mem. On a read error or a CFI rule it cannot
// evaluate, it returns the frames found so far and the error. A malformed
// CFI section is ignored (the frame-pointer chain is used instead).
func (im *Image) Unwind(mem MemReader, base uint64, regs UnwindRegs, max int) ([]Frame, error) {
	if max <= 0 {
		max = DefaultMaxFrames
	}
	u := unwinder{im: im, mem: mem, base: base, fdes: im.frameEntries()}
	st := unwindState{pc: regs.RIP, rsp: regs.RSP, rbp: regs.RBP, rbpOK: true}
	var frames []Frame
	for len(frames) < max {
		off := st.pc - base
		if st.pc < base || off >= im.Size {
			break
		}
		lookup := off // callers: the call instruction, not the return address
		if len(frames) > 0 && off > 0 {
			lookup = off - 1
		}
		fr := Frame{PC: st.pc}
		if s, _, ok := im.SymbolAt(lookup); ok {
			fr.Symbol, fr.Offset = s.Name, off-s.Offset
		}
		if file, line, err := im.LineAt(lookup); err == nil {
			fr.File, fr.Line = file, line
		}
		next, err := u.step(lookup, st)
		fr.CFA = next.rsp
		frames = append(frames, fr)
		if err != nil {
			return frames, err
		}
		if !next.ok || next.rsp <= st.rsp || next.pc == 0 {
			break
		}
		st = next
	}
	return frames, nil
}

// unwindState is the register state of one frame.
type unwindState struct {
	pc, rsp, rbp uint64
	rbpOK        bool // rbp holds the frame's RBP (false: unknown)
	ok           bool // the state is a caller's and the walk goes on
}

// unwinder steps from a frame to its caller.
type unwinder struct {
	im   *Image
	mem  MemReader
	base uint64
	fdes frame.FrameDescriptionEntries
}

// step computes the caller's state of the frame st whose code is at
// enclave offset lookup. The result's rsp is the frame's CFA, or 0.
func (u *unwinder) step(lookup uint64, st unwindState) (unwindState, error) {
	fde, err := u.fdes.FDEForPC(lookup)
	if err != nil {
		return u.framePointer(st)
	}
	var ctx *frame.FrameContext
	err = safely(func() error {
		var err error
		ctx, err = fde.EstablishFrame(lookup)
		return err
	})
	if err != nil {
		return unwindState{}, fmt.Errorf("%w: CFI at offset %#x: %w", ErrUnwind, lookup, err)
	}
	return u.applyCFI(ctx, lookup, st)
}

// applyCFI evaluates the CFA, return-address and RBP rules of ctx.
func (u *unwinder) applyCFI(ctx *frame.FrameContext, lookup uint64, st unwindState) (unwindState, error) {
	var next unwindState
	if ctx.CFA.Rule != frame.RuleCFA {
		return next, fmt.Errorf("%w: CFA rule %d at offset %#x", ErrUnwind, ctx.CFA.Rule, lookup)
	}
	switch {
	case ctx.CFA.Reg == dwarfRSP:
		next.rsp = st.rsp + uint64(ctx.CFA.Offset)
	case ctx.CFA.Reg == dwarfRBP && st.rbpOK:
		next.rsp = st.rbp + uint64(ctx.CFA.Offset)
	default:
		return next, fmt.Errorf("%w: CFA based on DWARF register %d at offset %#x", ErrUnwind, ctx.CFA.Reg, lookup)
	}
	ra, ok := ctx.Regs[ctx.RetAddrReg]
	if !ok || ra.Rule == frame.RuleUndefined {
		return next, nil // the outermost frame
	}
	pc, ok, err := u.value(ra, next.rsp, 0)
	if err != nil || !ok {
		return next, err
	}
	next.pc = pc
	next.rbp, next.rbpOK = st.rbp, st.rbpOK
	if r, found := ctx.Regs[dwarfRBP]; found && r.Rule != frame.RuleSameVal {
		next.rbp, next.rbpOK, err = u.value(r, next.rsp, st.rbp)
		if errors.Is(err, ErrUnwind) { // an RBP the walk can do without
			err = nil
		}
		if err != nil {
			return next, err
		}
	}
	next.ok = true
	return next, nil
}

// value evaluates a register rule given the CFA and the register's value
// in the frame; ok is false when the rule leaves the register undefined or
// its slot is outside the enclave. Rules needing other registers or DWARF
// expressions give an error wrapping ErrUnwind.
func (u *unwinder) value(r frame.DWRule, cfa, same uint64) (uint64, bool, error) {
	switch r.Rule {
	case frame.RuleUndefined:
		return 0, false, nil
	case frame.RuleOffset:
		return u.read(cfa + uint64(r.Offset))
	case frame.RuleValOffset:
		return cfa + uint64(r.Offset), true, nil
	case frame.RuleSameVal:
		return same, true, nil
	}
	return 0, false, fmt.Errorf("%w: register rule %d", ErrUnwind, r.Rule)
}

// framePointer steps by the RBP chain: CFA = RBP+16, the return address
// at RBP+8 and the caller's RBP at RBP.
func (u *unwinder) framePointer(st unwindState) (unwindState, error) {
	if !st.rbpOK || st.rbp < st.rsp {
		return unwindState{}, nil
	}
	saved, ok, err := u.read(st.rbp)
	if err != nil || !ok {
		return unwindState{}, err
	}
	pc, ok, err := u.read(st.rbp + 8)
	if err != nil || !ok {
		return unwindState{}, err
	}
	return unwindState{pc: pc, rsp: st.rbp + 16, rbp: saved, rbpOK: true, ok: true}, nil
}

// read reads the 8-byte word at addr; ok is false, without reading, when
// the word is not inside the enclave.
func (u *unwinder) read(addr uint64) (uint64, bool, error) {
	if addr < u.base || addr-u.base > u.im.Size-8 {
		return 0, false, nil
	}
	var b [8]byte
	n, err := u.mem.ReadMemory(b[:], addr)
	if err == nil && n < len(b) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return 0, false, fmt.Errorf("read stack at %#x: %w", addr, err)
	}
	return binary.LittleEndian.Uint64(b[:]), true, nil
}

// frameEntries returns the image's FDEs, parsing .eh_frame and
// .debug_frame on first use. A section that does not parse is skipped.
func (im *Image) frameEntries() frame.FrameDescriptionEntries {
	d := &im.debug
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfiDone || d.closed {
		return d.fdes
	}
	d.cfiDone = true
	var all frame.FrameDescriptionEntries
	// .eh_frame is parsed as such only at a nonzero address (delve's
	// convention); the image convention never puts it at offset 0, where
	// the first page of the image lies.
	if s := im.f.Section(".eh_frame"); s != nil && s.Type == elf.SHT_PROGBITS && s.Addr != 0 {
		if fdes, err := parseFrames(s, s.Addr); err == nil {
			all = all.Append(fdes)
		}
	}
	if s := im.f.Section(".debug_frame"); s != nil && s.Type == elf.SHT_PROGBITS {
		if fdes, err := parseFrames(s, 0); err == nil {
			all = all.Append(fdes)
		}
	}
	d.fdes = all
	return all
}

// parseFrames parses one CFI section with delve's frame package.
func parseFrames(s *elf.Section, ehFrameAddr uint64) (frame.FrameDescriptionEntries, error) {
	data, err := s.Data()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.Name, err)
	}
	var fdes frame.FrameDescriptionEntries
	err = safely(func() error {
		var err error
		fdes, err = frame.Parse(data, binary.LittleEndian, 0, 8, ehFrameAddr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", s.Name, err)
	}
	return fdes, nil
}

// safely runs f, turning a panic into an error. Delve's CFI interpreter
// panics on a truncated instruction stream or an unbalanced
// DW_CFA_restore_state (pkg/dwarf/frame/table.go); CFI comes from an
// untrusted image, so its panics stop here.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed call-frame information: %v", r)
		}
	}()
	return f()
}
