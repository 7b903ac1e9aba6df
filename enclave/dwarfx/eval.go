package dwarfx

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
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

func (e *evaluator) unary(n *unaryNode) (*Value, error) {
	s := e.s
	x, err := e.eval(n.x)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "*":
		if _, ok := x.resolved().(*godwarf.FuncType); ok {
			return x, nil
		}
		elem := pointee(x.Type)
		if elem == nil {
			return nil, e.errf(n, "*", x.Type, "attempt to take contents of a non-pointer value")
		}
		if _, ok := godwarf.ResolveTypedef(elem).(*godwarf.VoidType); ok {
			return nil, e.errf(n, "*", x.Type, "attempt to take contents of a void pointer")
		}
		addr, err := e.scalar(n.x, x)
		if err != nil {
			return nil, err
		}
		return e.deref(elem, addr), nil
	case "&":
		if x.bitLen > 0 {
			return nil, e.errf(n, "&", x.Type, "attempt to take address of a bit field")
		}
		if !x.InMemory {
			return nil, e.errf(n, "&", x.Type, "attempt to take address of value not located in memory")
		}
		return s.newScalar(pointerTo(x.Type), x.Addr), nil
	case "!":
		if !isInteger(x.Type) && !isScalarPtr(x.Type) && !isFloat(x.Type) {
			return nil, e.errf(n, "!", x.Type, "operand of '!' is not a scalar")
		}
		if isFloat(x.Type) {
			f, err := e.floatOf(n.x, x)
			if err != nil {
				return nil, err
			}
			return s.newScalar(typeInt, b2u(f == 0)), nil
		}
		v, err := e.scalar(n.x, x)
		if err != nil {
			return nil, err
		}
		return s.newScalar(typeInt, b2u(v == 0)), nil
	case "-", "+":
		if isFloat(x.Type) {
			f, err := e.floatOf(n.x, x)
			if err != nil {
				return nil, err
			}
			if n.op == "-" {
				f = -f
			}
			return s.newFloat(f), nil
		}
		fallthrough
	case "~":
		if !isInteger(x.Type) {
			return nil, e.errf(n, n.op, x.Type, "operand of '%s' is not an integer", n.op)
		}
		t := promote(x.Type)
		v, err := e.scalar(n.x, x)
		if err != nil {
			return nil, err
		}
		switch n.op {
		case "-":
			v = -v
		case "~":
			v = ^v
		}
		return s.newScalar(t, v), nil
	}
	return nil, e.errf(n, n.op, nil, "unknown operator")
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// promote applies C's integer promotions: types narrower than int become
// int (unsigned int for a 4-byte unsigned).
func promote(t godwarf.Type) godwarf.Type {
	size := t.Size()
	switch {
	case size < 4:
		return typeInt
	case size == 4 && isSigned(t):
		return typeInt
	case size == 4:
		return typeUint
	case isSigned(t):
		return typeLong
	}
	return typeULong
}

// arith gives the common type of two integer operands (C's usual
// arithmetic conversions on LP64).
func arith(a, b godwarf.Type) godwarf.Type {
	a, b = promote(a), promote(b)
	if a.Size() != b.Size() {
		if a.Size() > b.Size() {
			return a
		}
		return b
	}
	if !isSigned(a) {
		return a
	}
	return b
}

func (e *evaluator) binary(n *binaryNode) (*Value, error) {
	s := e.s
	x, err := e.eval(n.x)
	if err != nil {
		return nil, err
	}
	if n.op == "&&" || n.op == "||" {
		a, err := e.truth(n.x, x)
		if err != nil {
			return nil, err
		}
		if (n.op == "&&" && !a) || (n.op == "||" && a) {
			if !e.noRead {
				return s.newScalar(typeInt, b2u(a)), nil
			}
		}
		y, err := e.eval(n.y)
		if err != nil {
			return nil, err
		}
		b, err := e.truth(n.y, y)
		if err != nil {
			return nil, err
		}
		return s.newScalar(typeInt, b2u(b)), nil
	}
	y, err := e.eval(n.y)
	if err != nil {
		return nil, err
	}
	xp, yp := pointee(x.Type), pointee(y.Type)
	if xp != nil || yp != nil {
		return e.pointerArith(n, x, y, xp, yp)
	}
	if isFloat(x.Type) || isFloat(y.Type) {
		return e.floatArith(n, x, y)
	}
	if !isInteger(x.Type) {
		return nil, e.errf(n.x, n.op, x.Type, "invalid operand of '%s'", n.op)
	}
	if !isInteger(y.Type) {
		return nil, e.errf(n.y, n.op, y.Type, "invalid operand of '%s'", n.op)
	}
	a, err := e.scalar(n.x, x)
	if err != nil {
		return nil, err
	}
	b, err := e.scalar(n.y, y)
	if err != nil {
		return nil, err
	}
	t := arith(x.Type, y.Type)
	signed := isSigned(t)
	if t.Size() == 4 { // compute in 32 bits
		a, b = narrow(a, signed), narrow(b, signed)
	}
	var r uint64
	switch n.op {
	case "+":
		r = a + b
	case "-":
		r = a - b
	case "*":
		r = a * b
	case "/", "%":
		if b == 0 && !e.noRead {
			return nil, e.errf(n, n.op, nil, "division by zero")
		}
		if b == 0 {
			break
		}
		switch {
		case signed && n.op == "/":
			r = uint64(int64(a) / int64(b))
		case signed:
			r = uint64(int64(a) % int64(b))
		case n.op == "/":
			r = a / b
		default:
			r = a % b
		}
	case "&":
		r = a & b
	case "|":
		r = a | b
	case "^":
		r = a ^ b
	case "<<", ">>":
		t = promote(x.Type)
		a = narrow(a, isSigned(t))
		if t.Size() == 4 {
			a = narrow(a, isSigned(t))
		}
		switch {
		case n.op == "<<":
			r = a << (b & 63)
		case isSigned(t):
			r = uint64(int64(a) >> (b & 63))
		default:
			r = a >> (b & 63)
		}
	default:
		return s.newScalar(typeInt, b2u(compare(n.op, a, b, signed))), nil
	}
	return s.newScalar(t, r), nil
}

// narrow truncates to 32 bits, sign- or zero-extending back.
func narrow(x uint64, signed bool) uint64 {
	if signed {
		return uint64(int64(int32(x)))
	}
	return uint64(uint32(x))
}

func compare(op string, a, b uint64, signed bool) bool {
	if signed {
		x, y := int64(a), int64(b)
		switch op {
		case "==":
			return x == y
		case "!=":
			return x != y
		case "<":
			return x < y
		case "<=":
			return x <= y
		case ">":
			return x > y
		case ">=":
			return x >= y
		}
	}
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

// truth evaluates an operand of && and ||.
func (e *evaluator) truth(n node, v *Value) (bool, error) {
	if isFloat(v.Type) {
		f, err := e.floatOf(n, v)
		return f != 0, err
	}
	if !isInteger(v.Type) && pointee(v.Type) == nil {
		return false, e.errf(n, "", v.Type, "operand is not a scalar")
	}
	x, err := e.scalar(n, v)
	return x != 0, err
}

func (e *evaluator) floatArith(n *binaryNode, x, y *Value) (*Value, error) {
	s := e.s
	for _, o := range []struct {
		n node
		v *Value
	}{{n.x, x}, {n.y, y}} {
		if !isInteger(o.v.Type) && !isFloat(o.v.Type) {
			return nil, e.errf(o.n, n.op, o.v.Type, "invalid operand of '%s'", n.op)
		}
	}
	a, err := e.floatOf(n.x, x)
	if err != nil {
		return nil, err
	}
	b, err := e.floatOf(n.y, y)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "+":
		return s.newFloat(a + b), nil
	case "-":
		return s.newFloat(a - b), nil
	case "*":
		return s.newFloat(a * b), nil
	case "/":
		return s.newFloat(a / b), nil
	case "==", "!=", "<", "<=", ">", ">=":
		var r bool
		switch n.op {
		case "==":
			r = a == b
		case "!=":
			r = a != b
		case "<":
			r = a < b
		case "<=":
			r = a <= b
		case ">":
			r = a > b
		case ">=":
			r = a >= b
		}
		return s.newScalar(typeInt, b2u(r)), nil
	}
	return nil, e.errf(n, n.op, typeDouble, "invalid operands of '%s'", n.op)
}

// pointerArith handles ptr±int, int+ptr, ptr-ptr and pointer comparisons.
func (e *evaluator) pointerArith(n *binaryNode, x, y *Value, xp, yp godwarf.Type) (*Value, error) {
	s := e.s
	a, err := e.scalar(n.x, x)
	if err != nil {
		return nil, err
	}
	b, err := e.scalar(n.y, y)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "==", "!=", "<", "<=", ">", ">=":
		return s.newScalar(typeInt, b2u(compare(n.op, a, b, false))), nil
	case "+":
		if xp != nil && yp != nil {
			return nil, e.errf(n, "+", x.Type, "cannot add two pointers")
		}
		if xp == nil {
			x, y, a, b, xp = y, x, b, a, yp
		}
		if !isInteger(y.Type) {
			return nil, e.errf(n, "+", y.Type, "invalid operand of '+'")
		}
		return s.newScalar(pointerTo(xp), a+b*uint64(elemSize(xp))), nil
	case "-":
		if xp != nil && yp != nil {
			size := elemSize(xp)
			return s.newScalar(typeLong, uint64((int64(a)-int64(b))/size)), nil
		}
		if xp != nil && isInteger(y.Type) {
			return s.newScalar(pointerTo(xp), a-b*uint64(elemSize(xp))), nil
		}
	}
	t := x.Type
	if xp == nil {
		t = y.Type
	}
	return nil, e.errf(n, n.op, t, "invalid operands of '%s'", n.op)
}

// elemSize is the size pointer arithmetic scales by (1 for void, as GNU C).
func elemSize(t godwarf.Type) int64 {
	if sz := t.Size(); sz > 0 {
		return sz
	}
	return 1
}

func (e *evaluator) index(n *indexNode) (*Value, error) {
	x, err := e.eval(n.x)
	if err != nil {
		return nil, err
	}
	iv, err := e.eval(n.i)
	if err != nil {
		return nil, err
	}
	if !isInteger(iv.Type) {
		return nil, e.errf(n.i, "[]", iv.Type, "array subscript is not an integer")
	}
	i, err := e.scalar(n.i, iv)
	if err != nil {
		return nil, err
	}
	if isSigned(iv.Type) && iv.Type.Size() < 8 {
		i = narrow(i, true)
	}
	switch t := x.resolved().(type) {
	case *godwarf.ArrayType:
		if x.InMemory || e.noRead {
			esize := elemSize(t.Type)
			return e.deref(t.Type, x.Addr+i*uint64(esize)), nil
		}
		if err := e.need(n.x, x); err != nil {
			return nil, err
		}
		return e.s.element(x, t, int64(i))
	case *godwarf.PtrType:
		elem := pointee(t)
		if _, ok := godwarf.ResolveTypedef(elem).(*godwarf.VoidType); ok {
			return nil, e.errf(n, "[]", x.Type, "cannot subscript a void pointer")
		}
		p, err := e.scalar(n.x, x)
		if err != nil {
			return nil, err
		}
		return e.deref(elem, p+i*uint64(elemSize(elem))), nil
	}
	return nil, e.errf(n, "[]", x.Type, "cannot subscript something of type '%s'", TypeName(x.Type))
}

func (e *evaluator) member(n *memberNode) (*Value, error) {
	x, err := e.eval(n.x)
	if err != nil {
		return nil, err
	}
	op := "."
	if n.arrow {
		op = "->"
	}
	// gdb is lenient: '.' through a pointer (or an array, its first
	// element) and '->' on a struct both work.
	if elem := pointee(x.Type); elem != nil {
		p, err := e.scalar(n.x, x)
		if err != nil {
			return nil, err
		}
		x = e.deref(elem, p)
	}
	st, ok := x.resolved().(*godwarf.StructType)
	if !ok {
		return nil, e.errf(n, op, x.Type, "attempt to extract a component of a value that is not a structure")
	}
	if !x.InMemory && !e.noRead {
		if err := e.need(n.x, x); err != nil {
			return nil, err
		}
	}
	v, found, err := e.findField(x, st, n.name, 0)
	if err != nil {
		return nil, &EvalError{Col: n.c, Op: op, Type: TypeName(x.Type), Msg: "read member " + n.name, Err: err}
	}
	if !found {
		return nil, e.errf(n, op, x.Type, "there is no member named %s", n.name)
	}
	return v, nil
}

// findField looks name up in st, descending into anonymous members.
func (e *evaluator) findField(x *Value, st *godwarf.StructType, name string, depth int) (*Value, bool, error) {
	if depth > 8 {
		return nil, false, nil
	}
	for _, f := range st.Field {
		if f.Name == name {
			if e.noRead && x.bytes == nil {
				return &Value{Type: f.Type, Reg: -1, InMemory: x.InMemory, Addr: x.Addr + uint64(f.ByteOffset), s: e.s}, true, nil
			}
			v, err := e.s.field(x, f)
			return v, err == nil, err
		}
	}
	for _, f := range st.Field {
		if sub, ok := godwarf.ResolveTypedef(f.Type).(*godwarf.StructType); ok && f.Name == "" {
			var fv *Value
			if e.noRead && x.bytes == nil {
				fv = &Value{Type: f.Type, Reg: -1, InMemory: x.InMemory, Addr: x.Addr + uint64(f.ByteOffset), s: e.s}
			} else {
				var err error
				if fv, err = e.s.field(x, f); err != nil {
					return nil, false, err
				}
			}
			if v, ok, err := e.findField(fv, sub, name, depth+1); ok || err != nil {
				return v, ok, err
			}
		}
	}
	return nil, false, nil
}

func (e *evaluator) cast(n *castNode, x *Value, t godwarf.Type) (*Value, error) {
	s := e.s
	rt := godwarf.ResolveTypedef(t)
	switch rt.(type) {
	case *godwarf.VoidType:
		return &Value{Type: t, Reg: -1, bytes: []byte{}, s: s}, nil
	case *godwarf.StructType, *godwarf.ArrayType, *godwarf.FuncType:
		if TypeName(godwarf.ResolveTypedef(x.Type)) == TypeName(rt) {
			y := *x
			y.Type = t
			return &y, nil
		}
		return nil, e.errf(n, "cast", x.Type, "invalid cast to %s", TypeName(t))
	case *godwarf.FloatType:
		if !isInteger(x.Type) && !isFloat(x.Type) {
			return nil, e.errf(n, "cast", x.Type, "invalid cast to %s", TypeName(t))
		}
		f, err := e.floatOf(n.x, x)
		if err != nil {
			return nil, err
		}
		v := &Value{Type: t, Reg: -1, s: s}
		if rt.Size() == 4 {
			v.bytes = binary.LittleEndian.AppendUint32(nil, float32bits(f))
		} else {
			v.bytes = binary.LittleEndian.AppendUint64(nil, float64bits(f))
		}
		return v, nil
	}
	if !isInteger(rt) && !isScalarPtr(rt) {
		return nil, e.errf(n, "cast", x.Type, "invalid cast to %s", TypeName(t))
	}
	var bits uint64
	switch {
	case isFloat(x.Type):
		f, err := e.floatOf(n.x, x)
		if err != nil {
			return nil, err
		}
		bits = uint64(int64(f))
	case isInteger(x.Type) || pointee(x.Type) != nil:
		var err error
		if bits, err = e.scalar(n.x, x); err != nil {
			return nil, err
		}
	default:
		if _, ok := x.resolved().(*godwarf.FuncType); ok {
			bits = x.Addr
			break
		}
		return nil, e.errf(n, "cast", x.Type, "invalid cast to %s", TypeName(t))
	}
	v := s.newScalar(t, bits)
	if _, ok := rt.(*godwarf.BoolType); ok {
		v.bytes = []byte{byte(b2u(bits != 0))}
	}
	return v, nil
}

var errNoFuncType = errors.New("function has no type information")

// funcType builds the C type of a function from its DIE.
func (p *Program) funcType(fn *function) (godwarf.Type, error) {
	t, err := p.tree(fn.off)
	if err != nil {
		return nil, err
	}
	ft := &godwarf.FuncType{CommonType: godwarf.CommonType{ByteSize: 1, Name: fn.name}, ReturnType: typeVoid}
	if off, ok := t.Val(dwarf.AttrType).(dwarf.Offset); ok {
		if ft.ReturnType, err = p.readType(off); err != nil {
			return nil, err
		}
	}
	for _, ch := range t.Children {
		if ch.Tag != dwarf.TagFormalParameter {
			continue
		}
		off, ok := ch.Val(dwarf.AttrType).(dwarf.Offset)
		if !ok {
			return nil, errNoFuncType
		}
		pt, err := p.readType(off)
		if err != nil {
			return nil, err
		}
		ft.ParamType = append(ft.ParamType, pt)
	}
	return ft, nil
}

// enumConst is an enumerator found by name.
type enumConst struct {
	t   godwarf.Type
	val int64
}

// enumerator finds an enumeration constant among the named enum types.
func (p *Program) enumerator(name string) (enumConst, bool) {
	for key, off := range p.types {
		if len(key) < 5 || key[:5] != "enum " {
			continue
		}
		t, err := p.readType(off)
		if err != nil {
			continue
		}
		if et, ok := t.(*godwarf.EnumType); ok {
			for _, v := range et.Val {
				if v.Name == name {
					return enumConst{t: et, val: v.Val}, true
				}
			}
		}
	}
	return enumConst{}, false
}
