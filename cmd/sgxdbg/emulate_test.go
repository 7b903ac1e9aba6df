package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// emulateBinary runs `sgxdbg emulate ARGS…` and returns its stdout, stderr
// and exit status.
func emulateBinary(t *testing.T, bin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"emulate"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		status = ee.ExitCode()
	default:
		t.Fatalf("sgxdbg emulate %v: %v\n%s", args, err, e.String())
	}
	return o.String(), e.String(), status
}

// nmSymbol reads a symbol's value with binutils' nm, independently of
// sgxdbg's ELF code.
func nmSymbol(t *testing.T, file, name string) uint64 {
	t.Helper()
	out, err := exec.Command("nm", file).Output()
	if err != nil {
		t.Fatalf("nm %s: %v", file, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var v uint64
		var typ, sym string
		if n, _ := fmt.Sscanf(line, "%x %s %s", &v, &typ, &sym); n == 3 && sym == name {
			return v
		}
	}
	t.Fatalf("nm %s: no symbol %s", file, name)
	return 0
}

// canonical renders a JSON object with sorted keys, for exact comparison.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hexU(v uint64) string { return fmt.Sprintf("%#x", v) }

// TestEmulate runs the built sgxdbg's emulate command on the samples.
func TestEmulate(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	t.Run("json", func(t *testing.T) { testEmulateJSON(t, bin, dir) })
	t.Run("exit-status", func(t *testing.T) { testEmulateExitStatus(t, bin, dir) })
}

// testEmulateJSON runs the pf_untrusted sample (ecall 0 reads the untrusted
// address 0x10000 from inside the enclave) under `sgxdbg emulate --json`
// and checks every event it writes, field by field, against the image
// (enclave package), its SIGSTRUCT and nm; sgxdbg exits with the host's
// status.
func testEmulateJSON(t *testing.T, bin, dir string) {
	host, elf := filepath.Join(dir, "host"), filepath.Join(dir, "pf_untrusted.elf")
	im, err := enclave.Open(elf)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	mr, err := im.MRENCLAVE()
	if err != nil {
		t.Fatal(err)
	}
	rawSig, err := os.ReadFile(elf + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	var sig sgx.SigStruct
	if err := sig.UnmarshalBinary(rawSig); err != nil {
		t.Fatal(err)
	}
	mrsigner := sig.MRSIGNER()

	events := filepath.Join(t.TempDir(), "events.json")
	// --no-vdso: the host's own ENCLU, so the AEX reaches it as a signal at
	// its own AEP (TestSamples in debugger/emu covers the vDSO path).
	stdout, stderr, status := emulateBinary(t, bin, "--json", "-o", events, "--", host, "--no-vdso", elf, elf+".sig", "0", "0x10000")
	if status != 2 || stdout != "" || stderr != "unhandled enclave exception: #PF (SIGSEGV)\n" {
		t.Fatalf("status %d stdout %q stderr %q, want the host's: 2, nothing, the #PF line", status, stdout, stderr)
	}
	raw, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		got = append(got, m)
	}

	runs := im.Runs()
	var names []string
	for _, m := range got {
		names = append(names, fmt.Sprint(m["event"]))
	}
	wantNames := []string{"enclave-created"}
	for range runs {
		wantNames = append(wantNames, "pages-added")
	}
	wantNames = append(wantNames, "enclave-initialized", "eenter", "aex", "eenter", "eexit", "enclave-removed", "exit")
	if strings.Join(names, " ") != strings.Join(wantNames, " ") {
		t.Fatalf("events\n got %v\nwant %v", names, wantNames)
	}

	pid, _ := got[0]["pid"].(float64)
	base, err := parseHex(got[0]["enclave"])
	if err != nil || base == 0 || base%im.Size != 0 {
		t.Fatalf("enclave-created: base %v (%v), want a non-zero multiple of SIZE %#x", got[0]["enclave"], err, im.Size)
	}
	tcs := hexU(base + im.TCS[0].Offset)
	aep, err := parseHex(got[len(runs)+3]["aep"])
	if hostAEP := nmSymbol(t, host, "host_aep"); err != nil || aep < hostAEP || (aep-hostAEP)%sgx.PageSize != 0 {
		t.Errorf("aex: aep %v (%v), want host_aep (%#x) in the position-independent host", got[len(runs)+3]["aep"], err, hostAEP)
	}
	want := []map[string]any{{
		"event": "enclave-created", "pid": pid, "enclave": hexU(base), "size": hexU(im.Size),
		"ssa_frame_size": im.SSAFrameSize, "miscselect": hexU(uint64(im.MiscSelect)),
		"attributes": hexU(uint64(im.Attributes.Flags)), "xfrm": hexU(im.Attributes.XFRM),
	}}
	for _, r := range runs {
		want = append(want, map[string]any{
			"event": "pages-added", "enclave": hexU(base), "offset": hexU(r.Offset), "length": hexU(r.Length),
			"secinfo": hexU(uint64(r.Secinfo)), "measure": r.Measured,
		})
	}
	want = append(want,
		map[string]any{"event": "enclave-initialized", "enclave": hexU(base),
			"mrenclave": hex.EncodeToString(mr[:]), "mrsigner": hex.EncodeToString(mrsigner[:])},
		map[string]any{"event": "eenter", "tid": pid, "tcs": tcs, "cssa": 0},
		map[string]any{"event": "aex", "tid": pid, "enclave": hexU(base), "tcs": tcs, "ssa": 0, "cssa": 1,
			"vector": 14, "vector_name": "#PF", "exit_type": "hardware", "valid": true,
			"maddr": "0x10000", "errcd": "0x4", "rip": hexU(base + nmSymbol(t, elf, "fault_read_untrusted")),
			"aep": hexU(aep), "signal": "SIGSEGV"},
		map[string]any{"event": "eenter", "tid": pid, "tcs": tcs, "cssa": 1},
		map[string]any{"event": "eexit", "tid": pid, "tcs": tcs},
		map[string]any{"event": "enclave-removed", "pid": pid, "enclave": hexU(base)},
		map[string]any{"event": "exit", "pid": pid, "status": 2},
	)
	for i := range want {
		if g, w := canonical(t, got[i]), canonical(t, want[i]); g != w {
			t.Errorf("event %d\n got %s\nwant %s", i, g, w)
		}
	}

	// --trace: one line per event, in the same order.
	trace := filepath.Join(t.TempDir(), "trace")
	_, stderr, status = emulateBinary(t, bin, "--trace", "-o", trace, "--", host, "--no-vdso", elf, elf+".sig", "0", "0x10000")
	if status != 2 || stderr != "unhandled enclave exception: #PF (SIGSEGV)\n" {
		t.Fatalf("--trace: status %d stderr %q", status, stderr)
	}
	tb, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(tb), "\n"), "\n")
	if len(lines) != len(wantNames) {
		t.Fatalf("--trace printed %d lines, want one per event (%d):\n%s", len(lines), len(wantNames), tb)
	}
	for i, l := range lines {
		if prefix := fmt.Sprintf("sgxdbg: %-19s ", wantNames[i]); !strings.HasPrefix(l, prefix) {
			t.Errorf("--trace line %d %q, want it to start with %q", i+1, l, prefix)
		}
	}
	if l := lines[len(runs)+3]; !strings.Contains(l, " ssa[0] #PF (page fault) hardware valid=true maddr 0x10000 errcd 0x4 ") ||
		!strings.HasSuffix(l, " cssa 1 -> SIGSEGV") {
		t.Errorf("--trace aex line %q", l)
	}
}

// testEmulateExitStatus: sgxdbg emulate exits with its host's status, 0
// included, and leaves the host's output alone.
func testEmulateExitStatus(t *testing.T, bin, dir string) {
	elf := filepath.Join(dir, "clean.elf")
	stdout, stderr, status := emulateBinary(t, bin, "--", filepath.Join(dir, "host"), elf, elf+".sig", "0", "1", "2", "3")
	if want := "enclave: clean: summing 3 values\necall 0 returned 0x6\n"; status != 0 || stdout != want || stderr != "" {
		t.Errorf("status %d stdout %q stderr %q, want 0, %q and nothing", status, stdout, stderr, want)
	}
}

func parseHex(v any) (uint64, error) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "0x") {
		return 0, fmt.Errorf("%v is not a hex string", v)
	}
	var n uint64
	_, err := fmt.Sscanf(s, "0x%x", &n)
	return n, err
}
