package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// paneID names a pane.
type paneID int

// The panes, in focus order.
const (
	paneEnclaves paneID = iota
	paneSSA
	paneRegs
	paneDisas
	paneBT
	paneLocals
	paneMemory
	paneTimeline
	paneConsole
	numPanes
)

var paneNames = [numPanes]string{"Enclaves & TCS", "SSA frames", "Registers", "Code", "Backtrace", "Locals", "Memory", "Timeline", "Console"}

// Results read at a stop that no pane shows by itself: the Locals pane
// shows the arguments and the displays too, the code pane the
// breakpoints.
const (
	resArgs paneID = numPanes + iota
	resDisplays
	resBreaks
)

func (p paneID) String() string {
	if p >= 0 && p < numPanes {
		return paneNames[p]
	}
	return fmt.Sprintf("pane(%d)", int(p))
}

// pane is a titled, scrollable block of styled lines. Its owner sets the
// lines; the pane keeps its scroll position and draws exactly its size.
type pane struct {
	title  string // the pane's name
	detail string // shown after the name in the title rule
	lines  []string
	// lineFn, if set, draws line j on demand (p.lines then only counts
	// them): a long timeline is rendered only where it is seen.
	lineFn   func(j int) string
	off      int  // first line shown
	follow   bool // keep the last line in view, unless scrolled away from it
	away     bool // a following pane was scrolled up
	anchor   int  // a line to bring into view at the next SetSize
	anchored bool
	focused  bool
	w, h     int // h includes the title rule
	// hasCursor: the scroll keys move a cursor line (drawn reversed with
	// a › in a gutter column while the pane has the focus) and the view
	// follows it.
	hasCursor bool
	cursor    int
	// sticky: the anchor line is brought into view again at every size
	// until the user moves the cursor (so that a resize and back shows
	// the same lines).
	sticky bool
}

// SetCursor puts the cursor on line i (clamped) and scrolls it into view.
func (p *pane) SetCursor(i int) {
	p.cursor = max(0, min(i, len(p.lines)-1))
	p.showCursor()
}

// showCursor scrolls the cursor line into view.
func (p *pane) showCursor() {
	if !p.hasCursor || p.rows() == 0 {
		return
	}
	if p.cursor < p.off {
		p.off = p.cursor
	}
	if p.cursor >= p.off+p.rows() {
		p.off = p.cursor - p.rows() + 1
	}
	p.clamp()
}

// SetSize sets the pane's outer size.
func (p *pane) SetSize(w, h int) {
	p.w, p.h = w, h
	if p.sticky {
		p.off, p.anchored = 0, true
	}
	p.scrollToAnchor()
	p.clamp()
	p.showCursor()
}

// SetLines replaces the content. A following pane shows its end; others
// keep their position when it is still valid.
func (p *pane) SetLines(lines []string) {
	p.lines = lines
	p.cursor = max(0, min(p.cursor, len(lines)-1))
	p.clamp()
}

// SetLinesAt replaces the content like SetLines and, if it changed,
// scrolls line at (and the line after it) into view once the pane has its
// size; at < 0 scrolls nowhere.
func (p *pane) SetLinesAt(lines []string, at int) {
	if !slices.Equal(lines, p.lines) && at >= 0 {
		p.anchor, p.anchored = at, true
	}
	p.SetLines(lines)
}

// scrollToAnchor brings the anchor line into view, a little above the
// middle, when the pane has rows.
func (p *pane) scrollToAnchor() {
	if !p.anchored || p.rows() == 0 {
		return
	}
	p.anchored = false
	if i := p.anchor; i < p.off || i+1 >= p.off+p.rows() {
		p.off = i - max(0, p.rows()-2)/2
	}
}

// Focus and Blur mark the pane that gets the scroll keys.
func (p *pane) Focus() { p.focused = true }

// Blur removes the focus.
func (p *pane) Blur() { p.focused = false }

func (p *pane) rows() int { return max(0, p.h-1) }

func (p *pane) clamp() {
	last := max(0, len(p.lines)-p.rows())
	if p.follow && !p.away {
		p.off = last
	}
	p.off = max(0, min(p.off, last))
}

// Update scrolls on the keymap's scroll keys, or moves the cursor.
func (p *pane) Update(msg tea.KeyPressMsg, km KeyMap) {
	if p.hasCursor {
		p.moveCursor(msg, km)
		return
	}
	switch {
	case key.Matches(msg, km.Up):
		p.off--
	case key.Matches(msg, km.Down):
		p.off++
	case key.Matches(msg, km.PageUp):
		p.off -= max(1, p.rows()-1)
	case key.Matches(msg, km.PageDown):
		p.off += max(1, p.rows()-1)
	case key.Matches(msg, km.Top):
		p.off = 0
	case key.Matches(msg, km.Bottom):
		p.off = len(p.lines)
	}
	last := max(0, len(p.lines)-p.rows())
	p.off = max(0, min(p.off, last))
	p.away = p.off < last
}

// moveCursor moves the cursor on the scroll keys.
func (p *pane) moveCursor(msg tea.KeyPressMsg, km KeyMap) {
	p.sticky = false
	c := p.cursor
	switch {
	case key.Matches(msg, km.Up):
		c--
	case key.Matches(msg, km.Down):
		c++
	case key.Matches(msg, km.PageUp):
		c -= max(1, p.rows()-1)
	case key.Matches(msg, km.PageDown):
		c += max(1, p.rows()-1)
	case key.Matches(msg, km.Top):
		c = 0
	case key.Matches(msg, km.Bottom):
		c = len(p.lines)
	default:
		return
	}
	p.SetCursor(c)
}

// View draws the title rule and the visible lines, each cut or padded to
// the pane's width; the result has exactly h lines.
func (p *pane) View(st Styles) string {
	if p.h <= 0 || p.w <= 0 {
		return ""
	}
	out := make([]string, 0, p.h)
	out = append(out, p.rule(st))
	gutter := p.hasCursor && p.focused && p.w > 1
	for i := 0; i < p.rows(); i++ {
		line := ""
		j := p.off + i
		if j < len(p.lines) {
			line = p.lines[j]
			if p.lineFn != nil {
				line = p.lineFn(j)
			}
		}
		if !gutter {
			out = append(out, fit(line, p.w))
			continue
		}
		if j == p.cursor && j < len(p.lines) {
			out = append(out, st.RuleFocus.Render("›")+st.Cursor.Render(fit(ansi.Strip(line), p.w-1)))
			continue
		}
		out = append(out, " "+fit(line, p.w-1))
	}
	return strings.Join(out, "\n")
}

// rule is the title line: "─ Name · detail ───── 3-9/20 ─", heavy when
// focused so that focus shows without colour.
func (p *pane) rule(st Styles) string {
	ch, style := "─", st.Rule
	if p.focused {
		ch, style = "━", st.RuleFocus
	}
	name := p.title
	if p.detail != "" {
		name += " · " + p.detail
	}
	pos := ""
	if n := len(p.lines); n > p.rows() {
		pos = fmt.Sprintf(" %d-%d/%d %s", p.off+1, min(n, p.off+p.rows()), n, ch)
	}
	head := ch + " " + name + " "
	room := p.w - ansi.StringWidth(pos)
	head = ansi.Truncate(head, room, "…")
	fill := max(0, room-ansi.StringWidth(head))
	return style.Render(head + strings.Repeat(ch, fill) + pos)
}

// fit cuts s to w cells (marking the cut with …) or pads it with spaces.
func fit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}
