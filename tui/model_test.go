package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// must fails unless every want is on the screen.
func must(t *testing.T, screen string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Errorf("the screen lacks %q:\n%s", w, screen)
		}
	}
}

// mustNot fails if any of the strings is on the screen.
func mustNot(t *testing.T, screen string, not ...string) {
	t.Helper()
	for _, w := range not {
		if strings.Contains(screen, w) {
			t.Errorf("the screen shows %q:\n%s", w, screen)
		}
	}
}

// actionBar is the screen's action bar (the line above the status line).
func actionBar(screen string) string {
	lines := strings.Split(screen, "\n")
	return lines[len(lines)-2]
}

// The #PF story: the host reads an untrusted pointer (0x10000) inside the
// enclave; the AEX view shows the vector, the fault address and error
// code, both register columns and the faulting instruction; ERESUME
// faults again; continue lets the host see its SIGSEGV.
func TestStoryPageFault(t *testing.T) {
	st := newStory(t, 100, 30, "pf_untrusted", "0", "0x10000")
	s := st.golden("pf_stop")
	must(t, s, "AEX #PF page fault in fault_read_untrusted", "#0 #PF page fault · hardware exception",
		"maddr 0x10000 · errcd 0x4", "page not present, read access, user mode",
		"enclave (SSA)", "host sees (synthetic)", "=> 0x7f0000013120  mov (%rdi),%rax",
		"pf_untrusted.c:11  __asm__ volatile(", "▸#0  0x7f0000013120 fault_read_untrusted+0x0")
	if got := actionBar(s); !strings.HasPrefix(got, "e ERESUME  H handler  T teardown  J skip  I stepi  c continue  K kill  s step  …  ? help  q quit") {
		t.Errorf("action bar %q, want every action", got)
	}

	st.key("e")
	s = st.golden("pf_eresume")
	must(t, s, "ERESUME TCS 0x7f0000000000 from SSA frame 0", "AEX #PF page fault in fault_read_untrusted")
	if n := strings.Count(strings.Join(renderEvents(st.m.timeline, st.m.styles), "\n"), "aex "); n != 2 {
		t.Errorf("timeline has %d AEXs after ERESUME, want 2 (the fault recurs)", n)
	}

	st.key("c")
	s = st.golden("pf_exit")
	must(t, s, "exited with status 2")
	if got := actionBar(s); strings.Contains(got, "ERESUME") || strings.Contains(got, "continue") {
		t.Errorf("action bar %q offers actions after the host's end", got)
	}
	if out := st.hostOutput(); out != "unhandled enclave exception: #PF (SIGSEGV)\n" {
		t.Errorf("host output %q", out)
	}
}

// The #UD story: the sample's handler emulates CPUID. After h the SSA
// fields the handler changed are marked H; ERESUME runs on with them.
func TestStoryUDHandler(t *testing.T) {
	st := newStory(t, 100, 30, "ud", "0")
	must(t, st.screen(), "AEX #UD invalid opcode in emulated_cpuid")

	st.key("H")
	s := st.golden("ud_handler")
	must(t, s, "handler: EEXIT RDI 0x2 RSI 0x6 (handled: the …", "H rax      0x0 → 0x5347",
		"rax    0x0000000000005347  H", "rip    0x00007f00000131a7  H")
	// Registers the handler left alone carry no H.
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "rsi ") && strings.Contains(l, " H ") {
			t.Errorf("rsi marked as changed by the handler: %q", l)
		}
	}

	st.key("e")
	if out := st.hostOutput(); out != "ecall 0 returned 0x5347584442470001\n" {
		t.Errorf("host output %q", out)
	}
	st.feedOutput()
	must(t, st.golden("ud_exit"), "exited with status 0", "ecall 0 returned 0x5347584442470001")
}

// The nested story: the host's own exception handling enters the
// enclave's handler, which faults itself: a second AEX on frame 1 with
// CSSA 2 of NSSA 2. The registers changed since the first stop are
// marked *, and EENTER handler is no longer offered (no free SSA frame).
func TestStoryNested(t *testing.T) {
	st := newStory(t, 100, 30, "nested", "0")
	s := st.golden("nested_first")
	must(t, s, "AEX #UD invalid opcode in nested_first_fault", "CSSA 1/NSSA 2")
	mustNot(t, s, " *  0x", "H  0x")

	st.key("c")
	s = st.golden("nested_second")
	must(t, s, "AEX #PF page fault in nested_handler", "SSA frame 1", "CSSA 2/NSSA 2",
		"#1 #PF page fault · hardware exception", "#0 #UD invalid opcode · hardware exception")
	if !strings.Contains(s, " *  0x") {
		t.Errorf("no register marked changed since the first stop:\n%s", s)
	}
	if got := actionBar(s); strings.Contains(got, "EENTER handler") || !strings.Contains(got, "e ERESUME") {
		t.Errorf("action bar %q: want ERESUME but no EENTER handler at CSSA = NSSA", got)
	}

	st.key("c")
	must(t, st.golden("nested_exit"), "exited with status 3")
	if out := st.hostOutput(); out != "EENTER failed: #GP (TCS busy or no free SSA frame)\n" {
		t.Errorf("host output %q", out)
	}
}

// The teardown story: t asks first, n cancels, y destroys the enclave;
// only continue and kill remain, and the host sees the lost enclave.
func TestStoryTeardown(t *testing.T) {
	st := newStory(t, 100, 30, "pf_untrusted", "0", "0x10000")
	st.key("T")
	must(t, st.golden("teardown_confirm"), "Tear down enclave 0x7f0000000000? Its pages go away and the host sees a lost enclave. (y/n)")
	st.key("n")
	must(t, st.screen(), "cancelled", "AEX #PF page fault")

	st.key("T")
	st.key("y")
	s := st.golden("teardown_done")
	must(t, s, "enclave 0x7f0000000000 destroyed", "no enclaves")
	if got := actionBar(s); !strings.HasPrefix(got, "c continue  K kill  : cmd  ? help  q quit") {
		t.Errorf("action bar after teardown %q, want only continue and kill", got)
	}

	st.key("c")
	if out := st.hostOutput(); out != "enclave lost\n" {
		t.Errorf("host output %q", out)
	}
	st.feedOutput()
	must(t, st.golden("teardown_exit"), "exited with status 4", "enclave-removed", "enclave lost")
}

// At 200×50 the panes spread over three columns.
func TestStoryWide(t *testing.T) {
	st := newStory(t, 200, 50, "pf_untrusted", "0", "0x10000")
	s := st.golden("pf_stop_200x50")
	must(t, s, "─ Timeline", "─ Memory · x/8xg ssa.rsp", "#3  0x7f000001307b enclave_entry+0x7b")
}

// The command prompt: a memory view goes to the memory pane, another view
// to the console, an error to the status line; history recalls lines; ?
// shows every key.
func TestStoryPromptAndHelp(t *testing.T) {
	st := newStory(t, 100, 30, "pf_untrusted", "0", "0x10000")

	st.key(":")
	st.typeText("x/2xg ssa.rsp")
	must(t, st.screen(), "(sgxdbg) x/2xg ssa.rsp")
	st.key("enter")
	s := st.screen()
	must(t, s, "─ Memory · x/2xg ssa.rsp", "memory: x/2xg ssa.rsp")

	st.key(":")
	st.typeText("info thr")
	st.key("backspace")
	st.typeText("reads")
	st.key("enter")
	must(t, st.golden("prompt_console"), "━ Console", "(sgxdbg) info threads", "▸ thread 1000 at an AEX of TCS 0x7f0000000000")

	st.key(":")
	st.typeText("x/2xg 0x10")
	st.key("enter")
	s = st.screen()
	lines := strings.Split(s, "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "error: read 16 bytes at 0x10") {
		t.Errorf("status line %q, want the read error", last)
	}
	must(t, s, "AEX #PF page fault")

	// History: up recalls the last line, up again the one before.
	st.key(":")
	st.key("up")
	st.key("up")
	must(t, st.screen(), "(sgxdbg) info threads")
	st.key("esc")
	mustNot(t, statusLine(st.screen()), "(sgxdbg) info threads")

	st.key("?")
	s = st.golden("help")
	must(t, s, "e ERESUME", "H handler", "K kill", "tab", "next pane", "ctrl+c", "H set by the handler")
	st.key("esc")
	must(t, st.screen(), "━ Console")

	// Tab moves the focus (the heavy rule) to the next pane.
	st.key("tab")
	must(t, st.screen(), "━ Enclaves & TCS")
	// z zooms the focused pane to the whole area.
	st.key("z")
	s = st.screen()
	must(t, s, "━ Enclaves & TCS")
	mustNot(t, s, "─ Registers", "─ Timeline")
}

// Skip and stepi: J moves the SSA RIP past the IDIV, I runs one enclave
// instruction and stops at its #DB, where the registers it changed are
// marked *; c lets the enclave run on to the host's end. The prompt's
// aliases of the same letters agree: :i is info, :h help, :s unknown
// (left for source step).
func TestStorySkipStep(t *testing.T) {
	st := newStory(t, 100, 30, "de", "0", "42", "0")
	must(t, st.screen(), "AEX #DE divide error in fault_divide")
	st.key("J")
	s := st.screen()
	must(t, s, `skipped "idiv %rcx" (3 bytes) at 0x7f00000132d8; ERESUME continues at 0x7f00000132db`)
	if !regexp.MustCompile(`(?m)^rip +0x00007f00000132db `).MatchString(s) {
		t.Errorf("SSA RIP not moved past the IDIV:\n%s", s)
	}
	st.key("I")
	s = st.golden("step")
	must(t, s, "AEX #DB debug in enclave_ecall", "enclave_ecall () at samples/de.c:83 · 83 *ret = (uint64_t)fault_divide(dividend, divisor);")
	must(t, ansi.Strip(strings.Join(st.m.console, "\n")), "stepi from 0x7f00000132db in fault_divide (")
	if !regexp.MustCompile(`(?m)^rip +0x[0-9a-f]{16} \* `).MatchString(s) {
		t.Errorf("rip not marked changed since the last stop:\n%s", s)
	}
	st.key("h")
	must(t, st.screen(), "Keys  (? or esc closes)")
	st.key("esc")
	st.key(":")
	st.typeText("i r")
	st.key("enter")
	must(t, statusLine(st.screen()), "i r: see the console")
	must(t, ansi.Strip(strings.Join(st.m.console, "\n")), "(sgxdbg) i r\n", "\nrflags  0x0000000000000246  0x0000000000000202 ≠\n")
	st.key("c")
	must(t, st.screen(), "exited with status")
}

// A key whose action is not valid now says so and does nothing.
func TestStoryInvalidAction(t *testing.T) {
	st := newStory(t, 100, 30, "pf_untrusted", "0", "0x10000")
	st.key("T")
	st.key("y")
	st.key("e")
	lines := strings.Split(st.screen(), "\n")
	if got := strings.TrimSpace(lines[len(lines)-1]); got != "error: e (ERESUME) is not available now" {
		t.Errorf("status line %q", got)
	}
	must(t, st.screen(), "no enclaves")
}

// Any terminal size gives a screen of exactly that size, and sizes can
// change at any time.
func TestStoryResize(t *testing.T) {
	st := newStory(t, 100, 30, "nested", "0")
	for _, sz := range [][2]int{{200, 50}, {150, 40}, {80, 24}, {60, 20}, {40, 10}, {20, 5}, {3, 3}, {1, 1}, {0, 0}, {100, 30}} {
		st.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, zoom := range []bool{false, true} {
			st.m.zoom = zoom
			st.m.sync()
			lines := strings.Split(st.screen(), "\n")
			if sz[1] > 0 && len(lines) != sz[1] {
				t.Errorf("%dx%d zoom %v: %d lines", sz[0], sz[1], zoom, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); sz[1] > 0 && w != sz[0] {
					t.Errorf("%dx%d zoom %v: line %d is %d wide: %q", sz[0], sz[1], zoom, i+1, w, l)
				}
			}
		}
	}
	st.m.zoom = false
	st.m.sync()
	st.golden("nested_first")
}

// At 80×24, 120×40 and 200×50 the stop keeps what the UI exists for: both
// register columns whole (rip's enclave and host values), the AEX in the
// top bar and the SSA pane, the faulting instruction, and an action bar
// that ends with "? help  q quit".
func TestStoryTerminalSizes(t *testing.T) {
	for _, c := range []struct {
		w, h int
		rip  string
	}{
		{80, 24, `(?m)^rip +00007f0000013120 +00007ff000001000 ≠`},
		{120, 40, `(?m)^rip +0x00007f0000013120 +0x00007ff000001000 ≠`},
		{200, 50, `(?m)^rip +0x00007f0000013120 +0x00007ff000001000 ≠`},
	} {
		st := newStory(t, c.w, c.h, "pf_untrusted", "0", "0x10000")
		s := st.golden(fmt.Sprintf("pf_stop_%dx%d", c.w, c.h))
		if !regexp.MustCompile(c.rip).MatchString(s) {
			t.Errorf("%dx%d: rip's two columns not whole:\n%s", c.w, c.h, s)
		}
		must(t, s, "AEX #PF page fault in fault_read_untrusted", "#0 #PF page fault",
			"maddr 0x10000 · errcd 0x4", "=> 0x7f0000013120  mov (%rdi),%rax", "gsbase ")
		if bar := strings.TrimRight(actionBar(s), " "); !strings.HasSuffix(bar, "? help  q quit") || !strings.HasPrefix(bar, "e ERESUME  H handler") {
			t.Errorf("%dx%d: action bar %q", c.w, c.h, bar)
		}
	}
}

// The action bar drops actions from its middle, never "? help  q quit".
func TestActionBarTrim(t *testing.T) {
	st := newStory(t, 100, 30, "pf_untrusted", "0", "0x10000")
	for _, c := range []struct {
		w    int
		want string
	}{
		{140, "e ERESUME  H handler  T teardown  J skip  I stepi  c continue  K kill  s step  n next  F finish  u until  b break  : cmd  ? help  q quit"},
		{100, "e ERESUME  H handler  T teardown  J skip  I stepi  c continue  K kill  s step  …  ? help  q quit"},
		{80, "e ERESUME  H handler  T teardown  J skip  I stepi  c continue  …  ? help  q quit"},
		{40, "e ERESUME  H handler  …  ? help  q quit"},
		{20, "…  ? help  q quit"},
	} {
		st.send(tea.WindowSizeMsg{Width: c.w, Height: 30})
		if got := strings.TrimRight(actionBar(st.screen()), " "); got != c.want {
			t.Errorf("width %d: %q, want %q", c.w, got, c.want)
		}
	}
}

// Tab in the prompt completes subcommands and symbols of the matched
// image, not only command names.
func TestStoryPromptCompletion(t *testing.T) {
	st := newStory(t, 100, 30, "pf_untrusted", "0", "0x10000")
	for _, c := range []struct{ typed, want string }{
		{"info en", "(sgxdbg) info enclaves "},
		{"x/2xg fault_r", "(sgxdbg) x/2xg fault_read_untrusted "},
		{"set $rs", "(sgxdbg) set $rs"},
		{"stop-on ee", "(sgxdbg) stop-on ee"},
		{"sto", "(sgxdbg) stop-on "},
	} {
		st.key(":")
		st.typeText(c.typed)
		st.key("tab")
		if got := statusLine(st.screen()); strings.TrimRight(got, " ") != strings.TrimRight(c.want, " ") || !strings.HasPrefix(got, c.want) {
			t.Errorf("%q + tab: %q, want %q", c.typed, got, c.want)
		}
		st.key("esc")
	}
}
