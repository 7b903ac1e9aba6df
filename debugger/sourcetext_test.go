package debugger_test

import (
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// TestSourceText: at a breakpoint in sum_values, disas and bt carry the
// text of each instruction's and each enclave frame's source line (from
// samples/clean.c), the same line the location names.
func TestSourceText(t *testing.T) {
	r := start(t, debugger.Policy{NoAEX: true}, nil, "clean", "0", "1", "2", "3")
	r.exec("break sum_values")
	r.stopWhy()
	var dis debugger.DisasResult
	r.result("disas", &dis)
	want := map[string]string{
		"samples/clean.c:7": "\tuint64_t sum = 0;",
		"samples/clean.c:8": "\tfor (uint64_t i = 0; i < n; i++)",
		"samples/clean.c:9": "\t\tsum += v[i];",
	}
	seen := 0
	for _, l := range dis.Lines {
		w, ok := want[l.Source]
		if !ok {
			t.Errorf("disas: %#x at %q", uint64(l.Addr), l.Source)
			continue
		}
		seen++
		if l.Line != w {
			t.Errorf("disas: %#x at %s has text %q, want %q", uint64(l.Addr), l.Source, l.Line, w)
		}
	}
	if seen == 0 {
		t.Errorf("disas shows no source lines: %+v", dis)
	}
	var bt debugger.BacktraceResult
	r.result("bt", &bt)
	if len(bt.Frames) < 2 {
		t.Fatalf("bt: %+v", bt)
	}
	for i, w := range []string{"\tfor (uint64_t i = 0; i < n; i++)", "\t*ret = sum_values(args->values, args->count);"} {
		if bt.Frames[i].Line != w {
			t.Errorf("bt frame %d (%s): text %q, want %q", i, bt.Frames[i].Source, bt.Frames[i].Line, w)
		}
	}
	for _, f := range bt.Frames {
		if f.Host && f.Line != "" {
			t.Errorf("host frame %d has enclave source text %q", f.Index, f.Line)
		}
	}
}
