package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// chrome is the rows around the panes: the top bar, the action bar and
// the status (or prompt) line.
const chrome = 3

// View draws the whole screen.
func (m *Model) View() tea.View {
	rows := []string{fit(m.topBar(), m.w)}
	area := max(0, m.h-chrome)
	if m.showHelp {
		rows = append(rows, m.helpScreen(area)...)
	} else {
		rows = append(rows, m.paneArea(area)...)
	}
	rows = append(rows, fit(m.actionBar(), m.w), fit(m.statusLine(), m.w))
	if m.h > 0 && len(rows) > m.h {
		rows = rows[:m.h] // a terminal too small for the bars
	}
	v := tea.NewView(strings.Join(rows, "\n"))
	v.AltScreen = true
	v.WindowTitle = "sgxdbg " + m.cfg.Title
	return v
}

// actionBar is the valid actions and the general keys. It always ends
// with "? help  q quit": when the bar is too wide, actions are dropped
// from the middle (the last ones first) and "…" says so.
func (m *Model) actionBar() string {
	st := m.help.Styles
	var items []string
	var widths []int
	for _, b := range m.keys.ShortHelp() {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		items = append(items, st.ShortKey.Render(h.Key)+" "+st.ShortDesc.Render(h.Desc))
		widths = append(widths, ansi.StringWidth(h.Key)+1+ansi.StringWidth(h.Desc))
	}
	const sep, tail = 2, 2     // "? help  q quit" are the last two
	total := func(n int) int { // the first n items, a "…" if cut, and the tail
		w := 0
		for i := range n {
			w += widths[i] + sep
		}
		if n < len(items)-tail {
			w += 1 + sep
		}
		for _, x := range widths[len(widths)-tail:] {
			w += x + sep
		}
		return w - sep
	}
	if len(items) < tail {
		return strings.Join(items, "  ")
	}
	n := len(items) - tail
	for n > 0 && total(n) > m.w {
		n--
	}
	parts := append([]string(nil), items[:n]...)
	if n < len(items)-tail {
		parts = append(parts, st.Ellipsis.Render("…"))
	}
	parts = append(parts, items[len(items)-tail:]...)
	return strings.Join(parts, st.ShortSeparator.Render("  "))
}

// topBar names the host and says what it is doing.
func (m *Model) topBar() string {
	s := m.styles.Bar.Render("sgxdbg") + " │ "
	switch m.state {
	case stateRunning:
		s += m.spin.View() + " running"
		if p := loadProgress(m.timeline); p != "" {
			s += " · " + p
		}
	case stateBusy:
		s += m.spin.View() + " " + m.busyWhat + " …"
	case stateExited:
		s += m.styles.BarState.Render(endText(m.end, m.status))
	case stateStopped:
		ev := m.stop
		if ev.Kind != target.EvAEX {
			s += m.styles.BarState.Render("stopped at " + eventSummary(ev))
			break
		}
		what := "AEX " + ev.VectorName() + " " + ev.Vector.Name()
		if !ev.Valid {
			what = "AEX (no valid EXITINFO)"
		}
		s += m.styles.BarState.Render(what)
		if ssa, ok := m.results[paneSSA].result.(*debugger.SSAResult); ok && len(ssa.Frames) > 0 {
			if f := ssa.Frames[len(ssa.Frames)-1]; f.Symbol != "" {
				s += " in " + f.Symbol
			}
		}
		if ev.Production {
			s += " · production enclave"
		} else {
			s += fmt.Sprintf(" · SSA frame %d", ev.SSA)
		}
	}
	return s + " │ " + m.cfg.Title
}

// loadProgress tells how far the host has got loading an enclave that is
// not initialized yet.
func loadProgress(evs []target.Event) string {
	var base, added uint64
	loading := false
	for _, ev := range evs {
		switch ev.Kind {
		case target.EvEnclaveCreated:
			base, added, loading = ev.Enclave, 0, true
		case target.EvPagesAdded:
			if ev.Enclave == base {
				added += ev.Length
			}
		case target.EvEnclaveInitialized:
			if ev.Enclave == base {
				loading = false
			}
		}
	}
	if !loading {
		return ""
	}
	return fmt.Sprintf("loading enclave %#x: %d KiB added", base, added/1024)
}

// statusLine is the prompt, an open question, or the last message.
func (m *Model) statusLine() string {
	switch {
	case m.prompt.active:
		return m.prompt.View(m.styles)
	case m.confirm != nil:
		return m.styles.BarState.Render(m.confirm.question + " (y/n)")
	case m.isError:
		return m.styles.Error.Render("error: " + m.message)
	}
	return m.styles.Info.Render(m.message)
}

// helpScreen is every key, with the legend of the registers' marks.
func (m *Model) helpScreen(h int) []string {
	full := m.help
	full.ShowAll = true
	lines := []string{m.styles.Bar.Render("Keys") + m.styles.Dim.Render("  (? or esc closes)"), ""}
	lines = append(lines, strings.Split(full.FullHelpView(m.keys.FullHelp()), "\n")...)
	lines = append(lines, "",
		"Registers: ≠ the host's value differs from the enclave's",
		"           * the enclave's value changed since the last stop",
		"           H set by the handler (after H, EENTER handler)",
		"Code: => marks the instruction at the SSA RIP (-> a caller frame's PC), under its source line",
		"      (m: its text or only file:line); ● a breakpoint (○ disabled): b sets or clears one on",
		"      the cursor line (›).",
		"Backtrace: ▸ marks the frame the code and locals follow; enter selects the cursor's frame.",
		"↑↓ move the cursor in the code and backtrace panes, and scroll the others.",
		"The action bar shows only the actions valid now; `:` runs any command (`help` lists them).")
	out := make([]string, h)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], m.w)
		} else {
			out[i] = fit("", m.w)
		}
	}
	return out
}

// column is panes stacked in one column of the layout.
type column struct {
	w     int
	panes []slot
}

// slot is a pane's place in a column: its minimum and wanted heights, and
// the order in which columns hand out spare rows (lower first).
type slot struct {
	id       paneID
	min, cap int // cap 0: no cap
	prio     int
	flex     bool // takes whatever is left
}

// regsCompact is the registers pane's width below which it drops the 0x
// prefixes, the header line and the legend (help has the legend).
const regsCompact = 49

// columns lays the panes out for the terminal's width. Registers are on
// the left, always both columns readable; enclaves, SSA, code, stack and
// locals in the middle. From 150 columns a third column holds the
// timeline and the console (wide enough for the actions' messages) and
// the locals go under the registers; from 100 to 149 the console and the
// timeline are under the registers; below 100 columns the registers pane
// is compact and the console joins the right column.
func (m *Model) columns() []column {
	if m.w < 60 {
		// Too narrow for two columns: the views that matter most first.
		return []column{{m.w, []slot{{id: paneRegs, min: 2, prio: 1}, {id: paneSSA, min: 2, prio: 0},
			{id: paneDisas, min: 2, cap: 8, prio: 2}, {id: paneBT, min: 2, cap: 6, prio: 3},
			{id: paneLocals, min: 2, cap: 6, prio: 4}, {id: paneEnclaves, min: 2, prio: 5},
			{id: paneMemory, min: 2, cap: 5, prio: 6}, {id: paneTimeline, min: 2, cap: 8, prio: 7},
			{id: paneConsole, min: 2, flex: true}}}}
	}
	if m.w >= 150 {
		lw := 56
		mw := (m.w - lw - 2) * 9 / 20
		left := []slot{{id: paneRegs, min: 2, prio: 0}, {id: paneLocals, min: 2, cap: 12, prio: 1}, {id: paneMemory, min: 2, flex: true}}
		code := []slot{{id: paneEnclaves, min: 2, prio: 1}, {id: paneSSA, min: 2, prio: 0},
			{id: paneDisas, min: 2, cap: 24, prio: 2}, {id: paneBT, min: 2, flex: true}}
		right := []slot{{id: paneTimeline, min: 3, cap: max(3, (m.h-chrome)/2), prio: 0}, {id: paneConsole, min: 3, flex: true}}
		return []column{{lw, left}, {mw, code}, {m.w - lw - mw - 2, right}}
	}
	if m.w < 100 {
		lw := 45 // the compact registers: name, two 16-digit columns, marks
		right := []slot{{id: paneSSA, min: 2, prio: 0}, {id: paneDisas, min: 2, cap: 8, prio: 1},
			{id: paneEnclaves, min: 2, prio: 2}, {id: paneBT, min: 2, cap: 6, prio: 3},
			{id: paneLocals, min: 0, cap: 5, prio: 4}, {id: paneMemory, min: 0, cap: 5, prio: 5},
			{id: paneTimeline, min: 0, cap: 8, prio: 6}, {id: paneConsole, min: 2, flex: true}}
		return []column{{lw, []slot{{id: paneRegs, min: 2, flex: true}}}, {m.w - lw - 1, right}}
	}
	// The console or the timeline, when focused, takes rows from the
	// registers.
	// The registers keep their 20 rows and header while they can (the
	// legends are in the help).
	area := m.h - chrome
	con, tl := slot{id: paneConsole, min: 3, flex: true}, slot{id: paneTimeline, min: 2, cap: 8, prio: 1}
	switch m.focus {
	case paneConsole:
		con.min = max(con.min, area/3)
	case paneTimeline:
		tl.min = max(tl.min, area/3)
	}
	regs := min(22, len(m.panes[paneRegs].lines)+1, area-con.min-tl.min)
	left := []slot{{id: paneRegs, min: max(2, regs), prio: 0}, con, tl}
	lw := min(51, m.w/2)
	right := []slot{{id: paneEnclaves, min: 2, prio: 1}, {id: paneSSA, min: 2, prio: 0},
		{id: paneDisas, min: 2, cap: max(7, area/3), prio: 2}, {id: paneBT, min: 2, cap: 6, prio: 3},
		{id: paneLocals, min: 2, cap: max(6, area/4), prio: 3}, {id: paneMemory, min: 2, flex: true}}
	return []column{{lw, left}, {m.w - lw - 1, right}}
}

// sync renders every pane's lines for the current widths and sizes the
// panes. It runs after a change of data that may touch any pane.
func (m *Model) sync() {
	m.filled = [numPanes]bool{}
	m.layout()
}

// syncPanes is sync after a change of these panes' data only (a batch of
// events, the host's output): the other panes keep their lines.
func (m *Model) syncPanes(ids ...paneID) {
	for _, id := range ids {
		m.filled[id] = false
	}
	m.layout()
}

// layout sizes the panes for the terminal, rendering the lines of those
// whose data or width changed.
func (m *Model) layout() {
	area := max(0, m.h-chrome)
	fill := func(id paneID, w int) {
		if !m.filled[id] || m.fillW[id] != w {
			m.fill(id, w)
			m.filled[id], m.fillW[id] = true, w
		}
	}
	if m.zoom {
		for i := range m.panes {
			m.panes[i].SetSize(0, 0)
		}
		m.panes[m.focus].SetSize(m.w, area)
		fill(m.focus, m.w)
		return
	}
	for _, col := range m.columns() {
		for _, s := range col.panes {
			fill(s.id, col.w)
		}
	}
	// The columns again: a slot's size may depend on its lines.
	for _, col := range m.columns() {
		heights := allocate(area, col.panes, func(id paneID) int { return len(m.panes[id].lines) + 1 })
		for i, s := range col.panes {
			m.panes[s.id].SetSize(col.w, heights[i])
		}
	}
}

// allocate hands out h rows: every slot its minimum, then spare rows in
// priority order up to what each wants (its lines, at most its cap), and
// the rest to the flexible slot.
func allocate(h int, slots []slot, want func(paneID) int) []int {
	out := make([]int, len(slots))
	left := h
	for i, s := range slots {
		out[i] = min(s.min, left)
		left -= out[i]
	}
	for p := 0; p <= 8 && left > 0; p++ {
		for i, s := range slots {
			if s.flex || s.prio != p {
				continue
			}
			w := want(s.id)
			if s.cap > 0 {
				w = min(w, s.cap)
			}
			add := min(max(0, w-out[i]), left)
			out[i] += add
			left -= add
		}
	}
	for i, s := range slots {
		if s.flex {
			out[i] += left
			left = 0
		}
	}
	return out
}

// paneArea draws the panes, column by column, h rows high.
func (m *Model) paneArea(h int) []string {
	if m.zoom {
		return strings.Split(m.panes[m.focus].View(m.styles), "\n")[:min(h, m.panes[m.focus].h)]
	}
	cols := m.columns()
	blocks := make([][]string, len(cols))
	for i, col := range cols {
		var lines []string
		for _, s := range col.panes {
			if m.panes[s.id].h > 0 {
				lines = append(lines, strings.Split(m.panes[s.id].View(m.styles), "\n")...)
			}
		}
		for len(lines) < h {
			lines = append(lines, fit("", col.w))
		}
		blocks[i] = lines[:h]
	}
	out := make([]string, h)
	sep := m.styles.Rule.Render("│")
	for r := range out {
		parts := make([]string, len(blocks))
		for i := range blocks {
			parts[i] = blocks[i][r]
		}
		out[r] = strings.Join(parts, sep)
	}
	return out
}

// fill renders a pane's content for width w.
func (m *Model) fill(id paneID, w int) {
	p := &m.panes[id]
	st := m.styles
	p.detail = ""
	p.lineFn = nil
	if id == paneConsole {
		p.SetLines(m.console)
		return
	}
	if id == paneTimeline {
		p.detail = fmt.Sprintf("%d events", max(len(m.timeline), m.evTotal))
		m.fillTimeline(p)
		return
	}
	res, ok := m.results[id]
	if !ok {
		p.SetLines(nil)
		return
	}
	if m.state == stateExited {
		defer func() { p.detail = strings.TrimPrefix(p.detail+" · at the last stop", " · ") }()
	}
	if id == paneLocals {
		if v, ok := res.result.(*debugger.VarsResult); ok && v.Function != "" {
			p.detail = v.Function
		}
		disp, _ := m.results[resDisplays].result.(*debugger.DisplayResult)
		if disp == nil {
			disp = m.displays
		}
		p.SetLines(renderLocals(m.results[resArgs], res, disp, w, st))
		return
	}
	if res.err != nil {
		switch id {
		case paneMemory:
			p.detail = res.line
		case paneDisas:
			m.codeRows = nil
		}
		p.SetLines(renderError(res.err, w, st))
		return
	}
	switch r := res.result.(type) {
	case *debugger.EnclavesResult:
		p.SetLines(renderEnclaves(r, m.stop.TCS, st))
	case *debugger.SSAResult:
		p.detail = fmt.Sprintf("TCS %#x CSSA %d/NSSA %d", uint64(r.TCS), r.CSSA, r.NSSA)
		p.SetLines(renderSSA(r, m.handler, st))
	case *debugger.RegsResult:
		p.detail = fmt.Sprintf("SSA frame %d", r.Frame)
		if w < regsCompact {
			p.detail = fmt.Sprintf("frame %d: enclave │ host", r.Frame)
		}
		p.SetLines(renderRegs(r, regMarks{prev: m.prevRegs, handler: m.handlerFields()}, st, w))
	case *debugger.DisasResult:
		br, _ := m.results[resBreaks].result.(*debugger.BreakpointsResult)
		var framePC uint64
		if bt, ok := m.results[paneBT].result.(*debugger.BacktraceResult); ok && bt.Selected > 0 && bt.Selected < len(bt.Frames) {
			framePC = uint64(bt.Frames[bt.Selected].PC)
		}
		lines, rows, cur := renderCode(r, newBreakMarks(br), !m.plainCode, framePC, st)
		key := m.viewKey()
		c := codeCursor(rows, m.codeRows, p.cursor, cur, key == m.codeKey)
		if key != m.codeKey {
			// A new view: from its top, the current instruction brought
			// into view when the pane has its size.
			p.off, p.anchor, p.anchored, p.sticky = 0, cur, cur >= 0, cur >= 0
		}
		p.SetLines(lines)
		p.cursor = min(c, len(lines)-1)
		m.codeRows, m.codeKey = rows, key
		if bt, ok := m.results[paneBT].result.(*debugger.BacktraceResult); ok && bt.Selected > 0 {
			p.detail = fmt.Sprintf("frame %d", bt.Selected)
		}
	case *debugger.BacktraceResult:
		lines, frames, sel := renderBT(r, st)
		p.SetLines(lines)
		m.btFrames = frames
		if key := m.viewKey(); key != m.btKey {
			m.btKey = key
			p.off, p.cursor = 0, sel
		}
	case *debugger.MemoryResult:
		p.detail = res.line
		p.SetLines(renderMemory(r, w))
	default:
		p.SetLines(renderText(r.Text()))
	}
}

// fillTimeline gives the timeline pane one line per event, each rendered
// the first time it is seen and kept (m.tlLines) until the timeline is
// replaced or the styles change: a key or a batch of events costs the
// lines on screen, not the whole timeline.
func (m *Model) fillTimeline(p *pane) {
	if len(m.tlLines) > len(m.timeline) {
		m.tlLines = nil
	}
	for len(m.tlLines) < len(m.timeline) {
		m.tlLines = append(m.tlLines, "")
	}
	p.lineFn = func(j int) string {
		if m.tlLines[j] == "" {
			m.tlLines[j] = renderEvent(m.timeline[j], m.styles)
		}
		return m.tlLines[j]
	}
	p.SetLines(m.tlLines)
}

// handlerFields are the SSA fields the last handler run changed, if it
// ran on the frame the registers pane shows.
func (m *Model) handlerFields() map[string]bool {
	if m.handler == nil {
		return nil
	}
	if r, ok := m.results[paneRegs].result.(*debugger.RegsResult); !ok || r.Frame != m.handler.Frame {
		return nil
	}
	out := map[string]bool{}
	for _, c := range m.handler.Changes {
		out[c.Field] = true
	}
	return out
}

// HostTitle names a host command line briefly: the program and its
// arguments, paths cut to their last element.
func HostTitle(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = filepath.Base(a)
	}
	return strings.Join(parts, " ")
}
