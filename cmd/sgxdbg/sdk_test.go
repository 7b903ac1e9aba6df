package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// The Intel SGX SDK test app (enclaves/sdk-test), built with the SDK named
// by SGX_SDK in hardware mode and run on the emulator: the SDK's uRTS
// (CPUID checks, /dev/sgx_enclave, the vDSO entry, its two-phase exception
// flow) and tRTS (sealing, EREPORT/EGETKEY, the registered handler) as on
// SGX hardware. CI has no SDK: the tests skip without SGX_SDK.

var (
	sdkOnce sync.Once
	sdkDir  string
	sdkErr  error
)

// sdkApp builds enclaves/sdk-test once per test binary and returns its
// build directory (app, enclave.signed.so), or skips the test without
// SGX_SDK.
func sdkApp(t *testing.T) string {
	t.Helper()
	sdk := os.Getenv("SGX_SDK")
	if sdk == "" {
		t.Skip("SGX_SDK is not set: the Intel SGX SDK test app (enclaves/sdk-test) needs an SDK installation")
	}
	sdkOnce.Do(func() {
		src, err := filepath.Abs("../../enclaves/sdk-test")
		if err != nil {
			sdkErr = err
			return
		}
		out, err := exec.Command("make", "-C", src, "SGX_SDK="+sdk).CombinedOutput()
		if err != nil {
			sdkErr = fmt.Errorf("make -C %s SGX_SDK=%s: %v\n%s", src, sdk, err, out)
			return
		}
		sdkDir = filepath.Join(src, "build")
	})
	if sdkErr != nil {
		t.Fatal(sdkErr)
	}
	return sdkDir
}

// emulateSDK runs `sgxdbg emulate -- ./app STEPS…` in the app's directory
// and returns the host's stdout and exit status.
func emulateSDK(t *testing.T, bin, dir string, steps ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), execHangLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"emulate", "--", "./app"}, steps...)...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("sgxdbg emulate ./app %v hangs\n%s%s", steps, o.String(), e.String())
	case err == nil:
		return o.String(), 0
	case errors.As(err, &ee) && ee.Exited():
		if e.Len() > 0 {
			t.Logf("stderr: %s", e.String())
		}
		return o.String(), ee.ExitCode()
	}
	t.Fatalf("sgxdbg emulate: %v\n%s", err, e.String())
	return "", 0
}

// TestSDKImageLayout: every metadata block of the SDK-signed enclave (3.3
// for EDMM platforms and 1.5 for the others: its config asks for EXINFO
// and allows dynamic features) lays out to pages that measure to the
// MRENCLAVE sgx_sign put in its SIGSTRUCT — the layout is the uRTS's, byte
// for byte.
func TestSDKImageLayout(t *testing.T) {
	dir := sdkApp(t)
	ims, err := enclave.OpenAll(filepath.Join(dir, "enclave.signed.so"))
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, im := range ims {
		versions = append(versions, im.SDK.VersionString())
	}
	if got := strings.Join(versions, " "); got != "3.3 1.5" {
		t.Errorf("metadata versions %s, want 3.3 1.5", got)
	}
	for _, im := range ims {
		defer im.Close()
		mr, err := im.MRENCLAVE()
		if err != nil {
			t.Fatal(err)
		}
		want, ok := im.DeclaredMRENCLAVE()
		if !ok || mr != want {
			t.Errorf("metadata %s: pages measure to %x, the SIGSTRUCT says %x", im.SDK.VersionString(), mr, want)
		}
		if im.Runtime != enclave.RuntimeIntelSDK || len(im.TCS) != 2 {
			t.Errorf("metadata %s: runtime %v, %d TCS; want intel-sdk and the config's 2", im.SDK.VersionString(), im.Runtime, len(im.TCS))
		}
		var kinds []string
		for _, r := range im.Regions {
			if r.TCSIndex == 0 || r.Kind == enclave.RegionHeap {
				kinds = append(kinds, r.Kind.String())
			}
		}
		if got := strings.Join(kinds, " "); got != "HEAP STACK TCS SSA THREAD" && got != "HEAP HEAP STACK TCS SSA THREAD" {
			t.Errorf("metadata %s: regions of the heap and TCS 0: %s", im.SDK.VersionString(), got)
		}
	}
}

// TestSDKEmulate: the app's ecalls under `sgxdbg emulate`: an ecall with an
// ocall, sealing, a self-report verified in the enclave, CPUID skipped by
// the enclave's registered handler through the SDK's two-phase flow.
func TestSDKEmulate(t *testing.T) {
	dir := sdkApp(t)
	bin := fixtures.Binary(t)
	out, status := emulateSDK(t, bin, dir, "add", "seal", "report", "cpuid")
	want := "created\n" +
		"add status 0x0000 result 0x7\n" +
		"seal status 0x0000 result 0\n" +
		"report status 0x0000 result 0\n" +
		"cpuid status 0x0000 result 0x5347\n"
	if out != want || status != 0 {
		t.Errorf("host output (status %d):\n%s\nwant (status 0):\n%s", status, out, want)
	}
}

// TestSDKEmulateUnhandledPF: a write to address 0 with no handler: the
// tRTS marks the enclave crashed and the ecall fails with
// SGX_ERROR_ENCLAVE_CRASHED (0x1006).
func TestSDKEmulateUnhandledPF(t *testing.T) {
	dir := sdkApp(t)
	bin := fixtures.Binary(t)
	out, status := emulateSDK(t, bin, dir, "pf", "add")
	want := "created\npf status 0x1006 result 0\nadd status 0x1006 result 0\n"
	if out != want || status != 1 {
		t.Errorf("host output (status %d):\n%s\nwant (status 1):\n%s", status, out, want)
	}
}

// TestSDKExecHandler: `sgxdbg exec` stops at the #UD AEX of ecall_cpuid,
// symbolized from the --enclave image (the app names its enclave by a
// path constant) with a backtrace through the SDK's tRTS;
// eenter-handler --abi intel-sdk runs the tRTS's first phase, which points
// the SSA at its second phase (RIP = internal_handle_exception, RSP below
// the exception info it wrote, RDI = RAX = that info); continue ERESUMEs
// into it, the registered handler skips the CPUID and the ecall returns
// its answer.
func TestSDKExecHandler(t *testing.T) {
	dir := sdkApp(t)
	bin := fixtures.Binary(t)
	r := execBinaryIn(t, bin, dir, nil, "--json", "--enclave", "enclave.signed.so", "-x", "bt; eenter-handler --abi intel-sdk; continue", "--", "./app", "cpuid")
	if r.status != 0 || len(r.stops) != 1 || len(r.commands) != 3 {
		t.Fatalf("status %d, %d stops, %d commands, stderr %q; want 0, 1 and 3\n%v", r.status, len(r.stops), len(r.commands), r.stderr, r.commands)
	}
	var stop struct {
		VectorName string `json:"vector_name"`
		RIP        string `json:"rip"`
		Enclave    string `json:"enclave"`
	}
	if err := json.Unmarshal([]byte(r.stops[0]), &stop); err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(dir, "enclave.signed.so")
	base, _ := parseHex(stop.Enclave)
	rip, _ := parseHex(stop.RIP)
	if stop.VectorName != "#UD" || rip < base+nmSymbol(t, so, "ecall_cpuid") {
		t.Errorf("stop %s, want the #UD AEX in ecall_cpuid", r.stops[0])
	}
	var bt struct {
		Result struct {
			Frames []struct {
				Symbol string `json:"symbol"`
				Source string `json:"source"`
				Host   bool   `json:"host"`
			} `json:"frames"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.commands[0]), &bt); err != nil {
		t.Fatal(err)
	}
	var syms []string
	for _, f := range bt.Result.Frames {
		if f.Host {
			break
		}
		syms = append(syms, f.Symbol)
	}
	wantLine := fmt.Sprintf("enclave.c:%d", sourceLine(t, "../../enclaves/sdk-test/enclave.c", `"cpuid"`))
	if got := strings.Join(syms, " "); got != "ecall_cpuid sgx_ecall_cpuid do_ecall enter_enclave enclave_entry" ||
		!strings.HasSuffix(bt.Result.Frames[0].Source, wantLine) {
		t.Errorf("bt: %s\nwant ecall_cpuid at %s, sgx_ecall_cpuid, do_ecall, enter_enclave, enclave_entry", r.commands[0], wantLine)
	}
	var h struct {
		Result struct {
			ABI, RDI, RSI, Status string
			Exited, Handled       bool
			Changes               []struct{ Field, Old, New string }
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.commands[1]), &h); err != nil {
		t.Fatal(err)
	}
	res := h.Result
	if res.ABI != "intel-sdk" || !res.Exited || !res.Handled || res.RDI != "0xffffffffffffffff" || res.RSI != "0x0" ||
		res.Status != "handled (SGX_SUCCESS): the host would ERESUME into the second phase" {
		t.Errorf("eenter-handler: %s", r.commands[1])
	}
	changed := map[string][2]uint64{}
	var fields []string
	for _, c := range res.Changes {
		o, _ := parseHex(c.Old)
		n, _ := parseHex(c.New)
		changed[c.Field] = [2]uint64{o, n}
		fields = append(fields, c.Field)
	}
	second := base + nmSymbol(t, so, "internal_handle_exception")
	if strings.Join(fields, " ") != "rax rdi rsp rip" || changed["rip"] != [2]uint64{rip, second} ||
		changed["rax"][1] != changed["rsp"][1]+8 || changed["rdi"][1] != changed["rax"][1] {
		t.Errorf("eenter-handler changes %s; want rax, rdi = the info at RSP+8, rsp, rip %#x -> internal_handle_exception %#x", r.commands[1], rip, second)
	}
	checkLines(t, "continue", r.commands[2:], []string{cmdJSON(t, "continue",
		`{"action":"continue","message":"the handler eenter-handler ran said handled: ERESUME, as the host would"}`)})
	checkLines(t, "host stdout", r.host, []string{"created", "cpuid status 0x0000 result 0x5347"})
}

// TestSDKExecUnhandledPF: the #PF of ecall_pf stops twice: continue lets
// the uRTS run the tRTS's first phase (through the vDSO's exception
// handler) and ERESUME into the second, which finds no handler and faults
// again; the second first phase reports the enclave crashed.
func TestSDKExecUnhandledPF(t *testing.T) {
	dir := sdkApp(t)
	bin := fixtures.Binary(t)
	r := execBinaryIn(t, bin, dir, nil, "--json", "--enclave", "enclave.signed.so", "-x", "continue; continue", "--", "./app", "pf")
	if r.status != 1 || len(r.stops) != 2 {
		t.Fatalf("status %d, %d stops, stderr %q; want 1 and 2", r.status, len(r.stops), r.stderr)
	}
	for i, st := range r.stops {
		if !strings.Contains(st, `"vector_name":"#PF"`) || !strings.Contains(st, `"maddr":"0x0"`) || !strings.Contains(st, `"errcd":"0x6"`) {
			t.Errorf("stop %d %s, want the #PF writing address 0 (error code 0x6)", i, st)
		}
	}
	want := cmdJSON(t, "continue", `{"action":"continue","message":"continuing: the host's vDSO call returns with the exception"}`)
	checkLines(t, "commands", r.commands, []string{want, want})
	checkLines(t, "host stdout", r.host, []string{"created", "pf status 0x1006 result 0"})
}

// sourceLine returns the 1-based number of the first line of file that
// contains s.
func sourceLine(t *testing.T, file, s string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %s", file, s)
	return 0
}

// TestSDKExecBreak: a breakpoint on an ecall of the SDK enclave, pending
// until the enclave is initialized; info enclaves names the image and the
// metadata block that matched by MRENCLAVE (the SIGSTRUCT's).
func TestSDKExecBreak(t *testing.T) {
	dir := sdkApp(t)
	bin := fixtures.Binary(t)
	r := execBinaryIn(t, bin, dir, nil, "--json", "--enclave", "enclave.signed.so", "-x", "break ecall_add; info enclaves; continue", "--", "./app", "add")
	if r.status != 0 || len(r.stops) != 1 || len(r.commands) != 3 {
		t.Fatalf("status %d, %d stops, %d commands, stderr %q; want 0, 1 and 3\n%v", r.status, len(r.stops), len(r.commands), r.stderr, r.commands)
	}
	src, err := filepath.Abs("../../enclaves/sdk-test/enclave.c")
	if err != nil {
		t.Fatal(err)
	}
	// After the prologue: the stack protector's canary load, which GCC
	// puts on the line of the opening brace, the line after the name.
	where := fmt.Sprintf("in ecall_add at %s:%d", src, sourceLine(t, src, "int ecall_add(")+1)
	if !strings.Contains(r.commands[0], `"where":["`+where+`"]`) {
		t.Errorf("break: %s, want one location %s", r.commands[0], where)
	}
	ims, err := enclave.OpenAll(filepath.Join(dir, "enclave.signed.so"))
	if err != nil {
		t.Fatal(err)
	}
	mr, _ := ims[0].DeclaredMRENCLAVE()
	for _, im := range ims {
		im.Close()
	}
	var info struct {
		Result struct {
			Enclaves []struct {
				MRENCLAVE string `json:"mrenclave"`
				Image     string `json:"image"`
				Runtime   string `json:"runtime"`
				TCS       []any  `json:"tcs"`
			} `json:"enclaves"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.commands[1]), &info); err != nil {
		t.Fatal(err)
	}
	if e := info.Result.Enclaves; len(e) != 1 || e[0].MRENCLAVE != fmt.Sprintf("%x", mr) || e[0].Image != "enclave.signed.so" ||
		e[0].Runtime != "intel-sdk metadata 3.3" || len(e[0].TCS) != 2 {
		t.Errorf("info enclaves: %s\nwant the enclave of MRENCLAVE %x, image enclave.signed.so, intel-sdk metadata 3.3, 2 TCS", r.commands[1], mr)
	}
	checkLines(t, "continue", r.commands[2:], []string{cmdJSON(t, "continue", `{"action":"continue","message":"ERESUME past the breakpoint"}`)})
	checkLines(t, "host stdout", r.host, []string{"created", "add status 0x0000 result 0x7"})
}
