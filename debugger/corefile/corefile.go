// Package corefile is the read-only backend over an sgxdbg core file: a
// target.Process whose one stop answers the views from the file (enclaves,
// TCS, SSA frames, the stopped thread's registers, enclave memory) and
// refuses every action with target.ErrReadOnly, since the host is gone.
package corefile

import (
	"errors"
	"fmt"

	"github.com/sgxdbg/sgxdbg/coredump"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// ErrReadOnly is returned by every action: a core file cannot resume,
// write or tear anything down.
var ErrReadOnly = fmt.Errorf("core file: %w", target.ErrReadOnly)

// ErrNoHostMemory is returned by ReadHost: a core holds enclave memory
// only.
var ErrNoHostMemory = errors.New("core file: host memory is not in the core")

// ErrNoRegs is returned by Regs for a thread whose registers the core
// does not have (it has the stopped thread's only).
var ErrNoRegs = errors.New("core file: no host registers for this thread")

// Stop is a core file seen as a stopped host.
type Stop struct {
	c        *coredump.Core
	ev       target.Event
	enclaves []target.EnclaveInfo
}

var _ target.Stop = (*Stop)(nil)

// NewStop returns the stop the core was written at.
func NewStop(c *coredump.Core) *Stop {
	s := &Stop{c: c, ev: c.Stop}
	for i := range c.Enclaves {
		s.enclaves = append(s.enclaves, c.Enclaves[i].Info())
	}
	return s
}

// At returns a stop focused on another TCS of the core: its event is that
// TCS's last AEX in the timeline. The host registers are only those of the
// thread the core was written at.
func (s *Stop) At(tcs uint64) (*Stop, error) {
	if tcs == s.c.Stop.TCS {
		return &Stop{c: s.c, ev: s.c.Stop, enclaves: s.enclaves}, nil
	}
	for i := len(s.c.Events) - 1; i >= 0; i-- {
		if ev := s.c.Events[i]; ev.Kind == target.EvAEX && ev.TCS == tcs {
			return &Stop{c: s.c, ev: ev, enclaves: s.enclaves}, nil
		}
	}
	return nil, fmt.Errorf("core file: no AEX of TCS %#x in the timeline", tcs)
}

// Event is the event the host stopped at.
func (s *Stop) Event() target.Event { return s.ev }

// Pending is the signal the host was about to get.
func (s *Stop) Pending() target.Delivery {
	if s.ev.TCS != s.c.Stop.TCS {
		return target.Delivery{}
	}
	if s.c.Stop.Delivery.VDSO {
		return s.c.Stop.Delivery
	}
	return target.Delivery{Signal: s.c.Signal}
}

// Regs returns the stopped thread's registers as the OS saw them.
func (s *Stop) Regs() (target.Regs, error) {
	if s.c.HostRegs == nil || s.ev.Tid != s.c.Tid {
		return target.Regs{}, ErrNoRegs
	}
	return *s.c.HostRegs, nil
}

// ReadEnclave reads enclave memory as EDBGRD read it when the core was
// written, with EDBGRD's rules (target.DebugPage).
func (s *Stop) ReadEnclave(buf []byte, addr uint64) (int, error) {
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		e := s.c.Enclave(a)
		if e == nil {
			return done, fmt.Errorf("%#x: %w", a, target.ErrNotEnclave)
		}
		si, ok := e.PageAt(a)
		dp := target.DebugPage{Enclave: e.Base, Debug: e.Dumped, Present: ok, Type: si.PageType()}
		n, err := dp.Span(a, len(buf)-done, false)
		if err != nil {
			return done, err
		}
		got, err := s.c.ReadMemory(buf[done:done+n], a)
		done += got
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// WriteEnclave is refused.
func (s *Stop) WriteEnclave([]byte, uint64) (int, error) { return 0, ErrReadOnly }

// ReadHost is refused: the core has no host memory.
func (s *Stop) ReadHost(_ []byte, addr uint64) (int, error) {
	return 0, fmt.Errorf("%#x: %w", addr, ErrNoHostMemory)
}

// Enclaves lists the core's enclaves.
func (s *Stop) Enclaves() []target.EnclaveInfo { return s.enclaves }

// Threads lists the host's threads when the core was written.
func (s *Stop) Threads() []target.ThreadInfo { return s.c.Threads }

// Resumed is false: nothing resumes a core.
func (s *Stop) Resumed() bool { return false }

// Handler is nil: no handler ran.
func (s *Stop) Handler() *target.HandlerResult { return nil }

// DR6 is 0: a core keeps no debug status.
func (s *Stop) DR6() uint64 { return 0 }

// InHandler is false.
func (s *Stop) InHandler() bool { return false }

// Continue is refused.
func (s *Stop) Continue() error { return ErrReadOnly }

// ERESUME is refused.
func (s *Stop) ERESUME(bool) error { return ErrReadOnly }

// EnterHandler is refused.
func (s *Stop) EnterHandler(uint64, uint64, uint64) error { return ErrReadOnly }

// Teardown is refused.
func (s *Stop) Teardown() ([]target.Event, error) { return nil, ErrReadOnly }

// Process is a core file as a target.Process: its first ContinueOnce
// returns the core's timeline and its stop; after Kill (the kill and quit
// commands) it reports an end with status 0.
type Process struct {
	c      *coredump.Core
	st     *Stop
	served bool
	killed bool
}

var _ target.Process = (*Process)(nil)

// Open returns the core as a process stopped at st (NewStop(c), or a stop
// focused on another TCS with At).
func Open(c *coredump.Core, st *Stop) *Process { return &Process{c: c, st: st} }

// Do runs f: a core needs no thread of its own.
func (p *Process) Do(f func() error) error { return f() }

// Pid is the host's process id when the core was written.
func (p *Process) Pid() int { return p.c.Pid }

// ContinueOnce returns the core's stop once, then the end.
func (p *Process) ContinueOnce() (target.Trap, error) {
	if p.killed || p.served {
		return target.Trap{Exited: true}, nil
	}
	p.served = true
	return target.Trap{Events: p.c.Events, Stop: p.st}, nil
}

// Kill ends the session over the core.
func (p *Process) Kill() { p.killed = true }

// Detach is refused.
func (p *Process) Detach() error { return ErrReadOnly }

// Close does nothing: the caller closes the core.
func (p *Process) Close() error { return nil }
