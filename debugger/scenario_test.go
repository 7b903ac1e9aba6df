package debugger_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// Scripted sessions over the samples (enclaves/debug/samples.json says what
// each one does on hardware). Every command result is compared as exact
// JSON, with addresses derived from the run's enclave base and nm, source
// lines from addr2line, and page contents from the enclave image.

// objdumpInsn disassembles the instruction at off in file with objdump and
// returns its length and its text with spaces collapsed ("idiv %rcx").
func objdumpInsn(t *testing.T, file string, off uint64) (int, string) {
	t.Helper()
	out, err := exec.Command("objdump", "-d", "--insn-width=16", fmt.Sprintf("--start-address=%#x", off),
		fmt.Sprintf("--stop-address=%#x", off+16), file).Output()
	if err != nil {
		t.Fatalf("objdump %s: %v", file, err)
	}
	prefix := strconv.FormatUint(off, 16) + ":"
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) < 3 || f[0] != prefix {
			continue
		}
		return len(strings.Fields(f[1])), strings.Join(strings.Fields(f[2]), " ")
	}
	t.Fatalf("objdump %s: no instruction at %#x:\n%s", file, off, out)
	return 0, ""
}

// TestPFWriteThenERESUME: pf_untrusted ecall 0 reads the untrusted address
// 0x10000 (#PF 0x4). At the stop, `write` puts 0xdeadbeef into enclave
// memory (over the first bytes of readonly_page, "ro page"), `set ssa.rdi`
// points the faulting MOV at it, and `eresume` retries the MOV: the ecall
// returns the new data, and the host never learns of the fault.
func TestPFWriteThenERESUME(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "pf_untrusted", "0", "0x10000")
	ev := r.stop()
	base, tcs, rip := r.base(), r.tcs(0), r.sym("fault_read_untrusted")
	check(t, "stop", jsonOf(t, ev), aexJSON(t, r.pid(), base, tcs, 0, 1, 14, "#PF", "hardware", 0x10000, 0x4, rip, r.hostAEP(), "SIGSEGV"))

	v, frames, gprs := r.frames()
	check(t, "ssa header", fmt.Sprint(v.TCS, v.CSSA, v.NSSA, len(frames)), fmt.Sprint(hx(tcs), 1, r.im.TCS[0].TCS.NSSA, 1))
	check(t, "ssa frame 0", frames[0], frameWant{Index: 0, Addr: hx(r.ssaFrame(0, 0)), Vector: 14, VectorName: "#PF",
		ExitType: "hardware", Valid: true, MAddr: "0x10000", ErrCd: "0x4", ErrWords: "page not present, read access, user mode",
		RIP: hx(rip), Symbol: "fault_read_untrusted", Source: r.source(rip)}.json(t))
	check(t, "ssa.rdi", gprs[0]["rdi"], "0x10000")

	ro := r.sym("readonly_page")
	was := r.imageBytes(ro-base, 8)
	check(t, "write", r.exec(fmt.Sprintf("write %#x efbeadde00000000", ro)),
		jsonOf(t, map[string]string{"action": "write", "message": fmt.Sprintf("wrote ef be ad de 00 00 00 00 at %#x (was % x)", ro, was)}))
	check(t, "x after write", r.exec("x/1xg readonly_page"),
		fmt.Sprintf(`{"addr":"%#x","format":"x","unit":8,"values":["0xdeadbeef"]}`, ro))
	check(t, "set", r.exec(fmt.Sprintf("set ssa.rdi %#x", ro)),
		fmt.Sprintf(`{"action":"set","message":"SSA frame 0 of TCS %#x: rdi = %#x","changes":[{"field":"rdi","old":"0x10000","new":"%#x"}]}`, tcs, ro, ro))
	n := len(r.s.Timeline())
	check(t, "eresume", r.exec("eresume"), fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 0"}`, tcs))
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	check(t, "events after eresume", kindsAfter(r.s.Timeline(), n), "eresume eexit enclave-removed exit")
	check(t, "host stdout", r.stdout(), "ecall 0 returned 0xdeadbeef\n")
	check(t, "host stderr", r.stderr(), "")
}

// TestUDHandlerThenERESUME: ud ecall 1 executes SYSCALL (#UD in an
// enclave). `eenter-handler` runs the sample runtime's exception path on
// the same TCS: the handler sets RAX = -ENOSYS and moves RIP past the
// 2-byte SYSCALL; the result lists exactly those changes. `eresume` then
// completes the ecall with the handler's value.
func TestUDHandlerThenERESUME(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "ud", "1")
	ev := r.stop()
	base, tcs := r.base(), r.tcs(0)
	rip := r.sym("emulated_syscall") + 5
	if got := r.imageBytes(rip-base, 2); !bytes.Equal(got, []byte{0x0f, 0x05}) {
		t.Fatalf("image bytes at emulated_syscall+5: % x, want the SYSCALL 0f 05", got)
	}
	l, text := objdumpInsn(t, r.elf, rip-base)
	check(t, "objdump", fmt.Sprintf("%d %s", l, text), "2 syscall")
	check(t, "stop", jsonOf(t, ev), aexJSON(t, r.pid(), base, tcs, 0, 1, 6, "#UD", "hardware", 0, 0, rip, r.hostAEP(), "SIGILL"))

	n := len(r.s.Timeline())
	check(t, "eenter-handler", r.exec("eenter-handler"), fmt.Sprintf(`{"abi":"samples","exited":true,"rdi":"0x2","rsi":"0x6",`+
		`"status":"handled: the host would ERESUME","handled":true,"frame":0,"changes":[{"field":"rax","old":"0x27","new":"0xffffffffffffffda"},`+
		`{"field":"rip","old":"%#x","new":"%#x"}]}`, rip, rip+uint64(l)))
	tl := r.s.Timeline()
	check(t, "events of the handler run", jsonOf(t, tl[n:]), fmt.Sprintf(`[{"cssa":1,"event":"eenter","tcs":"%#x","tid":%d},`+
		`{"event":"eexit","tcs":"%#x","tid":%d}]`, tcs, r.pid(), tcs, r.pid()))
	if !r.s.IsStopped() {
		t.Fatal("after eenter-handler the session is not stopped at the AEX any more")
	}
	v, frames, gprs := r.frames()
	check(t, "cssa after the handler", fmt.Sprint(v.CSSA, len(frames)), "1 1")
	check(t, "frame 0 after the handler", frames[0], frameWant{Index: 0, Addr: hx(r.ssaFrame(0, 0)), Vector: 6, VectorName: "#UD",
		ExitType: "hardware", Valid: true, RIP: hx(rip + 2), Symbol: "emulated_syscall+0x7", Source: r.source(rip + 2)}.json(t))
	check(t, "ssa.rax", gprs[0]["rax"], "0xffffffffffffffda")

	check(t, "eresume", r.exec("eresume"), fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 0"}`, tcs))
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 1 returned 0xffffffffffffffda\n")
	check(t, "host stderr", r.stderr(), "")
}

// nestedFrames are the two SSA frames of the nested sample once its
// handler faulted: #UD at nested_first_fault (UD2), #PF reading address 0
// at nested_handler+2.
func nestedFrames(t *testing.T, r *run) (ud, pf frameWant) {
	ripUD, ripPF := r.sym("nested_first_fault"), r.sym("nested_handler")+2
	if got := r.imageBytes(ripUD-r.base(), 2); !bytes.Equal(got, []byte{0x0f, 0x0b}) {
		t.Fatalf("image bytes at nested_first_fault: % x, want UD2 0f 0b", got)
	}
	ud = frameWant{Index: 0, Addr: hx(r.ssaFrame(0, 0)), Vector: 6, VectorName: "#UD", ExitType: "hardware", Valid: true,
		RIP: hx(ripUD), Symbol: "nested_first_fault", Source: r.source(ripUD)}
	pf = frameWant{Index: 1, Addr: hx(r.ssaFrame(0, 1)), Vector: 14, VectorName: "#PF", ExitType: "hardware", Valid: true,
		MAddr: "0x0", ErrCd: "0x4", ErrWords: "page not present, read access, user mode",
		RIP: hx(ripPF), Symbol: "nested_handler+0x2", Source: r.source(ripPF)}
	return ud, pf
}

// TestNestedHostHandler: nested ecall 0: stop at the UD2 (CSSA 1),
// continue; the host runs the exception path, whose handler reads address
// 0: a nested AEX with CSSA 2 = NSSA. `ssa` shows both frames; the host's
// next EENTER then takes #GP and it exits 3.
func TestNestedHostHandler(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "nested", "0")
	ev := r.stop()
	base, tcs, aep := r.base(), r.tcs(0), r.hostAEP()
	ud, pf := nestedFrames(t, r)
	check(t, "first stop", jsonOf(t, ev), aexJSON(t, r.pid(), base, tcs, 0, 1, 6, "#UD", "hardware", 0, 0, r.sym("nested_first_fault"), aep, "SIGILL"))
	check(t, "continue", r.exec("continue"), `{"action":"continue","message":"continuing: the host gets SIGILL at the AEP"}`)
	ev = r.stop()
	check(t, "nested stop", jsonOf(t, ev), aexJSON(t, r.pid(), base, tcs, 1, 2, 14, "#PF", "hardware", 0, 0x4, r.sym("nested_handler")+2, aep, "SIGSEGV"))
	v, frames, _ := r.frames()
	check(t, "ssa header", fmt.Sprint(v.TCS, v.CSSA, v.NSSA, len(frames)), fmt.Sprint(hx(tcs), 2, 2, 2))
	check(t, "frame 0", frames[0], ud.json(t))
	check(t, "frame 1", frames[1], pf.json(t))
	var single ssaView
	r.result("ssa 0", &single)
	if len(single.Frames) != 1 {
		t.Fatalf("ssa 0: %d frames, want 1", len(single.Frames))
	}
	delete(single.Frames[0], "gprs")
	check(t, "ssa 0", jsonOf(t, single.Frames[0]), ud.json(t))
	var bt struct {
		Frames []map[string]any `json:"frames"`
	}
	r.result("bt", &bt)
	if len(bt.Frames) == 0 {
		t.Fatal("bt: no frames")
	}
	src := r.source(r.sym("nested_handler") + 2)
	// path: the file found through the unit's compilation directory
	// (enclaves/debug, where the samples are built).
	path := filepath.Join(fixtures.Root(t), "enclaves", "debug", src[:strings.LastIndex(src, ":")])
	check(t, "bt frame 0", jsonOf(t, bt.Frames[0]), fmt.Sprintf(`{"index":0,"offset":"0x2","path":"%s","pc":"%#x","source":"%s","source_text":%q,"symbol":"nested_handler"}`,
		path, r.sym("nested_handler")+2, src, "\t__asm__ volatile(\"mov (%%rdi), %%rax\" : \"=a\"(v) : \"D\"(0ull) : \"memory\");"))

	eenterSite := hostBase(t, r.pid(), r.host) + nm(t, r.host, "host_eenter_site")
	n := len(r.s.Timeline())
	r.exec("continue")
	if st := r.end(); st != 3 {
		t.Errorf("host exit status %d, want 3 (EENTER #GP)", st)
	}
	tl := r.s.Timeline()
	check(t, "events after the nested stop", kindsAfter(tl, n), "enclu-fault enclave-removed exit")
	check(t, "enclu-fault", jsonOf(t, tl[n]), jsonOf(t, map[string]any{"event": "enclu-fault", "leaf": "EENTER",
		"reason": "CSSA 2 >= NSSA 2: no free SSA frame", "rip": hx(eenterSite),
		"signal": "SIGSEGV", "tcs": hx(tcs), "tid": r.pid(), "vector": 13, "vector_name": "#GP"}))
	check(t, "host stderr", r.stderr(), "EENTER failed: #GP (TCS busy or no free SSA frame)\n")
}

// TestNestedEENTERHandler: the same fault, but the debugger runs the
// handler (eenter-handler): it faults, the result reports the nested AEX
// (SSA frame 1, CSSA 2), the thread stays at the first AEX, and `ssa`
// shows both frames.
func TestNestedEENTERHandler(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "nested", "0")
	r.stop()
	base, tcs := r.base(), r.tcs(0)
	ud, pf := nestedFrames(t, r)
	var h struct {
		ABI     string          `json:"abi"`
		Exited  bool            `json:"exited"`
		Frame   int             `json:"frame"`
		Changes []any           `json:"changes"`
		Nested  *map[string]any `json:"nested"`
	}
	r.result("eenter-handler", &h)
	if h.ABI != "samples" || h.Exited || h.Frame != 0 || len(h.Changes) != 0 || h.Nested == nil {
		t.Fatalf("eenter-handler: %+v, want the samples ABI, not exited, frame 0 unchanged and a nested AEX", h)
	}
	nested := *h.Nested
	aep, _ := nested["aep"].(string)
	if aep == hx(r.hostAEP()) {
		t.Errorf("the nested AEX's AEP is the host's (%s): the handler ran on the host's own ENCLU", aep)
	}
	check(t, "nested event", jsonOf(t, nested), aexJSON(t, r.pid(), base, tcs, 1, 2, 14, "#PF", "hardware", 0, 0x4, r.sym("nested_handler")+2, mustHex(t, aep), "SIGSEGV"))
	if !r.s.IsStopped() {
		t.Fatal("after eenter-handler the session is not stopped")
	}
	v, frames, _ := r.frames()
	check(t, "ssa header", fmt.Sprint(v.CSSA, v.NSSA, len(frames)), "2 2 2")
	check(t, "frame 0", frames[0], ud.json(t))
	check(t, "frame 1", frames[1], pf.json(t))
	var regs struct {
		Rows []struct {
			Name string `json:"name"`
			Host string `json:"host"`
		} `json:"registers"`
	}
	r.result("regs", &regs)
	for _, row := range regs.Rows {
		if row.Name == "rip" && row.Host != hx(r.hostAEP()) {
			t.Errorf("after the handler run the thread is at %s, want the host's AEP %#x", row.Host, r.hostAEP())
		}
	}
	r.exec("continue")
	if st := r.end(); st != 3 {
		t.Errorf("host exit status %d, want 3 (EENTER #GP: CSSA = NSSA)", st)
	}
	check(t, "host stderr", r.stderr(), "EENTER failed: #GP (TCS busy or no free SSA frame)\n")
}

func mustHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// TestTeardown: at a #DE stop, `teardown` removes the enclave; `continue`
// delivers the AEX's SIGFPE, the host's exception path finds the enclave
// gone, reports "enclave lost" and exits 4 on its own.
func TestTeardown(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	ev := r.stop()
	base, tcs := r.base(), r.tcs(0)
	check(t, "stop", jsonOf(t, ev), aexJSON(t, r.pid(), base, tcs, 0, 1, 0, "#DE", "hardware", 0, 0, r.sym("fault_divide")+8, r.hostAEP(), "SIGFPE"))
	n := len(r.s.Timeline())
	check(t, "teardown", r.exec("teardown"), fmt.Sprintf(`{"action":"teardown","message":"enclave %#x destroyed: its mappings are gone `+
		`and its file descriptors closed; continue to let the host see the loss"}`, base))
	tl := r.s.Timeline()
	check(t, "events of the teardown", jsonOf(t, tl[n:]), fmt.Sprintf(`[{"enclave":"%#x","event":"enclave-removed","pid":%d}]`, base, r.pid()))
	check(t, "info enclaves after teardown", r.exec("info enclaves"), `{"enclaves":null}`)
	maps, err := readMaps(r.pid())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(maps, fmt.Sprintf("%x-", base)) {
		t.Errorf("the enclave is still mapped at %#x after teardown:\n%s", base, maps)
	}
	check(t, "continue", r.exec("continue"), `{"action":"continue","message":"continuing: the host gets SIGFPE at the AEP"}`)
	if st := r.end(); st != 4 {
		t.Errorf("host exit status %d, want 4 (enclave lost)", st)
	}
	check(t, "events after the teardown", kindsAfter(r.s.Timeline(), n+1), "enclu-fault exit")
	check(t, "host stdout", r.stdout(), "")
	check(t, "host stderr", r.stderr(), "enclave lost\n")
}

func readMaps(pid int) (string, error) {
	out, err := exec.Command("cat", fmt.Sprintf("/proc/%d/maps", pid)).Output()
	return string(out), err
}

// TestSkipDE: de ecall 0 divides 42 by 0 with no handler. `skip` moves
// SSA.RIP past the 3-byte IDIV (length and text checked against objdump);
// `eresume` returns the untouched dividend, 0x2a.
func TestSkipDE(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "de", "0", "42", "0")
	r.stop()
	tcs, rip := r.tcs(0), r.sym("fault_divide")+8
	l, text := objdumpInsn(t, r.elf, rip-r.base())
	check(t, "objdump", fmt.Sprintf("%d %s", l, text), "3 idiv %rcx")
	check(t, "skip", r.exec("skip"), fmt.Sprintf(`{"action":"skip","message":"skipped \"%s\" (%d bytes) at %#x; ERESUME continues at %#x",`+
		`"changes":[{"field":"rip","old":"%#x","new":"%#x"}]}`, text, l, rip, rip+uint64(l), rip, rip+uint64(l)))
	check(t, "eresume", r.exec("eresume"), fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 0"}`, tcs))
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 0 returned 0x2a\n")
	check(t, "host stderr", r.stderr(), "")
}

// TestINT3Quirk: int3 ecall 0. The AEX is a software exception whose
// SSA.RIP is the INT3 itself (0xcc in the image), and the SSA view says
// so. `skip` advances it by one byte; one `step` runs the RET after it
// (#DB at the return address in enclave_ecall, by objdump); `continue`
// ends the step and the ecall returns 0: the enclave's handler never ran.
func TestINT3Quirk(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "int3", "0")
	ev := r.stop()
	base, tcs, rip := r.base(), r.tcs(0), r.sym("trap_int3")
	if got := r.imageBytes(rip-base, 1); got[0] != 0xcc {
		t.Fatalf("image byte at trap_int3: %#x, want INT3 0xcc", got[0])
	}
	check(t, "stop", jsonOf(t, ev), aexJSON(t, r.pid(), base, tcs, 0, 1, 3, "#BP", "software", 0, 0, rip, r.hostAEP(), "SIGTRAP"))
	_, frames, _ := r.frames()
	check(t, "frame 0", frames[0], frameWant{Index: 0, Addr: hx(r.ssaFrame(0, 0)), Vector: 3, VectorName: "#BP", ExitType: "software",
		Valid: true, RIP: hx(rip), Symbol: "trap_int3", Source: r.source(rip),
		Quirk: fmt.Sprintf("INT3 at %#x: SSA.RIP is the INT3 itself; execution continues at %#x", rip, rip+1)}.json(t))
	check(t, "skip", r.exec("skip"), fmt.Sprintf(`{"action":"skip","message":"skipped the INT3 (1 byte) at %#x; ERESUME continues at %#x",`+
		`"changes":[{"field":"rip","old":"%#x","new":"%#x"}]}`, rip, rip+1, rip, rip+1))

	l, text := objdumpInsn(t, r.elf, rip+1-base)
	check(t, "objdump after the INT3", fmt.Sprintf("%d %s", l, text), "1 ret")
	ret := r.sym("enclave_ecall") + callReturn(t, r.elf, "enclave_ecall", "trap_int3")
	if got := r.exec("stepi"); !strings.HasPrefix(got, fmt.Sprintf(`{"action":"stepi","message":"stepi from %#x in trap_int3 (`, rip+1)) {
		t.Errorf("stepi: %s", got)
	}
	ev = r.stop()
	check(t, "step stop", fmt.Sprint(ev.Kind, " ", ev.VectorName(), " ", ev.ExitTypeName(), " ", hx(ev.RIP), " ", ev.CSSA),
		fmt.Sprint("aex #DB hardware ", hx(ret), " 1"))
	check(t, "continue after the step", r.exec("continue"), `{"action":"continue","message":"ERESUME after the step"}`)
	if st := r.end(); st != 0 {
		t.Errorf("host exit status %d, want 0", st)
	}
	check(t, "host stdout", r.stdout(), "ecall 0 returned 0x0\n")
}

// callReturn is the offset from fn's start of the instruction after its
// call to callee, by objdump.
func callReturn(t *testing.T, file, fn, callee string) uint64 {
	t.Helper()
	out, err := exec.Command("objdump", "-d", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	start := nm(t, file, fn)
	lines := strings.Split(string(out), "\n")
	for i, line := range lines {
		if strings.Contains(line, "call") && strings.Contains(line, "<"+callee+">") && i+1 < len(lines) {
			addr, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), ":")
			v, err := strconv.ParseUint(addr, 16, 64)
			if err == nil && v > start {
				return v - start
			}
		}
	}
	t.Fatalf("objdump %s: no call to %s in %s", file, callee, fn)
	return 0
}

// TestThreadsIndependentCSSA: two host threads on two TCS, each taking an
// INT3. At every stop `info tcs` lists both TCS with the image's layout
// and, for each, the CSSA, busy state and thread that the event timeline
// implies at that moment; the stopped TCS has CSSA 1 whatever the other
// does. Both TCS stop once, and both ecalls meet inside the enclave.
func TestThreadsIndependentCSSA(t *testing.T) {
	r := start(t, debugger.Policy{}, []string{"--threads", "2"}, "threads", "0")
	stopped := map[uint64]int{}
	for {
		st, err := r.s.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if st.Exited {
			if st.Status != 0 {
				t.Errorf("host exit status %d, want 0", st.Status)
			}
			break
		}
		ev := st.Event
		stopped[ev.TCS]++
		if ev.Kind != target.EvAEX || ev.CSSA != 1 || ev.VectorName() != "#BP" || ev.RIP != r.sym("threads_breakpoint") {
			t.Errorf("stop %s, want the #BP at threads_breakpoint with CSSA 1", ev)
		}
		check(t, fmt.Sprintf("info tcs at the stop of TCS %#x", ev.TCS), r.exec("info tcs"), expectTCS(t, r))
		r.exec("continue")
	}
	if len(stopped) != 2 || stopped[r.tcs(0)] != 1 || stopped[r.tcs(1)] != 1 {
		t.Errorf("stops per TCS %v, want one at each of %#x and %#x", stopped, r.tcs(0), r.tcs(1))
	}
	lines := strings.Split(strings.TrimSpace(r.stdout()), "\n")
	sort.Strings(lines)
	check(t, "host stdout", strings.Join(lines, "|"), "ecall 0 returned 0x2|ecall 0 returned 0x2")
}

// expectTCS is the `info tcs` JSON the timeline implies: per TCS, the CSSA
// after its last transition, busy (a thread inside) after an EENTER or
// ERESUME until the next AEX or EEXIT.
func expectTCS(t *testing.T, r *run) string {
	t.Helper()
	cssa := map[uint64]int{}
	inside := map[uint64]int{}
	for _, ev := range r.s.Timeline() {
		switch ev.Kind {
		case target.EvEENTER, target.EvERESUME:
			cssa[ev.TCS], inside[ev.TCS] = ev.CSSA, ev.Tid
		case target.EvAEX:
			cssa[ev.TCS], inside[ev.TCS] = ev.CSSA, 0
		case target.EvEEXIT:
			inside[ev.TCS] = 0
		}
	}
	var views []map[string]any
	for i, ti := range r.im.TCS {
		addr := r.tcs(i)
		v := map[string]any{"index": i, "addr": hx(addr), "state": 0, "flags": ti.TCS.Flags.String(), "cssa": cssa[addr],
			"nssa": ti.TCS.NSSA, "ossa": hx(ti.TCS.OSSA), "oentry": hx(ti.TCS.OENTRY)}
		if tid := inside[addr]; tid != 0 {
			v["state"], v["thread"] = 1, tid
		}
		views = append(views, v)
	}
	return canon(t, jsonOf(t, map[string]any{"tcs": views}))
}

// TestBothEntryPaths runs the actions with the host entering through its
// own ENCLU (every AEX a signal at its AEP) and with its default entry (the
// vDSO's __vdso_sgx_enter_enclave where the backend offers one, whose
// exception fixup reports the AEX instead of a signal): each action has the
// same outcome for the host either way.
func TestBothEntryPaths(t *testing.T) {
	for _, path := range []struct {
		name  string
		flags []string
	}{{"own-enclu", []string{"--no-vdso"}}, {"default", nil}} {
		t.Run(path.name, func(t *testing.T) {
			for _, c := range []struct {
				sample  string
				args    []string
				script  []string
				status  int
				stdout  string
				stderr  string
				hasStop bool // the script ends at a second stop
			}{
				{"ud", []string{"1"}, []string{"eenter-handler", "eresume"}, 0, "ecall 1 returned 0xffffffffffffffda\n", "", false},
				{"de", []string{"0", "42", "0"}, []string{"skip", "eresume"}, 0, "ecall 0 returned 0x2a\n", "", false},
				{"de", []string{"0", "42", "0"}, []string{"teardown", "continue"}, 4, "", "enclave lost\n", false},
				{"de", []string{"1", "42", "0"}, []string{"continue"}, 0, "ecall 1 returned 0xd15ab1ed\n", "", false},
				{"int3", []string{"0"}, []string{"continue"}, 0, "ecall 0 returned 0x1\n", "", false},
				{"nested", []string{"0"}, []string{"continue"}, 3, "", "EENTER failed: #GP (TCS busy or no free SSA frame)\n", true},
			} {
				r := startHost(t, debugger.Policy{}, path.flags, c.sample, c.args...)
				r.stop()
				for _, cmd := range c.script {
					r.exec(cmd)
				}
				if c.hasStop {
					ev := r.stop()
					if ev.CSSA != 2 || ev.SSA != 1 || ev.VectorName() != "#PF" {
						t.Errorf("%s %v: second stop %s, want the nested #PF in SSA frame 1", c.sample, c.script, ev)
					}
					r.exec("continue")
				}
				what := fmt.Sprintf("%s %v %v", c.sample, c.args, c.script)
				if st := r.end(); st != c.status {
					t.Errorf("%s: host exit status %d, want %d", what, st, c.status)
				}
				check(t, what+": host stdout", r.stdout(), c.stdout)
				check(t, what+": host stderr", r.stderr(), c.stderr)
			}
		})
	}
}

// TestNestedHandlerResumed: after eenter-handler's run faulted (nested
// AEX, SSA frame 1), fixing frame 1 and `eresume` finish that handler run:
// it returns through the debugger's trampoline, and the thread is back at
// the first AEX with CSSA 1 (the host never sees the trampoline).
func TestNestedHandlerResumed(t *testing.T) {
	r := start(t, debugger.Policy{}, nil, "nested", "0")
	r.stop()
	r.exec("eenter-handler")
	r.exec(fmt.Sprintf("set ssa.rdi %#x", r.sym("readonly_page")))
	check(t, "eresume", r.exec("eresume"), fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 1: the handler eenter-handler started ran to its EEXIT (RDI 0x3 RSI 0x6); still stopped at the AEX"}`, r.tcs(0)))
	if !r.s.IsStopped() {
		t.Fatal("after resuming the handler run the session is not stopped")
	}
	v, _, _ := r.frames()
	check(t, "CSSA after the handler run", fmt.Sprint(v.CSSA), "1")
	r.exec("continue") // the host's own handler run faults again: a nested AEX
	r.stop()
	r.exec("continue")
	if st := r.end(); st != 3 {
		t.Errorf("host exit status %d, want 3 (its own handler run faults again: EENTER #GP)", st)
	}
}
