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
	dumps   []map[string]any  // results of dump
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
		if cmd == "dump" {
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

// sampleAEX is what samples.json expects of one AEX.
type sampleAEX struct {
	Symbol string `json:"symbol"`
	Vector int    `json:"vector"`
}

// faultingSamples reads samples.json's scenarios with the names given.
func faultingSamples(t *testing.T, names ...string) []struct {
	Name  string      `json:"name"`
	Ecall int         `json:"ecall"`
	Args  []string    `json:"args"`
	AEX   []sampleAEX `json:"aex"`
} {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "enclaves", "debug", "samples.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []struct {
			Name  string      `json:"name"`
			Ecall int         `json:"ecall"`
			Args  []string    `json:"args"`
			AEX   []sampleAEX `json:"aex"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := doc.Scenarios[:0]
	for _, name := range names {
		for _, s := range doc.Scenarios {
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
	samples, err := filepath.Abs(emulateSamples(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildSgxdbg(t)
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
		if core[0].results[v] != live.results[v] || live.results[v] == "" {
			t.Errorf("%s: %s\ncore\n%s\nlive\n%s", file, v, core[0].results[v], live.results[v])
		}
	}
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
		{"backtrace", rep.Threads[0].Backtrace, json.RawMessage(result("bt"))},
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
