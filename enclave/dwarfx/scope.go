package dwarfx

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
	"github.com/go-delve/delve/pkg/dwarf/op"
)

// Scope is a frame of the program seen from the source: the function at
// the frame's PC, its arguments and the locals of the lexical blocks that
// hold the PC, the program's globals, and the frame's registers. A Scope
// without a frame sees only globals.
type Scope struct {
	p   *Program
	ctx *frameCtx
	// chain is the function's tree then the inlined calls holding the
	// PC, outermost first; level indexes the one this Scope sees.
	chain []*godwarf.Tree
	level int
}

// Scope prepares the frame fr of the program loaded at base for
// evaluation; fr may be nil (globals only) and mem may be nil (nothing in
// memory can be read). The frame is used as given: the caller keeps it
// unchanged while the Scope is in use.
//
// When the PC is in code inlined from another function, the Scope is that
// of the innermost inlined function, as gdb's frame 0 is: its arguments,
// its locals; Caller steps out to the function it was inlined into.
func (p *Program) Scope(base uint64, fr *Frame, mem ReadMemory) *Scope {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &Scope{p: p, ctx: p.newFrameCtx(base, fr, mem, 0)}
	if s.ctx.fn != nil {
		if t, err := p.tree(s.ctx.fn.off); err == nil {
			s.chain = inlineChain(t, s.ctx.lookupPC())
			s.level = len(s.chain) - 1
		}
	}
	return s
}

// inlineChain returns t and the inlined calls holding pc, outermost
// first, through lexical blocks.
func inlineChain(t *godwarf.Tree, pc uint64) []*godwarf.Tree {
	chain := []*godwarf.Tree{t}
	cur := t
	for depth := 0; depth < 64; depth++ {
		var next *godwarf.Tree
		for _, ch := range cur.Children {
			if (ch.Tag == dwarf.TagLexDwarfBlock || ch.Tag == dwarf.TagInlinedSubroutine) && ch.ContainsPC(pc) {
				next = ch
				break
			}
		}
		if next == nil {
			break
		}
		if next.Tag == dwarf.TagInlinedSubroutine {
			chain = append(chain, next)
		}
		cur = next
	}
	return chain
}

// Inlined reports whether the Scope is that of an inlined call (gdb's
// inline frame): its Caller is then the same machine frame.
func (s *Scope) Inlined() bool { return s.level > 0 }

// Caller returns the Scope of the function the Scope's function was
// inlined into, or nil for a function that was not inlined here.
func (s *Scope) Caller() *Scope {
	if s.level == 0 {
		return nil
	}
	c := *s
	c.level--
	return &c
}

// Function returns the name of the Scope's function (the inlined one for
// an inlined call), or "".
func (s *Scope) Function() string {
	if s.ctx.fn == nil {
		return ""
	}
	if s.level > 0 {
		if n, _ := s.chain[s.level].Val(dwarf.AttrName).(string); n != "" {
			return n
		}
	}
	return s.ctx.fn.name
}

// VarKind tells arguments, locals and globals apart.
type VarKind int

// Variable kinds.
const (
	VarArg VarKind = iota
	VarLocal
	VarGlobal
)

// Variable is an argument, local or global with its value.
type Variable struct {
	Name     string
	Kind     VarKind
	Type     string // the C type, as TypeName gives it
	DeclLine int    // 0 if unknown
	// Value is the variable's value, never nil. Value.Unavailable is set
	// when the variable has no value at this PC (optimized out, an entry
	// value that cannot be known, a register the unwinder did not save).
	Value *Value
	// Err is set when the value could not be read (a memory read error,
	// malformed DWARF); Value then has no contents.
	Err error
}

// String renders "name = value" as gdb's info args / info locals do
// (pointers without the "(type *)" that print puts before them).
func (v Variable) String() string {
	if v.Err != nil {
		return v.Name + " = " + errText(v.Err)
	}
	return v.Name + " = " + v.Value.s.format(v.Value, false, 0, 0)
}

// Args returns the function's formal parameters in declaration order
// (info args). It fails when the frame is in no function with DWARF.
func (s *Scope) Args() ([]Variable, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	t, err := s.funcTree()
	if err != nil {
		return nil, err
	}
	var out []Variable
	for _, ch := range t.Children {
		if ch.Tag == dwarf.TagFormalParameter {
			out = append(out, s.variable(ch, VarArg))
		}
	}
	return out, nil
}

// Locals returns the locals in scope at the frame's PC (info locals): the
// variables of the innermost lexical block holding the PC first, then
// those of each enclosing block out to the function's own, each block's
// in declaration order. For an inlined call, the inlined function's
// blocks; code inlined into this function has its own Scope (Scope's
// innermost level, Caller for the levels out).
func (s *Scope) Locals() ([]Variable, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	t, err := s.funcTree()
	if err != nil {
		return nil, err
	}
	var out []Variable
	for _, blk := range s.blocks(t) {
		for _, ch := range blk.Children {
			if ch.Tag == dwarf.TagVariable && !isDecl(ch) {
				out = append(out, s.variable(ch, VarLocal))
			}
		}
	}
	return out, nil
}

func isDecl(t *godwarf.Tree) bool {
	d, _ := t.Val(dwarf.AttrDeclaration).(bool)
	return d
}

func (s *Scope) funcTree() (*godwarf.Tree, error) {
	if s.ctx.fr == nil {
		return nil, errors.New("no frame selected")
	}
	if s.ctx.fn == nil || len(s.chain) == 0 {
		return nil, fmt.Errorf("no function with debug information at %#x", s.ctx.fr.PC)
	}
	return s.chain[s.level], nil
}

// blocks returns the lexical blocks holding the PC, innermost first,
// ending with the function itself.
func (s *Scope) blocks(fn *godwarf.Tree) []*godwarf.Tree {
	pc := s.ctx.lookupPC()
	chain := []*godwarf.Tree{fn}
	cur := fn
	for depth := 0; depth < 64; depth++ {
		var next *godwarf.Tree
		for _, ch := range cur.Children {
			if ch.Tag == dwarf.TagLexDwarfBlock && ch.ContainsPC(pc) {
				next = ch
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// variable reads one variable DIE. The caller holds p.mu.
func (s *Scope) variable(t *godwarf.Tree, kind VarKind) Variable {
	v := Variable{Kind: kind}
	v.Name, _ = t.Val(dwarf.AttrName).(string)
	if l, ok := t.Val(dwarf.AttrDeclLine).(int64); ok {
		v.DeclLine = int(l)
	}
	val, err := s.readVar(t, s.p.unitOf(t.Offset))
	if val != nil {
		v.Type = TypeName(val.Type)
	}
	if err != nil {
		v.Err = err
		if val == nil {
			val = &Value{Type: typeVoid, Reg: -1, Unavailable: err.Error(), s: s}
		}
	}
	v.Value = val
	return v
}

// readVar evaluates a variable DIE's location in the frame. An absent
// location gives a Value with Unavailable set and no error.
func (s *Scope) readVar(t *godwarf.Tree, u *unit) (*Value, error) {
	typ, err := s.varType(t)
	if err != nil {
		return nil, err
	}
	v := &Value{Type: typ, Reg: -1, s: s}
	if cv := t.Val(dwarf.AttrConstValue); cv != nil && t.AttrField(dwarf.AttrLocation) == nil {
		return s.constValue(v, cv)
	}
	instr, err := s.ctx.location(t, u)
	if err == nil {
		err = s.place(v, instr)
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		v.Unavailable = ue.reason
		return v, nil
	}
	if err != nil {
		return v, err
	}
	return v, nil
}

func (s *Scope) varType(t *godwarf.Tree) (godwarf.Type, error) {
	var typ godwarf.Type
	err := safely(func() error {
		var err error
		typ, err = t.Type(s.p.dw, 0, s.p.typeCache)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("type of %v: %w", t.Val(dwarf.AttrName), err)
	}
	if typ == nil {
		return nil, fmt.Errorf("type of %v: no type", t.Val(dwarf.AttrName))
	}
	s.p.fixTypes(typ)
	return typ, nil
}

// constValue fills v from DW_AT_const_value.
func (s *Scope) constValue(v *Value, cv any) (*Value, error) {
	size := v.Type.Size()
	switch c := cv.(type) {
	case int64:
		if size <= 0 || size > 8 {
			size = 8
		}
		v.bytes = binary.LittleEndian.AppendUint64(nil, uint64(c))[:size]
	case []byte:
		v.bytes = c
	default:
		return v, fmt.Errorf("DW_AT_const_value of type %T", cv)
	}
	return v, nil
}

// place runs a location expression and puts v where it says.
func (s *Scope) place(v *Value, instr []byte) error {
	addr, pieces, err := s.ctx.exec(instr)
	if err != nil {
		return err
	}
	if pieces == nil {
		v.Addr, v.InMemory = uint64(addr), true
		return nil
	}
	// delve's op turns an empty piece (a part that is optimized out) into
	// an immediate 0: never show that 0 as the part's value.
	if hasEmptyPiece(instr) {
		return unavailable(OptimizedOut)
	}
	size := v.Type.Size()
	if size < 0 || size > MaxValueSize {
		return fmt.Errorf("value of %d bytes", size)
	}
	var buf []byte
	for _, pc := range pieces {
		n := int64(pc.Size)
		if n == 0 {
			n = size - int64(len(buf))
		}
		if n < 0 || n > MaxValueSize {
			return fmt.Errorf("DWARF piece of %d bytes", n)
		}
		switch pc.Kind {
		case op.RegPiece:
			r, ok := s.ctx.reg(int(pc.Val))
			if !ok {
				if pc.Val > RegRIP {
					return unavailable(fmt.Sprintf("in register %d, which is not available", pc.Val))
				}
				return unavailable(NotSaved)
			}
			if n > 8 {
				return unavailable(fmt.Sprintf("%d bytes in register %s", n, RegisterName(int(pc.Val))))
			}
			buf = append(buf, binary.LittleEndian.AppendUint64(nil, r)[:n]...)
			if len(pieces) == 1 {
				v.Reg = int(pc.Val)
			}
		case op.AddrPiece:
			b := make([]byte, n)
			if _, err := s.ctx.readMem(b, pc.Val); err != nil {
				return err
			}
			buf = append(buf, b...)
		case op.ImmPiece:
			if pc.Bytes != nil {
				b := pc.Bytes
				if int64(len(b)) > n {
					b = b[:n]
				}
				buf = append(buf, b...)
				buf = append(buf, make([]byte, n-int64(len(b)))...)
			} else {
				b := binary.LittleEndian.AppendUint64(nil, pc.Val)
				if n > 8 {
					b = append(b, make([]byte, n-8)...)
				}
				buf = append(buf, b[:n]...)
			}
		}
	}
	if int64(len(buf)) < size {
		buf = append(buf, make([]byte, size-int64(len(buf)))...)
	}
	v.bytes = buf[:size]
	return nil
}

// field returns member f of the struct or union value v.
func (s *Scope) field(v *Value, f *godwarf.StructField) (*Value, error) {
	fv := &Value{Type: f.Type, Reg: -1, s: s}
	size := f.Type.Size()
	if f.BitSize > 0 {
		size = f.ByteSize
		if size <= 0 {
			size = (f.BitOffset + f.BitSize + 7) / 8
		}
		fv.bitOff, fv.bitLen = f.BitOffset, f.BitSize
	}
	if v.InMemory && v.bytes == nil {
		fv.Addr, fv.InMemory = v.Addr+uint64(f.ByteOffset), true
		if f.BitSize > 0 {
			if _, err := fv.readN(size); err != nil {
				return nil, err
			}
		}
		return fv, nil
	}
	b, err := v.Bytes()
	if err != nil {
		return nil, err
	}
	if f.ByteOffset < 0 || size < 0 || f.ByteOffset+size > int64(len(b)) {
		return nil, fmt.Errorf("member %s lies outside its %d-byte %s", f.Name, len(b), TypeName(v.Type))
	}
	fv.bytes = b[f.ByteOffset : f.ByteOffset+size]
	if v.InMemory {
		fv.Addr, fv.InMemory = v.Addr+uint64(f.ByteOffset), true
	}
	return fv, nil
}

// readN reads n bytes at the value's address as its contents (bit fields,
// whose storage unit is not the type's size).
func (v *Value) readN(n int64) ([]byte, error) {
	if n < 0 || n > 8 {
		return nil, fmt.Errorf("bit field storage of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := v.s.ctx.readMem(b, v.Addr); err != nil {
		return nil, err
	}
	v.bytes = b
	return b, nil
}

// element returns element i of the array value v.
func (s *Scope) element(v *Value, t *godwarf.ArrayType, i int64) (*Value, error) {
	esize := t.Type.Size()
	if t.StrideBitSize > 0 {
		esize = t.StrideBitSize / 8
	}
	ev := &Value{Type: t.Type, Reg: -1, s: s}
	if v.InMemory && v.bytes == nil {
		ev.Addr, ev.InMemory = v.Addr+uint64(i*esize), true
		return ev, nil
	}
	b, err := v.Bytes()
	if err != nil {
		return nil, err
	}
	off := i * esize
	if i < 0 || off+esize > int64(len(b)) {
		return nil, fmt.Errorf("no element %d in %s", i, TypeName(v.Type))
	}
	ev.bytes = b[off : off+esize]
	if v.InMemory {
		ev.Addr, ev.InMemory = v.Addr+uint64(off), true
	}
	return ev, nil
}

// hasEmptyPiece reports whether a location expression has a DW_OP_piece
// with no location before it (DWARF 5 §2.6.1.2: that part of the object
// is not available).
func hasEmptyPiece(instr []byte) bool {
	ops, err := decodeOps(instr)
	if err != nil {
		return false
	}
	empty := true
	for _, o := range ops {
		if o.code == opPiece || o.code == opBitPiece {
			if empty {
				return true
			}
			empty = true
			continue
		}
		empty = false
	}
	return false
}
