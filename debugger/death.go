package debugger

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// HostDiedError is a command's answer when the host died under it while
// a thread was held at a stop (a SIGKILL from outside, an exit_group of
// another thread): the session has reaped the host and ended. It matches
// ErrExited (code "exited").
type HostDiedError struct {
	Command string
	Status  target.ExitStatus
	Err     error // what the command itself got from the dead host
}

// Error renders "regs: the host was killed by SIGKILL".
func (e *HostDiedError) Error() string {
	how := e.Status.String()
	if e.Status.Signal != 0 {
		how = "was " + how
	}
	return fmt.Sprintf("%s: the host %s", e.Command, how)
}

// Unwrap makes errors.Is(err, ErrExited) hold.
func (e *HostDiedError) Unwrap() error { return ErrExited }

// HostDead reports whether the host has ended, or has died while held at
// a stop and is not reaped yet (the backend can tell: target.Mortal). Any
// goroutine. A front end waiting for input at a stop asks it and, when it
// holds, calls Wait, which reaps the host and returns its end.
func (s *Session) HostDead() bool {
	if s.Exited() {
		return true
	}
	m, ok := s.p.(target.Mortal)
	return ok && m.Dead()
}

// diedUnder turns err, which command got at a stop, into a
// HostDiedError when the host is dead: the host is reaped first (its
// events recorded, the session ended). Backend thread.
func (s *Session) diedUnder(command string, err error) error {
	if err == nil || errors.Is(err, ErrExited) {
		return err
	}
	m, ok := s.p.(target.Mortal)
	if !ok || !dead(m, err) {
		return err
	}
	for {
		tr, perr := s.p.ContinueOnce()
		if perr != nil {
			return fmt.Errorf("%w (and reaping the dead host: %v)", err, perr)
		}
		s.record(tr.Events)
		if tr.Exited {
			s.setEnded(tr.Status)
			s.cur = nil
			return &HostDiedError{Command: command, Status: tr.Status, Err: err}
		}
	}
}

// Abort kills the host, from any goroutine, without waiting for its end:
// a Wait in progress, or the next one, reports it (a command running at a
// stop meanwhile fails with a HostDiedError).
func (s *Session) Abort() {
	if !s.Exited() {
		s.p.Kill()
	}
}

// dead reports whether the host is dead. A thread held at a stop that
// answers ESRCH has been killed, but its process's threads may still be
// on their way out: a bounded number of looks (at most a second) lets
// them get there.
func dead(m target.Mortal, err error) bool {
	if m.Dead() {
		return true
	}
	if !errors.Is(err, syscall.ESRCH) {
		return false
	}
	for range 200 {
		time.Sleep(5 * time.Millisecond)
		if m.Dead() {
			return true
		}
	}
	return false
}
