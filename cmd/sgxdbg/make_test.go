package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakeSaysWhatItBuilds: the first build of sgxdbg (no binary yet)
// says what it is doing before Go compiles in silence; a build over an
// existing binary does not repeat it.
func TestMakeSaysWhatItBuilds(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	bin := t.TempDir()
	const msg = "building sgxdbg (the first build compiles every dependency: about a minute)…"
	run := func() string {
		cmd := exec.Command("make", "-C", "../..", "build", "BIN="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make build: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run(); !strings.Contains(out, msg) {
		t.Errorf("first build did not say what it does:\n%s", out)
	}
	if _, err := os.Stat(bin + "/sgxdbg"); err != nil {
		t.Fatal(err)
	}
	// Touch nothing: make has nothing to do, and says nothing of a build.
	if out := run(); strings.Contains(out, msg) {
		t.Errorf("second build repeated the message:\n%s", out)
	}
}
