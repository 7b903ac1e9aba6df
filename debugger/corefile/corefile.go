// Package corefile is the read-only backend over an sgxdbg core file: it
// hands a debugger.Session one target.Stop that answers the views from the
// file (enclaves, TCS, SSA frames, the stopped thread's registers, enclave
// memory) and refuses every action with ErrReadOnly, since the host is
// gone.
package corefile

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/coredump"
	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// ErrReadOnly is returned by every action: a core file cannot resume,
// write or tear anything down.
var ErrReadOnly = errors.New("core file: the host is not running")

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
	ended    bool
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
func (s *Stop) Pending() unix.Signal {
	if s.ev.TCS != s.c.Stop.TCS {
		return 0
	}
	return s.c.Signal
}

// Regs returns the stopped thread's registers as the OS saw them.
func (s *Stop) Regs() (ptrace.Regs, error) {
	if s.c.HostRegs == nil || s.ev.Tid != s.c.Tid {
		return ptrace.Regs{}, ErrNoRegs
	}
	return *s.c.HostRegs, nil
}

// ReadEnclave reads enclave memory as EDBGRD read it when the core was
// written, with EDBGRD's rules: debug enclaves only, the first 72 bytes of
// a TCS, REG pages.
func (s *Stop) ReadEnclave(buf []byte, addr uint64) (int, error) {
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		e := s.c.Enclave(a)
		if e == nil {
			return done, fmt.Errorf("%#x: %w", a, coredump.ErrNotInCore)
		}
		if !e.Dumped {
			return done, fmt.Errorf("EDBGRD at %#x: enclave %#x is not a debug enclave", a, e.Base)
		}
		si, ok := e.PageAt(a)
		if !ok {
			return done, fmt.Errorf("EDBGRD at %#x: no EPC page at this address", a)
		}
		pageOff := a & (sgx.PageSize - 1)
		n := min(uint64(len(buf)-done), sgx.PageSize-pageOff)
		if si.PageType() == sgx.PageTypeTCS {
			if pageOff >= sgx.TCSDebugReadable {
				return done, fmt.Errorf("EDBGRD at %#x: EDBGRD may read only the first %d bytes of a TCS", a, sgx.TCSDebugReadable)
			}
			n = min(n, sgx.TCSDebugReadable-pageOff)
		}
		got, err := s.c.ReadMemory(buf[done:done+int(n)], a)
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

// Resumed reports whether the session ended the stop (Kill).
func (s *Stop) Resumed() bool { return s.ended }

// Continue is refused.
func (s *Stop) Continue() error { return ErrReadOnly }

// ERESUME is refused.
func (s *Stop) ERESUME(bool) error { return ErrReadOnly }

// EnterHandler is refused.
func (s *Stop) EnterHandler(uint64, uint64, uint64) (*target.HandlerResult, error) {
	return nil, ErrReadOnly
}

// Teardown is refused.
func (s *Stop) Teardown() error { return ErrReadOnly }

// Kill ends the stop, and with it the session over the core.
func (s *Stop) Kill() { s.ended = true }

// Launcher returns a debugger.Launcher that replays the core's timeline
// through onEvent (so that the session matches enclave images by
// MRENCLAVE) and hands st to onStop once; the session ends when st is
// killed (the kill and quit commands). The status is 0.
func Launcher(c *coredump.Core, st *Stop) debugger.Launcher {
	return func(_ debugger.LaunchOptions, onEvent func(target.Event), onStop func(target.Stop)) (int, error) {
		for _, ev := range c.Events {
			onEvent(ev)
		}
		onStop(st)
		return 0, nil
	}
}
