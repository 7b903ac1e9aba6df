package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestProductionEnclave runs pf_untrusted_nodebug (the pf_untrusted
// sample with ATTRIBUTES.DEBUG clear) reading 0x10123, under exec (JSON
// and text, every view and action at the #PF stop), emulate --json and
// emulate --trace. What the OS sees is there — #PF, hardware, the page
// 0x10000, error code 0x4, the AEP — and nothing from the SSA or the
// TCS: no precise MADDR 0x10123, no RIP, no "ssa" or "cssa", and no
// address inside the enclave but its base (= TCS 0). Views that need
// EDBGRD answer not-debug.
func TestProductionEnclave(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	host := hostArgs(dir, "pf_untrusted_nodebug", nil, "0", "0x10123")
	script := "ssa; regs; disas; bt; info tcs; x/4xg ssa.rsp; stepi; set ssa.rip 0; write 0x0 00; events; continue"
	runs := []struct {
		name string
		args []string
	}{
		{"exec-json", append([]string{"exec", "--json", "-x", script, "--"}, host...)},
		{"exec-text", append([]string{"exec", "-x", script, "--"}, host...)},
		{"emulate-json", append([]string{"emulate", "--json", "--"}, host...)},
		{"emulate-trace", append([]string{"emulate", "--trace", "--"}, host...)},
	}
	elrange := regexp.MustCompile(`0x7f[0-9a-f]{10}`)
	base := regexp.MustCompile(`"enclave":"(0x[0-9a-f]+)","event":"enclave-created"|enclave-created +pid \d+ base (0x[0-9a-f]+)`)
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), execHangLimit)
			defer cancel()
			var o, e bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, r.args...)
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("sgxdbg: %v, want the host's status 2 (unhandled #PF)\n%s%s", err, o.String(), e.String())
			}
			out := o.String() + e.String()
			m := base.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no enclave-created event:\n%s", out)
			}
			encl, _ := strconv.ParseUint(m[1]+m[2], 0, 64)
			for _, a := range elrange.FindAllString(out, -1) {
				v, _ := strconv.ParseUint(a, 0, 64)
				if v > encl && v < encl+0x100000 {
					t.Errorf("enclave address %s (base+%#x) in the output: SSA or TCS contents leaked", a, v-encl)
				}
			}
			for _, leak := range []string{"0x10123", `"ssa":`, `"cssa":`, `"nssa":`, `"rip":`, "ssa[", " rip ", "cssa ", "CSSA"} {
				if strings.Contains(out, leak) {
					t.Errorf("%q in the output", leak)
				}
			}
			if strings.Contains(r.name, "json") {
				aex := fmt.Sprintf(`"enclave":"%#x","errcd":"0x4","event":"aex","exit_type":"hardware","maddr":"0x10000","production":true,"signal":"SIGSEGV","tcs":"%#x","tid":`, encl, encl)
				if !strings.Contains(out, aex) {
					t.Errorf("no AEX event %s in:\n%s", aex, out)
				}
			} else {
				aex := regexp.MustCompile(fmt.Sprintf(`aex +tid \d+ tcs %#x #PF \(page fault\) hardware valid=true page 0x10000 errcd 0x4 aep 0x[0-9a-f]+ -> SIGSEGV \(production enclave: what the OS sees\)`, encl))
				if !aex.MatchString(out) {
					t.Errorf("no AEX line matching %s in:\n%s", aex, out)
				}
			}
			if r.name == "exec-json" {
				for _, c := range []string{"ssa", "regs", "disas", "bt", "x/4xg ssa.rsp", "stepi", "set ssa.rip 0"} {
					w := fmt.Sprintf(`{"code":"not-debug","command":%q,"error":"enclave %#x: its memory cannot be read (ATTRIBUTES.DEBUG is clear): enclave is not a debug enclave"}`, c, encl)
					if !strings.Contains(out, w) {
						t.Errorf("missing %s in:\n%s", w, out)
					}
				}
				if w := fmt.Sprintf(`{"command":"info tcs","result":{"tcs":[{"index":0,"addr":"%#x","error":"not a debug enclave"}]}}`, encl); !strings.Contains(out, w) {
					t.Errorf("missing %s in:\n%s", w, out)
				}
			}
		})
	}
}
