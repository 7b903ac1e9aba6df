package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// coreRun runs the built sgxdbg in dir and returns stdout, stderr and the
// exit status.
func coreRun(t *testing.T, bin, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return o.String(), e.String(), 0
	case errors.As(err, &ee) && ee.Exited():
		return o.String(), e.String(), ee.ExitCode()
	}
	t.Fatalf("sgxdbg %v: %v\n%s", args, err, e.String())
	return "", "", 0
}

// jsonStop is the output of one stop of `exec --json` or `core --json`:
// the stop line and each command's result or error, as canonical JSON.
type jsonStop struct {
	stop    string
	results map[string]string // command → {"result":…} or {"error":…}
	dumps   []map[string]any  // results of dump [FILE]
}

// parseStops splits JSON-lines output at its "stop" lines; lines that are
// not JSON objects are the host's.
func parseStops(t *testing.T, out string) []*jsonStop {
	t.Helper()
	var stops []*jsonStop
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // the host's own output
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if s, ok := m["stop"]; ok {
			stops = append(stops, &jsonStop{stop: canonical(t, s), results: map[string]string{}})
			continue
		}
		c, ok := m["command"]
		if !ok || len(stops) == 0 {
			continue
		}
		var cmd string
		_ = json.Unmarshal(c, &cmd)
		st := stops[len(stops)-1]
		if _, ok := m["result"]; ok && (cmd == "dump" || strings.HasPrefix(cmd, "dump ")) {
			var d map[string]any
			if err := json.Unmarshal(m["result"], &d); err != nil {
				t.Fatalf("dump: %s", line)
			}
			st.dumps = append(st.dumps, d)
			continue
		}
		delete(m, "command")
		st.results[cmd] = canonical(t, m)
	}
	return stops
}

// coreViews are the views compared between the live session and the core.
var coreViews = []string{"ssa", "regs", "bt", "disas", "info enclaves", "info tcs", "info threads", "events", "x/4xg ssa.rsp", "ssa 0"}

// faultingSamples returns samples.json's scenarios of ecall 0 with the
// names given.
func faultingSamples(t *testing.T, names ...string) []fixtures.Scenario {
	t.Helper()
	var out []fixtures.Scenario
	all := fixtures.Scenarios(t)
	for _, name := range names {
		for _, s := range all {
			if s.Name == name && s.Ecall == 0 {
				out = append(out, s)
				break
			}
		}
	}
	if len(out) != len(names) {
		t.Fatalf("samples.json has %d of the scenarios %v", len(out), names)
	}
	return out
}

var gdbFrame0 = regexp.MustCompile(`(?m)^#0\s+(?:0x[0-9a-f]+ in )?(\w+) `)
var gdbRIP = regexp.MustCompile(`(?m)^rip\s+(0x[0-9a-f]+)`)

// TestCoreSamples dumps each faulting sample at each of its AEXs
// (exec --dump-on aex), reopens every core with `sgxdbg core` and
// `sgxdbg inspect` and checks that they show exactly what the live session
// showed at that stop, and runs gdb on the core with the enclave ELF: it
// shows the SSA's RIP and the function samples.json names (gdb -batch -ex
// "info registers rip" -ex "bt 8" ENCLAVE.elf FILE; a whole bt of the
// stack overflow takes gdb seconds).
func TestCoreSamples(t *testing.T) {
	samples, err := filepath.Abs(fixtures.Samples(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := fixtures.Binary(t)
	_, gdbErr := exec.LookPath("gdb")
	for _, sc := range faultingSamples(t, "pf_untrusted", "pf_readonly", "pf_tcs", "gp", "ud", "de", "int3", "nested", "stackoverflow") {
		t.Run(sc.Name, func(t *testing.T) {
			dir := t.TempDir()
			elf := filepath.Join(samples, sc.Name+".elf")
			views := strings.Join(coreViews, "; ")
			var script []string
			for range sc.AEX {
				script = append(script, views, "continue")
			}
			args := append([]string{"exec", "--dump-on", "aex", "--json", "-x", strings.Join(script, "; "), "--",
				filepath.Join(samples, "host"), elf, elf + ".sig", strconv.Itoa(sc.Ecall)}, sc.Args...)
			out, stderr, _ := coreRun(t, bin, dir, args...)
			live := parseStops(t, out)
			if len(live) != len(sc.AEX) {
				t.Fatalf("%d stops, samples.json has %d AEXs\n%s\n%s", len(live), len(sc.AEX), out, stderr)
			}
			for i, st := range live {
				if len(st.dumps) != 1 {
					t.Fatalf("stop %d: %d dumps", i, len(st.dumps))
				}
				file := st.dumps[0]["file"].(string)
				checkCoreFile(t, dir, file, st.dumps[0], elf)
				checkCoreViews(t, bin, dir, file, st)
				checkInspect(t, bin, dir, file, elf, st)
				if gdbErr == nil {
					checkGDB(t, dir, file, elf, st, sc.AEX[i].Symbol)
				}
			}
		})
	}
}

// checkCoreFile: mode 0600, the dump's report.
func checkCoreFile(t *testing.T, dir, file string, dump map[string]any, elf string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || int64(dump["bytes"].(float64)) != fi.Size() || !regexp.MustCompile(`^sgxdbg-\d+-\d\.core$`).MatchString(file) {
		t.Errorf("%s: mode %v size %d, dump says %v", file, fi.Mode(), fi.Size(), dump)
	}
	if dump["gdb"] != "gdb "+elf+" "+file || dump["image"] != elf || dump["threads"] != 1.0 || dump["enclaves"] != 1.0 {
		t.Errorf("dump result %v", dump)
	}
}

// checkCoreViews: `sgxdbg core --json` shows the stop and every view as
// the live session did.
func checkCoreViews(t *testing.T, bin, dir, file string, live *jsonStop) {
	t.Helper()
	out, stderr, status := coreRun(t, bin, dir, "core", "--json", "-x", strings.Join(coreViews, "; "), file)
	core := parseStops(t, out)
	if status != 0 || len(core) != 1 {
		t.Fatalf("core %s: status %d, %d stops\n%s%s", file, status, len(core), out, stderr)
	}
	if core[0].stop != live.stop {
		t.Errorf("stop\n%s\nlive\n%s", core[0].stop, live.stop)
	}
	for _, v := range coreViews {
		if v == "bt" {
			// A core holds no host memory: its backtrace ends at the
			// EENTER boundary (the AEP), where the live one goes on
			// through the host's frames.
			live.results[v] = enclaveBT(t, live.results[v])
			core[0].results[v] = enclaveBT(t, core[0].results[v])
		}
		if core[0].results[v] != live.results[v] || live.results[v] == "" {
			t.Errorf("%s: %s\ncore\n%s\nlive\n%s", file, v, core[0].results[v], live.results[v])
		}
	}
}

// enclaveBT cuts a bt result (JSON, bare or in {"result":…}) after its
// first host frame, of which it keeps the PC and the boundary.
func enclaveBT(t *testing.T, s string) string {
	t.Helper()
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &wrapped); err != nil {
		t.Fatalf("bt %s: %v", s, err)
	}
	inner := []byte(s)
	if r, ok := wrapped["result"]; ok {
		inner = r
	}
	var bt map[string]any
	if err := json.Unmarshal(inner, &bt); err != nil {
		t.Fatal(err)
	}
	frames, _ := bt["frames"].([]any)
	for i, f := range frames {
		if h := f.(map[string]any); h["host"] == true {
			// The AEP: where it is, not what it is (the core has no host
			// memory to name it from).
			frames[i] = map[string]any{"index": h["index"], "pc": h["pc"], "host": true, "boundary": h["boundary"]}
			bt["frames"] = frames[:i+1]
			break
		}
	}
	if _, ok := wrapped["result"]; ok {
		return canonical(t, map[string]any{"result": bt})
	}
	return canonical(t, bt)
}

// checkInspect: `sgxdbg inspect --json` reports the live views.
func checkInspect(t *testing.T, bin, dir, file, elf string, live *jsonStop) {
	t.Helper()
	out, stderr, status := coreRun(t, bin, dir, "inspect", "--json", "--events", "3", file)
	if status != 0 {
		t.Fatalf("inspect: status %d\n%s", status, stderr)
	}
	var rep struct {
		Stop     json.RawMessage `json:"stop"`
		Enclaves json.RawMessage `json:"enclaves"`
		Threads  []struct {
			SSA       json.RawMessage `json:"ssa"`
			Regs      json.RawMessage `json:"regs"`
			Backtrace json.RawMessage `json:"backtrace"`
			Fault     json.RawMessage `json:"fault"`
		} `json:"threads"`
		Events []json.RawMessage `json:"events"`
		GDB    string            `json:"gdb"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	result := func(view string) string {
		var m struct {
			Result json.RawMessage `json:"result"`
		}
		_ = json.Unmarshal([]byte(live.results[view]), &m)
		return canonical(t, m.Result)
	}
	var liveEvents struct {
		Events []json.RawMessage `json:"events"`
	}
	_ = json.Unmarshal([]byte(result("events")), &liveEvents)
	var disas struct {
		Lines []map[string]any `json:"lines"`
	}
	_ = json.Unmarshal([]byte(result("disas")), &disas)
	var current any
	for _, l := range disas.Lines {
		if l["current"] == true {
			current = l
		}
	}
	n := len(liveEvents.Events)
	if len(rep.Threads) != 1 {
		t.Fatalf("inspect %s: %d threads\n%s", file, len(rep.Threads), out)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"stop", rep.Stop, json.RawMessage(live.stop)},
		{"enclaves", rep.Enclaves, json.RawMessage(result("info enclaves"))},
		{"ssa", rep.Threads[0].SSA, json.RawMessage(result("ssa"))},
		{"regs", rep.Threads[0].Regs, json.RawMessage(result("regs"))},
		{"backtrace", json.RawMessage(enclaveBT(t, string(rep.Threads[0].Backtrace))), json.RawMessage(enclaveBT(t, result("bt")))},
		{"fault", rep.Threads[0].Fault, current},
		{"events", rep.Events, liveEvents.Events[n-3:]},
		{"gdb", rep.GDB, "gdb " + elf + " " + file},
		{"errors", rep.Errors, map[string]string(nil)},
	} {
		if g, w := norm(t, c.got), norm(t, c.want); g != w {
			t.Errorf("inspect %s: %s\n%s\nlive\n%s", file, c.what, g, w)
		}
	}
}

// norm renders v as JSON with every object's keys sorted.
func norm(t *testing.T, v any) string {
	t.Helper()
	var x any
	if err := json.Unmarshal([]byte(canonical(t, v)), &x); err != nil {
		t.Fatal(err)
	}
	return canonical(t, x)
}

// checkGDB: stock gdb with the enclave ELF shows the SSA's RIP in the
// function samples.json names.
func checkGDB(t *testing.T, dir, file, elf string, live *jsonStop, symbol string) {
	t.Helper()
	var ssa struct {
		Result struct {
			Frames []struct {
				RIP string `json:"rip"`
			} `json:"frames"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(live.results["ssa"]), &ssa); err != nil || len(ssa.Result.Frames) == 0 {
		t.Fatalf("live ssa %s", live.results["ssa"])
	}
	rip := ssa.Result.Frames[len(ssa.Result.Frames)-1].RIP
	cmd := exec.Command("gdb", "-nx", "-batch", "-ex", "info registers rip", "-ex", "bt 8", elf, file)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	r, f := gdbRIP.FindSubmatch(out), gdbFrame0.FindSubmatch(out)
	if r == nil || string(r[1]) != rip || f == nil || string(f[1]) != symbol {
		t.Errorf("gdb shows rip %q in %q, want %s in %s:\n%s", r, f, rip, symbol, out)
	}
}

// coreFiles lists dir's core files and leftover temporary dumps.
func coreFiles(t *testing.T, dir string) (cores, temps []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch {
		case strings.HasSuffix(e.Name(), ".tmp"):
			temps = append(temps, e.Name())
		case strings.HasSuffix(e.Name(), ".core"):
			cores = append(cores, e.Name())
		}
	}
	return cores, temps
}

// hostArgv is the sample host's command line for scenario name.
func hostArgv(samples, name string, args ...string) []string {
	elf := filepath.Join(samples, name+".elf")
	return append([]string{filepath.Join(samples, "host"), elf, elf + ".sig"}, args...)
}

// TestDumpOn: --dump-on fatal keeps the last AEX's core only when the host
// ends badly; exit keeps the last stop's whatever the status; no
// temporary file is left behind.
func TestDumpOn(t *testing.T) {
	samples, err := filepath.Abs(fixtures.Samples(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := fixtures.Binary(t)
	tests := []struct {
		name   string
		flags  []string
		host   []string
		status int
		stop   string // the kept core's stop event kind, "" for none
		says   string // without a core: the dump error line
	}{
		{"fatal, #PF kills", []string{"--dump-on", "fatal"}, hostArgv(samples, "pf_untrusted", "0", "0x10000"), 2, "aex", ""},
		{"fatal, #UD handled", []string{"--dump-on", "fatal"}, hostArgv(samples, "ud", "0"), 0, "", ""},
		{"fatal, nested: the last AEX", []string{"--dump-on", "fatal"}, hostArgv(samples, "nested", "0"), 3, "aex", ""},
		{"fatal, no AEX", []string{"--dump-on", "fatal"}, hostArgv(samples, "clean", "7"), 1, "",
			`{"code":"error","command":"dump","error":"--dump-on fatal: the host ended with status 1 without an AEX stop, nothing was dumped"}`},
		{"exit, clean", []string{"--dump-on", "exit", "--stop-on", "eexit"}, hostArgv(samples, "clean", "0", "1", "2", "3"), 0, "eexit", ""},
		{"exit, no stop", []string{"--dump-on", "exit"}, hostArgv(samples, "clean", "0", "1"), 0, "",
			`{"code":"error","command":"dump","error":"--dump-on exit: the host never stopped, nothing was dumped (--stop-on eexit stops after each ecall)"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(append([]string{"exec", "--json", "-x", "continue"}, tc.flags...), "--")
			out, stderr, status := coreRun(t, bin, dir, append(args, tc.host...)...)
			cores, temps := coreFiles(t, dir)
			if status != tc.status || len(temps) != 0 {
				t.Fatalf("status %d, temporary files %v\n%s%s", status, temps, out, stderr)
			}
			if tc.stop == "" {
				if len(cores) != 0 || strings.Contains(out, `"dump"`) != (tc.says != "") || !strings.Contains(out, tc.says) {
					t.Fatalf("cores %v, want none and %q\n%s", cores, tc.says, out)
				}
				return
			}
			stops := parseStops(t, out)
			last := stops[len(stops)-1]
			if len(cores) != 1 || len(last.dumps) != 1 || last.dumps[0]["file"] != cores[0] {
				t.Fatalf("cores %v, dumps reported %v", cores, last.dumps)
			}
			rep, _, status := coreRun(t, bin, dir, "inspect", "--json", cores[0])
			var r struct {
				Stop json.RawMessage `json:"stop"`
			}
			if err := json.Unmarshal([]byte(rep), &r); err != nil || status != 0 || norm(t, r.Stop) != norm(t, json.RawMessage(last.stop)) ||
				!strings.Contains(last.stop, `"event":"`+tc.stop+`"`) {
				t.Errorf("kept core's stop %s, want the last stop %s", r.Stop, last.stop)
			}
		})
	}
	if _, stderr, status := coreRun(t, bin, t.TempDir(), append([]string{"exec", "--dump-on", "sometimes", "--"}, hostArgv(samples, "clean", "0")...)...); status != 1 ||
		stderr != "sgxdbg: --dump-on \"sometimes\": want aex, fatal or exit\n" {
		t.Errorf("bad --dump-on: status %d, %q", status, stderr)
	}
}

// TestDumpCommand: default names count up per process, an explicit name is
// used as given, every core is 0600 and the three cores of one stop are
// byte-identical; bad uses are errors.
func TestDumpCommand(t *testing.T) {
	samples, err := filepath.Abs(fixtures.Samples(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := fixtures.Binary(t)
	dir := t.TempDir()
	args := append([]string{"exec", "--json", "-x", "dump; dump; dump mine.core; dump a b; dump nodir/x.core; continue", "--"},
		hostArgv(samples, "pf_untrusted", "0", "0x10000")...)
	out, stderr, status := coreRun(t, bin, dir, args...)
	stops := parseStops(t, out)
	if status != 2 || len(stops) != 1 || len(stops[0].dumps) != 3 {
		t.Fatalf("status %d, %d stops\n%s%s", status, len(stops), out, stderr)
	}
	pid := int(stops[0].dumps[0]["pid"].(float64))
	want := []string{CoreName(pid, 1), CoreName(pid, 2), "mine.core"}
	var first []byte
	for i, d := range stops[0].dumps {
		if d["file"] != want[i] {
			t.Errorf("dump %d: file %v, want %s", i, d["file"], want[i])
		}
		b, err := os.ReadFile(filepath.Join(dir, want[i]))
		if fi, _ := os.Stat(filepath.Join(dir, want[i])); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", want[i], err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("%s differs from %s", want[i], want[0])
		}
	}
	if got := stops[0].results["dump a b"]; got != `{"code":"usage","error":"usage: dump [--force] [FILE]"}` {
		t.Errorf("dump a b: %s", got)
	}
	if got := stops[0].results["dump nodir/x.core"]; got != `{"code":"error","error":"dump: open nodir/x.core: no such file or directory"}` {
		t.Errorf("dump nodir/x.core: %s", got)
	}
}

// CoreName is debugger.CoreFileName, spelled out for the test.
func CoreName(pid, n int) string {
	return "sgxdbg-" + strconv.Itoa(pid) + "-" + strconv.Itoa(n) + ".core"
}

// TestCoreErrors: files that are not sgxdbg cores are refused with the
// reason, by core and inspect alike; in a core, actions say the host is
// not running and reads follow EDBGRD's rules.
func TestCoreErrors(t *testing.T) {
	samples, err := filepath.Abs(fixtures.Samples(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := fixtures.Binary(t)
	dir := t.TempDir()
	_, _, _ = coreRun(t, bin, dir, append([]string{"exec", "-x", "dump good.core; continue", "--"}, hostArgv(samples, "pf_untrusted", "0", "0x10000")...)...)
	good, err := os.ReadFile(filepath.Join(dir, "good.core"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"notes.txt": []byte("not a core\n"), "cut.core": good[:0x3000]} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	elf := filepath.Join(samples, "pf_untrusted.elf")
	for _, tc := range []struct{ file, msg string }{
		{"notes.txt", "sgxdbg: notes.txt: core file: ELF header at offset 0x0: no ELF magic: not an ELF file\n"},
		{elf, "sgxdbg: " + elf + ": core file: e_type at offset 0x10: ET_DYN, want ET_CORE: not an sgxdbg enclave core file\n"},
		{"cut.core", "sgxdbg: cut.core: core file: program header 1 (PT_LOAD) at offset 0x3000: needs 16384 bytes, the file has 12288: truncated core file\n"},
		{"missing.core", "sgxdbg: open missing.core: no such file or directory\n"},
	} {
		for _, args := range [][]string{{"core", "-x", "ssa", tc.file}, {"inspect", tc.file}} {
			if out, stderr, status := coreRun(t, bin, dir, args...); status != 1 || stderr != tc.msg || out != "" {
				t.Errorf("%v: status %d stderr %q, want %q", args, status, stderr, tc.msg)
			}
		}
	}

	script := []string{"info cpu", "eresume", "continue", "eenter-handler", "teardown", "skip", "set ssa.rax 1", "write fault_read_untrusted 00",
		"stepi", "x/1xg 0x1000", "x/1xg ssa.rbx", "dump", "kill", "ssa"}
	out, stderr, status := coreRun(t, bin, dir, "core", "--json", "-x", strings.Join(script, "; "), "good.core")
	stops := parseStops(t, out)
	if status != 1 || len(stops) != 1 || stderr != "sgxdbg: core good.core: 13 of 14 script commands failed\n" {
		t.Fatalf("status %d, want 1\n%s%s", status, out, stderr)
	}
	notRunning := "core file: the host is not running"
	for cmd, want := range map[string][2]string{
		"eresume":        {"read-only", "eresume: " + notRunning},
		"continue":       {"read-only", notRunning},
		"eenter-handler": {"read-only", "eenter-handler: " + notRunning},
		"teardown":       {"read-only", notRunning},
		"skip":           {"read-only", "set ssa.rip: " + notRunning},
		"set ssa.rax 1":  {"read-only", "set ssa.rax: " + notRunning},
		"stepi":          {"read-only", notRunning},
		"x/1xg 0x1000":   {"error", "read 8 bytes at 0x1000: 0x1000: core file: host memory is not in the core"},
		"dump":           {"no-dumper", "this session cannot write core files"},
		"info cpu":       {"no-cpu", "this target does not emulate the processor"},
		"ssa":            {"exited", "the host has exited"},
	} {
		if got := stops[0].results[cmd]; got != canonical(t, map[string]string{"code": want[0], "error": want[1]}) {
			t.Errorf("%s: %s, want error %q (%s)", cmd, got, want[1], want[0])
		}
	}
	if got := stops[0].results["write fault_read_untrusted 00"]; !strings.HasSuffix(got, ": "+notRunning+`"}`) {
		t.Errorf("write: %s", got)
	}
	if got := stops[0].results["kill"]; got != `{"result":{"action":"kill","message":"host killed"}}` {
		t.Errorf("kill: %s", got)
	}
	// ssa.rbx is 0 in this frame; read the TCS through x: its 72 bytes
	// only, as EDBGRD.
	var encl struct {
		Result struct {
			Enclaves []struct {
				TCS []struct {
					Addr string `json:"addr"`
				} `json:"tcs"`
			} `json:"enclaves"`
		} `json:"result"`
	}
	out, _, _ = coreRun(t, bin, dir, "core", "--json", "-x", "info enclaves", "good.core")
	_ = json.Unmarshal([]byte(parseStops(t, out)[0].results["info enclaves"]), &encl)
	tcs, _ := strconv.ParseUint(encl.Result.Enclaves[0].TCS[0].Addr, 0, 64)
	in, past := "0x"+strconv.FormatUint(tcs+64, 16), "0x"+strconv.FormatUint(tcs+72, 16)
	out, _, _ = coreRun(t, bin, dir, "core", "--json", "-x", "x/1xg "+in+"; x/1xg "+past+"; x/2xg "+in, "good.core")
	res := parseStops(t, out)[0].results
	if !strings.HasPrefix(res["x/1xg "+in], `{"result":{"addr":"`+in+`"`) ||
		res["x/1xg "+past] != canonical(t, map[string]string{"code": "debug-access", "error": "read 8 bytes at " + past + ": EDBGRD at " + past + ": EDBGRD may read only the first 72 bytes of a TCS"}) ||
		res["x/2xg "+in] != canonical(t, map[string]string{"code": "debug-access", "error": "read 16 bytes at " + in + ": EDBGRD at " + past + ": EDBGRD may read only the first 72 bytes of a TCS"}) {
		t.Errorf("TCS reads: %v", res)
	}
}

// TestCorePrompt: without a script, core reads commands at a line prompt
// after showing the SSA frames; quit and end of input both leave with 0.
func TestCorePrompt(t *testing.T) {
	samples, err := filepath.Abs(fixtures.Samples(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := fixtures.Binary(t)
	dir := t.TempDir()
	_, _, _ = coreRun(t, bin, dir, append([]string{"exec", "-x", "dump de.core; continue", "--"}, hostArgv(samples, "de", "0", "42", "0")...)...)
	for _, in := range []string{"info tcs\neresume\nquit\nssa\n", "info tcs\neresume\n"} {
		cmd := exec.Command(bin, "core", "de.core")
		cmd.Dir, cmd.Stdin = dir, strings.NewReader(in)
		out, err := cmd.CombinedOutput()
		s := string(out)
		if err != nil || !strings.HasPrefix(s, "stopped: aex ") || !strings.Contains(s, "\n  at fault_divide+0x8 (samples/de.c:") ||
			strings.Count(s, "(sgxdbg) ") != 3 || !strings.Contains(s, "(sgxdbg)   TCS 0 ") ||
			!strings.Contains(s, "(sgxdbg) error: eresume: core file: the host is not running\n") {
			t.Errorf("stdin %q: %v\n%s", in, err, s)
		}
	}
}

// TestProgressLine: at most one line per MiB, and the last one.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := progressLine(&b)
	for _, done := range []uint64{1 << 19, 1 << 20, 3 << 19, 5 << 20, 64<<20 - 4096, 64 << 20} {
		p(done, 64<<20)
	}
	want := "\rdumping enclave memory: 1/64 MiB\rdumping enclave memory: 5/64 MiB\rdumping enclave memory: 63/64 MiB\rdumping enclave memory: 64/64 MiB"
	if b.String() != want {
		t.Errorf("%q\nwant %q", b.String(), want)
	}
}

// TestCoreSourceViews: a core dumped at a breakpoint answers the
// source-level views as the live session did (arguments by their location
// lists, locals one frame up, the source, the stack's high-water mark),
// and holds the enclave's own byte under the breakpoint.
func TestCoreSourceViews(t *testing.T) {
	samples := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	dir := t.TempDir()
	elf := filepath.Join(samples, "de.elf")
	views := "print dividend; info args; up; info locals; list 62,62; x/1xb fault_divide"
	out, stderr, status := coreRun(t, bin, dir, "exec", "--json", "-x", "break fault_divide; dump bp.core; "+views+"; continue", "--",
		filepath.Join(samples, "host"), elf, elf+".sig", "0", "42", "0")
	if status != 2 {
		t.Fatalf("exec: status %d\n%s%s", status, out, stderr)
	}
	live := parseStops(t, out)
	core, stderr, status := coreRun(t, bin, dir, "core", "--json", "-x", views, "bp.core")
	if status != 0 {
		t.Fatalf("core: status %d\n%s%s", status, core, stderr)
	}
	got := parseStops(t, core)[0]
	for _, v := range strings.Split(views, "; ") {
		if got.results[v] != live[0].results[v] || got.results[v] == "" {
			t.Errorf("%s:\ncore %s\nlive %s", v, got.results[v], live[0].results[v])
		}
	}
	want := map[string]string{
		"print dividend":     `"value":"42"`,
		"info locals":        `"name":"divisor","type":"int64_t","value":"0"`,
		"list 62,62":         `__asm__ volatile(\"idivq %%rcx\"`,
		"x/1xb fault_divide": `"values":["0x48"]`,
	}
	for v, frag := range want {
		if !strings.Contains(got.results[v], frag) {
			t.Errorf("%s: %s lacks %s", v, got.results[v], frag)
		}
	}
}
