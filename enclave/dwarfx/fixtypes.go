package dwarfx

import (
	"debug/dwarf"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// fixTypes corrects, in place and once per type, two things godwarf's C
// reading leaves wrong: bit fields described by DW_AT_data_bit_offset
// (DWARF 4 and later, which godwarf ignores, leaving them at offset 0)
// or by the DWARF 2 big-endian DW_AT_bit_offset, and the size of arrays
// without DW_AT_byte_size (gcc omits it; godwarf then reports -1). After
// it, a bit field's ByteOffset is the first byte of its storage, its
// BitOffset counts from that byte's least significant bit and its
// ByteSize covers the bits; an array's size is its count times its
// element size. The caller holds p.mu.
func (p *Program) fixTypes(t godwarf.Type) {
	if p.fixed == nil {
		p.fixed = map[godwarf.Type]bool{}
	}
	p.fixType(t, 0)
}

func (p *Program) fixType(t godwarf.Type, depth int) {
	if t == nil || p.fixed[t] || depth > maxTypeDepth {
		return
	}
	p.fixed[t] = true
	switch x := t.(type) {
	case *godwarf.PtrType:
		p.fixType(x.Type, depth+1)
	case *godwarf.QualType:
		p.fixType(x.Type, depth+1)
	case *godwarf.TypedefType:
		p.fixType(x.Type, depth+1)
		if x.Type != nil && x.ByteSize <= 0 {
			x.ByteSize = x.Type.Size()
		}
	case *godwarf.ArrayType:
		p.fixType(x.Type, depth+1)
		if x.ByteSize <= 0 && x.Count >= 0 {
			esize := x.Type.Size()
			if x.StrideBitSize > 0 {
				esize = x.StrideBitSize / 8
			}
			if esize > 0 && x.Count <= MaxValueSize*8/esize {
				x.ByteSize = x.Count * esize
			}
		}
	case *godwarf.FuncType:
		p.fixType(x.ReturnType, depth+1)
		for _, pt := range x.ParamType {
			p.fixType(pt, depth+1)
		}
	case *godwarf.StructType:
		p.fixBitFields(x)
		for _, f := range x.Field {
			p.fixType(f.Type, depth+1)
		}
	}
}

// fixBitFields rereads the member DIEs of a struct with bit fields.
func (p *Program) fixBitFields(st *godwarf.StructType) {
	has := false
	for _, f := range st.Field {
		has = has || f.BitSize > 0
	}
	if !has {
		return
	}
	_ = safely(func() error {
		r := p.dw.Reader()
		r.Seek(st.Offset)
		e, err := r.Next()
		if err != nil || e == nil || !e.Children {
			return err
		}
		i := 0
		for i < len(st.Field) {
			kid, err := r.Next()
			if err != nil || kid == nil || kid.Tag == 0 {
				return err
			}
			if kid.Children {
				r.SkipChildren()
			}
			if kid.Tag != dwarf.TagMember {
				continue
			}
			f := st.Field[i]
			i++
			if f.BitSize <= 0 {
				continue
			}
			var abs int64
			if dbo, ok := kid.Val(dwarf.AttrDataBitOffset).(int64); ok {
				abs = dbo
			} else if bo, ok := kid.Val(dwarf.AttrBitOffset).(int64); ok {
				unit := f.ByteSize
				if unit <= 0 {
					unit = f.Type.Size()
				}
				abs = f.ByteOffset*8 + unit*8 - bo - f.BitSize
			} else {
				continue
			}
			if abs < 0 {
				continue
			}
			f.ByteOffset = abs / 8
			f.BitOffset = abs % 8
			f.ByteSize = (f.BitOffset + f.BitSize + 7) / 8
		}
		return nil
	})
}
