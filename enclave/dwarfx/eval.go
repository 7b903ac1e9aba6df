package dwarfx

import (
	"debug/dwarf"
	"fmt"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// UnknownSymbolError: a name that is no variable, function or register in
// scope (Col > 0, in an expression) or no function or file (Col = 0, in a
// location).
type UnknownSymbolError struct {
	Name string
	Col  int
}

// Error renders the UnknownSymbolError.
func (e *UnknownSymbolError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("no symbol %q in current context (column %d)", e.Name, e.Col)
	}
	return fmt.Sprintf("no symbol %q in current context", e.Name)
}

// EvalError is an expression that parses but cannot be evaluated: an
// operator applied to a value of the wrong type ("attempt to take contents
// of a non-pointer value"), an unavailable operand, a memory error.
type EvalError struct {
	Col  int    // 1-based column of the operator or operand
	Op   string // "*", "&", "->", ".", "[]", "cast", "+", "$", ...
	Type string // the operand's C type, where one is involved
	Msg  string
	Err  error // an underlying error (memory read), or nil
}

// Error renders the EvalError.
func (e *EvalError) Error() string {
	s := fmt.Sprintf("column %d: %s", e.Col, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *EvalError) Unwrap() error { return e.Err }

// Eval evaluates a C expression in the scope: variables (locals, args,
// globals), functions, registers ($rax…$r15, $rip, $rsp, $eflags, $pc,
// $sp, $fp, $eax…), literals, the unary, binary, member, index and cast
// operators, sizeof. Memory is read only as far as the result needs;
// Value.String formats it as gdb's print.
func (s *Scope) Eval(expr string) (*Value, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	n, err := parseExpr(expr, s.isType, false)
	if err != nil {
		return nil, err
	}
	v, err := (&evaluator{s: s}).eval(n)
	if err != nil {
		return nil, err
	}
	// Read the result now, so that an unreadable address is an error of
	// the expression (as gdb's "Cannot access memory"), not of printing.
	if _, isFunc := v.resolved().(*godwarf.FuncType); v.InMemory && v.bytes == nil && !isFunc && v.Unavailable == "" {
		if _, err := v.Bytes(); err != nil {
			return nil, &EvalError{Col: 1, Type: TypeName(v.Type), Msg: "cannot read the value", Err: err}
		}
	}
	return v, nil
}

// Print evaluates expr and formats the value as gdb's print.
func (s *Scope) Print(expr string) (string, error) {
	v, err := s.Eval(expr)
	if err != nil {
		return "", err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return v.String(), nil
}

// PrintFormat evaluates expr and formats the value as gdb's print/FMT
// (see Value.Format).
func (s *Scope) PrintFormat(expr string, letter byte) (string, error) {
	if letter != 0 && strings.IndexByte(FormatLetters, letter) < 0 {
		return "", fmt.Errorf("%w letter '%c'", ErrBadFormat, letter)
	}
	v, err := s.Eval(expr)
	if err != nil {
		return "", err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return v.Format(letter)
}

// WhatIs returns the type of an expression or type name, as gdb's whatis
// (one level of typedef is kept: "uint64_t").
func (s *Scope) WhatIs(expr string) (string, error) {
	t, err := s.typeOf(expr)
	if err != nil {
		return "", err
	}
	if s.isTypeName(expr) { // whatis TYPEDEF unrolls one level
		if td, ok := t.(*godwarf.TypedefType); ok && td.Type != nil {
			return TypeName(td.Type), nil
		}
	}
	return TypeName(t), nil
}

// isTypeName reports whether expr parses as a type name alone.
func (s *Scope) isTypeName(expr string) bool {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	n, err := parseExpr(expr, s.isType, true)
	_, ok := n.(*typeNode)
	return err == nil && ok
}

// PType returns the type of an expression or type name with structs,
// unions and enums spelled out and typedefs resolved, as gdb's ptype.
func (s *Scope) PType(expr string) (string, error) {
	t, err := s.typeOf(expr)
	if err != nil {
		return "", err
	}
	return PType(t), nil
}

func (s *Scope) typeOf(expr string) (godwarf.Type, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	n, err := parseExpr(expr, s.isType, true)
	if err != nil {
		return nil, err
	}
	if tn, ok := n.(*typeNode); ok {
		return s.resolveType(tn.ty, tn.c)
	}
	v, err := (&evaluator{s: s, noRead: true}).eval(n)
	if err != nil {
		return nil, err
	}
	return v.Type, nil
}

// isType tells typedef names from variables for the parser.
func (s *Scope) isType(name string) bool {
	if _, ok := s.p.types[name]; !ok {
		return false
	}
	t, _ := s.lookupVar(name)
	return t == nil
}

// resolveType turns a parsed type name into a type.
func (s *Scope) resolveType(ts *typeSpec, col int) (godwarf.Type, error) {
	t, ok := baseTypes[ts.base]
	if !ok {
		off, found := s.p.types[ts.base]
		if !found {
			return nil, &UnknownSymbolError{Name: ts.base, Col: col}
		}
		var err error
		if t, err = s.p.readType(off); err != nil {
			return nil, err
		}
	}
	for i := 0; i < ts.ptrs; i++ {
		t = pointerTo(t)
	}
	return t, nil
}

// lookupVar finds a variable DIE by name: the blocks holding the PC
// innermost first, the function's parameters, then globals (the frame's
// compilation unit first).
func (s *Scope) lookupVar(name string) (*godwarf.Tree, *unit) {
	if s.ctx.fn != nil {
		if fn, err := s.funcTree(); err == nil {
			for _, blk := range s.blocks(fn) {
				for _, ch := range blk.Children {
					if (ch.Tag == dwarf.TagVariable || ch.Tag == dwarf.TagFormalParameter) && !isDecl(ch) {
						if n, _ := ch.Val(dwarf.AttrName).(string); n == name {
							return ch, s.ctx.fn.unit
						}
					}
				}
			}
		}
	}
	gs := s.p.globals[name]
	if len(gs) == 0 {
		return nil, nil
	}
	g := gs[0]
	if s.ctx.fn != nil {
		for _, c := range gs {
			if c.unit == s.ctx.fn.unit {
				g = c
			}
		}
	}
	t, err := s.p.tree(g.off)
	if err != nil {
		return nil, nil
	}
	return t, g.unit
}

// evaluator walks a parsed expression. With noRead it computes types
// only (ptype, whatis, sizeof) and reads no memory.
type evaluator struct {
	s      *Scope
	noRead bool
}

func (e *evaluator) errf(n node, op string, t godwarf.Type, format string, args ...any) error {
	ee := &EvalError{Col: n.col(), Op: op, Msg: fmt.Sprintf(format, args...)}
	if t != nil {
		ee.Type = TypeName(t)
	}
	return ee
}

func (e *evaluator) eval(n node) (*Value, error) {
	s := e.s
	switch n := n.(type) {
	case *identNode:
		return e.ident(n)
	case *regNode:
		return e.register(n)
	case *numNode:
		return s.newScalar(literalType(n), n.val), nil
	case *floatNode:
		return s.newFloat(n.val), nil
	case *charNode:
		return s.newScalar(typeChar, uint64(n.val)), nil
	case *unaryNode:
		return e.unary(n)
	case *binaryNode:
		return e.binary(n)
	case *indexNode:
		return e.index(n)
	case *memberNode:
		return e.member(n)
	case *castNode:
		x, err := e.eval(n.x)
		if err != nil {
			return nil, err
		}
		t, err := s.resolveType(n.ty, n.c)
		if err != nil {
			return nil, err
		}
		return e.cast(n, x, t)
	case *sizeofNode:
		var t godwarf.Type
		if n.ty != nil {
			var err error
			if t, err = s.resolveType(n.ty, n.c); err != nil {
				return nil, err
			}
		} else {
			x, err := (&evaluator{s: s, noRead: true}).eval(n.x)
			if err != nil {
				return nil, err
			}
			t = x.Type
		}
		return s.newScalar(typeULong, uint64(max(t.Size(), 0))), nil
	case *typeNode:
		return nil, e.errf(n, "", nil, "a type name is not a value")
	}
	return nil, fmt.Errorf("unknown expression node %T", n)
}

// literalType gives an integer literal its C type.
func literalType(n *numNode) godwarf.Type {
	switch {
	case n.long && n.unsigned:
		return typeULong
	case n.long:
		if n.val > 1<<63-1 {
			return typeULong
		}
		return typeLong
	case n.unsigned:
		if n.val > 1<<32-1 {
			return typeULong
		}
		return typeUint
	case n.val <= 1<<31-1:
		return typeInt
	case n.val <= 1<<63-1:
		return typeLong
	}
	return typeULong
}

func (e *evaluator) ident(n *identNode) (*Value, error) {
	s := e.s
	if t, u := s.lookupVar(n.name); t != nil {
		v, err := s.readVar(t, u)
		if err != nil {
			return nil, &EvalError{Col: n.c, Msg: "read " + n.name, Err: err}
		}
		return v, nil
	}
	if fns := s.p.funcNamed(n.name); len(fns) > 0 {
		ft, err := s.p.funcType(fns[0])
		if err != nil {
			return nil, err
		}
		return &Value{Type: ft, Addr: s.ctx.base + fns[0].entry, InMemory: true, Reg: -1, s: s}, nil
	}
	if v, ok := s.p.enumerator(n.name); ok {
		return s.newScalar(v.t, uint64(v.val)), nil
	}
	return nil, &UnknownSymbolError{Name: n.name, Col: n.c}
}

// subRegs are the 32-bit halves gdb names: $eax is the low half of $rax.
var subRegs = map[string]int{"eax": RegRAX, "edx": RegRDX, "ecx": RegRCX, "ebx": RegRBX,
	"esi": RegRSI, "edi": RegRDI, "ebp": RegRBP, "esp": RegRSP}

func (e *evaluator) register(n *regNode) (*Value, error) {
	s := e.s
	num, ok := registerNumber(n.name)
	half := false
	if !ok {
		num, half = subRegs[n.name]
		ok = half
	}
	if !ok {
		return nil, &UnknownSymbolError{Name: "$" + n.name, Col: n.c}
	}
	if s.ctx.fr == nil {
		return nil, e.errf(n, "$", nil, "no frame selected: no registers")
	}
	var t godwarf.Type = typeInt64 // gdb's type of the 64-bit registers
	switch {
	case half:
		t = typeInt
	case num == RegRIP:
		t = typeCodePtr
	case num == RegRSP || num == RegRBP:
		t = typeDataPtr
	case num == RegEFLAGS:
		t = typeEflags
	}
	x, ok := s.ctx.reg(num)
	if !ok {
		return &Value{Type: t, Reg: num, Unavailable: NotSaved, s: s}, nil
	}
	v := s.newScalar(t, x)
	v.Reg = num
	return v, nil
}

// need returns an error when v has no value (for operators that read it).
func (e *evaluator) need(n node, v *Value) error {
	if v.Unavailable != "" {
		return e.errf(n, "", v.Type, "value is %s", v.Unavailable)
	}
	return nil
}

// scalar reads an integer/pointer operand's 64 bits (0 without reading
// in noRead mode).
func (e *evaluator) scalar(n node, v *Value) (uint64, error) {
	if e.noRead {
		return 0, nil
	}
	if err := e.need(n, v); err != nil {
		return 0, err
	}
	if _, ok := v.resolved().(*godwarf.ArrayType); ok { // decays to its address
		if !v.InMemory {
			return 0, e.errf(n, "", v.Type, "array not in memory has no address")
		}
		return v.Addr, nil
	}
	if _, ok := v.resolved().(*godwarf.FuncType); ok {
		return v.Addr, nil
	}
	x, err := v.uint()
	if err != nil {
		return 0, &EvalError{Col: n.col(), Type: TypeName(v.Type), Msg: "read value", Err: err}
	}
	return x, nil
}

func (e *evaluator) floatOf(n node, v *Value) (float64, error) {
	if e.noRead {
		return 0, nil
	}
	if err := e.need(n, v); err != nil {
		return 0, err
	}
	if isFloat(v.Type) {
		return v.float()
	}
	x, err := v.uint()
	if err != nil {
		return 0, err
	}
	if isSigned(v.Type) {
		return float64(int64(x)), nil
	}
	return float64(x), nil
}

// pointee returns the element type of a pointer or array (decayed), or
// nil.
func pointee(t godwarf.Type) godwarf.Type {
	switch t := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.PtrType:
		if t.Type == nil {
			return typeVoid
		}
		return t.Type
	case *godwarf.ArrayType:
		return t.Type
	}
	return nil
}

// deref makes the value at address addr of type t.
func (e *evaluator) deref(t godwarf.Type, addr uint64) *Value {
	return &Value{Type: t, Addr: addr, InMemory: true, Reg: -1, s: e.s}
}
