package tui

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// The code pane: the disassembly of the selected frame with its source
// lines interleaved (their text, or only their file:line with m), the
// breakpoints marked, and a cursor line that b sets or clears a
// breakpoint on.

// rowKind is what a line of the code pane shows.
type rowKind int

const (
	rowLabel  rowKind = iota // a function's label
	rowSource                // a source line
	rowInsn                  // an instruction
)

// codeRow is what a line of the code pane stands for: b acts on it.
type codeRow struct {
	kind   rowKind
	addr   uint64 // rowInsn
	source string // rowSource: FILE:LINE as disas names it
	fn     string // rowLabel: the function
}

// breakMarks says where the breakpoints are: the addresses they are
// inserted at and the source lines and functions they were set on.
type breakMarks struct {
	addrs   map[uint64]*debugger.BreakView
	sources map[string]*debugger.BreakView // FILE:LINE
	fns     map[string]*debugger.BreakView // a spec that is a function name
}

// newBreakMarks indexes the breakpoints (software and hardware ones;
// watchpoints are data, not code).
func newBreakMarks(r *debugger.BreakpointsResult) breakMarks {
	m := breakMarks{addrs: map[uint64]*debugger.BreakView{}, sources: map[string]*debugger.BreakView{}, fns: map[string]*debugger.BreakView{}}
	if r == nil {
		return m
	}
	for i := range r.Breakpoints {
		b := &r.Breakpoints[i]
		if b.Kind != debugger.BreakSoftware && b.Kind != debugger.BreakHardware {
			continue
		}
		for _, a := range b.Inserted {
			m.addrs[uint64(a)] = b
		}
		for _, w := range b.Where {
			if _, at, ok := strings.Cut(w, " at "); ok {
				m.sources[at] = b
			}
		}
		m.fns[b.Spec] = b
	}
	return m
}

// at is the breakpoint a row stands on, or nil.
func (m breakMarks) at(r codeRow) *debugger.BreakView {
	switch r.kind {
	case rowInsn:
		return m.addrs[r.addr]
	case rowSource:
		return m.sources[r.source]
	case rowLabel:
		return m.fns[r.fn]
	}
	return nil
}

// renderCode shows the instructions under their function's label, each
// new source line above its instructions (with its text when withText and
// the file was found), the faulting instruction marked => and
// highlighted, the selected frame's PC (framePC, when a caller's frame is
// selected: its return address) marked ->, and a breakpoint's lines
// marked ● (○ disabled). It returns the rows the lines stand for and the
// index of the current instruction or the frame's PC (-1 if neither is
// shown).
func renderCode(r *debugger.DisasResult, bps breakMarks, withText bool, framePC uint64, st Styles) ([]string, []codeRow, int) {
	var lines []string
	var rows []codeRow
	cur := -1
	src := ""
	mark := func(row codeRow) string {
		b := bps.at(row)
		switch {
		case b == nil:
			return " "
		case !b.Enabled:
			return st.Break.Render("○")
		}
		return st.Break.Render("●")
	}
	for i, l := range r.Lines {
		if l.Symbol != "" && (i == 0 || !strings.Contains(l.Symbol, "+")) {
			fn, _, _ := strings.Cut(l.Symbol, "+")
			row := codeRow{kind: rowLabel, fn: fn}
			lines = append(lines, st.Bar.Render(l.Symbol+":"))
			rows = append(rows, row)
		}
		if l.Source != "" && l.Source != src {
			row := codeRow{kind: rowSource, source: l.Source}
			text := st.Dim.Render(l.Source)
			if t := strings.TrimSpace(l.Line); withText && t != "" {
				text = st.Dim.Render(filepath.Base(l.Source)) + "  " + t
			}
			lines = append(lines, mark(row)+"  "+text)
			rows = append(rows, row)
			src = l.Source
		}
		row := codeRow{kind: rowInsn, addr: uint64(l.Addr)}
		text := fmt.Sprintf("%#x  %s", uint64(l.Addr), l.Text)
		if l.Current {
			cur = len(lines)
			lines = append(lines, st.Current.Render("=> "+text))
			if m := mark(row); m != " " {
				lines[cur] = m + st.Current.Render("> "+text)
			}
		} else if framePC != 0 && uint64(l.Addr) == framePC {
			cur = len(lines)
			if m := mark(row); m != " " {
				lines = append(lines, m+st.Bar.Render("> "+text))
			} else {
				lines = append(lines, st.Bar.Render("-> "+text))
			}
		} else {
			lines = append(lines, mark(row)+"  "+text)
		}
		rows = append(rows, row)
	}
	return lines, rows, cur
}

// breakLine is the command that b runs on a row: delete the breakpoint
// there, or set one (at the instruction, the source line or the
// function).
func breakLine(row codeRow, bps breakMarks) string {
	if b := bps.at(row); b != nil {
		return fmt.Sprintf("delete %d", b.ID)
	}
	switch row.kind {
	case rowInsn:
		return fmt.Sprintf("break *%#x", row.addr)
	case rowSource:
		return "break " + row.source
	}
	return "break " + row.fn
}

// codeCursor is where the code pane's cursor goes after new lines: on the
// row it was on if that row is still shown and the view is the same (the
// same stop and frame), else on the current instruction.
func codeCursor(rows, old []codeRow, oldCursor, cur int, same bool) int {
	if same && oldCursor >= 0 && oldCursor < len(old) {
		if i := slices.Index(rows, old[oldCursor]); i >= 0 {
			return i
		}
	}
	return max(0, cur)
}
