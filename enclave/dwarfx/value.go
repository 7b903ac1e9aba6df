package dwarfx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// MaxValueSize bounds the bytes read for one value (gdb's max-value-size).
const MaxValueSize = 64 << 10

// Value is a typed value: the result of an expression, or a variable's
// contents. A value lives in memory (InMemory, Addr), in a register
// (Reg >= 0), or nowhere (a computed value); or it is unavailable
// (Unavailable says why: OptimizedOut, EntryValueUnavailable, NotSaved).
type Value struct {
	Type        godwarf.Type
	Addr        uint64 // run-time address, when InMemory
	InMemory    bool
	Reg         int    // DWARF register holding the whole value, else -1
	Unavailable string // why there is no value; "" when there is one

	bytes  []byte // contents; nil for a memory value not read yet
	bitOff int64  // bit field: offset from the least significant bit of bytes
	bitLen int64  // bit field: width (0: not a bit field)
	s      *Scope
}

// Bytes returns the value's contents, reading memory on first use.
func (v *Value) Bytes() ([]byte, error) {
	if v.Unavailable != "" {
		return nil, fmt.Errorf("value is %s", v.Unavailable)
	}
	if v.bytes != nil {
		return v.bytes, nil
	}
	size := v.Type.Size()
	if size < 0 || size > MaxValueSize {
		return nil, fmt.Errorf("value of type %s needs %d bytes, more than %d", TypeName(v.Type), size, MaxValueSize)
	}
	if !v.InMemory {
		return nil, fmt.Errorf("value of type %s has no contents", TypeName(v.Type))
	}
	b := make([]byte, size)
	if size > 0 {
		if v.s == nil || v.s.ctx.mem == nil {
			return nil, fmt.Errorf("read %d bytes at %#x: no memory reader", size, v.Addr)
		}
		if _, err := v.s.ctx.readMem(b, v.Addr); err != nil {
			return nil, err
		}
	}
	v.bytes = b
	return b, nil
}

// resolved is the value's type without typedefs and qualifiers.
func (v *Value) resolved() godwarf.Type { return godwarf.ResolveTypedef(v.Type) }

// isSigned reports whether an integer type is signed.
func isSigned(t godwarf.Type) bool {
	switch t := godwarf.ResolveTypedef(t).(type) {
	case *godwarf.IntType, *godwarf.CharType:
		return true
	case *godwarf.EnumType:
		for _, e := range t.Val {
			if e.Val < 0 {
				return true
			}
		}
		return false
	}
	return false
}

// isInteger reports whether t is an integer, char, bool or enum type.
func isInteger(t godwarf.Type) bool {
	switch godwarf.ResolveTypedef(t).(type) {
	case *godwarf.IntType, *godwarf.UintType, *godwarf.CharType, *godwarf.UcharType,
		*godwarf.BoolType, *godwarf.EnumType, *godwarf.AddrType:
		return true
	}
	return false
}

func isFloat(t godwarf.Type) bool {
	_, ok := godwarf.ResolveTypedef(t).(*godwarf.FloatType)
	return ok
}

func isScalarPtr(t godwarf.Type) bool {
	_, ok := godwarf.ResolveTypedef(t).(*godwarf.PtrType)
	return ok
}

// uint returns an integer, enum, bool or pointer value's bits, sign- or
// zero-extended to 64 bits as its type says.
func (v *Value) uint() (uint64, error) {
	b, err := v.Bytes()
	if err != nil {
		return 0, err
	}
	if len(b) == 0 || len(b) > 8 {
		return 0, fmt.Errorf("a %d-byte %s is not a scalar", len(b), TypeName(v.Type))
	}
	var buf [8]byte
	copy(buf[:], b)
	x := binary.LittleEndian.Uint64(buf[:])
	bits := uint(len(b) * 8)
	if v.bitLen > 0 {
		x >>= uint(v.bitOff)
		bits = uint(v.bitLen)
	}
	if bits < 64 {
		x &= 1<<bits - 1
		if isSigned(v.Type) && x&(1<<(bits-1)) != 0 {
			x |= ^uint64(0) << bits
		}
	}
	return x, nil
}

// float returns a float or double value.
func (v *Value) float() (float64, error) {
	b, err := v.Bytes()
	if err != nil {
		return 0, err
	}
	switch len(b) {
	case 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
	case 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("a %d-byte floating-point value is not supported", len(b))
}

// String formats the value as gdb's print does, or "<optimized out>"
// (gdb's words for every unavailable value; Unavailable says why).
func (v *Value) String() string {
	if v.s == nil {
		return "<value without a scope>"
	}
	return v.s.format(v, true, 0, 0)
}

// Format formats the value as gdb's print/FMT does, FMT one of
// FormatLetters (0: as String). An unknown letter wraps ErrBadFormat.
func (v *Value) Format(letter byte) (string, error) {
	if letter != 0 && strings.IndexByte(FormatLetters, letter) < 0 {
		return "", fmt.Errorf("%w letter '%c'", ErrBadFormat, letter)
	}
	if v.s == nil {
		return "<value without a scope>", nil
	}
	return v.s.format(v, true, 0, letter), nil
}

// newScalar makes a computed value of type t holding x.
func (s *Scope) newScalar(t godwarf.Type, x uint64) *Value {
	size := t.Size()
	if size <= 0 || size > 8 {
		size = 8
	}
	b := binary.LittleEndian.AppendUint64(nil, x)[:size]
	return &Value{Type: t, Reg: -1, bytes: b, s: s}
}

// newFloat makes a computed double.
func (s *Scope) newFloat(x float64) *Value {
	return &Value{Type: typeDouble, Reg: -1, bytes: binary.LittleEndian.AppendUint64(nil, math.Float64bits(x)), s: s}
}

// Synthetic C types for literals, arithmetic results and casts to base
// types, named as gdb names them.
var (
	typeInt    = &godwarf.IntType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 4, Name: "int"}}}
	typeUint   = &godwarf.UintType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 4, Name: "unsigned int"}}}
	typeLong   = &godwarf.IntType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 8, Name: "long"}}}
	typeULong  = &godwarf.UintType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 8, Name: "unsigned long"}}}
	typeChar   = &godwarf.CharType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 1, Name: "char"}}}
	typeDouble = &godwarf.FloatType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 8, Name: "double"}}}
	typeVoid   = &godwarf.VoidType{CommonType: godwarf.CommonType{Name: "void"}}
	// $rip is a code pointer, $rsp and $rbp data pointers (gdb's types).
	typeCodePtr = &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8},
		Type: &godwarf.FuncType{CommonType: godwarf.CommonType{ByteSize: 1}, ReturnType: typeVoid}}
	typeDataPtr = &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: typeVoid}
	typeInt64   = &godwarf.IntType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 8, Name: "int64_t"}}}
	typeEflags  = &godwarf.UintType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 4, Name: "i386_eflags"}}}
)

// baseTypes are the base types a cast may name, by canonical spelling.
var baseTypes = map[string]godwarf.Type{
	"char":               typeChar,
	"signed char":        &godwarf.CharType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 1, Name: "signed char"}}},
	"unsigned char":      &godwarf.UcharType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 1, Name: "unsigned char"}}},
	"short":              &godwarf.IntType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 2, Name: "short"}}},
	"unsigned short":     &godwarf.UintType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 2, Name: "unsigned short"}}},
	"int":                typeInt,
	"unsigned int":       typeUint,
	"long":               typeLong,
	"unsigned long":      typeULong,
	"long long":          &godwarf.IntType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 8, Name: "long long"}}},
	"unsigned long long": &godwarf.UintType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 8, Name: "unsigned long long"}}},
	"_Bool":              &godwarf.BoolType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 1, Name: "_Bool"}}},
	"float":              &godwarf.FloatType{BasicType: godwarf.BasicType{CommonType: godwarf.CommonType{ByteSize: 4, Name: "float"}}},
	"double":             typeDouble,
	"void":               typeVoid,
}

// pointerTo makes the type "t *".
func pointerTo(t godwarf.Type) godwarf.Type {
	return &godwarf.PtrType{CommonType: godwarf.CommonType{ByteSize: 8}, Type: t}
}

func float32bits(f float64) uint32 { return math.Float32bits(float32(f)) }
func float64bits(f float64) uint64 { return math.Float64bits(f) }
