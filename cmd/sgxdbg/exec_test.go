package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// The built sgxdbg's exec command over the sample enclaves: scripted
// sessions (-x, --batch) with --json, the interactive prompt, errors with
// their script position, and sgxdbg killed in the middle of a session
// (exec_kill_test.go).

// hostArgs is the host's command line for a sample: the host pinned to its
// own ENCLU (every AEX reaches it as a signal), FLAGS, the image and its
// SIGSTRUCT, ARGS (ecall number first).
func hostArgs(dir, name string, flags []string, args ...string) []string {
	elf := filepath.Join(dir, name+".elf")
	out := append([]string{filepath.Join(dir, "host"), "--no-vdso"}, flags...)
	return append(append(out, elf, elf+".sig"), args...)
}

// execOutput is a finished `sgxdbg exec --json` run, its stdout split into
// the JSON lines (events, stops, command results) and the host's lines.
type execOutput struct {
	events   []map[string]any
	kinds    []string // event kinds, "stop" and "command" in output order
	stops    []string // canonical JSON of each stop's event
	commands []string // canonical JSON of each command line
	host     []string // the host's stdout lines
	stderr   string
	status   int
	base     uint64 // from enclave-created
	pid      int
}

// execHangLimit is how long one `sgxdbg exec` may run before the test
// calls it a hang (a deadlock detector; every run here takes well under a
// second).
const execHangLimit = 2 * time.Minute

// execBinary runs `sgxdbg exec ARGS…` to its end with stdin as given.
func execBinary(t *testing.T, bin string, stdin io.Reader, args ...string) *execOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), execHangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"exec"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &o, &e
	err := cmd.Run()
	r := &execOutput{stderr: e.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("sgxdbg exec %v hangs\n%s%s", args, o.String(), e.String())
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.status = ee.ExitCode()
	default:
		t.Fatalf("sgxdbg exec %v: %v\n%s", args, err, e.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(o.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "{") {
			r.host = append(r.host, line)
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", line, err)
		}
		switch {
		case m["event"] != nil:
			r.events = append(r.events, m)
			r.kinds = append(r.kinds, m["event"].(string))
			if m["event"] == "enclave-created" && r.base == 0 {
				r.base, _ = parseHex(m["enclave"])
				r.pid = int(m["pid"].(float64))
			}
		case m["stop"] != nil:
			r.stops = append(r.stops, canonical(t, m["stop"]))
			r.kinds = append(r.kinds, "stop")
		case m["command"] != nil:
			r.commands = append(r.commands, canonical(t, m))
			r.kinds = append(r.kinds, "command")
		case m["output"] != nil:
			// The host's output (--json makes it JSON lines too).
			out := m["output"].(map[string]any)
			text := out["text"].(string)
			if out["stream"] == "stderr" {
				r.stderr += text
				break
			}
			r.host = append(r.host, strings.TrimSuffix(text, "\n"))
		default:
			t.Fatalf("stdout line %q is neither an event, a stop nor a command result", line)
		}
	}
	return r
}

// flow is the output's events after the load (enclave-created,
// pages-added, enclave-initialized), with each stop in its place. Command
// results are left out: the events a resuming command lets happen may be
// printed before or after its result line.
func (r *execOutput) flow() string {
	var out []string
	for _, k := range r.kinds {
		switch k {
		case "enclave-created", "pages-added", "enclave-initialized", "command":
		default:
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

// sampleImage opens a sample's enclave image.
func sampleImage(t *testing.T, dir, name string) *enclave.Image {
	t.Helper()
	im, err := enclave.Open(filepath.Join(dir, name+".elf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	return im
}

// cmdJSON is the canonical JSON of one command's output line.
func cmdJSON(t *testing.T, cmd string, result any) string {
	t.Helper()
	var v any
	if s, ok := result.(string); ok {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	} else {
		v = result
	}
	return canonical(t, map[string]any{"command": cmd, "result": v})
}

func cmdErrJSON(t *testing.T, cmd, code, msg string) string {
	return canonical(t, map[string]any{"command": cmd, "code": code, "error": msg})
}

func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// checkAEP checks an AEX's AEP is the host's host_aep in the position-
// independent host: the same offset within a page.
func checkAEP(t *testing.T, dir string, stop string) {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(stop), &ev); err != nil {
		t.Fatal(err)
	}
	aep, err := parseHex(ev["aep"])
	if hostAEP := nmSymbol(t, filepath.Join(dir, "host"), "host_aep"); err != nil || aep < hostAEP || (aep-hostAEP)%sgx.PageSize != 0 {
		t.Errorf("stop at AEP %v, want host_aep (%#x) in the host", ev["aep"], hostAEP)
	}
}

// aexStop is the canonical JSON of an AEX stop, its AEP taken from got
// (checked by checkAEP).
func aexStop(t *testing.T, got string, r *execOutput, tid int, tcs uint64, ssa, cssa int, vector int, name, exitType string,
	maddr uint64, errcd uint64, rip uint64, signal string) string {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(got), &ev); err != nil {
		t.Fatal(err)
	}
	return canonical(t, map[string]any{"event": "aex", "tid": tid, "enclave": hexU(r.base), "tcs": hexU(tcs), "ssa": ssa,
		"cssa": cssa, "vector": vector, "vector_name": name, "exit_type": exitType, "valid": true, "maddr": hexU(maddr),
		"errcd": hexU(errcd), "rip": hexU(rip), "aep": ev["aep"], "signal": signal})
}

// TestExec runs scripted sessions through the built binary.
func TestExec(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	t.Run("ud-handler-eresume", func(t *testing.T) { testExecUD(t, bin, dir) })
	t.Run("de-skip", func(t *testing.T) { testExecSkip(t, bin, dir) })
	t.Run("teardown", func(t *testing.T) { testExecTeardown(t, bin, dir) })
	t.Run("int3-quirk", func(t *testing.T) { testExecINT3(t, bin, dir) })
	t.Run("nested", func(t *testing.T) { testExecNested(t, bin, dir) })
	t.Run("threads", func(t *testing.T) { testExecThreads(t, bin, dir) })
	t.Run("errors", func(t *testing.T) { testExecErrors(t, bin, dir) })
	t.Run("batch-file-line", func(t *testing.T) { testExecBatch(t, bin, dir) })
	t.Run("prompt", func(t *testing.T) { testExecPrompt(t, bin, dir) })
	t.Run("killed", func(t *testing.T) { testExecKilled(t, bin, dir) })
}

// testExecUD: the #UD of SYSCALL in ud ecall 1; eenter-handler runs the
// enclave's handler (RAX = -ENOSYS, RIP += 2) and eresume completes the
// ecall. The host never sees a signal.
func testExecUD(t *testing.T, bin, dir string) {
	r := execBinary(t, bin, nil, append([]string{"--json", "-x", "eenter-handler; eresume", "--"}, hostArgs(dir, "ud", nil, "1")...)...)
	elf := filepath.Join(dir, "ud.elf")
	im := sampleImage(t, dir, "ud")
	tcs, rip := r.base+im.TCS[0].Offset, r.base+nmSymbol(t, elf, "emulated_syscall")+5
	if r.status != 0 || r.stderr != "" || len(r.stops) != 1 {
		t.Fatalf("status %d, %d stops, stderr %q; want 0, 1 and nothing", r.status, len(r.stops), r.stderr)
	}
	checkAEP(t, dir, r.stops[0])
	checkLines(t, "stops", r.stops, []string{aexStop(t, r.stops[0], r, r.pid, tcs, 0, 1, 6, "#UD", "hardware", 0, 0, rip, "SIGILL")})
	checkLines(t, "commands", r.commands, []string{
		cmdJSON(t, "eenter-handler", fmt.Sprintf(`{"abi":"samples","exited":true,"rdi":"0x2","rsi":"0x6","status":"handled: the host would ERESUME","handled":true,`+
			`"frame":0,"changes":[{"field":"rax","old":"0x27","new":"0xffffffffffffffda"},{"field":"rip","old":"%#x","new":"%#x"}]}`, rip, rip+2)),
		cmdJSON(t, "eresume", fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 0"}`, tcs)),
	})
	checkLines(t, "flow", []string{r.flow()}, []string{"eenter aex stop eenter eexit eresume eexit enclave-removed exit"})
	checkLines(t, "host stdout", r.host, []string{"ecall 1 returned 0xffffffffffffffda"})
}

// testExecSkip: de ecall 0 divides 42 by 0 without a handler; skip and
// eresume return the dividend.
func testExecSkip(t *testing.T, bin, dir string) {
	r := execBinary(t, bin, nil, append([]string{"--json", "-x", "skip; eresume", "--"}, hostArgs(dir, "de", nil, "0", "42", "0")...)...)
	im := sampleImage(t, dir, "de")
	tcs, rip := r.base+im.TCS[0].Offset, r.base+nmSymbol(t, filepath.Join(dir, "de.elf"), "fault_divide")+8
	if r.status != 0 || r.stderr != "" || len(r.stops) != 1 {
		t.Fatalf("status %d, %d stops, stderr %q; want 0, 1 and nothing", r.status, len(r.stops), r.stderr)
	}
	checkLines(t, "stops", r.stops, []string{aexStop(t, r.stops[0], r, r.pid, tcs, 0, 1, 0, "#DE", "hardware", 0, 0, rip, "SIGFPE")})
	checkLines(t, "commands", r.commands, []string{
		cmdJSON(t, "skip", fmt.Sprintf(`{"action":"skip","message":"skipped \"idiv %%rcx\" (3 bytes) at %#x; ERESUME continues at %#x",`+
			`"changes":[{"field":"rip","old":"%#x","new":"%#x"}]}`, rip, rip+3, rip, rip+3)),
		cmdJSON(t, "eresume", fmt.Sprintf(`{"action":"eresume","message":"ERESUME TCS %#x from SSA frame 0"}`, tcs)),
	})
	checkLines(t, "host stdout", r.host, []string{"ecall 0 returned 0x2a"})
}

// testExecTeardown: teardown at the #DE, then continue: the host reports
// the lost enclave and exits 4, and so does sgxdbg.
func testExecTeardown(t *testing.T, bin, dir string) {
	r := execBinary(t, bin, nil, append([]string{"--json", "-x", "teardown; continue", "--"}, hostArgs(dir, "de", nil, "0", "42", "0")...)...)
	if r.status != 4 || r.stderr != "enclave lost\n" {
		t.Errorf("status %d stderr %q, want the host's: 4 and \"enclave lost\"", r.status, r.stderr)
	}
	checkLines(t, "commands", r.commands, []string{
		cmdJSON(t, "teardown", fmt.Sprintf(`{"action":"teardown","message":"enclave %#x destroyed: its mappings are gone and its file `+
			`descriptors closed; continue to let the host see the loss"}`, r.base)),
		cmdJSON(t, "continue", `{"action":"continue","message":"continuing: the host gets SIGFPE at the AEP"}`),
	})
	checkLines(t, "flow", []string{r.flow()}, []string{"eenter aex stop enclave-removed enclu-fault exit"})
	if n := len(r.events); n < 2 || canonical(t, r.events[n-1]) != canonical(t, map[string]any{"event": "exit", "pid": r.pid, "status": 4}) {
		t.Errorf("last event %v, want the host's exit with status 4", r.events[n-1])
	}
	checkLines(t, "host stdout", r.host, nil)
}

// testExecINT3: the INT3 stop shows the quirk; the script ends without
// resuming, so sgxdbg continues and the enclave's own handler steps over
// the INT3 (the ecall counts one breakpoint).
func testExecINT3(t *testing.T, bin, dir string) {
	r := execBinary(t, bin, nil, append([]string{"--json", "-x", "ssa 0", "--"}, hostArgs(dir, "int3", nil, "0")...)...)
	im := sampleImage(t, dir, "int3")
	tcs, rip := r.base+im.TCS[0].Offset, r.base+nmSymbol(t, filepath.Join(dir, "int3.elf"), "trap_int3")
	if r.status != 0 || len(r.stops) != 1 || len(r.commands) != 2 {
		t.Fatalf("status %d, %d stops, %d commands; want 0, 1, 2 (ssa, then continue)", r.status, len(r.stops), len(r.commands))
	}
	checkLines(t, "stops", r.stops, []string{aexStop(t, r.stops[0], r, r.pid, tcs, 0, 1, 3, "#BP", "software", 0, 0, rip, "SIGTRAP")})
	var line struct {
		Result struct {
			Frames []map[string]any `json:"frames"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.commands[0]), &line); err != nil || len(line.Result.Frames) != 1 {
		t.Fatalf("ssa 0: %s (%v)", r.commands[0], err)
	}
	f := line.Result.Frames[0]
	if got, want := fmt.Sprint(f["rip"], "|", f["symbol"], "|", f["quirk"]), fmt.Sprintf("%#x|trap_int3|INT3 at %#x: SSA.RIP is the INT3 itself; "+
		"execution continues at %#x", rip, rip, rip+1); got != want {
		t.Errorf("ssa 0 frame: %s, want %s", got, want)
	}
	checkLines(t, "implicit continue", r.commands[1:], []string{cmdJSON(t, "continue", `{"action":"continue","message":"continuing: the host gets SIGTRAP at the AEP"}`)})
	checkLines(t, "host stdout", r.host, []string{"ecall 0 returned 0x1"})
}

// testExecNested: continue at the first #UD; the host's handler faults
// (CSSA 2): ssa lists both frames; then the host's EENTER takes #GP.
func testExecNested(t *testing.T, bin, dir string) {
	r := execBinary(t, bin, nil, append([]string{"--json", "-x", "continue; info tcs; ssa", "--"}, hostArgs(dir, "nested", nil, "0")...)...)
	elf := filepath.Join(dir, "nested.elf")
	im := sampleImage(t, dir, "nested")
	tcs := r.base + im.TCS[0].Offset
	ud, pf := r.base+nmSymbol(t, elf, "nested_first_fault"), r.base+nmSymbol(t, elf, "nested_handler")+2
	if r.status != 3 || r.stderr != "EENTER failed: #GP (TCS busy or no free SSA frame)\n" || len(r.stops) != 2 {
		t.Fatalf("status %d, %d stops, stderr %q; want 3, 2 and the host's EENTER #GP", r.status, len(r.stops), r.stderr)
	}
	checkLines(t, "stops", r.stops, []string{
		aexStop(t, r.stops[0], r, r.pid, tcs, 0, 1, 6, "#UD", "hardware", 0, 0, ud, "SIGILL"),
		aexStop(t, r.stops[1], r, r.pid, tcs, 1, 2, 14, "#PF", "hardware", 0, 4, pf, "SIGSEGV"),
	})
	var tcsLine struct {
		Result struct {
			TCS []map[string]any `json:"tcs"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.commands[1]), &tcsLine); err != nil || len(tcsLine.Result.TCS) != 1 {
		t.Fatalf("info tcs: %s (%v)", r.commands[1], err)
	}
	if got := fmt.Sprint(tcsLine.Result.TCS[0]["addr"], tcsLine.Result.TCS[0]["cssa"], tcsLine.Result.TCS[0]["nssa"]); got != fmt.Sprint(hexU(tcs), 2, 2) {
		t.Errorf("info tcs: %s, want TCS %#x at CSSA 2 of NSSA 2", got, tcs)
	}
	var ssaLine struct {
		Result struct {
			CSSA   int              `json:"cssa"`
			Frames []map[string]any `json:"frames"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.commands[2]), &ssaLine); err != nil || len(ssaLine.Result.Frames) != 2 {
		t.Fatalf("ssa: %s (%v)", r.commands[2], err)
	}
	var frames []string
	for _, f := range ssaLine.Result.Frames {
		frames = append(frames, fmt.Sprint(f["index"], " ", f["vector_name"], " ", f["rip"], " ", f["symbol"]))
	}
	checkLines(t, "ssa frames", frames, []string{fmt.Sprintf("0 #UD %#x nested_first_fault", ud), fmt.Sprintf("1 #PF %#x nested_handler+0x2", pf)})
	checkLines(t, "flow", []string{r.flow()}, []string{"eenter aex stop eenter aex stop enclu-fault enclave-removed exit"})
}

// testExecThreads: two threads on two TCS each stop at an INT3; at each
// stop, info tcs shows both TCS, the stopped one at CSSA 1.
func testExecThreads(t *testing.T, bin, dir string) {
	r := execBinary(t, bin, nil, append([]string{"--json", "-x", "info tcs; continue; info tcs", "--"},
		hostArgs(dir, "threads", []string{"--threads", "2"}, "0")...)...)
	im := sampleImage(t, dir, "threads")
	if r.status != 0 || len(r.stops) != 2 || len(r.commands) != 4 {
		t.Fatalf("status %d, %d stops, %d commands; want 0, 2, 4", r.status, len(r.stops), len(r.commands))
	}
	stopped := map[string]bool{}
	for i, stop := range r.stops {
		var ev map[string]any
		if err := json.Unmarshal([]byte(stop), &ev); err != nil {
			t.Fatal(err)
		}
		stopped[ev["tcs"].(string)] = true
		var line struct {
			Result struct {
				TCS []map[string]any `json:"tcs"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(r.commands[2*i]), &line); err != nil || len(line.Result.TCS) != 2 {
			t.Fatalf("info tcs at stop %d: %s (%v)", i, r.commands[2*i], err)
		}
		for j, v := range line.Result.TCS {
			addr, ossa := hexU(r.base+im.TCS[j].Offset), hexU(im.TCS[j].TCS.OSSA)
			if v["addr"] != addr || v["ossa"] != ossa || v["nssa"] != float64(im.TCS[j].TCS.NSSA) {
				t.Errorf("stop %d: TCS %d %v, want %s with OSSA %s", i, j, v, addr, ossa)
			}
			if v["addr"] == ev["tcs"] && (v["cssa"] != float64(1) || v["thread"] != nil) {
				t.Errorf("stop %d: the stopped TCS %v, want CSSA 1 and no thread inside", i, v)
			}
		}
	}
	if !stopped[hexU(r.base+im.TCS[0].Offset)] || !stopped[hexU(r.base+im.TCS[1].Offset)] {
		t.Errorf("stopped on %v, want both TCS", stopped)
	}
	sort.Strings(r.host)
	checkLines(t, "host stdout", r.host, []string{"ecall 0 returned 0x2", "ecall 0 returned 0x2"})
}

// testExecErrors: bad commands and actions at the wrong stop print an
// error line each and the session goes on; commands left after the host's
// end say it has exited.
func testExecErrors(t *testing.T, bin, dir string) {
	script := "frobnicate; eresume; set ssa.bogus 1; write 0x10000 00; info tcs; continue; continue; ssa; events 1"
	r := execBinary(t, bin, nil, append([]string{"--json", "--stop-on", "eenter", "-x", script, "--"}, hostArgs(dir, "de", nil, "1", "42", "0")...)...)
	im := sampleImage(t, dir, "de")
	tcs := r.base + im.TCS[0].Offset
	if r.status != 0 || len(r.stops) != 2 {
		t.Fatalf("status %d, %d stops; want 0 and 2 (the ecall's and the handler's EENTER)", r.status, len(r.stops))
	}
	regs := "[fsbase gsbase r10 r11 r12 r13 r14 r15 r8 r9 rax rbp rbx rcx rdi rdx rflags rip rsi rsp urbp ursp]"
	checkLines(t, "commands", r.commands, []string{
		cmdErrJSON(t, "frobnicate", "unknown-command", `unknown command "frobnicate" (try help)`),
		cmdErrJSON(t, "eresume", "not-at-aex", "not stopped at an AEX (stopped at eenter)"),
		cmdErrJSON(t, "set ssa.bogus 1", "no-symbol", fmt.Sprintf(`no SSA register "bogus" (one of %s)`, regs)),
		cmdErrJSON(t, "write 0x10000 00", "not-enclave", "write: 0x10000: address is not in an enclave"),
		cmdJSON(t, "info tcs", fmt.Sprintf(`{"tcs":[{"index":0,"addr":"%#x","state":1,"flags":"0","cssa":0,"nssa":2,"ossa":"%#x","oentry":"%#x","thread":%d}]}`,
			tcs, im.TCS[0].TCS.OSSA, im.TCS[0].TCS.OENTRY, r.pid)),
		cmdJSON(t, "continue", `{"action":"continue","message":"continuing"}`),
		cmdJSON(t, "continue", `{"action":"continue","message":"continuing"}`),
		cmdErrJSON(t, "ssa", "exited", "the host has exited"),
		// The de sample's run: 7 page runs added, ecall 1 and its #DE
		// AEX, the handler's EENTER and EEXIT, the ERESUME.
		cmdJSON(t, "events 1", fmt.Sprintf(`{"counts":{"aex":1,"eenter":2,"eexit":2,"enclave-created":1,"enclave-initialized":1,"enclave-removed":1,"eresume":1,"exit":1,"pages-added":7},"events":[{"event":"exit","pid":%d,"status":0}],"total":17}`, r.pid)),
	})
	checkLines(t, "host stdout", r.host, []string{"ecall 1 returned 0xd15ab1ed"})
}

// testExecBatch: a --batch file's errors carry FILE:LINE (comments and
// blank lines counted), in JSON and in text, and the script goes on.
func testExecBatch(t *testing.T, bin, dir string) {
	file := filepath.Join(t.TempDir(), "session.sgxdbg")
	src := "# fix the division and go on\ninfo tcs\n\nfrobnicate\nset ssa.bogus 1\nskip\neresume\nregs\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	host := hostArgs(dir, "de", nil, "0", "42", "0")
	r := execBinary(t, bin, nil, append([]string{"--json", "--batch", file, "--"}, host...)...)
	if r.status != 0 || len(r.commands) != 6 {
		t.Fatalf("status %d, %d command lines; want 0 and 6", r.status, len(r.commands))
	}
	regs := "[fsbase gsbase r10 r11 r12 r13 r14 r15 r8 r9 rax rbp rbx rcx rdi rdx rflags rip rsi rsp urbp ursp]"
	checkLines(t, "errors", []string{r.commands[1], r.commands[2], r.commands[5]}, []string{
		cmdErrJSON(t, "frobnicate", "unknown-command", file+`:4: unknown command "frobnicate" (try help)`),
		cmdErrJSON(t, "set ssa.bogus 1", "no-symbol", fmt.Sprintf(`%s:5: no SSA register "bogus" (one of %s)`, file, regs)),
		cmdErrJSON(t, "regs", "exited", file+":8: the host has exited"),
	})
	checkLines(t, "host stdout", r.host, []string{"ecall 0 returned 0x2a"})

	// Text mode: "error: FILE:LINE: …" lines.
	cmd := exec.Command(bin, append([]string{"exec", "--batch", file, "--"}, host...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("text mode: %v", err)
	}
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "error: ") {
			errs = append(errs, l)
		}
	}
	checkLines(t, "text errors", errs, []string{
		"error: " + file + `:4: unknown command "frobnicate" (try help)`,
		fmt.Sprintf(`error: %s:5: no SSA register "bogus" (one of %s)`, file, regs),
		"error: " + file + ":8: the host has exited",
	})

	// A missing batch file is sgxdbg's own error, before any host runs.
	missing := filepath.Join(t.TempDir(), "none")
	r = execBinary(t, bin, nil, append([]string{"--batch", missing, "--"}, host...)...)
	if r.status != 1 || !strings.Contains(r.stderr, "batch: open "+missing) {
		t.Errorf("missing batch file: status %d stderr %q, want 1 and the open error", r.status, r.stderr)
	}
}

// testExecPrompt drives the interactive prompt through a pipe: pf_untrusted
// ecall 0 reads 0x10000 (#PF). Once stopped, `write` puts 0xdeadbeef over
// readonly_page's first bytes, `set ssa.rdi` points the read at it, and
// `eresume` retries it: the ecall returns the new data.
func testExecPrompt(t *testing.T, bin, dir string) {
	cmd := exec.Command(bin, append([]string{"exec", "--"}, hostArgs(dir, "pf_untrusted", nil, "0", "0x10000")...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdout)
	stopLine, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("no stop line: %v (stderr %q)", err, stderr.String())
	}
	var tcs uint64
	if _, err := fmt.Sscanf(stopLine[strings.Index(stopLine, " tcs ")+1:], "tcs %v", &tcs); err != nil || !strings.HasPrefix(stopLine, "stopped: aex") {
		t.Fatalf("stop line %q (%v)", stopLine, err)
	}
	im := sampleImage(t, dir, "pf_untrusted")
	base := tcs - im.TCS[0].Offset
	ro := base + nmSymbol(t, filepath.Join(dir, "pf_untrusted.elf"), "readonly_page")
	was := im.Page(ro - base).Data[:8]
	// The prompt shows the SSA frame first; read up to the first prompt.
	var shown strings.Builder
	for !strings.HasSuffix(shown.String(), "(sgxdbg) ") {
		b, err := out.ReadByte()
		if err != nil {
			t.Fatalf("no prompt after %q: %v", shown.String(), err)
		}
		shown.WriteByte(b)
	}
	if !strings.Contains(shown.String(), "#PF page fault") || !strings.Contains(shown.String(), "at fault_read_untrusted (samples/pf_untrusted.c:") {
		t.Errorf("the prompt's SSA view:\n%s", shown.String())
	}
	// Then end of input: a stop the test did not expect ends the session.
	fmt.Fprintf(stdin, "write %#x efbeadde00000000\nset ssa.rdi %#x\neresume\n", ro, ro)
	stdin.Close()
	rest, err := io.ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("sgxdbg exec: %v (stderr %q)", err, stderr.String())
	}
	want := fmt.Sprintf("wrote ef be ad de 00 00 00 00 at %#x (was % x)\n(sgxdbg) SSA frame 0 of TCS %#x: rdi = %#x\n  rdi        0x10000 -> %#x\n"+
		"(sgxdbg) ERESUME TCS %#x from SSA frame 0\necall 0 returned 0xdeadbeef\n", ro, was, tcs, ro, ro, tcs)
	if string(rest) != want {
		t.Errorf("prompt session:\n got %q\nwant %q", rest, want)
	}
	if stderr.String() != "sgxdbg: host exited with status 0\n" {
		t.Errorf("stderr %q", stderr.String())
	}
}
