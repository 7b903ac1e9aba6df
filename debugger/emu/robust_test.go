package emu

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// Robustness: hosts that die or leave at awkward moments, sgxdbg itself
// killed, and hosts that misuse the driver ABI.

// gone reports whether no process or thread tid exists any more (a zombie
// nobody reaps counts as gone: it runs nothing and holds no memory).
func gone(tid int) bool {
	if err := unix.Kill(tid, 0); errors.Is(err, unix.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", tid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) STATE …; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// conformLoadEvents is the event list of loading the conform blob layout.
func conformLoadEvents() string {
	k := []string{"enclave-created"}
	for range (conformEnclave{nssa: 2}).pages() {
		k = append(k, "pages-added")
	}
	return strings.Join(append(k, "enclave-initialized"), " ")
}

func checkNothingLeft(t *testing.T, r hostRun, tids ...int) {
	t.Helper()
	if len(r.threads) != 0 || len(r.enclaves) != 0 {
		t.Errorf("after the exit the emulator still tracks threads %+v enclaves %+v", r.threads, r.enclaves)
	}
	for _, tid := range append([]int{r.pid}, tids...) {
		if err := unix.Kill(tid, 0); !errors.Is(err, unix.ESRCH) {
			t.Errorf("kill(%d, 0) after Wait: %v, want ESRCH", tid, err)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", tid)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("/proc/%d after Wait: %v, want it gone", tid, err)
		}
	}
}

// TestKillHostInEnclave kills the host with SIGKILL while its thread spins
// inside the enclave (conform op 1): Wait reports the kill, the enclave is
// removed, and nothing of the host remains.
func TestKillHostInEnclave(t *testing.T) {
	k := buildKit(t)
	bin, code, _ := buildConform(t)
	blob, sig := k.writeSigned(t, t.TempDir(), conformEnclave{code: code})
	tr := ptrace.NewTracer()
	defer tr.Close()
	var events eventLog
	r := runHost(t, tr, []string{bin, blob, sig, "enter", "1"}, func(em *Emulator, ev Event) {
		events.record(em, ev)
		if ev.Kind == EvEENTER {
			// Let the thread reach its spin loop, natively, first.
			pid := em.Pid()
			time.AfterFunc(100*time.Millisecond, func() { _ = unix.Kill(pid, unix.SIGKILL) })
		}
	})
	if r.status != (ExitStatus{Signal: unix.SIGKILL}) || r.status.ShellCode() != 137 {
		t.Errorf("status %+v (shell %d), want killed by SIGKILL (137)", r.status, r.status.ShellCode())
	}
	if want := conformLoadEvents() + " eenter enclave-removed exit"; events.kinds() != want {
		t.Errorf("events\n got %s\nwant %s", events.kinds(), want)
	}
	if last := events[len(events)-1]; last.Kind != EvExit || last.Killed != unix.SIGKILL || last.Status != 137 || last.Pid != r.pid {
		t.Errorf("exit event %+v, want pid %d killed by SIGKILL, status 137", last, r.pid)
	}
	checkNothingLeft(t, r)
}

// TestHostExitsInsideEnclave: one thread spins inside the enclave while
// another calls exit(3); the spinning thread is a second thread, then the
// main thread.
func TestHostExitsInsideEnclave(t *testing.T) {
	k := buildKit(t)
	blob, sig := k.writeSigned(t, t.TempDir(), conformEnclave{})
	for _, who := range []string{"thread", "main"} {
		t.Run(who, func(t *testing.T) {
			tr := ptrace.NewTracer()
			defer tr.Close()
			var events eventLog
			r := runHost(t, tr, []string{k.robust, blob, sig, "exit-inside", who}, events.record)
			if r.status != (ExitStatus{Code: 3}) || r.out != "inside\n" {
				t.Errorf("status %+v output %q, want exit 3 and %q", r.status, r.out, "inside\n")
			}
			if want := conformLoadEvents() + " eenter enclave-removed exit"; events.kinds() != want {
				t.Fatalf("events\n got %s\nwant %s", events.kinds(), want)
			}
			spinner := events[len(events)-3].Tid
			if (who == "main") != (spinner == r.pid) {
				t.Errorf("EENTER on thread %d, host %d: want the %s thread inside", spinner, r.pid, who)
			}
			if last := events[len(events)-1]; last.Status != 3 || last.Killed != 0 {
				t.Errorf("exit event %+v, want status 3", last)
			}
			checkNothingLeft(t, r, spinner)
		})
	}
}

// TestSgxdbgKilled kills `sgxdbg emulate` itself with SIGKILL while the
// host spins inside its enclave: the host must die with it (the tracer sets
// PTRACE_O_EXITKILL).
func TestSgxdbgKilled(t *testing.T) {
	k := buildKit(t)
	bin, code, _ := buildConform(t)
	dir := t.TempDir()
	blob, sig := k.writeSigned(t, dir, conformEnclave{code: code})
	sgxdbg := fixtures.Binary(t)
	events := filepath.Join(dir, "events")
	cmd := exec.Command(sgxdbg, "emulate", "--json", "-o", events, "--", bin, blob, sig, "enter", "1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	host := 0
	for deadline := time.Now().Add(20 * time.Second); host == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no eenter event from sgxdbg emulate within 20 s")
		}
		host = enteredHost(t, events)
	}
	defer func() { _ = unix.Kill(host, unix.SIGKILL) }()
	if gone(host) {
		t.Fatalf("host %d gone before sgxdbg was killed", host)
	}
	if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("sgxdbg: %v, want killed by SIGKILL", err)
	}
	for deadline := time.Now().Add(5 * time.Second); !gone(host); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("host %d still alive 5 s after sgxdbg was killed", host)
		}
	}
}

// enteredHost returns the host's pid once the JSON event file shows its
// thread inside the enclave, or 0.
func enteredHost(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pid := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Event string `json:"event"`
			Pid   int    `json:"pid"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			return 0 // a line still being written
		}
		switch ev.Event {
		case "enclave-created":
			pid = ev.Pid
		case "eenter":
			return pid
		}
	}
	return 0
}

// TestMalformedIoctls runs robust's errnos scenario: each misuse of the
// driver ABI must fail with the errno the Linux driver
// (arch/x86/kernel/cpu/sgx/ioctl.c, driver.c, encl.c) returns, failed
// requests must leave no trace in the event stream, and the enclave must
// still work afterwards.
func TestMalformedIoctls(t *testing.T) {
	k := buildKit(t)
	blob, sig := k.writeSigned(t, t.TempDir(), conformEnclave{})
	tr := ptrace.NewTracer()
	defer tr.Close()
	var events eventLog
	r := runHost(t, tr, []string{k.robust, blob, sig, "errnos"}, events.record)
	want := []struct {
		name  string
		errno unix.Errno
	}{
		{"unknown-ioctl", unix.ENOTTY},
		{"tcgets", unix.ENOTTY},
		{"add-before-create", unix.EINVAL},
		{"init-before-create", unix.EINVAL},
		{"create-unmapped-arg", unix.EFAULT},
		{"create-unmapped-src", unix.EFAULT},
		{"create", 0},
		{"create-again", unix.EINVAL},
		{"add-unaligned-src", unix.EINVAL},
		{"add-unaligned-offset", unix.EINVAL},
		{"add-zero-length", unix.EINVAL},
		{"add-unaligned-length", unix.EINVAL},
		{"add-beyond-elrange", unix.EINVAL},
		{"add-unmapped-secinfo", unix.EFAULT},
		{"add-write-only-secinfo", unix.EINVAL},
		{"add-unmapped-arg", unix.EFAULT},
		{"add-pages", 0},
		{"add-same-offset", unix.EBUSY},
		// The default model reports SGX2; sgx_ioc_sgx2_ready answers
		// EINVAL: the enclave is not initialized yet.
		{"restrict-permissions", unix.EINVAL},
		{"modify-types", unix.EINVAL},
		{"remove-pages", unix.EINVAL},
		{"provision-not-provision-fd", unix.EINVAL},
		{"init", 0},
		{"init-again", unix.EINVAL},
		{"add-after-init", unix.EINVAL},
		{"create-after-init", unix.EINVAL},
		{"mmap-private", unix.EINVAL},
		{"mmap-readonly-page-writable", unix.EACCES},
		{"mmap-tcs-executable", unix.EACCES},
		{"mmap-outside-elrange", unix.EACCES},
		{"mmap-readonly-page", 0},
		{"mprotect-readonly-page-writable", unix.EACCES},
		{"mprotect-readonly-page-executable", unix.EACCES},
		{"mprotect-readonly-page-none", 0},
	}
	var wantOut strings.Builder
	for _, w := range want {
		fmt.Fprintf(&wantOut, "%s %d\n", w.name, int(w.errno))
	}
	wantOut.WriteString("ecall returned 42\n")
	if r.out != wantOut.String() || r.status != (ExitStatus{}) {
		got, exp := strings.Split(r.out, "\n"), strings.Split(wantOut.String(), "\n")
		for i := range max(len(got), len(exp)) {
			g, e := "", ""
			if i < len(got) {
				g = got[i]
			}
			if i < len(exp) {
				e = exp[i]
			}
			if g != e {
				t.Errorf("line %d: got %q, want %q", i+1, g, e)
			}
		}
		t.Fatalf("status %+v", r.status)
	}
	if want := conformLoadEvents() + " eenter eexit enclave-removed exit"; events.kinds() != want {
		t.Errorf("events\n got %s\nwant %s", events.kinds(), want)
	}
}
