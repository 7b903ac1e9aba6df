package dwarfx

import (
	"debug/dwarf"
	"errors"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

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
