package enclave

import (
	"debug/dwarf"
	"fmt"
	"io"
	"sort"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
)

// lineRow is one row of the DWARF line table: the source position of the
// code from addr up to the next row's address, or, for an end row, the
// first address after a sequence.
type lineRow struct {
	addr uint64
	file string
	line int
	end  bool // end_sequence: no source position from addr on
}

// LineAt returns the source file and line of the code at enclave offset
// off, from the DWARF line tables. An image without DWARF, and an offset
// no line table covers, give an error wrapping ErrNoDebugInfo.
func (im *Image) LineAt(off uint64) (file string, line int, err error) {
	im.debug.mu.Lock()
	defer im.debug.mu.Unlock()
	if err := im.loadLines(); err != nil {
		return "", 0, err
	}
	rows := im.debug.lines
	i := sort.Search(len(rows), func(i int) bool { return rows[i].addr > off }) - 1
	if i < 0 || rows[i].end {
		return "", 0, fmt.Errorf("no line information for offset %#x: %w", off, ErrNoDebugInfo)
	}
	return rows[i].file, rows[i].line, nil
}

// loadLines fills the line cache. The caller holds im.debug.mu.
func (im *Image) loadLines() error {
	d := &im.debug
	if d.linesDone {
		return d.linesErr
	}
	if d.closed {
		return ErrClosed
	}
	d.linesDone = true
	if im.f.Section(".debug_info") == nil && im.f.Section(".zdebug_info") == nil ||
		im.f.Section(".debug_line") == nil && im.f.Section(".zdebug_line") == nil {
		d.linesErr = ErrNoDebugInfo
		return d.linesErr
	}
	dw, err := im.f.DWARF()
	if err != nil {
		d.linesErr = fmt.Errorf("read DWARF: %w", err)
		return d.linesErr
	}
	// debug/dwarf's LineReader trusts the DWARF 5 entry counts (an
	// unbounded allocation or a minutes-long loop on a corrupted header).
	if b, err := godwarf.GetDebugSectionElf(im.f, "line"); err == nil {
		if err := dwarfx.CheckLineSection(b); err != nil {
			d.linesErr = fmt.Errorf("read DWARF line table: %w", err)
			return d.linesErr
		}
	}
	rows, err := lineRows(dw)
	if err != nil {
		d.linesErr = fmt.Errorf("read DWARF line table: %w", err)
		return d.linesErr
	}
	if len(rows) == 0 {
		d.linesErr = ErrNoDebugInfo
		return d.linesErr
	}
	// By address; where one sequence ends and another starts at the same
	// address, the end row sorts first so that the new sequence wins.
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].addr != rows[j].addr {
			return rows[i].addr < rows[j].addr
		}
		return rows[i].end && !rows[j].end
	})
	d.lines = rows
	return nil
}

// lineRows collects the rows of every compilation unit's line table.
func lineRows(dw *dwarf.Data) ([]lineRow, error) {
	var rows []lineRow
	r := dw.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			return rows, nil
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := dw.LineReader(e)
		if err != nil {
			return nil, err
		}
		r.SkipChildren()
		if lr == nil {
			continue
		}
		var le dwarf.LineEntry
		for {
			if err := lr.Next(&le); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
			row := lineRow{addr: le.Address, line: le.Line, end: le.EndSequence}
			if le.File != nil {
				row.file = le.File.Name
			}
			rows = append(rows, row)
		}
	}
}
