package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// The TUI's other ends: the host killed from outside at a stop, a signal
// to sgxdbg, the terminal closed. Each one kills and reaps the host and
// gives the terminal back.

// tmuxHost starts the int3 sample in the TUI through a script that
// records sgxdbg's pid, then sgxdbg's status (trap: the script's first
// line, e.g. to ignore SIGHUP), and waits for the first stop. It returns
// the tmux session, sgxdbg's pid, the host's and the status file.
func tmuxHost(t *testing.T, trap string) (*tmux, int, int, string) {
	bin := fixtures.Binary(t)
	b := fixtures.Samples(t)
	tmp := t.TempDir()
	pidFile, statusFile, script := filepath.Join(tmp, "pid"), filepath.Join(tmp, "status"), filepath.Join(tmp, "run.sh")
	body := fmt.Sprintf("%s\nsh -c 'echo $$ > %s; exec %s exec -- %s/host --no-vdso --repeat 100000000 %s/int3.elf %s/int3.elf.sig 0'\ns=$?; echo $s > %s; exit $s\n",
		trap, pidFile, bin, b, b, b, statusFile)
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := startTmux(t, 100, 30, []string{"TERM=xterm-256color"}, "sh "+script)
	tm.waitStopped("AEX #BP")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	sgxdbg, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	host := 0
	for _, tid := range taskIDs(t, sgxdbg) {
		if k, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sgxdbg, tid)); err == nil && strings.TrimSpace(string(k)) != "" {
			fmt.Sscan(string(k), &host)
		}
	}
	if host == 0 {
		t.Fatalf("no host among sgxdbg %d's children", sgxdbg)
	}
	return tm, sgxdbg, host, statusFile
}

func taskIDs(t *testing.T, pid int) []int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out
}

// gone polls, a bounded number of times, until pid has no /proc entry
// (neither running nor an unreaped zombie).
func gone(pid int) bool {
	for i := 0; i < 400; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

// TestTmuxHostKilled: the host killed with SIGKILL while the UI shows a
// stop: the UI notices, shows the end, and q leaves with status 137.
func TestTmuxHostKilled(t *testing.T) {
	tm, _, host, _ := tmuxHost(t, "")
	if err := unix.Kill(host, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("killed by SIGKILL", "the host was killed by SIGKILL")
	if !gone(host) {
		t.Errorf("host %d still exists", host)
	}
	tm.press("q")
	s := tm.waitFor("sgxdbg exited with status 137", "tty: ")
	must(t, s, "sgxdbg: host killed by SIGKILL", "tty: icanon echo")
}

// TestTmuxSignals: SIGTERM and SIGHUP to sgxdbg end the UI, kill and reap
// the host, restore the terminal, and sgxdbg exits 128 + the signal.
func TestTmuxSignals(t *testing.T) {
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGHUP, unix.SIGINT} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			tm, sgxdbg, host, _ := tmuxHost(t, "")
			if err := unix.Kill(sgxdbg, sig); err != nil {
				t.Fatal(err)
			}
			s := tm.waitFor(fmt.Sprintf("sgxdbg exited with status %d", 128+int(sig)), "tty: ")
			must(t, s, fmt.Sprintf("sgxdbg: %s: the session ended, the host was killed", unix.SignalName(sig)), "tty: icanon echo")
			if alt := strings.TrimSpace(tm.run("display-message", "-p", "-t", "t", "#{alternate_on}")); alt != "0" {
				t.Errorf("still on the alternate screen (alternate_on=%s)", alt)
			}
			if !gone(host) {
				t.Errorf("host %d still exists", host)
			}
		})
	}
}

// TestTmuxTerminalClosed closes the terminal under the UI (the tmux
// server goes away; the script around sgxdbg ignores SIGHUP, which sgxdbg
// catches anyway): sgxdbg ends as after SIGHUP, status 129, and the host
// is gone.
func TestTmuxTerminalClosed(t *testing.T) {
	tm, sgxdbg, host, statusFile := tmuxHost(t, `trap "" HUP`)
	tm.run("kill-server")
	if !gone(sgxdbg) {
		t.Fatalf("sgxdbg %d still runs after its terminal closed", sgxdbg)
	}
	if !gone(host) {
		t.Errorf("host %d still exists", host)
	}
	var status []byte
	for i := 0; i < 400 && len(status) == 0; i++ {
		status, _ = os.ReadFile(statusFile)
		time.Sleep(25 * time.Millisecond)
	}
	if got := strings.TrimSpace(string(status)); got != "129" {
		t.Errorf("sgxdbg's status %q, want 129", got)
	}
}
