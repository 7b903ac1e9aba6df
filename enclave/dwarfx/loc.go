package dwarfx

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
	"github.com/go-delve/delve/pkg/dwarf/op"
)

// ReadMemory reads memory at a run-time address, like io.ReaderAt: on
// hardware through EDBGRD, under emulation from the emulator's model.
type ReadMemory func(buf []byte, addr uint64) (int, error)

// Reasons a value is unavailable (Value.Unavailable).
const (
	OptimizedOut          = "optimized out"
	EntryValueUnavailable = "entry value unavailable"
	NotSaved              = "not saved" // a register the unwinder did not recover
)

// GNU extensions to DWARF 4 for call sites (DWARF 5 §3.4 standardised them).
const (
	tagGNUCallSite          dwarf.Tag  = 0x4109
	tagGNUCallSiteParameter dwarf.Tag  = 0x410a
	attrGNUCallSiteValue    dwarf.Attr = 0x2111
)

// unavailableError says why a location has no value; it becomes
// Value.Unavailable rather than an error.
type unavailableError struct{ reason string }

func (e *unavailableError) Error() string { return e.reason }

func unavailable(reason string) error { return &unavailableError{reason} }

// maxEntryDepth bounds the chain of caller frames followed to evaluate
// entry values whose call-site values are entry values again.
const maxEntryDepth = 8

// frameCtx is a frame prepared for evaluating DWARF expressions.
type frameCtx struct {
	p     *Program
	base  uint64
	fr    *Frame // nil: no frame (globals and registers are unavailable)
	fn    *function
	mem   ReadMemory
	depth int

	frameBase    int64
	frameBaseErr error
}

// newFrameCtx prepares fr (which may be nil). The caller holds p.mu.
func (p *Program) newFrameCtx(base uint64, fr *Frame, mem ReadMemory, depth int) *frameCtx {
	c := &frameCtx{p: p, base: base, fr: fr, mem: mem, depth: depth}
	if fr == nil {
		c.frameBaseErr = errors.New("no frame")
		return c
	}
	if fr.CFA == 0 { // the caller did not give it: compute it from the CFI
		if cfa, err := p.callerCFA(base, fr); err == nil {
			f := *fr
			f.CFA = cfa
			c.fr = &f
		}
	}
	c.fn = p.funcAt(c.lookupPC())
	c.frameBaseErr = errors.New("no function at PC")
	if c.fn != nil {
		c.frameBase, c.frameBaseErr = c.evalFrameBase()
	}
	return c
}

// linkPC is the frame's PC as a link address. For a caller frame the PC
// is a return address: the scope is that of the call instruction before
// it, as gdb looks it up.
func (c *frameCtx) linkPC() uint64 { return c.fr.PC - c.base }

// lookupPC is the link address used to find scopes and location-list
// entries: the PC, or PC-1 in a caller frame.
func (c *frameCtx) lookupPC() uint64 {
	if (c.depth > 0 || c.fr.Outer) && c.linkPC() > 0 {
		return c.linkPC() - 1
	}
	return c.linkPC()
}

func (c *frameCtx) evalFrameBase() (int64, error) {
	t, err := c.p.tree(c.fn.off)
	if err != nil {
		return 0, err
	}
	instr, ok := t.Val(dwarf.AttrFrameBase).([]byte)
	if !ok {
		return 0, errors.New("function has no DW_AT_frame_base")
	}
	c.frameBaseErr = errors.New("frame base being computed")
	addr, pieces, err := c.exec(instr)
	if err != nil {
		return 0, fmt.Errorf("frame base: %w", err)
	}
	if len(pieces) == 1 && pieces[0].Kind == op.RegPiece {
		v, ok := c.reg(int(pieces[0].Val))
		if !ok {
			return 0, fmt.Errorf("frame base: register %d %w", pieces[0].Val, unavailable(NotSaved))
		}
		return int64(v), nil
	}
	if pieces != nil {
		return 0, errors.New("frame base is not an address")
	}
	return addr, nil
}

// reg returns register n of the frame; RIP is the frame's PC.
func (c *frameCtx) reg(n int) (uint64, bool) {
	if c.fr == nil {
		return 0, false
	}
	if n == RegRIP {
		return c.fr.PC, true
	}
	return c.fr.Regs.Get(n)
}

// opRegs builds delve's register set for the frame.
func (c *frameCtx) opRegs() *op.DwarfRegisters {
	regs := op.NewDwarfRegisters(c.base, nil, binary.LittleEndian, RegRIP, RegRSP, RegRBP, 0)
	if c.fr != nil {
		for n := 0; n < numRegs; n++ {
			if v, ok := c.reg(n); ok {
				regs.AddReg(uint64(n), op.DwarfRegisterFromUint64(v))
			}
		}
		regs.CFA = int64(c.fr.CFA)
	}
	regs.FrameBase = c.frameBase
	return regs
}

// exec runs a DWARF expression in the frame with delve's op, after
// replacing each DW_OP_entry_value by the value it stands for.
func (c *frameCtx) exec(instr []byte) (int64, []op.Piece, error) {
	ops, err := decodeOps(instr)
	if err != nil {
		return 0, nil, err
	}
	for _, o := range ops {
		switch o.code {
		case opFbreg:
			if c.frameBaseErr != nil {
				return 0, nil, fmt.Errorf("DW_OP_fbreg: %w", c.frameBaseErr)
			}
		case opCallFrameCFA:
			if c.fr == nil || c.fr.CFA == 0 {
				return 0, nil, errors.New("the CFA of the frame is unknown")
			}
		}
	}
	instr, err = rewriteEntryValues(ops, c.entryValue)
	if err != nil {
		return 0, nil, err
	}
	var addr int64
	var pieces []op.Piece
	err = safely(func() error {
		var err error
		addr, pieces, err = op.ExecuteStackProgram(*c.opRegs(), instr, 8, c.readMem)
		return err
	})
	return addr, pieces, err
}

// readMem is the memory reader given to delve's op: a short read is an
// error (op ignores the count).
func (c *frameCtx) readMem(buf []byte, addr uint64) (int, error) {
	if c.mem == nil {
		return 0, errors.New("no memory reader")
	}
	n, err := c.mem(buf, addr)
	if err == nil && n < len(buf) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, fmt.Errorf("read memory at %#x: %w", addr, err)
	}
	return n, nil
}

// entryValue evaluates the sub-expression of DW_OP_entry_value: the value
// it had when the function was entered.
func (c *frameCtx) entryValue(sub []byte) (uint64, error) {
	if c.fr == nil || c.fn == nil {
		return 0, unavailable(EntryValueUnavailable)
	}
	atEntry := c.depth == 0 && !c.fr.Outer && c.linkPC() == c.fn.entry
	ops, err := decodeOps(sub)
	if err != nil {
		return 0, err
	}
	if len(ops) == 1 && ops[0].isReg() {
		r := ops[0].regNum()
		if atEntry {
			if v, ok := c.reg(r); ok {
				return v, nil
			}
			return 0, unavailable(EntryValueUnavailable)
		}
		return c.callSiteValue(r)
	}
	if !atEntry {
		return 0, unavailable(EntryValueUnavailable)
	}
	sc := *c
	sc.depth = maxEntryDepth // no nested entry values
	addr, pieces, err := sc.exec(sub)
	if err != nil || pieces != nil {
		return 0, unavailable(EntryValueUnavailable)
	}
	return uint64(addr), nil
}

// callSiteValue finds, in the caller frame, the call site returning to
// the caller's PC and evaluates the value it passed in register r.
func (c *frameCtx) callSiteValue(r int) (uint64, error) {
	if c.fr.Caller == nil || c.depth >= maxEntryDepth {
		return 0, unavailable(EntryValueUnavailable)
	}
	cc := c.p.newFrameCtx(c.base, c.fr.Caller, c.mem, c.depth+1)
	if cc.fn == nil {
		return 0, unavailable(EntryValueUnavailable)
	}
	t, err := c.p.tree(cc.fn.off)
	if err != nil {
		return 0, err
	}
	site := findCallSite(t, cc.linkPC())
	if site == nil {
		return 0, unavailable(EntryValueUnavailable)
	}
	for _, prm := range site.Children {
		if prm.Tag != dwarf.TagCallSiteParameter && prm.Tag != tagGNUCallSiteParameter {
			continue
		}
		loc, _ := prm.Val(dwarf.AttrLocation).([]byte)
		ops, err := decodeOps(loc)
		if err != nil || len(ops) != 1 || !ops[0].isReg() || ops[0].regNum() != r {
			continue
		}
		val, ok := prm.Val(dwarf.AttrCallValue).([]byte)
		if !ok {
			val, ok = prm.Val(attrGNUCallSiteValue).([]byte)
		}
		if !ok {
			break
		}
		addr, pieces, err := cc.exec(val)
		if err != nil {
			var ue *unavailableError
			if errors.As(err, &ue) {
				return 0, err
			}
			return 0, unavailable(EntryValueUnavailable)
		}
		switch {
		case pieces == nil:
			return uint64(addr), nil
		case len(pieces) == 1 && pieces[0].Kind == op.RegPiece:
			if v, ok := cc.reg(int(pieces[0].Val)); ok {
				return v, nil
			}
		case len(pieces) == 1 && pieces[0].Kind == op.ImmPiece && pieces[0].Bytes == nil:
			return pieces[0].Val, nil
		}
		break
	}
	return 0, unavailable(EntryValueUnavailable)
}

// findCallSite returns the call-site DIE under t whose return address is
// the link address ret.
func findCallSite(t *godwarf.Tree, ret uint64) *godwarf.Tree {
	for _, ch := range t.Children {
		switch ch.Tag {
		case dwarf.TagCallSite:
			if pc, ok := ch.Val(dwarf.AttrCallReturnPC).(uint64); ok && pc == ret {
				return ch
			}
		case tagGNUCallSite:
			if pc, ok := ch.Val(dwarf.AttrLowpc).(uint64); ok && pc == ret {
				return ch
			}
		}
		if s := findCallSite(ch, ret); s != nil {
			return s
		}
	}
	return nil
}

// location returns the location expression of a variable DIE valid at the
// frame's PC, or an *unavailableError when there is none there.
func (c *frameCtx) location(e godwarf.Entry, u *unit) ([]byte, error) {
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		return nil, unavailable(OptimizedOut)
	}
	switch f.Class {
	case dwarf.ClassExprLoc, dwarf.ClassBlock:
		b, _ := f.Val.([]byte)
		if len(b) == 0 {
			return nil, unavailable(OptimizedOut)
		}
		return b, nil
	case dwarf.ClassLocList: // DW_FORM_loclistx (split DWARF)
		return nil, errors.New("DW_FORM_loclistx location lists are not supported")
	case dwarf.ClassLocListPtr:
		off, _ := f.Val.(int64)
		if c.fr == nil {
			return nil, errors.New("a location list needs a frame")
		}
		return c.p.findLoc(u, off, c.lookupPC())
	}
	return nil, fmt.Errorf("DW_AT_location of class %v", f.Class)
}

// findLoc returns the expression of the location list at off that covers
// the link address pc.
func (p *Program) findLoc(u *unit, off int64, pc uint64) ([]byte, error) {
	var instr []byte
	err := safely(func() error {
		var addr *godwarf.DebugAddr
		if p.addr != nil {
			addr = p.addr.GetSubsection(u.addrBase)
		}
		switch {
		case u.version >= 5 && p.loc5 != nil:
			e, err := p.loc5.Find(int(off), 0, u.lowPC, pc, addr)
			if err != nil {
				return err
			}
			if e != nil {
				instr = e.Instr
			}
		case u.version < 5 && p.loc2 != nil:
			e, err := p.loc2.Find(int(off), 0, u.lowPC, pc, addr)
			if err != nil {
				return err
			}
			if e != nil {
				instr = e.Instr
			}
		default:
			return fmt.Errorf("location list at %#x but no location list section", off)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("location list at %#x: %w", off, err)
	}
	if len(instr) == 0 {
		return nil, unavailable(OptimizedOut)
	}
	return instr, nil
}
