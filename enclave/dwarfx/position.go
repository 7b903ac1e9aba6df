package dwarfx

import (
	"debug/dwarf"
	"fmt"
	"sort"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Position is where a run-time address is in the source, with what source
// stepping needs: the line-table row holding it and the function.
type Position struct {
	File     string // as the line table names it
	CompDir  string // the compilation directory of File's unit
	Line     int    // 0: no line information
	Function string // "" when no DWARF function holds the address
	// StmtStart says the address begins an is_stmt row (a place gdb stops
	// at when stepping lines).
	StmtStart bool
	// RowStart and RowEnd bound the row holding the address (run-time;
	// RowEnd 0 when unknown): stepping a line runs until the PC leaves
	// [RowStart, RowEnd) for another line.
	RowStart, RowEnd uint64
	// FuncEntry is the function's entry (run-time), 0 without a function.
	FuncEntry uint64
}

// PositionAt describes the run-time address pc of the program loaded at
// base. ok is false when pc has no line information.
func (p *Program) PositionAt(base, pc uint64) (pos Position, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	link := pc - base
	if fn := p.funcAt(link); fn != nil {
		pos.Function, pos.FuncEntry = fn.name, fn.entry+base
	}
	file, line, ok := p.lineAt(link)
	if !ok {
		return pos, false
	}
	pos.File, pos.Line = file, line
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].addr > link }) - 1
	if i >= 0 {
		pos.RowStart = p.lines[i].addr + base
		if u := p.lines[i].unit; u != nil {
			pos.CompDir = u.compDir
		}
		for j := i; j >= 0 && p.lines[j].addr == link; j-- {
			if p.lines[j].isStmt && !p.lines[j].end {
				pos.StmtStart = true
			}
		}
	}
	if end := p.rowEnd(link); end != 0 {
		pos.RowEnd = end + base
	}
	return pos, true
}

// AfterPrologue is the address a breakpoint on the function at pc would
// use (gdb's choice, as Resolve makes it), or 0 when no function holds pc.
func (p *Program) AfterPrologue(base, pc uint64) uint64 {
	p.mu.Lock()
	fn := p.funcAt(pc - base)
	p.mu.Unlock()
	if fn == nil {
		return 0
	}
	loc, err := p.Resolve(fn.name, base, "")
	if err != nil || len(loc.Addrs) == 0 {
		return fn.entry + base
	}
	for _, a := range loc.Addrs {
		if containsPC(fn.ranges, a-base) {
			return a
		}
	}
	return loc.Addrs[0]
}

// ReturnValue formats what the function at pc returns, as gdb's finish
// prints it, from the registers after its return (the System V x86-64
// ABI: integers and pointers in RAX; a void function has none: ok false).
// Floating-point and aggregate returns are not decoded (ok false).
func (p *Program) ReturnValue(base, pc uint64, rax uint64, mem ReadMemory) (text string, ok bool) {
	s := p.Scope(base, nil, mem)
	p.mu.Lock()
	defer p.mu.Unlock()
	fn := p.funcAt(pc - base)
	if fn == nil {
		return "", false
	}
	t, err := p.tree(fn.off)
	if err != nil || t.Val(dwarf.AttrType) == nil {
		return "", false
	}
	var typ godwarf.Type
	err = safely(func() error {
		var err error
		typ, err = t.Type(p.dw, 0, p.typeCache)
		return err
	})
	if err != nil || typ == nil {
		return "", false
	}
	p.fixTypes(typ)
	if !isInteger(typ) && !isScalarPtr(typ) {
		return "", false
	}
	return s.newScalar(typ, rax).String(), true
}

// True reports a scalar value's truth as C's conditions take it (non-zero).
func (v *Value) True() (bool, error) {
	if v.Unavailable != "" {
		return false, fmt.Errorf("value is %s", v.Unavailable)
	}
	v.s.p.mu.Lock()
	defer v.s.p.mu.Unlock()
	if isFloat(v.Type) {
		f, err := v.float()
		return f != 0, err
	}
	x, err := v.uint()
	return x != 0, err
}
