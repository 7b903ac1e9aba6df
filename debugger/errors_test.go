package debugger_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// Bad commands, and actions in the wrong state, give errors that name the
// problem, and never leave the session broken: after each one the stop is
// still held, its state is unchanged, and the next command works.

// errCase is a command, its exact error and the error's code.
type errCase struct {
	cmd, want string
	code      debugger.ErrorCode
}

// expectErrors runs each case and checks, after each, that the session is
// still stopped with the same TCS state (info tcs) and the same policy.
func expectErrors(t *testing.T, r *run, cases []errCase) {
	t.Helper()
	before := r.exec("info tcs")
	policy := r.exec("stop-on")
	for _, c := range cases {
		res, err := r.s.Exec(c.cmd)
		switch {
		case err == nil:
			t.Errorf("%q: no error, result %s; want %q", c.cmd, jsonOf(t, res), c.want)
		case strings.HasSuffix(c.want, "…"):
			if !strings.HasPrefix(err.Error(), strings.TrimSuffix(c.want, "…")) {
				t.Errorf("%q: error %q, want it to start with %q", c.cmd, err, strings.TrimSuffix(c.want, "…"))
			}
		case err.Error() != c.want:
			t.Errorf("%q: error\n %q\nwant\n %q", c.cmd, err, c.want)
		}
		if got := debugger.Code(err); err != nil && got != c.code {
			t.Errorf("%q: code %q, want %q", c.cmd, got, c.code)
		}
		if !r.s.IsStopped() {
			t.Fatalf("after %q the session is no longer stopped", c.cmd)
		}
		check(t, "info tcs after "+c.cmd, r.exec("info tcs"), before)
		check(t, "stop-on after "+c.cmd, r.exec("stop-on"), policy)
	}
}

// TestErrorsAtAEX: malformed commands at an AEX stop (de ecall 0, #DE).
func TestErrorsAtAEX(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.stop()
	base, tcs := r.base(), r.tcs(0)
	expectErrors(t, r, []errCase{
		{"", "empty command", debugger.CodeUsage},
		{"frobnicate", `unknown command "frobnicate" (try help)`, debugger.CodeUnknownCommand},
		{"help frob", `help: no command "frob"`, debugger.CodeUnknownCommand},
		{"info", "usage: info enclaves|tcs|threads|breakpoints|cpu|args|locals|frame|registers|all-registers|stack", debugger.CodeUsage},
		{"info bogus", `info: unknown subject "bogus" (enclaves, tcs, threads, breakpoints, cpu, args, locals, frame, registers, all-registers or stack)`, debugger.CodeUsage},
		{"ssa 7", fmt.Sprintf("no SSA frame 7: TCS %#x has frames 0..0 in use", tcs), debugger.CodeNoFrame},
		{"ssa x", `ssa: frame number "x"`, debugger.CodeUsage},
		{"x 0x10 0x20", "usage: x[/NFU] [ADDR] (e.g. x/8xg 0x7f0000001000, x/s msg, x/4i ssa.rip, x ssa.rsp)", debugger.CodeUsage},
		{"x", "usage: x[/NFU] ADDR: no address (x without ADDR goes on after the last x)", debugger.CodeUsage},
		{"set $rax 1", "usage: set ssa.REG VALUE | set $REG = VALUE", debugger.CodeUsage},
		{"set var x = 1", `no symbol "x" in current context (column 1)`, debugger.CodeNoSymbol},
		{"x/0xg 0x10", `x: count "0" out of range (1..4096)`, debugger.CodeUsage},
		{"x/4q 0x10", `x: unknown format letter 'q' (formats x d u s i, units b h w g)`, debugger.CodeUsage},
		{"x/4xg nosuchsym", `"nosuchsym" is not an address, a symbol of a matched enclave image, ssa.REG, or an expression of the selected frame`, debugger.CodeNoSymbol},
		{"x/4xg ssa.foo", `no SSA register "foo"`, debugger.CodeNoSymbol},
		{"x/4xg 0x10", "read 32 bytes at 0x10: …", debugger.CodeError},
		{"disas fault_divide 0", `disas: count "0" out of range (1..4096)`, debugger.CodeUsage},
		{"disas fault_divide 999999999999999999", `disas: count "999999999999999999" out of range (1..4096)`, debugger.CodeUsage},
		{"events -1", `events: count "-1"`, debugger.CodeUsage},
		{"stop-on frob", `stop-on: unknown event "frob" (want aex [VECTORS], eenter, eexit, eresume, enclu-fault, all or none)`, debugger.CodeUsage},
		{"stop-on aex #XX", `stop-on: "#XX" is not an exception vector (#PF, PF or 14)`, debugger.CodeUsage},
		{"set rax 1", "usage: set ssa.REG VALUE | set $REG = VALUE", debugger.CodeUsage},
		{"set ssa.foo 1", `no SSA register "foo" (one of [fsbase gsbase r10 r11 r12 r13 r14 r15 r8 r9 rax rbp rbx rcx rdi rdx rflags rip rsi rsp urbp ursp])`, debugger.CodeNoSymbol},
		{"set ssa.rax zz", `set: value "zz" is not a number, a symbol or ssa.REG`, debugger.CodeNoSymbol},
		{"write 0x10000 00", "write: 0x10000: address is not in an enclave", debugger.CodeNotEnclave},
		{fmt.Sprintf("write %#x zz", base), `write: "zz" is not hex bytes`, debugger.CodeUsage},
		{fmt.Sprintf("write %#x", base), "usage: write ADDR HEXBYTES (e.g. write 0x7f0000001000 2a000000)", debugger.CodeUsage},
		{"eenter-handler --abi bogus", `eenter-handler: unknown ABI "bogus" (samples, intel-sdk or raw)`, debugger.CodeUsage},
		{"eenter-handler --rdi", "eenter-handler: --rdi needs a value", debugger.CodeUsage},
		{"eenter-handler --frob 1", `eenter-handler: unknown flag "--frob"`, debugger.CodeUsage},
		{"eenter-handler --rdi zz", `eenter-handler: --rdi "zz" is not a number`, debugger.CodeUsage},
	})
	// The stop still works for real: the same #DE, then the host's own
	// outcome (no handler: exit 2).
	check(t, "continue", r.exec("continue"), `{"action":"continue","message":"continuing: the host gets SIGFPE at the AEP"}`)
	if st := r.end(); st != 2 {
		t.Errorf("host exit status %d, want 2", st)
	}
	check(t, "host stderr", r.stderr(), "unhandled enclave exception: #DE (SIGFPE)\n")
}

// TestErrorsAtEENTER: actions that need an AEX, at EENTER stops (--stop-on
// eenter): the ecall's EENTER (CSSA 0) and the host's EENTER of the
// exception path (CSSA 1, the thread inside the enclave).
func TestErrorsAtEENTER(t *testing.T) {
	p, err := debugger.ParsePolicy([]string{"eenter"})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, p, nil, "de", "1", "42", "0")
	ev := r.stop()
	tcs := r.tcs(0)
	check(t, "first stop", jsonOf(t, ev), fmt.Sprintf(`{"cssa":0,"event":"eenter","tcs":"%#x","tid":%d}`, tcs, r.pid()))
	notAEX := "not stopped at an AEX (stopped at eenter)"
	noFrame := fmt.Sprintf("TCS %#x has no SSA frame in use (CSSA 0): not stopped at an AEX", tcs)
	expectErrors(t, r, []errCase{
		{"eresume", notAEX, debugger.CodeNotAtAEX},
		{"eenter-handler", notAEX, debugger.CodeNotAtAEX},
		{"teardown", notAEX, debugger.CodeNotAtAEX},
		{"skip", noFrame, debugger.CodeNoFrame},
		{"set ssa.rip 0", noFrame, debugger.CodeNoFrame},
		{"ssa 0", fmt.Sprintf("no SSA frame 0: TCS %#x has no SSA frame in use (CSSA 0)", tcs), debugger.CodeNoFrame},
	})
	check(t, "continue", r.exec("continue"), `{"action":"continue","message":"continuing"}`)
	ev = r.stop()
	check(t, "second stop", jsonOf(t, ev), fmt.Sprintf(`{"cssa":1,"event":"eenter","tcs":"%#x","tid":%d}`, tcs, r.pid()))
	expectErrors(t, r, []errCase{
		{"eresume", notAEX, debugger.CodeNotAtAEX},
		{"eenter-handler", notAEX, debugger.CodeNotAtAEX},
		{"teardown", notAEX, debugger.CodeNotAtAEX},
	})
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 1 returned 0xd15ab1ed\n")
}

// TestErrorsNotStopped: between an action that resumed the host and the
// next Wait, commands that need a stop say so; after the host's end they
// say it has exited, while the timeline, help and the policy still work.
func TestErrorsNotStopped(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "1", "42", "0")
	r.stop()
	r.exec("continue")
	for _, cmd := range []string{"ssa", "regs", "info tcs", "eresume", "skip", "write 0x0 00", "continue"} {
		if _, err := r.s.Exec(cmd); !errors.Is(err, debugger.ErrNotStopped) {
			t.Errorf("%q while the host runs: %v, want ErrNotStopped", cmd, err)
		}
	}
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	for _, cmd := range []string{"ssa", "ssa 0", "regs", "disas", "bt", "x/1xg 0x1000", "info enclaves", "info tcs",
		"info threads", "eresume", "eenter-handler", "teardown", "skip", "set ssa.rip 1", "write 0x1000 00",
		"stepi", "continue", "kill"} {
		if _, err := r.s.Exec(cmd); !errors.Is(err, debugger.ErrExited) {
			t.Errorf("%q after the host's end: %v, want ErrExited", cmd, err)
		}
	}
	var evs struct {
		Events []map[string]any `json:"events"`
	}
	r.result("events 1", &evs)
	check(t, "events 1", jsonOf(t, evs.Events), fmt.Sprintf(`[{"event":"exit","pid":%d,"status":0}]`, r.pid()))
	tl := r.s.Timeline()
	if tl[len(tl)-1].Kind != target.EvExit {
		t.Errorf("timeline ends with %s, want exit", tl[len(tl)-1].Kind)
	}
	var help struct {
		Commands []map[string]any `json:"commands"`
	}
	r.result("help", &help)
	if len(help.Commands) != len(debugger.Commands()) {
		t.Errorf("help lists %d commands, the table has %d", len(help.Commands), len(debugger.Commands()))
	}
	for _, c := range debugger.Commands() {
		want := jsonOf(t, map[string]any{"commands": []debugger.HelpEntry{{Name: c.Name, Aliases: c.Aliases, Usage: c.Usage, Help: c.Help}}})
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			check(t, "help "+n, r.exec("help "+n), want)
		}
	}
	check(t, "stop-on none", r.exec("stop-on none"), `{"stop_on":"none"}`)
	if _, err := r.s.Exec("quit"); !errors.Is(err, debugger.ErrQuit) {
		t.Errorf("quit after the end: %v, want ErrQuit", err)
	}
}
