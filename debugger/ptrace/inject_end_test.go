package ptrace

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestInjectedSyscallKilled kills the tracee during an injected system
// call (the call is kill(getpid(), SIGKILL) itself): InjectSyscall answers a ThreadEndedError (which matches
// ESRCH), the exit status it took is handed over once by TakeEnded, and
// wait has nothing more to report for the thread.
func TestInjectedSyscallKilled(t *testing.T) {
	run(t, func() error {
		p, err := Launch(LaunchOptions{Path: "/bin/sleep", Args: []string{"sleep", "60"}})
		if err != nil {
			return err
		}
		defer p.Close()
		scratch, err := p.MapScratch(p.Pid, 0)
		if err != nil {
			return err
		}
		pid := p.Pid
		_, err = p.InjectSyscall(p.Pid, scratch+ScratchSyscall, unix.SYS_KILL, uint64(pid), uint64(unix.SIGKILL))
		var te *ThreadEndedError
		if !errors.As(err, &te) || !errors.Is(err, unix.ESRCH) {
			t.Fatalf("InjectSyscall after SIGKILL: %v, want a ThreadEndedError matching ESRCH", err)
		}
		want := Status{Tid: pid, Kind: Killed, Sig: unix.SIGKILL}
		if te.Status != want || te.Nr != unix.SYS_KILL {
			t.Errorf("error %+v, want status %+v", te, want)
		}
		if got := p.TakeEnded(); len(got) != 1 || got[0] != want {
			t.Errorf("TakeEnded %+v, want [%+v]", got, want)
		}
		if got := p.TakeEnded(); len(got) != 0 {
			t.Errorf("TakeEnded again %+v, want nothing", got)
		}
		if _, err := Wait(pid); !errors.Is(err, unix.ECHILD) {
			t.Errorf("wait after the taken exit: %v, want ECHILD", err)
		}
		return nil
	})
}
