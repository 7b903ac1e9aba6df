package emu

import (
	"encoding/binary"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Stop implements target.Stop for the emulator. Its methods run on the
// tracer thread, inside OnStop.
type Stop struct {
	em   *Emulator
	th   *thread
	ev   Event
	d    *delivery // how the host learns of the AEX, or nil
	over bool      // an action let the thread go: the stop has ended
}

func (em *Emulator) stop(th *thread, ev Event, d *delivery) error {
	if em.opts.OnStop == nil {
		return nil
	}
	s := &Stop{em: em, th: th, ev: ev, d: d}
	em.opts.OnStop(s)
	return nil
}

var _ target.Stop = (*Stop)(nil)

// Event is the event the thread stopped at.
func (s *Stop) Event() Event { return s.ev }

// ReadEnclave reads enclave memory through the EDBGRD model.
func (s *Stop) ReadEnclave(buf []byte, addr uint64) (int, error) {
	return s.em.ReadEnclave(s.th.proc.pid, buf, addr)
}

// WriteEnclave writes enclave memory through the EDBGWR model.
func (s *Stop) WriteEnclave(buf []byte, addr uint64) (int, error) {
	return s.em.WriteEnclave(s.th.proc.pid, buf, addr)
}

// Enclaves lists the emulated enclaves.
func (s *Stop) Enclaves() []EnclaveInfo { return s.em.Enclaves() }

// Threads lists the traced threads.
func (s *Stop) Threads() []ThreadInfo { return s.em.Threads() }

// Emulator returns the emulator the stop belongs to.
func (s *Stop) Emulator() *Emulator { return s.em }

// Resumed reports whether an action already let the thread go. It stays
// true even after the thread stops again later.
func (s *Stop) Resumed() bool {
	if !s.over && (s.th.running || s.th.gone) {
		s.over = true
	}
	return s.over
}

// end records whether the action just taken let the thread go.
func (s *Stop) end(err error) error {
	s.Resumed()
	return err
}

// Pending returns the signal the host will get when the stop continues,
// for an AEX; 0 otherwise.
func (s *Stop) Pending() unix.Signal {
	if s.d == nil || s.d.fix != nil {
		return 0
	}
	return unix.Signal(s.d.si.Signo)
}

// Regs returns the stopped thread's registers (after an AEX: the synthetic
// state at the AEP).
func (s *Stop) Regs() (ptrace.Regs, error) {
	if s.Resumed() {
		return ptrace.Regs{}, ErrResumed
	}
	return ptrace.GetRegs(s.th.tid)
}

// ReadHost reads the host's memory (not enclave memory, which goes through
// Emulator.ReadEnclave, the EDBGRD path).
func (s *Stop) ReadHost(buf []byte, addr uint64) (int, error) {
	if e := s.th.proc.enclaveAt(addr); e != nil {
		return 0, fmt.Errorf("%#x is enclave memory: read it through EDBGRD", addr)
	}
	return s.th.proc.mem.ReadMemory(buf, addr)
}

// Continue lets the thread go on as without a debugger: after an AEX the
// host gets its signal at the AEP.
func (s *Stop) Continue() error {
	if s.Resumed() {
		return ErrResumed
	}
	if s.d != nil {
		return s.end(s.em.deliverAt(s.th, s.d))
	}
	return s.end(s.em.resume(s.th, 0))
}

// ERESUME resumes the enclave from its newest SSA frame instead of
// delivering the AEX to the host. With step, TCS.FLAGS.DBGOPTIN is set and
// the enclave runs one instruction, then takes a #DB AEX (the next stop).
func (s *Stop) ERESUME(step bool) error {
	if s.Resumed() {
		return ErrResumed
	}
	r, err := ptrace.GetRegs(s.th.tid)
	if err != nil {
		return err
	}
	const tf = 0x100
	r.Eflags &^= tf
	if step {
		flags := make([]byte, 8)
		if _, err := s.em.ReadEnclave(s.th.proc.pid, flags, r.Rbx+tcsFlags); err != nil {
			return fmt.Errorf("step: read TCS.FLAGS: %w", err)
		}
		flags[0] |= byte(sgx.TCSDbgOptIn)
		if _, err := s.em.WriteEnclave(s.th.proc.pid, flags, r.Rbx+tcsFlags); err != nil {
			return fmt.Errorf("step: set DBGOPTIN: %w", err)
		}
		r.Eflags |= tf
	}
	r.Rax = uint64(sgx.LeafERESUME)
	if h := s.th.handler; h != nil && !step {
		raw := make([]byte, 32)
		if _, err := s.ReadEnclave(raw, r.Rbx); err != nil {
			return err
		}
		if binary.LittleEndian.Uint32(raw[tcsCSSA:]) > h.cssa {
			// The newest frame belongs to the handler the debugger ran:
			// it returns to the trampoline, which brings the thread back here.
			res, err := s.runTrampoline(sgx.LeafERESUME, func(*ptrace.Regs) {})
			if err == nil && res.Event != nil {
				err = fmt.Errorf("the handler faulted again: %v", res.Event)
			}
			return err
		}
		s.th.handler = nil
	}
	s.d = nil
	return s.end(s.em.eresume(s.th, &r))
}

// EnterHandler EENTERs the enclave on the stopped thread's TCS (CSSA now
// > 0, so the runtime takes its exception path) with RDI, RSI, RDX as
// given, through an `enclu; int3` trampoline in the scratch page, and runs
// it to its EEXIT. The host's stack and code are not touched. Afterwards
// the thread is back at the AEX state it was in; a fault inside the handler
// leaves a nested SSA frame (reported in Event). Other threads stay as
// they are meanwhile.
func (s *Stop) EnterHandler(rdi, rsi, rdx uint64) (*HandlerResult, error) {
	if s.Resumed() {
		return nil, ErrResumed
	}
	return s.runTrampoline(sgx.LeafEENTER, func(r *ptrace.Regs) { r.Rdi, r.Rsi, r.Rdx = rdi, rsi, rdx })
}

// handlerRun is a debugger-started exception handler that a nested AEX
// suspended: its frames return to the trampoline, not to the host.
type handlerRun struct {
	cssa uint32 // the TCS's CSSA when the handler was entered
}

// runTrampoline executes ENCLU[leaf] on the stopped thread's TCS at the
// scratch page's `enclu; int3` (which is also the AEP), waits for the
// enclave to EEXIT to the int3 or to take a nested AEX, and puts the
// thread back in the state it was in.
func (s *Stop) runTrampoline(leaf sgx.EncluLeaf, setup func(*ptrace.Regs)) (*HandlerResult, error) {
	th, pr := s.th, s.th.proc
	saved, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return nil, err
	}
	xs, err := ptrace.GetXState(th.tid, make([]byte, s.em.xs.size))
	if err != nil {
		return nil, err
	}
	tcs := saved.Rbx
	if leaf == sgx.LeafEENTER {
		raw := make([]byte, 32)
		if _, err := s.ReadEnclave(raw, tcs); err != nil {
			return nil, err
		}
		th.handler = &handlerRun{cssa: binary.LittleEndian.Uint32(raw[tcsCSSA:])}
	}
	tramp := pr.scratch + ptrace.ScratchENCLU
	r := saved
	r.Rax, r.Rbx, r.Rcx, r.Rip = uint64(leaf), tcs, tramp, tramp
	r.Rsp = (saved.Rsp - 1024) &^ 15
	r.Orig_rax = ^uint64(0)
	setup(&r)
	if err := ptrace.SetRegs(th.tid, &r); err != nil {
		return nil, err
	}
	th.hold, th.held = true, nil
	defer func() { th.hold, th.held = false, nil }()
	if err := s.em.resume(th, 0); err != nil {
		return nil, err
	}
	res := &HandlerResult{}
	for {
		st, err := ptrace.Wait(th.tid)
		if err != nil {
			return nil, err
		}
		if st.Kind == ptrace.SignalStop && st.Sig == unix.SIGTRAP && !th.inEnclave() {
			out, err := ptrace.GetRegs(th.tid)
			if err != nil {
				return nil, err
			}
			if out.Rip == tramp+uint64(len(encluBytes))+1 {
				res.Exited, res.Regs = true, out
				th.handler = nil
				break
			}
		}
		if err := s.em.handle(st); err != nil {
			return nil, err
		}
		if th.gone || s.em.threads[th.tid] == nil {
			th.gone = true
			return nil, fmt.Errorf("thread %d ended while the handler ran", th.tid)
		}
		if th.held != nil {
			res.Event = th.held
			break
		}
	}
	th.running = false
	if err := ptrace.SetXState(th.tid, xs); err != nil {
		return nil, err
	}
	if err := ptrace.SetRegs(th.tid, &saved); err != nil {
		return nil, err
	}
	return res, nil
}

// Teardown destroys the enclave the stopped thread is in, the way a lost
// enclave looks to its host: every mapping goes away and its file
// descriptors are closed. The stop then continues as usual (the host's
// next EENTER or ERESUME faults).
func (s *Stop) Teardown() error {
	if s.Resumed() {
		return ErrResumed
	}
	pr := s.th.proc
	e := pr.enclaveAt(s.ev.Enclave)
	if e == nil {
		return fmt.Errorf("teardown: no enclave at %#x", s.ev.Enclave)
	}
	site := pr.scratch + ptrace.ScratchSyscall
	for _, m := range append([]mapping(nil), e.maps...) {
		if _, err := pr.mem.InjectSyscall(s.th.tid, site, unix.SYS_MUNMAP, m.start, m.end-m.start); err != nil {
			return fmt.Errorf("teardown: unmap %#x: %w", m.start, err)
		}
	}
	var fds []int
	for fd, x := range pr.fds {
		if x == e {
			fds = append(fds, fd)
		}
	}
	sort.Ints(fds)
	for _, fd := range fds {
		if _, err := pr.mem.InjectSyscall(s.th.tid, site, unix.SYS_CLOSE, uint64(fd)); err != nil {
			return fmt.Errorf("teardown: close fd %d: %w", fd, err)
		}
	}
	e.maps = nil
	s.em.removeEnclave(pr, e)
	return nil
}

// Kill ends the host.
func (s *Stop) Kill() {
	s.em.Kill()
	s.th.gone = true
	s.over = true
}
