package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// newBreakStory stops the clean sample at break sum_values (set before the
// host runs, as exec --break does).
func newBreakStory(t *testing.T, w, h int) *story {
	t.Helper()
	return newStorySetup(t, w, h, debugger.Policy{NoAEX: true}, []string{"break sum_values"}, "clean", "0", "1", "2", "3")
}

// focus presses tab until the pane has the focus.
func (st *story) focus(id paneID) {
	st.t.Helper()
	for i := 0; st.m.focus != id; i++ {
		if i > int(numPanes) {
			st.t.Fatalf("no pane %v to focus", id)
		}
		st.key("tab")
	}
}

// paneText is a pane's lines without colour.
func (st *story) paneText(id paneID) string {
	var lines []string
	for _, l := range st.m.panes[id].lines {
		lines = append(lines, ansi.Strip(l))
	}
	return strings.Join(lines, "\n")
}

// cursorLine is the pane's cursor line without colour.
func (st *story) cursorLine(id paneID) string {
	p := &st.m.panes[id]
	return ansi.Strip(p.lines[p.cursor])
}

// The breakpoint story: the stop says why (gdb's line, with the source
// text), the code pane marks the breakpoint on the current instruction
// (●>) under the source text, the Locals pane has the arguments and
// locals; n goes to the next line, F finishes with the returned value,
// c lets the host end with its output whole.
func TestStoryBreakpointSteps(t *testing.T) {
	st := newBreakStory(t, 100, 30)
	s := st.golden("break_stop")
	if got := st.m.message; got != "Breakpoint 1, sum_values () at samples/clean.c:8 · 8 for (uint64_t i = 0; i < n; i++)" {
		t.Errorf("status line %q", got)
	}
	must(t, s, "AEX #BP breakpoint in sum_values", "─ Code ", "●> 0x7f0000013120  test %rsi,%rsi",
		"   clean.c:7  uint64_t sum = 0;", "─ Locals · sum_values", "▸#0  0x7f0000013120 sum_values+0x0")
	must(t, st.paneText(paneLocals), "arguments:\n v = 0x7f0000009f68\n n = 3\nlocals:\n i = 0")
	must(t, st.paneText(paneBT), "── EENTER (TCS 0x7f0000000000): the host's stack at the AEP ──")
	if bar := actionBar(s); !strings.Contains(bar, "K kill  s step  …") {
		t.Errorf("action bar %q lacks the stepping keys", bar)
	}
	if got := st.cursorLine(paneDisas); got != "●> 0x7f0000013120  test %rsi,%rsi" {
		t.Errorf("code cursor on %q, want the current instruction", got)
	}

	st.key("n")
	s = st.screen()
	if got := st.m.message; got != "sum_values () at samples/clean.c:9 · 9 sum += v[i];" {
		t.Errorf("after n: status line %q", got)
	}
	must(t, s, "AEX #DB debug in sum_values+0x10", "=> 0x7f0000013130  add (%rdi),%rax")
	must(t, st.paneText(paneDisas), "●  clean.c:8  for (uint64_t i = 0; i < n; i++)")

	st.key("F")
	s = st.screen()
	if got := st.m.message; got != "Run till exit from #0 sum_values () at samples/clean.c:9 · enclave_ecall () at samples/clean.c:22 · 22 *ret = sum_values(args->values, args->count); · Value returned is 6" {
		t.Errorf("after f: status line %q", got)
	}
	must(t, st.paneText(paneLocals), "arguments:\n n = <optimized out>\n args = 0x7f0000009f60\n ret = 0x7f0000009f58\nlocals:\n msg = \"clean: summing 3 values\"")
	must(t, s, "─ Locals · enclave_ecall")

	st.key("c")
	if st.m.state != stateExited || st.m.status != 0 {
		t.Fatalf("state %v status %d, want the host's end with 0", st.m.state, st.m.status)
	}
	if out := st.hostOutput(); out != "enclave: clean: summing 3 values\necall 0 returned 0x6\n" {
		t.Errorf("host output %q", out)
	}
}

// b toggles a breakpoint on the code pane's cursor line: on an
// instruction (break *ADDR), again to delete it; on a source line (break
// FILE:LINE), which then stops the host there. The marks follow.
func TestStoryBreakToggle(t *testing.T) {
	st := newBreakStory(t, 100, 30)
	st.focus(paneDisas)
	// From the current instruction down to je.
	st.key("down")
	if got := st.cursorLine(paneDisas); got != "   0x7f0000013123  je 0x7f0000013140" {
		t.Fatalf("cursor on %q", got)
	}
	must(t, st.screen(), "› ") // the focused pane's cursor mark
	st.key("b")
	if got := st.m.message; got != "Breakpoint 2: in sum_values at samples/clean.c:8" {
		t.Errorf("b on an instruction: %q", got)
	}
	if got := st.cursorLine(paneDisas); got != "●  0x7f0000013123  je 0x7f0000013140" {
		t.Errorf("after b the cursor line is %q, want it marked", got)
	}
	st.key("b")
	if got := st.m.message; got != "deleted breakpoint 2" {
		t.Errorf("b again: %q", got)
	}
	if got := st.cursorLine(paneDisas); got != "   0x7f0000013123  je 0x7f0000013140" {
		t.Errorf("after the second b the cursor line is %q", got)
	}

	// The source line 9, further down.
	for i := 0; i < 20 && st.cursorLine(paneDisas) != "   clean.c:9  sum += v[i];"; i++ {
		st.key("down")
	}
	if got := st.cursorLine(paneDisas); got != "   clean.c:9  sum += v[i];" {
		t.Fatalf("cursor on %q, want line 9", got)
	}
	st.key("b")
	if got := st.m.message; got != "Breakpoint 3: in sum_values at samples/clean.c:9" {
		t.Errorf("b on a source line: %q", got)
	}
	must(t, st.paneText(paneDisas), "●  clean.c:9  sum += v[i];\n●  0x7f0000013130  add (%rdi),%rax")
	st.key(":")
	st.typeText("info breakpoints")
	st.key("enter")
	must(t, ansi.Strip(strings.Join(st.m.console, "\n")), "3   breakpoint      keep y   in sum_values at samples/clean.c:9\n        at 0x7f0000013130")

	st.key("c")
	if got := st.m.message; got != "Breakpoint 3, sum_values () at samples/clean.c:9 · 9 sum += v[i];" {
		t.Errorf("after c: %q", got)
	}
	must(t, st.screen(), "●> 0x7f0000013130  add (%rdi),%rax")
}

// Enter on a backtrace frame selects it (frame N): the code pane shows
// that frame's code, the Locals pane its variables, and the backtrace
// marks it ▸. A host frame has no enclave code or variables: the panes
// say so. m shows the source lines' locations without their text.
func TestStoryFrameSelect(t *testing.T) {
	st := newBreakStory(t, 120, 40)
	st.focus(paneBT)
	st.key("down")
	st.key("enter")
	if got := st.m.message; got != "#1 0x7f00000131bf in enclave_ecall () at samples/clean.c:22 · 22 *ret = sum_values(args->values, args->count);" {
		t.Errorf("frame 1: %q", got)
	}
	s := st.golden("frame1_120x40")
	must(t, s, "─ Code · frame 1 ", "─ Locals · enclave_ecall ", "▸#1  0x7f00000131bf enclave_ecall+0x6f")
	must(t, st.paneText(paneDisas), "   clean.c:22  *ret = sum_values(args->values, args->count);\n   0x7f00000131b3  mov (%rbx),%rsi")
	mustNot(t, st.paneText(paneDisas), "=>") // the SSA RIP is frame 0's
	// The frame's PC (the return address) is marked, the cursor on it.
	if got := st.cursorLine(paneDisas); got != "-> 0x7f00000131bf  mov %rax,(%rbp)" {
		t.Errorf("code cursor on %q, want the frame's PC", got)
	}
	must(t, st.paneText(paneLocals), ` msg = "clean: summing 3 values"`)
	if got := st.cursorLine(paneBT); !strings.HasPrefix(got, "▸#1 ") {
		t.Errorf("backtrace cursor on %q", got)
	}

	st.key("m")
	must(t, st.paneText(paneDisas), "   samples/clean.c:22\n   0x7f00000131b3  mov (%rbx),%rsi")
	st.key("m")
	must(t, st.paneText(paneDisas), "   clean.c:22  *ret")

	// Down to the boundary (not a frame), then to the host's frame #4.
	for i := 0; i < 3; i++ {
		st.key("down")
	}
	if got := st.cursorLine(paneBT); !strings.HasPrefix(got, "── EENTER") {
		t.Fatalf("cursor on %q, want the boundary", got)
	}
	st.key("enter")
	if got := statusLine(st.screen()); !strings.HasPrefix(got, "error: enter: put the cursor on a frame") {
		t.Errorf("enter on the boundary: %q", got)
	}
	st.key("down")
	st.key("enter")
	must(t, st.paneText(paneDisas), "frame 4 is the host's")
	must(t, st.paneText(paneLocals), "frame 4 is the host's")
	if got := st.cursorLine(paneBT); !strings.HasPrefix(got, "▸#4 ") {
		t.Errorf("backtrace cursor on %q", got)
	}
	// b has no code line to act on.
	if bar := actionBar(st.screen()); strings.Contains(bar, "b break") {
		t.Errorf("action bar %q offers break without code", bar)
	}

	// A stop goes back to frame 0.
	st.key("n")
	must(t, st.screen(), "▸#0  0x7f0000013130 sum_values+0x10")
}

// A display expression is shown in the Locals pane at each stop.
func TestStoryDisplay(t *testing.T) {
	st := newBreakStory(t, 100, 30)
	st.key(":")
	st.typeText("display sum")
	st.key("enter")
	st.key("n")
	st.key("n")
	if got := st.m.displays; got == nil || len(got.Displays) != 1 || got.Displays[0].Value != "1" {
		t.Errorf("the stop's displays: %+v", got)
	}
	must(t, st.paneText(paneLocals), "displays:\n 1: sum = 1")
	must(t, ansi.Strip(strings.Join(st.m.console, "\n")), "\n1: sum = 1")
}

// s steps to the next source line, u runs until a later line (out of the
// loop's jump back): the status line tells where each stopped.
func TestStoryStepUntil(t *testing.T) {
	st := newBreakStory(t, 100, 30)
	var got []string
	for _, k := range []string{"s", "s", "s", "u"} {
		st.key(k)
		got = append(got, k+": "+st.m.message)
	}
	want := []string{
		"s: sum_values () at samples/clean.c:9 · 9 sum += v[i];",
		"s: sum_values () at samples/clean.c:8 · 8 for (uint64_t i = 0; i < n; i++)",
		"s: sum_values () at samples/clean.c:9 · 9 sum += v[i];",
		"u: enclave_ecall () at samples/clean.c:23 · 23 return 0;",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	must(t, st.screen(), "─ Locals · enclave_ecall")
}

// At 80×24 and 200×50 the breakpoint stop keeps its marked current
// instruction, its source text and the stepping keys; at 200×50 the
// Locals pane is under the registers.
func TestStoryBreakpointSizes(t *testing.T) {
	for _, c := range []struct{ w, h int }{{80, 24}, {200, 50}} {
		st := newBreakStory(t, c.w, c.h)
		s := st.golden(fmt.Sprintf("break_stop_%dx%d", c.w, c.h))
		must(t, s, "●> 0x7f0000013120  test %rsi,%rsi", "clean.c:7  uint64_t sum = 0;", "AEX #BP breakpoint in sum_values")
		if c.w >= 150 {
			must(t, s, "─ Locals · sum_values", " v = 0x7f0000009f68", " n = 3")
		}
	}
}
