package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestExecNesting: actions whose consequence is another stop, from a
// script, through the host's preferred entry (the vDSO): none hangs, and
// each ends as the SDM and the sample say.
func TestExecNesting(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	for _, tc := range []struct {
		name   string
		flags  []string
		sample string
		args   []string
		flow   string
		status int
		host   string
	}{
		// The ERESUME is a stop; the enclave faults again; the host runs the
		// enclave's handler, which says unhandled.
		{"stop-on eresume + eresume", []string{"--stop-on", "aex", "--stop-on", "eresume", "-x", "eresume"}, "pf_untrusted",
			[]string{"0", "0x10000"}, "eenter aex stop eresume stop aex stop eenter eexit enclave-removed exit", 2, ""},
		// The handler says handled: continue ERESUMEs, never re-running it.
		{"eenter-handler + continue", []string{"-x", "eenter-handler; continue"}, "de",
			[]string{"1", "42", "0"}, "eenter aex stop eenter eexit eresume eexit enclave-removed exit", 0, "ecall 1 returned 0xd15ab1ed"},
		{"stop-on eresume + eenter-handler + eresume", []string{"--stop-on", "aex", "--stop-on", "eresume", "-x", "eenter-handler; eresume"}, "de",
			[]string{"1", "42", "0"}, "eenter aex stop eenter eexit eresume stop eexit enclave-removed exit", 0, "ecall 1 returned 0xd15ab1ed"},
		// A step under stop-on all: the step's ERESUME, then its #DB.
		{"stop-on all + stepi", []string{"--stop-on", "all", "-x", "continue; skip; stepi; continue"}, "int3",
			[]string{"0"}, "eenter stop aex stop eresume stop aex stop eresume stop eexit stop enclave-removed exit", 0, "ecall 0 returned 0x0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			elf := filepath.Join(dir, tc.sample+".elf")
			args := append(append([]string{"--json"}, tc.flags...), "--", filepath.Join(dir, "host"), elf, elf+".sig")
			r := execBinary(t, bin, nil, append(args, tc.args...)...)
			if r.status != tc.status || r.flow() != tc.flow || strings.Join(r.host, "\n") != tc.host {
				t.Errorf("status %d, flow %q, host %q; want %d, %q, %q\nstderr: %s", r.status, r.flow(), r.host, tc.status, tc.flow, tc.host, r.stderr)
			}
		})
	}
}
