package dwarfx

import (
	"debug/dwarf"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// Location is a resolved breakpoint or list location.
type Location struct {
	Addrs    []uint64 // run-time addresses, ascending (one per function for FILE:LINE)
	Function string   // the function holding Addrs[0], or ""
	File     string   // the line-table file name (relative to CompDir when not absolute)
	CompDir  string   // the compilation directory of File's unit
	Line     int      // the source line (for FILE:LINE, the line that has code)
}

// NoSuchFileError: no line table names a file matching File.
type NoSuchFileError struct{ File string }

// Error renders the NoSuchFileError.
func (e *NoSuchFileError) Error() string { return fmt.Sprintf("no source file named %s", e.File) }

// NoCodeError: FILE:LINE where neither Line nor any later line of File
// has code.
type NoCodeError struct {
	File string
	Line int
}

// Error renders the NoCodeError.
func (e *NoCodeError) Error() string {
	return fmt.Sprintf("no code at line %d in file %q", e.Line, e.File)
}

// BadLocationError: a location that is none of FUNCTION, FILE:LINE,
// LINE, *ADDR.
type BadLocationError struct {
	Spec string
	Msg  string
}

// Error renders the BadLocationError.
func (e *BadLocationError) Error() string { return fmt.Sprintf("bad location %q: %s", e.Spec, e.Msg) }

// Resolve resolves a breakpoint location of the program loaded at base,
// choosing addresses as gdb 13 does:
//
//   - FUNCTION: each inlined copy's entry (DW_AT_entry_pc), and for the
//     out-of-line copy the address after its prologue: the first line-table row
//     marked prologue_end; else, for a unit whose variables have location
//     lists (optimized GCC code, gdb's "locations valid"), the entry
//     itself; else the address after "push %rbp; mov %rsp,%rbp", moved to
//     the start of the next line-table row when that falls mid-row.
//   - FILE:LINE (or LINE in defaultFile): the is_stmt rows of that line,
//     or, when it has none, of the nearest following line that has some
//     (NoCodeError when none does); one address per function, the lowest;
//     a function's entry is moved past its prologue as for FUNCTION.
//   - *ADDR: that run-time address (hex, decimal, or FUNCTION[+OFFSET]:
//     the function's entry, no prologue skipped).
func (p *Program) Resolve(spec string, base uint64, defaultFile string) (*Location, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, &BadLocationError{Spec: spec, Msg: "empty location"}
	}
	if strings.HasPrefix(spec, "*") {
		addr, err := p.parseAddr(strings.TrimSpace(spec[1:]), base)
		if err != nil {
			return nil, err
		}
		return p.locationAt(base, addr), nil
	}
	file, line, isLine, err := splitFileLine(spec, defaultFile)
	if err != nil {
		return nil, err
	}
	if isLine {
		return p.resolveLine(file, line, base)
	}
	fns := p.funcNamed(spec)
	if len(fns) == 0 && len(p.inlined[spec]) == 0 {
		return nil, &UnknownSymbolError{Name: spec}
	}
	var addrs []uint64
	seen := map[uint64]bool{}
	for _, fn := range fns {
		a := base + p.postPrologue(fn)
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	for _, a := range p.inlined[spec] { // inlined copies: at their entry, as gdb
		if !seen[base+a] {
			seen[base+a] = true
			addrs = append(addrs, base+a)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	loc := p.locationAt(base, addrs[0])
	loc.Addrs = addrs
	return loc, nil
}

// splitFileLine recognises LINE and FILE:LINE.
func splitFileLine(spec, defaultFile string) (string, int, bool, error) {
	if n, err := strconv.Atoi(spec); err == nil {
		if defaultFile == "" {
			return "", 0, false, &BadLocationError{Spec: spec, Msg: "a line number needs a current source file"}
		}
		if n <= 0 {
			return "", 0, false, &BadLocationError{Spec: spec, Msg: "line numbers start at 1"}
		}
		return defaultFile, n, true, nil
	}
	i := strings.LastIndexByte(spec, ':')
	if i < 0 {
		return "", 0, false, nil
	}
	n, err := strconv.Atoi(spec[i+1:])
	if err != nil || n <= 0 || i == 0 {
		return "", 0, false, &BadLocationError{Spec: spec, Msg: "expected FILE:LINE with a positive line number"}
	}
	return spec[:i], n, true, nil
}

// parseAddr parses the operand of *ADDR into a run-time address.
func (p *Program) parseAddr(s string, base uint64) (uint64, error) {
	if s == "" {
		return 0, &BadLocationError{Spec: "*", Msg: "missing address"}
	}
	if s[0] >= '0' && s[0] <= '9' {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return 0, &BadLocationError{Spec: "*" + s, Msg: "invalid address"}
		}
		return v, nil
	}
	name, offs, hasOff := strings.Cut(s, "+")
	name = strings.TrimSpace(name)
	var off uint64
	if hasOff {
		v, err := strconv.ParseUint(strings.TrimSpace(offs), 0, 64)
		if err != nil {
			return 0, &BadLocationError{Spec: "*" + s, Msg: "invalid offset"}
		}
		off = v
	}
	fns := p.funcNamed(name)
	if len(fns) == 0 {
		return 0, &UnknownSymbolError{Name: name}
	}
	return base + fns[0].entry + off, nil
}

// locationAt describes one run-time address.
func (p *Program) locationAt(base, addr uint64) *Location {
	loc := &Location{Addrs: []uint64{addr}}
	if addr < base {
		return loc
	}
	pc := addr - base
	if fn := p.funcAt(pc); fn != nil {
		loc.Function = fn.name
	}
	if file, line, ok := p.lineAt(pc); ok {
		loc.File, loc.Line = file, line
		if u := p.unitAtPC(pc); u != nil {
			loc.CompDir = u.compDir
		}
	}
	return loc
}

// unitAtPC returns the unit whose line table covers pc.
func (p *Program) unitAtPC(pc uint64) *unit {
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].addr > pc }) - 1
	if i < 0 || p.lines[i].end {
		return nil
	}
	return p.lines[i].unit
}

// resolveLine resolves FILE:LINE.
func (p *Program) resolveLine(file string, line int, base uint64) (*Location, error) {
	files := p.files(file)
	if len(files) == 0 {
		return nil, &NoSuchFileError{File: file}
	}
	in := map[string]bool{}
	for _, f := range files {
		in[f] = true
	}
	best := 0 // the line used: line itself, or the nearest following one with code
	for _, r := range p.lines {
		if r.end || !r.isStmt || !in[r.file] || r.line < line {
			continue
		}
		if best == 0 || r.line < best {
			best = r.line
		}
	}
	if best == 0 {
		return nil, &NoCodeError{File: file, Line: line}
	}
	// One address per innermost block, the lowest (gdb keeps the first
	// location of each block).
	type blockKey struct {
		fn  *function
		blk *godwarf.Tree
	}
	perBlock := map[blockKey]uint64{}
	var loose []uint64 // rows in no function (assembly without DWARF functions)
	var fileName string
	var u *unit
	for _, r := range p.lines {
		if r.end || !r.isStmt || !in[r.file] || r.line != best {
			continue
		}
		if fileName == "" {
			fileName, u = r.file, r.unit
		}
		fn := p.funcAt(r.addr)
		if fn == nil {
			loose = append(loose, r.addr)
			continue
		}
		k := blockKey{fn, p.blockAt(fn, r.addr)}
		if a, ok := perBlock[k]; !ok || r.addr < a {
			perBlock[k] = r.addr
		}
	}
	seen := map[uint64]bool{}
	var addrs []uint64
	add := func(a uint64) {
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, base+a)
		}
	}
	for k, a := range perBlock {
		if a == k.fn.entry {
			a = p.postPrologue(k.fn)
		}
		add(a)
	}
	for _, a := range loose {
		add(a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	loc := &Location{Addrs: addrs, File: fileName, Line: best}
	if u != nil {
		loc.CompDir = u.compDir
	}
	if fn := p.funcAt(addrs[0] - base); fn != nil {
		loc.Function = fn.name
	}
	return loc, nil
}

// blockAt returns the innermost lexical block or inlined call of fn
// holding the link address pc, or fn's own tree (nil if unreadable). Trees
// are cached, so the result identifies the block. (Not the DIE offset:
// godwarf gives an inlined call its abstract origin's.)
func (p *Program) blockAt(fn *function, pc uint64) *godwarf.Tree {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, err := p.tree(fn.off)
	if err != nil {
		return nil
	}
	for depth := 0; depth < 64; depth++ {
		var next *godwarf.Tree
		for _, ch := range t.Children {
			if (ch.Tag == dwarf.TagLexDwarfBlock || ch.Tag == dwarf.TagInlinedSubroutine) && ch.ContainsPC(pc) {
				next = ch
				break
			}
		}
		if next == nil {
			break
		}
		t = next
	}
	return t
}

// postPrologue returns the link address gdb 13 puts a breakpoint on
// FUNCTION at (see Resolve).
func (p *Program) postPrologue(fn *function) uint64 {
	end := fn.entry
	for _, r := range fn.ranges {
		if r[0] <= fn.entry && fn.entry < r[1] {
			end = r[1]
		}
	}
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].addr >= fn.entry })
	for ; i < len(p.lines) && p.lines[i].addr < end; i++ {
		if p.lines[i].prologueEnd && !p.lines[i].end {
			return p.lines[i].addr
		}
	}
	if fn.unit.hasLoclist && strings.HasPrefix(fn.unit.producer, "GNU ") {
		return fn.entry
	}
	pc := fn.entry + amd64PrologueLen(p.readCode(fn.entry, 16))
	if pc == fn.entry {
		return pc
	}
	// Mid-row: go to the start of the next row, if still in the function.
	j := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].addr > pc }) - 1
	if j >= 0 && p.lines[j].addr != pc {
		if next := p.rowEnd(pc); next != 0 && next < end {
			return next
		}
	}
	return pc
}

// amd64PrologueLen returns the length of a frame-pointer prologue at the
// start of code ([endbr64] push %rbp; mov %rsp,%rbp), as gdb's
// amd64_analyze_prologue recognises it, or 0 when there is none (a
// frameless function: gdb then stays at the entry).
func amd64PrologueLen(code []byte) uint64 {
	n := 0
	if len(code) >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa {
		n = 4
	}
	if n >= len(code) || code[n] != 0x55 {
		return 0
	}
	n++
	rest := code[n:]
	for _, mov := range [][]byte{{0x48, 0x89, 0xe5}, {0x48, 0x8b, 0xec}, {0x89, 0xe5}, {0x8b, 0xec}} {
		if len(rest) >= len(mov) && string(rest[:len(mov)]) == string(mov) {
			return uint64(n + len(mov))
		}
	}
	return 0
}

// ListRange is the part of a file `list` shows.
type ListRange struct {
	File     string // line-table file name
	CompDir  string
	From, To int // 1-based, inclusive; To may pass the end of the file
}

// listLines is gdb's "set listsize".
const listLines = 10

// List resolves the argument of gdb's list: LOCATION, or FIRST,LAST where
// FIRST is a location and LAST a line number. A single location is
// centred as gdb does: lines max(L-5, 1) to that plus 9, where L is the
// location's line (for FUNCTION the line after its prologue, for FILE:LINE
// the line itself, with code or not, for *ADDR the address's line).
func (p *Program) List(spec string, base uint64, defaultFile string) (*ListRange, error) {
	first, last, hasLast := strings.Cut(spec, ",")
	var lastLine int
	if hasLast {
		n, err := strconv.Atoi(strings.TrimSpace(last))
		if err != nil || n <= 0 {
			return nil, &BadLocationError{Spec: spec, Msg: "expected FIRST,LAST with a line number for LAST"}
		}
		lastLine = n
	}
	first = strings.TrimSpace(first)
	var r ListRange
	if file, line, isLine, err := splitFileLine(first, defaultFile); err != nil && !strings.HasPrefix(first, "*") {
		return nil, err
	} else if isLine {
		files := p.files(file)
		if len(files) == 0 {
			return nil, &NoSuchFileError{File: file}
		}
		r.File, r.CompDir = files[0], p.compDirOf(files[0])
		r.From = line
	} else {
		loc, err := p.Resolve(first, base, defaultFile)
		if err != nil {
			return nil, err
		}
		if loc.File == "" {
			return nil, fmt.Errorf("no line information for %s", first)
		}
		r.File, r.CompDir, r.From = loc.File, loc.CompDir, loc.Line
	}
	if hasLast {
		r.To = lastLine
		if r.To < r.From {
			return nil, &BadLocationError{Spec: spec, Msg: "LAST is before FIRST"}
		}
		return &r, nil
	}
	r.From = max(r.From-listLines/2, 1)
	r.To = r.From + listLines - 1
	return &r, nil
}

// compDirOf returns the compilation directory of a unit whose line table
// names file.
func (p *Program) compDirOf(file string) string {
	for _, r := range p.lines {
		if r.file == file {
			return r.unit.compDir
		}
	}
	return ""
}
