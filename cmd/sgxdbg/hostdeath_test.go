package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// The host killed with SIGKILL from outside while sgxdbg runs it: the
// session reports the kill, reaps the host and exits 137, whatever the
// host was doing (held at a stop, running, in the middle of an emulated
// ENCLU or an injected syscall).

// hostDeath is one sgxdbg exec whose host a test kills.
type hostDeath struct {
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	out    *bufio.Scanner
	pid    int // the host's
	lines  []string
	stderr strings.Builder
}

// startHostDeath starts `sgxdbg exec --json ARGS…` with stdin held open
// and reads up to the host's enclave-created event.
func startHostDeath(t *testing.T, bin string, args ...string) *hostDeath {
	t.Helper()
	return startHostDeathIn(t, bin, "", args...)
}

// startHostDeathIn is startHostDeath in the working directory dir.
func startHostDeathIn(t *testing.T, bin, dir string, args ...string) *hostDeath {
	t.Helper()
	h := &hostDeath{cmd: exec.Command(bin, append([]string{"exec", "--json"}, args...)...)}
	h.cmd.Dir = dir
	stdin, err := h.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.stdin = stdin
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.cmd.Stderr = &h.stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.cmd.Process.Kill() })
	h.out = bufio.NewScanner(stdout)
	h.out.Buffer(make([]byte, 1<<20), 1<<20)
	for h.out.Scan() {
		var m map[string]any
		if json.Unmarshal(h.out.Bytes(), &m) == nil && m["event"] == "enclave-created" {
			h.pid = int(m["pid"].(float64))
			return h
		}
	}
	t.Fatalf("no enclave-created event: %v", h.out.Err())
	return nil
}

// until reads stdout until a line starts with prefix.
func (h *hostDeath) until(prefix string) bool {
	for h.out.Scan() {
		h.lines = append(h.lines, h.out.Text())
		if strings.HasPrefix(h.out.Text(), prefix) {
			return true
		}
	}
	return false
}

// finish reads the rest of stdout and waits for sgxdbg, at most limit (a
// hang detector, not a timing): hung reports that it did not end.
func (h *hostDeath) finish(limit time.Duration) (status int, hung bool) {
	done := make(chan error, 1)
	go func() {
		for h.out.Scan() {
			h.lines = append(h.lines, h.out.Text())
		}
		done <- h.cmd.Wait()
	}()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), false
		}
		if err != nil {
			return -1, false
		}
		return 0, false
	case <-time.After(limit):
		_ = h.cmd.Process.Kill()
		<-done
		return -1, true
	}
}

// hostLeft reports whether the host's process still exists in any form
// (running, stopped, or a zombie nobody reaped).
func hostLeft(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// TestHostKilled kills the host at a stop, at the line prompt and in a
// script, and checks the session's end: the exit event names SIGKILL,
// sgxdbg exits 137, the host is reaped.
func TestHostKilled(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		// The prompt waits for input at the #BP stop of one of two threads.
		{"prompt", nil},
		// The script has run at the first stop: the host is killed while
		// the next stops come and go (a command may find it dead).
		{"script", []string{"-x", "info threads"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), "--")
			h := startHostDeath(t, bin, append(args, hostArgs(dir, "threads", []string{"--threads", "2", "--repeat", "100000"}, "0")...)...)
			if !h.until(`{"stop":`) {
				t.Fatal("no stop")
			}
			if err := unix.Kill(h.pid, unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
			status, hung := h.finish(30 * time.Second)
			if hung {
				t.Fatalf("sgxdbg did not end after its host was killed; stderr:\n%s", h.stderr.String())
			}
			if status != 137 {
				t.Errorf("sgxdbg exited %d, want 137; stderr:\n%s", status, h.stderr.String())
			}
			exit := fmt.Sprintf(`{"event":"exit","killed":"SIGKILL","pid":%d,"status":137}`, h.pid)
			exits := 0
			for _, l := range h.lines {
				if l == exit {
					exits++
				}
				if strings.Contains(l, "no such process") {
					t.Errorf("a raw ptrace error reached the output: %s", l)
				}
				if strings.Contains(l, `"error"`) && !strings.Contains(l, `"code":"exited","command":"continue","error":"continue: the host was killed by SIGKILL"`) {
					t.Errorf("error line %s", l)
				}
			}
			if exits != 1 {
				t.Errorf("%d exit events %s, want 1; last lines %q", exits, exit, h.lines[max(0, len(h.lines)-3):])
			}
			if hostLeft(h.pid) {
				t.Errorf("host %d still exists after sgxdbg ended", h.pid)
			}
		})
	}
}

// TestHostKilledText: without --json the end says how the host died.
func TestHostKilledText(t *testing.T) {
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	cmd := exec.Command(bin, append([]string{"exec", "--stop-on", "none", "--"}, hostArgs(dir, "int3", []string{"--repeat", "100000000"}, "0")...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || sc.Text() != "ecall 0 returned 0x1" {
		t.Fatalf("first line %q", sc.Text())
	}
	host := 0
	for _, tid := range tidsOf(t, cmd.Process.Pid) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, tid)); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			fmt.Sscan(string(b), &host)
		}
	}
	if host == 0 {
		t.Fatal("no host process found among sgxdbg's children")
	}
	if err := unix.Kill(host, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 137 {
		t.Errorf("sgxdbg ended with %v, want exit status 137", err)
	}
	if got := stderr.String(); got != "sgxdbg: host killed by SIGKILL\n" {
		t.Errorf("stderr %q", got)
	}
	if hostLeft(host) {
		t.Errorf("host %d still exists", host)
	}
}

// tidsOf lists the threads of pid.
func tidsOf(t *testing.T, pid int) []int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		var tid int
		if _, err := fmt.Sscan(e.Name(), &tid); err == nil {
			out = append(out, tid)
		}
	}
	return out
}

// TestHostKilledSoak kills the host at random points, 50 times: two
// threads and one, stopping at every AEX (a script that lets each go on),
// at no AEX, and at the line prompt. Each run must end with status 137
// and leave no host process behind: 0 hangs, 0 zombies.
func TestHostKilledSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 50 sessions")
	}
	dir := fixtures.Samples(t)
	bin := fixtures.Binary(t)
	modes := [][]string{{"-x", "continue"}, {"--stop-on", "none"}, nil}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	hangs, left, wrong := 0, 0, 0
	for i := range 50 {
		threads := 1 + i%2
		mode := modes[(i/2)%len(modes)]
		delay := time.Duration(rng.IntN(300)) * time.Millisecond
		args := append(append([]string{}, mode...), "--")
		h := startHostDeath(t, bin, append(args, hostArgs(dir, "threads", []string{"--threads", fmt.Sprint(threads), "--repeat", "100000000"}, "0")...)...)
		go func() { // keep stdout drained while the host runs
			time.Sleep(delay)
			_ = unix.Kill(h.pid, unix.SIGKILL)
		}()
		status, hung := h.finish(30 * time.Second)
		switch {
		case hung:
			hangs++
			t.Errorf("run %d (%d threads, %v, kill after %v): sgxdbg hung; stderr:\n%s", i, threads, mode, delay, h.stderr.String())
		case status != 137:
			wrong++
			t.Errorf("run %d (%d threads, %v, kill after %v): sgxdbg exited %d, want 137; stderr:\n%s\nlast lines: %q", i, threads, mode, delay, status, h.stderr.String(), h.lines[max(0, len(h.lines)-4):])
		}
		if hostLeft(h.pid) {
			left++
			t.Errorf("run %d: host %d still exists after sgxdbg ended", i, h.pid)
			_ = unix.Kill(h.pid, unix.SIGKILL)
		}
		h.stdin.Close()
	}
	t.Logf("50 kills: %d hangs, %d hosts left, %d wrong statuses", hangs, left, wrong)
}
