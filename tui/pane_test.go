package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

func numbered(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("line %d", i))
	}
	return out
}

func TestPaneScroll(t *testing.T) {
	km := DefaultKeyMap()
	p := pane{title: "T"}
	p.SetLines(numbered(10))
	p.SetSize(20, 4) // 3 rows
	want := "─ T ─────── 1-3/10 ─\nline 1              \nline 2              \nline 3              "
	if got := ansi.Strip(p.View(NewStyles(true))); got != want {
		t.Fatalf("view\n%q\nwant\n%q", got, want)
	}
	for _, tc := range []struct {
		key string
		off int
	}{{"down", 1}, {"down", 2}, {"up", 1}, {"G", 7}, {"down", 7}, {"g", 0}, {"up", 0}, {"pgdown", 2}, {"space", 4}, {"pgup", 2}} {
		p.Update(keyMsg(tc.key), km)
		if p.off != tc.off {
			t.Errorf("after %s: offset %d, want %d", tc.key, p.off, tc.off)
		}
	}
}

// A following pane shows its end as lines arrive, even when its size is
// set after its lines, stops following when scrolled up and follows again
// at the bottom.
func TestPaneFollow(t *testing.T) {
	km := DefaultKeyMap()
	p := pane{follow: true}
	p.SetSize(20, 27)
	p.SetLines(numbered(11))
	p.SetSize(20, 3)
	if p.off != 9 {
		t.Fatalf("offset %d, want 9 (the last 2 of 11 lines)", p.off)
	}
	p.SetLines(numbered(12))
	if p.off != 10 {
		t.Fatalf("offset %d after a new line, want 10", p.off)
	}
	p.Update(keyMsg("up"), km)
	p.SetLines(numbered(13))
	if p.off != 9 {
		t.Fatalf("offset %d after scrolling up and a new line, want 9 (stay)", p.off)
	}
	p.Update(keyMsg("G"), km)
	p.SetLines(numbered(14))
	if p.off != 12 {
		t.Fatalf("offset %d at the bottom after a new line, want 12", p.off)
	}
}

// SetLinesAt brings the anchor line into view once, when the content
// changes, and leaves the user's scrolling alone otherwise.
func TestPaneAnchor(t *testing.T) {
	p := pane{}
	p.SetLinesAt(numbered(20), 12)
	p.SetSize(20, 5) // 4 rows
	if p.off < 9 || p.off > 12 {
		t.Fatalf("offset %d: line 13 and the next not in view", p.off)
	}
	p.off = 0
	p.SetLinesAt(numbered(20), 12)
	p.SetSize(20, 5)
	if p.off != 0 {
		t.Fatalf("offset %d: unchanged content moved the view", p.off)
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want string
	}{{"abc", 5, "abc  "}, {"abcdef", 4, "abc…"}, {"≠≠", 3, "≠≠ "}, {"\x1b[1mbold\x1b[0m", 6, "bold  "}} {
		if got := ansi.Strip(fit(tc.in, tc.w)); got != tc.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	want := map[paneID]int{paneEnclaves: 3, paneSSA: 4, paneDisas: 20, paneBT: 5}
	slots := []slot{{id: paneEnclaves, min: 2, prio: 1}, {id: paneSSA, min: 2, prio: 0},
		{id: paneDisas, min: 2, cap: 12, prio: 3}, {id: paneBT, min: 2, cap: 6, prio: 2}, {id: paneTimeline, min: 3, flex: true}}
	for _, tc := range []struct {
		h    int
		want []int
	}{
		{11, []int{2, 2, 2, 2, 3}},   // minimums only
		{16, []int{3, 4, 2, 4, 3}},   // SSA, enclaves, then backtrace get theirs
		{40, []int{3, 4, 12, 5, 16}}, // disassembly capped; the rest to the timeline
		{5, []int{2, 2, 1, 0, 0}},    // not even the minimums
	} {
		got := allocate(tc.h, slots, func(id paneID) int { return want[id] })
		if !slices.Equal(got, tc.want) {
			t.Errorf("allocate(%d) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestPrompt(t *testing.T) {
	p := newPrompt([]string{"eresume", "eenter-handler", "events", "x", "regs"}, nil)
	p.open()
	typeInto := func(s string) {
		for _, r := range s {
			p.Update(keyMsg(string(r)))
		}
	}
	typeInto("ev")
	p.Update(keyMsg("tab"))
	if got := string(p.text); got != "events " {
		t.Fatalf("completion of ev: %q, want %q", got, "events ")
	}
	typeInto("5")
	if res, line := p.Update(keyMsg("enter")); res != promptDone || line != "events 5" {
		t.Fatalf("enter: %v %q", res, line)
	}
	p.open()
	typeInto("e")
	p.Update(keyMsg("tab"))
	if got := string(p.text); got != "e" {
		t.Fatalf("ambiguous completion of e: %q, want it unchanged", got)
	}
	typeInto("r")
	p.Update(keyMsg("tab"))
	p.Update(keyMsg("enter"))
	p.open()
	typeInto("draft")
	p.Update(keyMsg("up"))
	if got := string(p.text); got != "eresume" {
		t.Fatalf("up: %q, want the last line", got)
	}
	p.Update(keyMsg("up"))
	if got := string(p.text); got != "events 5" {
		t.Fatalf("up twice: %q", got)
	}
	p.Update(keyMsg("down"))
	p.Update(keyMsg("down"))
	if got := string(p.text); got != "draft" {
		t.Fatalf("down back to the new line: %q, want the draft", got)
	}
	p.Update(keyMsg("left"))
	p.Update(keyMsg("backspace"))
	typeInto("F")
	if got := string(p.text); got != "draFt" {
		t.Fatalf("edit in the middle: %q", got)
	}
	if got := ansi.Strip(p.View(NewStyles(true))); got != "(sgxdbg) draFt" {
		t.Fatalf("view %q", got)
	}
	if res, _ := p.Update(keyMsg("esc")); res != promptCancel || p.active {
		t.Fatalf("esc: %v active %v", res, p.active)
	}
	if len(p.history) != 2 {
		t.Fatalf("history %q, want the two lines entered", p.history)
	}
}

// While the host loads an enclave the top bar counts what it has added.
func TestLoadProgress(t *testing.T) {
	evs := []target.Event{
		{Kind: target.EvEnclaveCreated, Enclave: 0x7f0000000000, Size: 0x100000},
		{Kind: target.EvPagesAdded, Enclave: 0x7f0000000000, Length: 0x1000},
		{Kind: target.EvPagesAdded, Enclave: 0x7f0000000000, Length: 0x8000},
	}
	if got, want := loadProgress(evs), "loading enclave 0x7f0000000000: 36 KiB added"; got != want {
		t.Errorf("loadProgress = %q, want %q", got, want)
	}
	evs = append(evs, target.Event{Kind: target.EvEnclaveInitialized, Enclave: 0x7f0000000000})
	if got := loadProgress(evs); got != "" {
		t.Errorf("after EINIT: %q, want nothing", got)
	}
	m := New(Config{Title: "host"})
	m.timeline = evs[:3]
	if bar := ansi.Strip(m.topBar()); !strings.Contains(bar, "running · loading enclave 0x7f0000000000: 36 KiB added") {
		t.Errorf("top bar while loading: %q", bar)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		v    fmt.Stringer
		want string
	}{
		{paneRegs, "Registers"}, {paneConsole, "Console"}, {paneLocals, "Locals"}, {paneDisas, "Code"}, {numPanes, "pane(9)"},
		{stateRunning, "running"}, {stateExited, "exited"}, {state(9), "state(9)"},
		{promptDone, "done"}, {promptResult(7), "promptResult(7)"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// A pane with a cursor: the scroll keys move the cursor and the view
// follows it; the focused pane marks the cursor line with › in a gutter.
func TestPaneCursor(t *testing.T) {
	km := DefaultKeyMap()
	var p pane
	p.hasCursor = true
	p.title = "Code"
	p.SetLines([]string{"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"})
	p.SetSize(10, 4) // 3 rows
	for _, c := range []struct {
		key         string
		cursor, off int
	}{
		{"down", 1, 0}, {"down", 2, 0}, {"down", 3, 1}, {"pgdown", 5, 3}, {"G", 9, 7},
		{"up", 8, 7}, {"g", 0, 0}, {"up", 0, 0}, {"pgup", 0, 0},
	} {
		p.Update(keyMsg(c.key), km)
		if p.cursor != c.cursor || p.off != c.off {
			t.Errorf("%s: cursor %d off %d, want %d %d", c.key, p.cursor, p.off, c.cursor, c.off)
		}
	}
	p.Update(keyMsg("down"), km)
	st := NewStyles(true)
	p.Focus()
	if got := ansi.Strip(p.View(st)); !strings.HasSuffix(got, "\n l0       \n›l1       \n l2       ") {
		t.Errorf("focused view %q", got)
	}
	p.Blur()
	if got := ansi.Strip(p.View(st)); !strings.HasSuffix(got, "\nl0        \nl1        \nl2        ") {
		t.Errorf("unfocused view %q (no gutter)", got)
	}
}

// eventSummary names each kind of stop in a few words.
func TestEventSummary(t *testing.T) {
	for _, c := range []struct {
		ev   target.Event
		want string
	}{
		{target.Event{Kind: target.EvInterrupt, RIP: 0x401000}, "interrupt in host code · rip 0x401000"},
		{target.Event{Kind: target.EvEEXIT, TCS: 0x7f0000000000}, "EEXIT · TCS 0x7f0000000000"},
		{target.Event{Kind: target.EvAEX, TCS: 0x7f0000000000, SSA: 1, RIP: 0x7f0000013120}, "AEX (no valid EXITINFO) · TCS 0x7f0000000000 · SSA frame 1 · rip 0x7f0000013120"},
	} {
		if got := eventSummary(c.ev); got != c.want {
			t.Errorf("%s: %q, want %q", c.ev.Kind, got, c.want)
		}
	}
}
