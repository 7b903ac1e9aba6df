package dwarfx

import (
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// TypeName renders t as C writes it in a declaration without a name, the
// way gdb's whatis does: "int", "const uint64_t *", "char [64]",
// "struct point *", "int (*)(int, char *)".
func TypeName(t godwarf.Type) string { return declare(t, "", 0) }

// maxTypeDepth bounds declarator recursion on cyclic or absurd types.
const maxTypeDepth = 64

// declare renders t around the declarator inner ("" for an abstract
// declarator).
func declare(t godwarf.Type, inner string, depth int) string {
	if depth > maxTypeDepth {
		return "?" + spaced(inner)
	}
	switch t := t.(type) {
	case nil:
		return "void" + spaced(inner)
	case *godwarf.PtrType:
		s := "*" + inner
		if isArrayOrFunc(t.Type) {
			s = "(" + s + ")"
		}
		return declare(t.Type, s, depth+1)
	case *godwarf.ArrayType:
		n := ""
		if t.Count >= 0 {
			n = strconv.FormatInt(t.Count, 10)
		}
		if inner == "" {
			return declare(t.Type, "["+n+"]", depth+1)
		}
		return declare(t.Type, inner+"["+n+"]", depth+1)
	case *godwarf.FuncType:
		var ps []string
		for _, pt := range t.ParamType {
			ps = append(ps, declare(pt, "", depth+1))
		}
		if len(ps) == 0 && t != typeCodePtr.Type { // $rip's type is unprototyped, as gdb's
			ps = []string{"void"}
		}
		return declare(t.ReturnType, inner+"("+strings.Join(ps, ", ")+")", depth+1)
	case *godwarf.QualType:
		if isPointer(t.Type) { // "char *const"
			return declare(t.Type, " "+t.Qual+spaced(inner), depth+1)
		}
		return t.Qual + " " + declare(t.Type, inner, depth+1)
	}
	return baseName(t) + spaced(inner)
}

// spaced puts the space C puts between a type and its declarator:
// "int *", "char [64]", "int" for none.
func spaced(inner string) string {
	if inner == "" {
		return ""
	}
	if inner[0] == ' ' {
		return inner
	}
	return " " + inner
}

func isArrayOrFunc(t godwarf.Type) bool {
	switch t.(type) {
	case *godwarf.ArrayType, *godwarf.FuncType:
		return true
	}
	return false
}

func isPointer(t godwarf.Type) bool {
	_, ok := t.(*godwarf.PtrType)
	return ok
}

// baseName is the name of a type that has no declarator part.
func baseName(t godwarf.Type) string {
	switch t := t.(type) {
	case *godwarf.StructType:
		if t.StructName != "" {
			return t.Kind + " " + t.StructName
		}
		return t.Kind + " {...}"
	case *godwarf.EnumType:
		if t.EnumName != "" {
			return "enum " + t.EnumName
		}
		return "enum {...}"
	case *godwarf.TypedefType:
		return t.Name
	case *godwarf.VoidType:
		return "void"
	case *godwarf.DotDotDotType:
		return "..."
	}
	if n := t.Common().Name; n != "" {
		return canonicalName(n)
	}
	return "?"
}

// canonicalName spells a base type made of C keywords as gdb prints it:
// gcc's "long unsigned int" is "unsigned long".
func canonicalName(n string) string {
	words := strings.Fields(n)
	for _, w := range words {
		if !typeKeywords[w] {
			return n
		}
	}
	if c, err := canonicalBase(words); err == nil {
		return c
	}
	return n
}

// PType renders t as gdb's ptype does: typedefs at the top resolved, and
// a struct, union or enum (also the one a pointer or array points into)
// spelled out with its members, four spaces per level.
func PType(t godwarf.Type) string {
	t = unrollCore(t, 0)
	core := t
	for i := 0; i < maxTypeDepth; i++ {
		switch c := core.(type) {
		case *godwarf.PtrType:
			core = c.Type
			continue
		case *godwarf.ArrayType:
			core = c.Type
			continue
		case *godwarf.QualType:
			core = c.Type
			continue
		case *godwarf.FuncType:
			core = c.ReturnType
			continue
		}
		break
	}
	body := ""
	switch c := core.(type) {
	case *godwarf.StructType:
		body = structBody(c, 1)
	case *godwarf.EnumType:
		body = enumBody(c)
	default:
		return TypeName(t)
	}
	name := TypeName(t)
	base := baseName(core)
	// name is "<qualifiers> <base><declarator>": put the body after base.
	if i := strings.Index(name, base); i >= 0 {
		return name[:i+len(base)] + body + name[i+len(base):]
	}
	return name
}

// unrollCore returns t with the typedefs of its innermost base type
// resolved, the pointer, array, qualifier and function layers above it
// kept (gdb's ptype unrolls typedefs only there).
func unrollCore(t godwarf.Type, depth int) godwarf.Type {
	if depth > maxTypeDepth {
		return t
	}
	switch x := t.(type) {
	case *godwarf.TypedefType:
		return unrollCore(x.Type, depth+1)
	case *godwarf.PtrType:
		c := *x
		c.Type = unrollCore(x.Type, depth+1)
		return &c
	case *godwarf.ArrayType:
		c := *x
		c.Type = unrollCore(x.Type, depth+1)
		return &c
	case *godwarf.QualType:
		c := *x
		c.Type = unrollCore(x.Type, depth+1)
		return &c
	case *godwarf.FuncType:
		c := *x
		c.ReturnType = unrollCore(x.ReturnType, depth+1)
		return &c
	}
	return t
}

// structBody renders " {\n    int x;\n    ...\n}" at the given nesting.
func structBody(t *godwarf.StructType, level int) string {
	if t.Incomplete {
		return " {\n" + strings.Repeat("    ", level) + "<incomplete type>\n" + strings.Repeat("    ", level-1) + "}"
	}
	var b strings.Builder
	b.WriteString(" {\n")
	ind := strings.Repeat("    ", level)
	for _, f := range t.Field {
		b.WriteString(ind)
		ft := f.Type
		if st, ok := ft.(*godwarf.StructType); ok && st.StructName == "" && level < 8 {
			b.WriteString(st.Kind + structBody(st, level+1))
			if f.Name != "" {
				b.WriteString(" " + f.Name)
			}
		} else {
			b.WriteString(declare(ft, f.Name, 0))
		}
		if f.BitSize > 0 {
			b.WriteString(" : " + strconv.FormatInt(f.BitSize, 10))
		}
		b.WriteString(";\n")
	}
	b.WriteString(strings.Repeat("    ", level-1) + "}")
	return b.String()
}

// enumBody renders " {RED, GREEN = 5, BLUE}" as gdb does: a value is
// shown when it is not the previous one plus one.
func enumBody(t *godwarf.EnumType) string {
	var parts []string
	next := int64(0)
	for _, v := range t.Val {
		if v.Val == next {
			parts = append(parts, v.Name)
		} else {
			parts = append(parts, v.Name+" = "+strconv.FormatInt(v.Val, 10))
		}
		next = v.Val + 1
	}
	return " {" + strings.Join(parts, ", ") + "}"
}
