package emu

import (
	"fmt"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Debug registers. The debugger's DR0–DR3 slots apply to every thread of
// the host; a thread takes them at its next ptrace-stop (a running thread
// cannot be changed), the held thread at once. Hardware breakpoints and
// watchpoints fire on this machine under ptrace (checked with gdb's hbreak
// and watch, SGX.md §3b); inside an enclave a hit is a #DB AEX, taken only
// when the TCS has DBGOPTIN set, as on SGX hardware (SDM Vol. 3D,
// "Debugging an Enclave": debug exceptions are suppressed in enclaves that
// did not opt in).

// dr6Hits are DR6's B0–B3 bits; dr6Step is BS (single step).
const (
	dr6Hits = 0xf
	dr6Step = 1 << 14
)

// SetDebugRegisters sets the slots for every thread (target.DebugRegisters).
// Tracer thread only.
func (p *Process) SetDebugRegisters(slots [target.NumHWSlots]target.HWSlot) error {
	return p.em.setDebugRegisters(slots)
}

var _ target.DebugRegisters = (*Process)(nil)

func (em *Emulator) setDebugRegisters(slots [target.NumHWSlots]target.HWSlot) error {
	for i, s := range slots {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("DR%d: %w", i, err)
		}
	}
	em.dr, em.drGen = slots, em.drGen+1
	// The held thread (if any) takes them now, so that a continue from
	// this stop already watches.
	for _, s := range append([]*Stop{em.cur}, em.queue...) {
		if s != nil && !s.Resumed() {
			if err := em.applyDebugRegisters(s.th); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyDebugRegisters brings th's DR0–DR3 and DR7 up to date. th must be
// in a ptrace-stop.
func (em *Emulator) applyDebugRegisters(th *thread) error {
	if th.drGen == em.drGen {
		return nil
	}
	// DR7 off first: the kernel checks each address against DR7's length
	// as it is written.
	if err := ptrace.SetDebugReg(th.tid, 7, 0); err != nil {
		return err
	}
	for i, s := range em.dr {
		if s.Enabled {
			if err := ptrace.SetDebugReg(th.tid, i, s.Addr); err != nil {
				return err
			}
		}
	}
	if err := ptrace.SetDebugReg(th.tid, 7, target.DR7(em.dr)); err != nil {
		return err
	}
	th.drGen = em.drGen
	return nil
}

// debugTrap reads and clears DR6 at a SIGTRAP of th. It reports the DR6
// bits and whether the trap is a debug-register hit that the enclave's TCS
// did not opt in to (DBGOPTIN clear): the processor would not have taken
// it, so the thread just goes on.
func (em *Emulator) debugTrap(th *thread) (dr6 uint64, suppressed bool, err error) {
	if dr6, err = ptrace.GetDebugReg(th.tid, 6); err != nil {
		return 0, false, err
	}
	if err := ptrace.SetDebugReg(th.tid, 6, 0); err != nil {
		return 0, false, err
	}
	if dr6&dr6Hits == 0 || !th.inEnclave() {
		return dr6, false, nil
	}
	t, err := th.encl.currentTCS(th.tcs)
	if err != nil {
		return dr6, false, err
	}
	return dr6, t.Flags&sgx.TCSDbgOptIn == 0 && dr6&dr6Step == 0, nil
}

// DR6 is the debug status of the #DB this stop is at (B0–B3: which slot
// fired, BS: a single step), or 0.
func (s *Stop) DR6() uint64 { return s.dr6 }
