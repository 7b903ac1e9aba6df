package dwarfx

import (
	"cmp"
	"encoding/binary"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

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
		return ordered(op, int64(a), int64(b))
	}
	return ordered(op, a, b)
}

// ordered applies the comparison operator op (==, !=, <, <=, >, >=).
func ordered[T cmp.Ordered](op string, a, b T) bool {
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
		return s.newScalar(typeInt, b2u(ordered(n.op, a, b))), nil
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
