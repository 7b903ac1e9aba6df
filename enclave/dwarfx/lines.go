package dwarfx

import (
	"debug/dwarf"
	"io"
	"path"
	"sort"
	"strings"
)

// lineRow is one row of a DWARF line table.
type lineRow struct {
	addr        uint64
	file        string // as the line table names it (usually absolute)
	line        int
	isStmt      bool
	prologueEnd bool
	end         bool // end_sequence
	unit        *unit
	seq         int // index of the row's sequence, to keep rows of one sequence together
}

// loadLines reads every unit's line table, sorted by address (stable, so
// rows at one address keep their table order).
func (p *Program) loadLines() error {
	r := p.dw.Reader()
	seq := 0
	for _, u := range p.units {
		r.Seek(u.off)
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil {
			continue
		}
		lr, err := p.dw.LineReader(e)
		if err != nil {
			return err
		}
		if lr == nil {
			continue
		}
		var le dwarf.LineEntry
		for {
			if err := lr.Next(&le); err == io.EOF {
				break
			} else if err != nil {
				return err
			}
			row := lineRow{addr: le.Address, line: le.Line, isStmt: le.IsStmt, prologueEnd: le.PrologueEnd,
				end: le.EndSequence, unit: u, seq: seq}
			if le.File != nil {
				row.file = le.File.Name
			}
			p.lines = append(p.lines, row)
			if le.EndSequence {
				seq++
			}
		}
	}
	sort.SliceStable(p.lines, func(i, j int) bool {
		a, b := p.lines[i], p.lines[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		return a.end && !b.end // a sequence's end before the next one's start
	})
	return nil
}

// lineAt returns the source position gdb gives the link address pc: the
// last is_stmt row at the greatest address not after pc (rows at one
// address: the last wins, as in gdb's line table).
func (p *Program) lineAt(pc uint64) (file string, line int, ok bool) {
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].addr > pc }) - 1
	if i < 0 || p.lines[i].end {
		return "", 0, false
	}
	// The block of rows at the address p.lines[i].addr; prefer the last
	// is_stmt one, else the last one.
	at := p.lines[i].addr
	best := -1
	for j := i; j >= 0 && p.lines[j].addr == at && !p.lines[j].end; j-- {
		if p.lines[j].isStmt {
			best = j
			break
		}
	}
	if best < 0 {
		// No statement row at that address: the nearest statement row
		// before it in the same sequence, else the row itself.
		best = i
		for j := i; j >= 0 && !p.lines[j].end && p.lines[j].seq == p.lines[i].seq; j-- {
			if p.lines[j].isStmt {
				best = j
				break
			}
		}
	}
	return p.lines[best].file, p.lines[best].line, true
}

// rowEnd returns the first address after pc at which a new row starts in
// pc's sequence (gdb's sal.end), or 0.
func (p *Program) rowEnd(pc uint64) uint64 {
	i := sort.Search(len(p.lines), func(i int) bool { return p.lines[i].addr > pc })
	if i < len(p.lines) {
		return p.lines[i].addr
	}
	return 0
}

// matchFile reports whether the line-table file name full matches what
// the user typed: the same path, or full ends with "/"+name.
func matchFile(full, name string) bool {
	if full == name {
		return true
	}
	name = strings.TrimPrefix(path.Clean(name), "./")
	return strings.HasSuffix(full, "/"+name) || path.Clean(full) == name
}

// files returns the distinct line-table file names that match name.
func (p *Program) files(name string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.lines {
		if !r.end && !seen[r.file] && matchFile(r.file, name) {
			seen[r.file] = true
			out = append(out, r.file)
		}
	}
	sort.Strings(out)
	return out
}
