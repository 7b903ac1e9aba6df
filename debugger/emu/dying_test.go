package emu

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestDying: the errors a stop's handling gets from a thread that is being
// killed end nothing (its exit comes next); the same EIO or EOF from a
// thread that is still stopped is a real error.
func TestDying(t *testing.T) {
	tr := ptrace.NewTracer()
	defer tr.Close()
	err := tr.Do(func() error {
		p, err := ptrace.Launch(ptrace.LaunchOptions{Path: "/bin/sleep", Args: []string{"sleep", "60"}})
		if err != nil {
			return err
		}
		defer p.Close()
		defer p.Kill()
		eio := fmt.Errorf("read 8 bytes at 0x1000 of %d: %w", p.Pid, unix.EIO)
		eof := fmt.Errorf("read 8 bytes at 0x1000 of %d: %w", p.Pid, io.EOF)
		other := errors.New("EINIT: SGX_INVALID_SIGNATURE")
		live := []struct {
			err  error
			want bool
		}{{eio, false}, {eof, false}, {other, false}, {unix.ESRCH, true}}
		for _, tt := range live {
			if got := dying(p.Pid, tt.err); got != tt.want {
				t.Errorf("stopped thread, %v: dying = %v", tt.err, got)
			}
		}
		if err := unix.Kill(p.Pid, unix.SIGKILL); err != nil {
			return err
		}
		killed := []struct {
			err  error
			want bool
		}{{eio, true}, {eof, true}, {io.ErrUnexpectedEOF, true}, {other, false}}
		for _, tt := range killed {
			if got := dying(p.Pid, tt.err); got != tt.want {
				t.Errorf("killed thread, %v: dying = %v", tt.err, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKillHostWhileHandled kills the sample host with SIGKILL as each kind
// of event is reported (Wait's OnEvent runs on the tracer thread, after
// ContinueOnce returned the event, with the thread held at its stop or
// just resumed) and waits until it is a zombie: continuing the held stop
// or handling the next one fails, and Wait still reports the kill as the
// host's end, never a session error.
func TestKillHostWhileHandled(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "pf_untrusted.elf")
	argv := []string{filepath.Join(dir, "host"), "--no-vdso", elf, elf + ".sig", "0", "0x10000"}
	for _, at := range []EventKind{EvEnclaveCreated, EvPagesAdded, EvEnclaveInitialized, EvEENTER, EvAEX, EvEEXIT} {
		t.Run(string(at), func(t *testing.T) {
			tr := ptrace.NewTracer()
			defer tr.Close()
			var events eventLog
			killed := false
			r := runHost(t, tr, argv, func(em *Emulator, ev Event) {
				events.record(em, ev)
				if ev.Kind == at && !killed {
					killed = true
					_ = unix.Kill(em.Pid(), unix.SIGKILL)
					// Until the thread is a zombie (not reaped: WNOWAIT),
					// so that its address space is gone when the handler
					// goes on.
					var info unix.Siginfo
					if err := unix.Waitid(unix.P_PID, em.Pid(), &info, unix.WEXITED|unix.WNOWAIT|unix.WALL, nil); err != nil {
						t.Errorf("waitid: %v", err)
					}
				}
			})
			if !killed || r.status != (ExitStatus{Signal: unix.SIGKILL}) {
				t.Errorf("status %+v (killed: %v), want killed by SIGKILL; events %s", r.status, killed, events.kinds())
			}
			if last := events[len(events)-1]; last.Kind != EvExit || last.Killed != unix.SIGKILL {
				t.Errorf("last event %+v, want the exit", last)
			}
			checkNothingLeft(t, r)
		})
	}
}
