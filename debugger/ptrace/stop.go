package ptrace

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// StopKind classifies what wait(2) reported for a thread.
type StopKind int

// Kinds of wait results.
const (
	Exited      StopKind = iota // the thread exited normally (Status.Code)
	Killed                      // the thread was killed by a signal (Status.Sig)
	SignalStop                  // signal-delivery-stop: Sig is pending for the thread
	GroupStop                   // group-stop (SIGSTOP and friends) under ptrace
	SyscallStop                 // syscall-enter or -exit stop (PTRACE_O_TRACESYSGOOD)
	EventStop                   // PTRACE_EVENT_* stop (Status.Event)
)

var stopKindNames = [...]string{"exited", "killed", "signal-stop", "group-stop", "syscall-stop", "event-stop"}

func (k StopKind) String() string {
	if int(k) < len(stopKindNames) {
		return stopKindNames[k]
	}
	return fmt.Sprintf("StopKind(%d)", int(k))
}

// Status is one decoded wait result.
type Status struct {
	Tid   int
	Kind  StopKind
	Sig   unix.Signal // SignalStop, GroupStop, Killed
	Code  int         // exit code for Exited
	Event int         // PTRACE_EVENT_* for EventStop
	Core  bool        // Killed with a core dump
	Info  Siginfo     // the pending signal's siginfo, for SignalStop
}

func (s Status) String() string {
	switch s.Kind {
	case Exited:
		return fmt.Sprintf("tid %d exited with status %d", s.Tid, s.Code)
	case Killed:
		return fmt.Sprintf("tid %d killed by %v", s.Tid, s.Sig)
	case EventStop:
		return fmt.Sprintf("tid %d event %d", s.Tid, s.Event)
	default:
		return fmt.Sprintf("tid %d %v %v", s.Tid, s.Kind, s.Sig)
	}
}

// ErrVanished: a thread reported a stop but was gone before the tracer
// could examine it (it was killed, or its process is exiting): its exit
// status is the next thing wait reports for it. Errors that wrap it wrap
// unix.ESRCH too.
var ErrVanished = errors.New("thread vanished at its stop")

// Wait waits for a state change of tid (-1: any thread this tracer thread
// traces) and classifies it. __WNOTHREAD keeps another tracer thread's
// tracees (and their exit statuses) out of this one's view. EINTR is
// retried. Telling a signal-delivery-stop from a group-stop needs
// PTRACE_GETSIGINFO, which fails with EINVAL for a group-stop (ptrace(2),
// "Group-stop"); ESRCH instead means the thread was killed meanwhile
// (ErrVanished). Tracer thread only.
func Wait(tid int) (Status, error) {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("wait4(%d): %w", tid, err)
		}
		if tid > 0 && pid != tid {
			return Status{}, fmt.Errorf("wait4(%d) returned pid %d", tid, pid)
		}
		return classify(pid, ws, GetSiginfo)
	}
}

// classify decodes a wait status; getSiginfo is PTRACE_GETSIGINFO.
func classify(pid int, ws unix.WaitStatus, getSiginfo func(int) (Siginfo, error)) (Status, error) {
	s := Status{Tid: pid}
	switch {
	case ws.Exited():
		s.Kind, s.Code = Exited, ws.ExitStatus()
	case ws.Signaled():
		s.Kind, s.Sig, s.Core = Killed, ws.Signal(), ws.CoreDump()
	case ws.Stopped():
		sig := ws.StopSignal()
		switch {
		case int(sig) == SigSysTrace:
			s.Kind, s.Sig = SyscallStop, unix.SIGTRAP
		case ws.TrapCause() > 0 && sig == unix.SIGTRAP:
			s.Kind, s.Event, s.Sig = EventStop, ws.TrapCause(), sig
		default:
			s.Kind, s.Sig = SignalStop, sig
			si, err := getSiginfo(pid)
			switch {
			case err == nil:
				s.Info = si
			case errors.Is(err, unix.EINVAL):
				s.Kind = GroupStop
			case errors.Is(err, unix.ESRCH):
				return Status{}, fmt.Errorf("tid %d stopped by %s: %w: %w", pid, unix.SignalName(sig), ErrVanished, unix.ESRCH)
			default:
				return Status{}, fmt.Errorf("tid %d stopped by %s: %w", pid, unix.SignalName(sig), err)
			}
		}
	}
	return s, nil
}

// Cont resumes tid, delivering sig (0 for none). Tracer thread only.
func Cont(tid int, sig unix.Signal) error {
	if err := unix.PtraceCont(tid, int(sig)); err != nil {
		return fmt.Errorf("PTRACE_CONT %d: %w", tid, err)
	}
	return nil
}

// ContSyscall resumes tid until its next syscall entry or exit, delivering
// sig (0 for none). Tracer thread only.
func ContSyscall(tid int, sig unix.Signal) error {
	if err := unix.PtraceSyscall(tid, int(sig)); err != nil {
		return fmt.Errorf("PTRACE_SYSCALL %d: %w", tid, err)
	}
	return nil
}

// EventMsg returns the PTRACE_GETEVENTMSG value of tid's event stop (the
// new thread's id for a clone event, the seccomp filter's data for a
// seccomp event). Tracer thread only.
func EventMsg(tid int) (uint64, error) {
	m, err := unix.PtraceGetEventMsg(tid)
	if err != nil {
		return 0, fmt.Errorf("PTRACE_GETEVENTMSG %d: %w", tid, err)
	}
	return uint64(m), nil
}

// Examinable reports whether the tracer can still examine tid: whether it
// is in a ptrace-stop that a request (PTRACE_GETREGS) reaches. A thread
// with a SIGKILL pending (killed, or its process exiting) is not: the
// kernel refuses ptrace requests to it with ESRCH. Tracer thread only.
func Examinable(tid int) bool {
	_, err := GetRegs(tid)
	return err == nil
}
