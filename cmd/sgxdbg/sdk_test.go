package main

import (
	"bytes"
	"context"
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
// path constant); eenter-handler --abi intel-sdk runs the tRTS's first
// phase, which moves the SSA's RIP and RSP to its second-phase handler;
// continue ERESUMEs into it and the ecall returns the handler's answer.
func TestSDKExecHandler(t *testing.T) {
	dir := sdkApp(t)
	bin := fixtures.Binary(t)
	r := execBinaryIn(t, bin, dir, nil, "--json", "--enclave", "enclave.signed.so", "-x", "bt; eenter-handler --abi intel-sdk; continue", "--", "./app", "cpuid")
	if r.status != 0 || len(r.stops) != 1 {
		t.Fatalf("status %d, %d stops, stderr %q; want 0 and 1 stop\n%v", r.status, len(r.stops), r.stderr, r.commands)
	}
	if !strings.Contains(r.stops[0], `"vector_name":"#UD"`) {
		t.Errorf("stop %s, want the #UD AEX", r.stops[0])
	}
	if len(r.commands) != 3 {
		t.Fatalf("commands %v, want 3 results", r.commands)
	}
	if !strings.Contains(r.commands[0], `"symbol":"ecall_cpuid+`) || !strings.Contains(r.commands[0], "enclave.c:") {
		t.Errorf("bt: %s, want frame 0 in ecall_cpuid at enclave.c", r.commands[0])
	}
	h := r.commands[1]
	for _, want := range []string{`"abi":"intel-sdk"`, `"exited":true`, `"rdi":"0xffffffffffffffff"`, `"rsi":"0x0"`, `"handled":true`, `"field":"rip"`, `"field":"rsp"`} {
		if !strings.Contains(h, want) {
			t.Errorf("eenter-handler: %s, want %s", h, want)
		}
	}
	checkLines(t, "host stdout", r.host, []string{"created", "cpuid status 0x0000 result 0x5347"})
}
