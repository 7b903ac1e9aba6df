package debugger_test

import (
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// fuzzSafe are the commands FuzzExecAtStop runs: views, the parsers, and
// the edits that only change enclave memory or SSA fields. Commands that
// let the host or the enclave run (resume, handler, step), destroy it, or
// write files are left out: the fuzzed session must stay at its stop.
var fuzzSafe = map[string]bool{"help": true, "info": true, "ssa": true, "regs": true, "disas": true, "bt": true,
	"x": true, "events": true, "stop-on": true, "set": true, "skip": true, "write": true}

// canonicalName resolves a command word (or alias, or x/FMT) to its name.
func canonicalName(word string) string {
	if strings.HasPrefix(word, "x/") {
		return "x"
	}
	for _, c := range debugger.Commands() {
		if c.Name == word {
			return c.Name
		}
		for _, a := range c.Aliases {
			if a == word {
				return c.Name
			}
		}
	}
	return ""
}

// FuzzExecAtStop runs arbitrary command lines at a real AEX stop (the int3
// sample's #BP): the command language parses untrusted text, and views and
// edits decode whatever enclave memory and SSA frames the earlier lines
// left. No line may panic, and every one leaves the session stopped.
func FuzzExecAtStop(f *testing.F) {
	for _, seed := range []string{"ssa", "ssa 0", "x/8xg ssa.rsp", "x/4i ssa.rip", "x/s readonly_page", "disas trap_int3 4",
		"bt", "regs", "info enclaves", "set ssa.rsp 0", "set ssa.rip 0x10", "write trap_int3 ebfe", "skip", "stop-on aex #PF,3",
		"events 3", "help x", "x/0xq", "write 0x 00"} {
		f.Add(seed)
	}
	r := start(f, debugger.Policy{}, nil, "int3", "0")
	r.stop()
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Fields(line)
		if len(words) == 0 || !fuzzSafe[canonicalName(words[0])] {
			return
		}
		_, _ = r.s.Exec(line)
		if !r.s.IsStopped() {
			t.Fatalf("%q: the session is no longer stopped", line)
		}
	})
}
