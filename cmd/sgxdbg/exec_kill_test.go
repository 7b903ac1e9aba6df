package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sgxdbg killed with SIGKILL in the middle of a session leaves nothing
// behind: its host is traced with PTRACE_O_EXITKILL, so the kernel kills
// every host thread when the tracer dies.

// processGone reports whether no process or thread tid runs any more (an
// unreaped zombie counts as gone: it runs nothing and holds no memory).
func processGone(tid int) bool {
	if err := unix.Kill(tid, 0); errors.Is(err, unix.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", tid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// waitGone polls, a bounded number of times, until every tid is gone.
func waitGone(t *testing.T, tids []int) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		left := 0
		for _, tid := range tids {
			if !processGone(tid) {
				left++
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, tid := range tids {
		if !processGone(tid) {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", tid))
			t.Errorf("host thread %d still runs after sgxdbg was killed: %s", tid, stat)
			_ = unix.Kill(tid, unix.SIGKILL)
		}
	}
}

// hostThreads lists the threads of pid and checks that tracer traces them.
func hostThreads(t *testing.T, pid, tracer int) []int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		tids = append(tids, tid)
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
		if err != nil {
			t.Fatal(err)
		}
		// TracerPid names the tracing thread: one of sgxdbg's.
		var tracerTid int
		if i := strings.Index(string(status), "\nTracerPid:\t"); i >= 0 {
			fmt.Sscanf(string(status[i+len("\nTracerPid:\t"):]), "%d", &tracerTid)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", tracer, tracerTid)); tracerTid == 0 || err != nil {
			t.Errorf("host thread %d is traced by %d, not by a thread of sgxdbg %d", tid, tracerTid, tracer)
		}
	}
	return tids
}

// startKillable starts `sgxdbg exec --json ARGS…` with pipes and returns
// the command, a reader of its stdout and the host's pid from the
// enclave-created event.
func startKillable(t *testing.T, bin string, args ...string) (*exec.Cmd, *bufio.Scanner, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"exec", "--json"}, args...)...)
	if _, err := cmd.StdinPipe(); err != nil { // held open: the prompt waits
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["event"] == "enclave-created" {
			return cmd, sc, int(m["pid"].(float64))
		}
	}
	t.Fatalf("no enclave-created event: %v", sc.Err())
	return nil, nil, 0
}

// scanUntil reads lines until one starts with prefix (bounded by the
// output itself: the host's end closes it).
func scanUntil(t *testing.T, sc *bufio.Scanner, prefix string, n int) {
	t.Helper()
	for seen := 0; sc.Scan(); {
		if strings.HasPrefix(sc.Text(), prefix) {
			if seen++; seen == n {
				return
			}
		}
	}
	t.Fatalf("the output ended before %d lines starting with %q: %v", n, prefix, sc.Err())
}

// killAndCheck kills sgxdbg with SIGKILL and checks that every host thread
// goes away.
func killAndCheck(t *testing.T, cmd *exec.Cmd, tids []int) {
	t.Helper()
	if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sgxdbg ended with %v, want killed by SIGKILL", err)
	}
	waitGone(t, tids)
}

// testExecKilled kills sgxdbg (1) at the prompt while one host thread is
// stopped at an AEX and the other runs in the enclave, and (2) while a
// script session runs a host whose AEXs the policy passes through.
func testExecKilled(t *testing.T, bin, dir string) {
	t.Run("at-prompt", func(t *testing.T) {
		cmd, sc, pid := startKillable(t, bin, append([]string{"--"}, hostArgs(dir, "threads", []string{"--threads", "2"}, "0")...)...)
		scanUntil(t, sc, `{"stop":`, 1)
		tids := hostThreads(t, pid, cmd.Process.Pid)
		if len(tids) < 2 {
			t.Errorf("host threads %v, want the main thread and at least the stopped worker", tids)
		}
		killAndCheck(t, cmd, tids)
	})
	t.Run("in-script", func(t *testing.T) {
		cmd, sc, pid := startKillable(t, bin, append([]string{"--stop-on", "aex #PF", "-x", "info tcs", "--"},
			hostArgs(dir, "int3", []string{"--repeat", "100000000"}, "0")...)...)
		scanUntil(t, sc, `{"aep":`, 100) // AEX events passed through
		tids := hostThreads(t, pid, cmd.Process.Pid)
		killAndCheck(t, cmd, tids)
	})
}
