package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

var updateJSONDoc = flag.Bool("update-json-doc", false, "rewrite the generated part of docs/json.md")

// resultTypes is the result object of each command in exec's JSON lines
// (the Go type whose JSON form "result" holds).
var resultTypes = []struct {
	commands string
	v        any
}{
	{"help", debugger.HelpResult{}},
	{"info enclaves", debugger.EnclavesResult{}},
	{"info tcs", debugger.TCSResult{}},
	{"info threads", debugger.ThreadsResult{}},
	{"info cpu", debugger.CPUResult{}},
	{"ssa", debugger.SSAResult{}},
	{"regs, info registers", debugger.RegsResult{}},
	{"disas", debugger.DisasResult{}},
	{"bt", debugger.BacktraceResult{}},
	{"x", debugger.MemoryResult{}},
	{"events", debugger.EventsResult{}},
	{"dump", debugger.DumpResult{}},
	{"stop-on", debugger.PolicyResult{}},
	{"eenter-handler", debugger.HandlerView{}},
	{"eresume, teardown, skip, set, write, stepi, nexti, step, next, finish, until, advance, continue, kill, delete, disable, enable, condition, ignore, undisplay, directory", debugger.ActionResult{}},
	{"break, tbreak, hbreak, watch, rwatch, awatch", debugger.BreakResult{}},
	{"info breakpoints", debugger.BreakpointsResult{}},
	{"print, ptype, whatis", debugger.ValueResult{}},
	{"info args, info locals", debugger.VarsResult{}},
	{"info frame, frame, up, down", debugger.FrameResult{}},
	{"info all-registers", debugger.RegistersResult{}},
	{"info stack", debugger.StackResult{}},
	{"display", debugger.DisplayResult{}},
	{"list", debugger.ListResult{}},
	{"thread", debugger.ThreadsResult{}},
	{"tcs", debugger.TCSResult{}},
}

// resultType maps a command line to its result's type.
func resultType(line string) reflect.Type {
	w := strings.Fields(line)
	name := w[0]
	if strings.HasPrefix(name, "x/") {
		name = "x"
	}
	if n, _, ok := strings.Cut(name, "/"); ok {
		name = n // print/x
	}
	if name == "i" {
		name = "info"
	}
	if name == "info" && len(w) > 1 {
		name += " " + w[1]
	}
	alias := map[string]string{"info registers": "regs", "info register": "regs", "info reg": "regs", "r": "regs", "d": "disas", "backtrace": "bt",
		"handler": "eenter-handler", "si": "stepi", "c": "continue", "h": "help", "info r": "regs",
		"b": "break", "br": "break", "ni": "nexti", "s": "step", "n": "next", "fin": "finish", "u": "until", "p": "print", "inspect": "print",
		"l": "list", "dir": "directory", "f": "frame", "info b": "info breakpoints", "info break": "info breakpoints", "info heap": "info stack"}
	if a, ok := alias[name]; ok {
		name = a
	}
	for _, rt := range resultTypes {
		for _, c := range strings.Split(rt.commands, ", ") {
			if c == name {
				return reflect.TypeOf(rt.v)
			}
		}
	}
	return nil
}

var (
	hexType   = reflect.TypeOf(debugger.Hex(0))
	eventType = reflect.TypeOf(target.Event{})
)

// jsonFields are a struct's JSON keys, with whether each may be omitted.
type jsonField struct {
	key      string
	optional bool
	t        reflect.Type
}

func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{key: name, optional: strings.Contains(opts, "omitempty"), t: f.Type})
	}
	return out
}

// describe names a type's JSON form for the doc.
func describe(t reflect.Type) string {
	switch {
	case t == hexType:
		return "hex string"
	case t == eventType:
		return "event object"
	case t.Kind() == reflect.Pointer:
		return describe(t.Elem())
	case t.Implements(reflect.TypeOf((*json.Marshaler)(nil)).Elem()):
		return "hex string" // Digest: 64 hex digits
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64, reflect.Uint8, reflect.Uint32, reflect.Uint64, reflect.Int32:
		return "number"
	case reflect.Slice:
		return "array of " + describe(t.Elem())
	case reflect.Map:
		return "object of " + describe(t.Elem())
	case reflect.Struct:
		return t.Name()
	}
	return t.String()
}

// generatedDoc documents every result object and the objects inside them.
func generatedDoc() string {
	var b strings.Builder
	b.WriteString("<!-- Generated from the result types by `go test ./cmd/sgxdbg -run TestJSONDoc -update-json-doc`. Do not edit. -->\n\n")
	done := map[reflect.Type]bool{}
	var queue []reflect.Type
	for _, rt := range resultTypes {
		t := reflect.TypeOf(rt.v)
		fmt.Fprintf(&b, "### `%s`: %s\n\n", rt.commands, t.Name())
		writeFields(&b, t, &queue)
		done[t] = true
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if done[t] {
			continue
		}
		done[t] = true
		fmt.Fprintf(&b, "### %s\n\n", t.Name())
		writeFields(&b, t, &queue)
	}
	return b.String()
}

func writeFields(b *strings.Builder, t reflect.Type, queue *[]reflect.Type) {
	b.WriteString("| key | type | |\n|---|---|---|\n")
	for _, f := range jsonFields(t) {
		opt := "always"
		if f.optional {
			opt = "omitted when empty"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", f.key, describe(f.t), opt)
		e := f.t
		for e.Kind() == reflect.Slice || e.Kind() == reflect.Pointer || e.Kind() == reflect.Map {
			e = e.Elem()
		}
		if e.Kind() == reflect.Struct && e != eventType && e != hexType {
			*queue = append(*queue, e)
		}
	}
	b.WriteString("\n")
}

const jsonDocPath = "../../docs/json.md"
const generatedMark = "## Result objects\n\n"

// TestJSONDoc: docs/json.md's result objects are the types' JSON forms.
func TestJSONDoc(t *testing.T) {
	doc, err := os.ReadFile(jsonDocPath)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(doc), generatedMark)
	if !ok {
		t.Fatalf("docs/json.md has no %q section", strings.TrimSpace(generatedMark))
	}
	want := head + generatedMark + generatedDoc()
	if *updateJSONDoc {
		if err := os.WriteFile(jsonDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("docs/json.md is stale: go test ./cmd/sgxdbg -run TestJSONDoc -update-json-doc")
	}
}

// checkValue checks a JSON value against a Go type's JSON form.
func checkValue(path string, raw json.RawMessage, t reflect.Type) error {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == eventType:
		var ev target.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("%s: not an event: %v", path, err)
		}
		return nil
	case t == hexType || t.Kind() != reflect.Struct && t.Implements(reflect.TypeOf((*json.Marshaler)(nil)).Elem()):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || (t == hexType && !strings.HasPrefix(s, "0x")) {
			return fmt.Errorf("%s: %s is not a hex string", path, raw)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: %s is not an object", path, raw)
		}
		known := map[string]bool{}
		for _, f := range jsonFields(t) {
			known[f.key] = true
			v, ok := m[f.key]
			if !ok {
				// A struct with its own MarshalJSON (TCSView) leaves out
				// what it could not read.
				if !f.optional && !t.Implements(reflect.TypeOf((*json.Marshaler)(nil)).Elem()) {
					return fmt.Errorf("%s: no %q", path, f.key)
				}
				continue
			}
			if err := checkValue(path+"."+f.key, v, f.t); err != nil {
				return err
			}
		}
		for k := range m {
			if !known[k] {
				return fmt.Errorf("%s: undocumented key %q", path, k)
			}
		}
	case reflect.Slice:
		if string(raw) == "null" {
			return nil
		}
		var a []json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("%s: %s is not an array", path, raw)
		}
		for i, v := range a {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), v, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("%s: %s is not an object", path, raw)
		}
		for k, v := range m {
			if err := checkValue(path+"."+k, v, t.Elem()); err != nil {
				return err
			}
		}
	default:
		v := reflect.New(t)
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			return fmt.Errorf("%s: %s is not a %s", path, raw, describe(t))
		}
	}
	return nil
}

// checkLine checks one line of exec --json against docs/json.md and
// returns its kind.
func checkLine(line string) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return "", fmt.Errorf("not a JSON object: %v", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	str := func(k string) string {
		var s string
		if err := json.Unmarshal(m[k], &s); err != nil {
			return ""
		}
		return s
	}
	switch strings.Join(keys, ",") {
	case "stop", "reason,stop", "displays,stop", "displays,reason,stop":
		if r, ok := m["reason"]; ok {
			if err := checkValue("reason", r, reflect.TypeOf(debugger.StopReason{})); err != nil {
				return "", err
			}
		}
		if d, ok := m["displays"]; ok {
			if err := checkValue("displays", d, reflect.TypeOf([]debugger.DisplayValue{})); err != nil {
				return "", err
			}
		}
		return "stop", checkValue("stop", m["stop"], eventType)
	case "output":
		var o struct {
			Stream string `json:"stream"`
			Text   string `json:"text"`
		}
		dec := json.NewDecoder(bytes.NewReader(m["output"]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil || (o.Stream != "stdout" && o.Stream != "stderr") || o.Text == "" {
			return "", fmt.Errorf("bad output object %s", m["output"])
		}
		return "output", nil
	case "command,result":
		t := resultType(str("command"))
		if t == nil {
			return "", fmt.Errorf("command %q has no documented result", str("command"))
		}
		return "result", checkValue("result", m["result"], t)
	case "code,command,error":
		if str("command") == "" || str("error") == "" || str("code") == "" {
			return "", fmt.Errorf("error line without command, error or code")
		}
		return "error", nil
	}
	if _, ok := m["event"]; ok {
		return "event", checkValue("event", json.RawMessage(line), eventType)
	}
	return "", fmt.Errorf("unknown line kind with keys %v", keys)
}

// TestExecJSONSchema runs exec --json over scripts that use every command
// and checks that stdout is JSON Lines only, every line of a documented
// kind and form, with the host's output among them.
func TestExecJSONSchema(t *testing.T) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	dir := t.TempDir()
	runs := []struct {
		script string
		host   []string
		kinds  string // the kinds that must appear
		output string // the host's stdout, from the output lines
	}{
		{"help si; info enclaves; info tcs; info threads; i r; ssa; regs; disas; bt; x/2xg ssa.rsp; x; events 2; stop-on; bogus; eenter-handler; dump " + dir + "/core; eresume",
			[]string{"ud.elf", "ud.elf.sig", "0"}, "error event output result stop", "ecall 0 returned 0x5347584442470001\n"},
		{"skip; set $rax = 1; write fault_divide 90; stepi; continue",
			[]string{"de.elf", "de.elf.sig", "0", "42", "0"}, "event output result stop", ""},
		{"teardown; kill", []string{"pf_untrusted.elf", "pf_untrusted.elf.sig", "0", "0x10000"}, "event result stop", ""},
		{"break sum_values; hbreak clean.c:9; watch *0x10,8; info breakpoints; info cpu; print n; p/x n; info args; info locals; ptype v; whatis n; display n; list; frame; up; down; info frame; " +
			"info all-registers; info stack; thread; tcs 0; bt; next; step; stepi; nexti; delete 1; disable 2; enable 2; condition 2 n == 3; ignore 2 1; undisplay; directory /tmp; finish; until; advance clean.c:23; continue",
			[]string{"clean.elf", "clean.elf.sig", "0", "1", "2", "3"}, "error event output result stop", ""},
	}
	for _, r := range runs {
		args := []string{"exec", "--json", "-x", r.script, "--", b + "/host"}
		for _, a := range r.host {
			if strings.Contains(a, ".elf") {
				a = b + "/" + a
			}
			args = append(args, a)
		}
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run() // the hosts end with various statuses
		seen := map[string]bool{}
		var text strings.Builder
		for i, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
			kind, err := checkLine(line)
			if err != nil {
				t.Errorf("%s: line %d: %v\n%s", r.script, i+1, err, line)
				continue
			}
			seen[kind] = true
			var o outputLine
			if kind == "output" && json.Unmarshal([]byte(line), &o) == nil && o.Output.Stream == "stdout" {
				text.WriteString(o.Output.Text)
			}
		}
		var kinds []string
		for k := range seen {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		if got := strings.Join(kinds, " "); got != r.kinds {
			t.Errorf("%s: line kinds %q, want %q\nstderr: %s", r.script, got, r.kinds, stderr.String())
		}
		if r.output != "" && text.String() != r.output {
			t.Errorf("%s: host stdout from the output lines %q, want %q", r.script, text.String(), r.output)
		}
	}
}

// TestExecOutputFiles: -o FILE takes the JSON lines, --host-output FILE
// the host's stdout and stderr; stdout stays empty. An existing -o file
// needs --force.
func TestExecOutputFiles(t *testing.T) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	dir := t.TempDir()
	events, hostOut := dir+"/events.jsonl", dir+"/host.txt"
	run := func(extra ...string) (string, string, error) {
		args := append([]string{"exec", "--json", "-x", "eresume"}, extra...)
		args = append(args, "--", b+"/host", b+"/ud.elf", b+"/ud.elf.sig", "0")
		cmd := exec.Command(bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	stdout, stderr, err := run("-o", events, "--host-output", hostOut)
	if err != nil || stdout != "" {
		t.Fatalf("exec: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
	got, err := os.ReadFile(hostOut)
	if err != nil || string(got) != "ecall 0 returned 0x5347584442470001\n" {
		t.Errorf("host output file %q (%v)", got, err)
	}
	lines, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range strings.Split(strings.TrimSuffix(string(lines), "\n"), "\n") {
		k, err := checkLine(l)
		if err != nil {
			t.Errorf("%v: %s", err, l)
		}
		if len(kinds) == 0 || kinds[len(kinds)-1] != k {
			kinds = append(kinds, k)
		}
	}
	if got := strings.Join(kinds, " "); got != "event stop result event stop result event" {
		t.Errorf("-o file kinds %q, want eresume, the #UD again, continue, and no output lines", got)
	}
	if fi, err := os.Stat(events); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("-o file mode: %v %v", fi.Mode(), err)
	}
	_, stderr, err = run("-o", events)
	if want := "sgxdbg: exec: -o: " + events + " exists: pass --force to replace it\n"; err == nil || stderr != want {
		t.Errorf("existing -o file: %v, stderr %q, want %q", err, stderr, want)
	}
	if _, _, err := run("-o", events, "--force", "--host-output", hostOut); err != nil {
		t.Errorf("--force: %v", err)
	}
}
