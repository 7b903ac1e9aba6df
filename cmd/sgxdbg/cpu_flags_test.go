package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// commandResult returns the result object of the first command line for cmd.
func commandResult(t *testing.T, r *execOutput, cmd string) map[string]any {
	t.Helper()
	for _, c := range r.commands {
		var m map[string]any
		if err := json.Unmarshal([]byte(c), &m); err != nil {
			t.Fatal(err)
		}
		if m["command"] == cmd {
			res, _ := m["result"].(map[string]any)
			if res == nil {
				t.Fatalf("%s: %s", cmd, c)
			}
			return res
		}
	}
	t.Fatalf("no result for %s in %v", cmd, r.commands)
	return nil
}

// TestExecCPU: --cpu, --epc and --cpuid reach the emulator, and info cpu
// and info enclaves show the processor and the rewritten CPUID sites.
func TestExecCPU(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	elf := filepath.Join(dir, "ud.elf")
	site := nmSymbol(t, elf, "emulated_cpuid") + 5

	t.Run("sgx1-faulting", func(t *testing.T) {
		r := execBinary(t, bin, nil, append([]string{"--json", "--cpu", "sgx1", "--epc", "64M", "-x", "info cpu; info enclaves; continue", "--"},
			hostArgs(dir, "ud", nil, "0")...)...)
		if r.status != 0 {
			t.Fatalf("status %d, stderr %q", r.status, r.stderr)
		}
		cpu := commandResult(t, r, "info cpu")
		got := canonical(t, map[string]any{"model": cpu["model"], "cpuid_method": cpu["cpuid_method"], "sgx1": cpu["sgx1"], "sgx2": cpu["sgx2"],
			"miscselect": cpu["miscselect"], "attributes": cpu["attributes"], "epc": cpu["epc"], "leaf12_0": cpu["leaf12"].([]any)[0]})
		want := canonical(t, map[string]any{"model": "sgx1", "cpuid_method": "faulting", "sgx1": true, "sgx2": false,
			"miscselect": "0x1", "attributes": "0x36", "epc": []any{map[string]any{"base": "0x80000000", "size": "0x4000000"}},
			"leaf12_0": []any{"0x1", "0x1", "0x0", "0x241f"}})
		checkLines(t, "info cpu", []string{got}, []string{want})
		if n, _ := cpu["host_cpuids"].(float64); n <= 0 {
			t.Errorf("host_cpuids %v: the host's own CPUIDs (glibc's start-up) were not answered", cpu["host_cpuids"])
		}
		encl := commandResult(t, r, "info enclaves")["enclaves"].([]any)[0].(map[string]any)
		if _, ok := encl["cpuid_rewritten"]; ok {
			t.Errorf("CPUID faulting, yet info enclaves lists rewritten sites: %v", encl["cpuid_rewritten"])
		}
		checkLines(t, "host stdout", r.host, []string{"ecall 0 returned 0x5347584442470001"})
	})

	t.Run("rewrite", func(t *testing.T) {
		r := execBinary(t, bin, nil, append([]string{"--json", "--cpuid", "rewrite", "-x", "info enclaves; x/2xb ssa.rip; info cpu; continue", "--"},
			hostArgs(dir, "ud", nil, "0")...)...)
		if r.status != 0 {
			t.Fatalf("status %d, stderr %q", r.status, r.stderr)
		}
		encl := commandResult(t, r, "info enclaves")["enclaves"].([]any)[0].(map[string]any)
		want := fmt.Sprintf(`["%#x (emulated_cpuid+0x5)"]`, r.base+site)
		if got := canonical(t, encl["cpuid_rewritten"]); got != want {
			t.Errorf("cpuid_rewritten %s, want %s", got, want)
		}
		var rewritten []string
		for _, ev := range r.events {
			if ev["event"] == "cpuid-rewritten" {
				rewritten = append(rewritten, canonical(t, ev))
			}
		}
		checkLines(t, "cpuid-rewritten events", rewritten, []string{canonical(t, map[string]any{"event": "cpuid-rewritten", "pid": r.pid,
			"enclave": hexU(r.base), "rip": hexU(r.base + site), "reason": "no CPUID faulting on this CPU: CPUID rewritten to UD2"})})
		if m := commandResult(t, r, "info cpu")["cpuid_method"]; m != "rewrite" {
			t.Errorf("info cpu: cpuid_method %v", m)
		}
		checkLines(t, "host stdout", r.host, []string{"ecall 0 returned 0x5347584442470001"})
	})

	for _, tc := range []struct{ flag, value, msg string }{
		{"--cpu", "sgx3", `--cpu: unknown CPU model "sgx3" (sgx1 or sgx2)`},
		{"--epc", "1000", `--epc: size "1000": not a non-zero multiple of 4 KiB`},
		{"--cpuid", "patch", `--cpuid: unknown CPUID method "patch" (auto, faulting or rewrite)`},
	} {
		for _, sub := range []string{"exec", "emulate"} {
			cmd := exec.Command(bin, sub, tc.flag, tc.value, "--", "/bin/true")
			var e bytes.Buffer
			cmd.Stderr = &e
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(e.String(), tc.msg) {
				t.Errorf("%s %s %s: %v, stderr %q; want status 1 and %q", sub, tc.flag, tc.value, err, e.String(), tc.msg)
			}
		}
	}
}
