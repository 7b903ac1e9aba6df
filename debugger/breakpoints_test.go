package debugger_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// gdbBreak asks stock gdb where it puts a breakpoint on LOCATION in the
// image: the link address (the enclave offset) and the line.
func gdbBreak(t *testing.T, elf, loc string) (uint64, int) {
	t.Helper()
	out, err := exec.Command("gdb", "-nx", "-batch", "-ex", "break "+loc, elf).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Breakpoint 1 at (0x[0-9a-f]+): file \S+, line (\d+)\.`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("gdb says %q", out)
	}
	a, _ := strconv.ParseUint(string(m[1]), 0, 64)
	l, _ := strconv.Atoi(string(m[2]))
	return a, l
}

// reasonOf waits for the next stop and returns it with its reason's
// message ("" without one).
func (r *run) stopWhy() (target.Event, string) {
	r.t.Helper()
	st, err := r.wait()
	if err != nil {
		r.t.Fatalf("wait: %v", err)
	}
	if st.Exited {
		r.t.Fatalf("the host exited with status %d, want a stop; stderr %q", st.Status, r.stderr())
	}
	if st.Reason == nil {
		return st.Event, ""
	}
	return st.Event, st.Reason.Message
}

// TestBreakFinish: break sum_values before the enclave exists (pending),
// the stop at gdb's address for it, finish printing the sum (6) at the
// return address in enclave_ecall, and the hit count.
func TestBreakFinish(t *testing.T) {
	r := start(t, debugger.Policy{NoAEX: true}, nil, "clean", "0", "1", "2", "3")
	off, line := gdbBreak(t, r.elf, "sum_values")
	res := r.exec("break sum_values")
	if !strings.Contains(res, fmt.Sprintf(`"message":"Breakpoint 1: in sum_values at samples/clean.c:%d (pending until an enclave of its image is initialized)"`, line)) {
		t.Errorf("break: %s", res)
	}
	ev, why := r.stopWhy()
	base := r.base()
	check(t, "stop", fmt.Sprint(ev.Kind, " ", ev.VectorName(), " ", ev.ExitTypeName(), " ", hx(ev.RIP)), fmt.Sprint("aex #BP software ", hx(base+off)))
	if !strings.HasPrefix(why, fmt.Sprintf("Breakpoint 1, sum_values () at samples/clean.c:%d\n%d\t", line, line)) {
		t.Errorf("reason %q", why)
	}
	// EDBGRD shows the enclave's own byte, not the INT3.
	orig := r.imageBytes(off, 1)[0]
	var mem struct {
		Values []string `json:"values"`
	}
	r.result(fmt.Sprintf("x/1xb %#x", base+off), &mem)
	check(t, "byte under the breakpoint", mem.Values[0], fmt.Sprintf("%#02x", orig))

	r.exec("finish")
	ret := r.sym("enclave_ecall") + callReturn(t, r.elf, "enclave_ecall", "sum_values")
	ev, why = r.stopWhy()
	check(t, "finish stop", hx(ev.RIP), hx(ret))
	if !strings.HasPrefix(why, "Run till exit from #0  sum_values () at samples/clean.c:") || !strings.HasSuffix(why, "\nValue returned is 6") {
		t.Errorf("finish: %q", why)
	}
	var bps debugger.BreakpointsResult
	r.result("info breakpoints", &bps)
	if len(bps.Breakpoints) != 1 || bps.Breakpoints[0].Hits != 1 || len(bps.Breakpoints[0].Inserted) != 1 || uint64(bps.Breakpoints[0].Inserted[0]) != base+off {
		t.Errorf("info breakpoints: %+v", bps)
	}
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
	check(t, "host stdout", r.stdout(), "enclave: clean: summing 3 values\necall 0 returned 0x6\n")
}

// TestBreakLineConditionIgnore: break clean.c:9 (the loop body, gdb's
// address) is hit once per value; a condition on the loop index and an
// ignore count decide which hits stop; tbreak and delete.
func TestBreakLineConditionIgnore(t *testing.T) {
	r := start(t, debugger.Policy{NoAEX: true}, nil, "clean", "0", "1", "2", "3", "4")
	off, line := gdbBreak(t, r.elf, "clean.c:9")
	check(t, "line", strconv.Itoa(line), "9")
	r.exec("break clean.c:9")
	ev, why := r.stopWhy()
	check(t, "first hit", hx(ev.RIP), hx(r.base()+off))
	if !strings.HasPrefix(why, "Breakpoint 1, sum_values () at samples/clean.c:9\n9\t\t\tsum += v[i];") {
		t.Errorf("reason %q", why)
	}
	r.exec("condition 1 sum == 3") // sum lives in RAX there; 3 before the third value
	r.exec("continue")
	_, why = r.stopWhy()
	if !strings.HasPrefix(why, "Breakpoint 1,") {
		t.Errorf("reason %q", why)
	}
	var bps debugger.BreakpointsResult
	r.result("info breakpoints", &bps)
	// Hits count the crossings whose condition held: the first (before the
	// condition) and sum == 3.
	if bps.Breakpoints[0].Hits != 2 || bps.Breakpoints[0].Condition != "sum == 3" {
		t.Errorf("after the condition: %+v", bps.Breakpoints[0])
	}
	r.exec("condition 1")
	r.exec("ignore 1 5")
	r.exec("tbreak enclave_ecall") // not reached again: the ecall is running
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
	check(t, "host stdout", r.stdout(), "enclave: clean: summing 4 values\necall 0 returned 0xa\n")
}

// TestWatchInt3: watch breakpoints_seen (a global of the int3 sample) from
// the ecall's EENTER; the write in the enclave's own INT3 handler stops
// there with old 0 and new 1, at the instruction after the write.
func TestWatchInt3(t *testing.T) {
	r := start(t, policy(t, "eenter"), nil, "int3", "0")
	check(t, "eenter", stopLine(r.stop()), "eenter cssa 0")
	var br debugger.BreakResult
	r.result("watch breakpoints_seen", &br)
	addr := r.sym("breakpoints_seen")
	if br.Breakpoint.Kind != debugger.WatchWrite || len(br.Breakpoint.Inserted) != 1 || uint64(br.Breakpoint.Inserted[0]) != addr {
		t.Errorf("watch: %+v", br)
	}
	r.exec("continue")
	check(t, "the handler's EENTER", stopLine(r.stop()), "eenter cssa 1")
	r.exec("continue")
	ev, why := r.stopWhy()
	if ev.Kind != target.EvAEX || ev.VectorName() != "#DB" || ev.CSSA != 2 {
		t.Errorf("watch stop %s", stopLine(ev))
	}
	if !strings.HasPrefix(why, "Hardware watchpoint 1: breakpoints_seen\n\nOld value = 0\nNew value = 1\nint3_handler () at samples/int3.c:") {
		t.Errorf("reason %q", why)
	}
	if name, _, _ := r.s.Image(r.base()).SymbolAt(ev.RIP - r.base()); name.Name != "int3_handler" {
		t.Errorf("watch hit at %#x in %s, want int3_handler", ev.RIP, name.Name)
	}
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 0 returned 0x1\n")
}

// TestNextOverOCALL: next over the clean sample's ocall_print line runs
// the OCALL (EEXIT, the host prints, EENTER) and stops at the next line
// in the enclave.
func TestNextOverOCALL(t *testing.T) {
	r := start(t, debugger.Policy{NoAEX: true}, nil, "clean", "0", "1", "2", "3")
	off21, _ := gdbBreak(t, r.elf, "clean.c:21")
	off22, _ := gdbBreak(t, r.elf, "clean.c:22")
	r.exec("break clean.c:21")
	ev, _ := r.stopWhy()
	check(t, "at 21", hx(ev.RIP), hx(r.base()+off21))
	if out := r.stdout(); out != "" {
		t.Fatalf("the host printed %q before the OCALL", out)
	}
	r.exec("next")
	ev, why := r.stopWhy()
	check(t, "at 22", hx(ev.RIP), hx(r.base()+off22))
	if !strings.HasPrefix(why, "enclave_ecall () at samples/clean.c:22\n22\t") {
		t.Errorf("reason %q", why)
	}
	check(t, "the OCALL ran", r.stdout(), "enclave: clean: summing 3 values\n")
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
}

// TestHbreakStepiAtEENTER: a hardware breakpoint changes no byte and stops
// with a #DB AEX; stepi works at an EENTER stop (the first instruction of
// the entry point).
func TestHbreakStepiAtEENTER(t *testing.T) {
	r := start(t, policy(t, "eenter"), nil, "clean", "0", "1", "2", "3")
	ev := r.stop()
	entry := r.sym("enclave_entry")
	r.exec("stepi")
	ev2, why := r.stopWhy()
	if ev2.Kind != target.EvAEX || ev2.VectorName() != "#DB" || ev2.RIP <= entry || ev2.RIP > entry+16 {
		t.Errorf("stepi from the EENTER (%s): %s %q", stopLine(ev), stopLine(ev2), why)
	}
	off, _ := gdbBreak(t, r.elf, "sum_values")
	r.exec("hbreak sum_values")
	r.exec("continue")
	ev, why = r.stopWhy()
	for ev.Kind != target.EvAEX {
		r.exec("continue")
		ev, why = r.stopWhy()
	}
	if ev.VectorName() != "#DB" || ev.RIP != r.base()+off || !strings.HasPrefix(why, "Breakpoint 1, sum_values ()") {
		t.Errorf("hbreak stop %s %q", stopLine(ev), why)
	}
	r.exec("delete")
	r.exec("stop-on none")
	r.exec("continue")
	if st := r.end(); st != 0 {
		t.Errorf("host status %d", st)
	}
}

// TestBreakErrors: bad locations and watchpoints give specific errors and
// change nothing.
func TestBreakErrors(t *testing.T) {
	r := start(t, policy(t, "eenter"), nil, "clean", "0", "1", "2", "3")
	r.stop()
	base := r.base()
	expectErrors(t, r, []errCase{
		{"break nosuchfunction", `"nosuchfunction": no symbol "nosuchfunction" in current context`, debugger.CodeNoSymbol},
		{"break clean.c:999", `no code at line 999 in file "clean.c"`, debugger.CodeNoSymbol},
		{"break nosuch.c:3", "no source file named nosuch.c", debugger.CodeNoSymbol},
		{"break *0x10", "*0x10: address is not in an enclave", debugger.CodeNotEnclave},
		{"watch *0x10", "watch *0x10: 0x10: address is not in an enclave", debugger.CodeNotEnclave},
		{fmt.Sprintf("watch *%#x,3", base+0x1000), fmt.Sprintf("watch *%#x,3: a hardware watchpoint covers 1, 2, 4 or 8 bytes, not 3", base+0x1000), debugger.CodeError},
		{fmt.Sprintf("watch *%#x,8", base+0x1004), fmt.Sprintf("watch *%#x,8: %#x is not aligned to 8 bytes (a debug register watches an aligned range)", base+0x1004, base+0x1004), debugger.CodeError},
		{"delete 7", "delete: no breakpoint number 7", debugger.CodeNoSymbol},
		{"condition x", `condition: "x" is not a breakpoint number`, debugger.CodeUsage},
	})
	for i := 0; i < 4; i++ {
		r.exec(fmt.Sprintf("watch *%#x,8", base+0x10000+uint64(8*i)))
	}
	expectErrors(t, r, []errCase{
		{fmt.Sprintf("watch *%#x,8", base+0x10040), fmt.Sprintf("watch *%#x,8: more than 4 hardware breakpoints and watchpoints are enabled", base+0x10040), debugger.CodeError},
	})
	var bps debugger.BreakpointsResult
	r.result("info breakpoints", &bps)
	if len(bps.Breakpoints) != 4 {
		t.Errorf("%d breakpoints after the refused fifth watchpoint, want 4", len(bps.Breakpoints))
	}
}
