package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestExecSignals sends SIGTERM, SIGHUP and SIGINT to sgxdbg in a script
// session that dumps every AEX to a temporary core (--dump-on fatal) and
// at the line prompt: sgxdbg kills and reaps the host, removes the
// temporary core, says why it ended and exits 128 + the signal.
func TestExecSignals(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	modes := []struct {
		name string
		args []string
		wait string // the stdout line prefix to see before the signal
	}{
		{"script", []string{"--dump-on", "fatal", "-x", "continue"}, `{"command":"continue"`},
		{"prompt", nil, `{"stop":`},
	}
	for _, m := range modes {
		for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGHUP, unix.SIGINT} {
			t.Run(m.name+"-"+unix.SignalName(sig), func(t *testing.T) {
				work := t.TempDir()
				args := append(append([]string{}, m.args...), "--")
				args = append(args, hostArgs(dir, "int3", []string{"--repeat", "100000000"}, "0")...)
				h := startHostDeathIn(t, bin, work, args...)
				if !h.until(m.wait) {
					t.Fatal("the session did not get going")
				}
				if err := h.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				status, hung := h.finish(30 * time.Second)
				if hung {
					t.Fatalf("sgxdbg did not end after %s; stderr:\n%s", unix.SignalName(sig), h.stderr.String())
				}
				if want := 128 + int(sig); status != want {
					t.Errorf("sgxdbg exited %d, want %d", status, want)
				}
				if want := fmt.Sprintf("sgxdbg: %s: the session ended, the host was killed\n", unix.SignalName(sig)); !strings.HasSuffix(h.stderr.String(), want) {
					t.Errorf("stderr %q, want it to end with %q", h.stderr.String(), want)
				}
				if hostLeft(h.pid) {
					t.Errorf("host %d still exists", h.pid)
				}
				ents, err := os.ReadDir(work)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range ents {
					t.Errorf("left behind in the working directory: %s", e.Name())
				}
			})
		}
	}
}
