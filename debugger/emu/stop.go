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

// Stop implements target.Stop for the emulator: a thread held at an event.
// Its methods run on the tracer thread, until an action lets the thread go
// or ContinueOnce is called again.
type Stop struct {
	em      *Emulator
	th      *thread
	ev      Event
	d       *delivery // how the host learns of the AEX or ENCLU fault, or nil
	handler *HandlerResult
	dr6     uint64 // the #DB's debug status
	over    bool   // an action let the thread go: the stop has ended
}

// hold keeps th stopped at ev and makes it the stop the next ContinueOnce
// returns; d is what Continue delivers.
func (em *Emulator) hold(th *thread, ev Event, d *delivery) {
	em.queue = append(em.queue, &Stop{em: em, th: th, ev: ev, d: d, dr6: th.dr6})
	th.dr6 = 0
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

// Handler is set on the stop that ends a debugger-started handler run.
func (s *Stop) Handler() *HandlerResult { return s.handler }

// InHandler reports whether the newest SSA frame of the stopped TCS was
// left by a handler run that a nested AEX interrupted.
func (s *Stop) InHandler() bool {
	h := s.th.handler
	if h == nil || s.over {
		return false
	}
	cssa, err := s.cssa(s.ev.TCS)
	return err == nil && cssa > h.cssa
}

func (s *Stop) cssa(tcs uint64) (uint32, error) {
	raw := make([]byte, 32)
	if _, err := s.ReadEnclave(raw, tcs); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(raw[tcsCSSA:]), nil
}

// Resumed reports whether an action let the thread go.
func (s *Stop) Resumed() bool {
	if !s.over && s.th.gone {
		s.over = true
	}
	return s.over
}

// Pending returns how the host learns of the event when the stop
// continues: the signal at the AEP or the vDSO's fixup; zero for
// transitions.
func (s *Stop) Pending() target.Delivery {
	switch {
	case s.d == nil:
		return target.Delivery{}
	case s.d.fix != nil:
		return target.Delivery{VDSO: true}
	}
	return target.Delivery{Signal: unix.Signal(s.d.si.Signo)}
}

// Regs returns the stopped thread's registers (after an AEX: the synthetic
// state at the AEP).
func (s *Stop) Regs() (target.Regs, error) {
	if s.Resumed() {
		return target.Regs{}, ErrResumed
	}
	r, err := ptrace.GetRegs(s.th.tid)
	return target.Regs(r), err
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
// host gets its signal at the AEP (or the vDSO's fixup).
func (s *Stop) Continue() error {
	if s.Resumed() {
		return ErrResumed
	}
	s.over = true
	if s.d != nil {
		return s.em.deliverAt(s.th, s.d)
	}
	return s.em.resume(s.th, 0)
}

// ERESUME resumes the enclave from its newest SSA frame instead of
// delivering the AEX to the host. With step, TCS.FLAGS.DBGOPTIN is set and
// the enclave runs one instruction, then takes a #DB AEX. When the newest
// frame was left by a handler run that a nested AEX interrupted, the
// ERESUME finishes that run: it returns to the trampoline, and its end is
// a stop with Handler set.
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
	s.th.debugStep = step
	r.Rax = uint64(sgx.LeafERESUME)
	if !step && s.InHandler() {
		return s.runTrampoline(sgx.LeafERESUME, func(*ptrace.Regs) {})
	}
	s.th.handler = nil
	s.over = true
	return s.em.eresume(s.th, &r)
}

// SingleStep runs one instruction of a thread held inside an enclave at an
// EENTER or ERESUME stop: DBGOPTIN in its TCS, TF in its RFLAGS.
func (s *Stop) SingleStep() error {
	if s.Resumed() {
		return ErrResumed
	}
	th := s.th
	if !th.inEnclave() {
		return fmt.Errorf("single step: thread %d is not inside an enclave (at an AEX, ERESUME with a step)", th.tid)
	}
	flags := make([]byte, 8)
	if _, err := s.em.ReadEnclave(th.proc.pid, flags, th.tcs+tcsFlags); err != nil {
		return fmt.Errorf("step: read TCS.FLAGS: %w", err)
	}
	flags[0] |= byte(sgx.TCSDbgOptIn)
	if _, err := s.em.WriteEnclave(th.proc.pid, flags, th.tcs+tcsFlags); err != nil {
		return fmt.Errorf("step: set DBGOPTIN: %w", err)
	}
	r, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	const tf = 0x100
	r.Eflags |= tf
	if err := ptrace.SetRegs(th.tid, &r); err != nil {
		return err
	}
	th.debugStep, s.over = true, true
	return s.em.resume(th, 0)
}

// EnterHandler EENTERs the enclave on the stopped thread's TCS (CSSA now
// > 0, so the runtime takes its exception path) with RDI, RSI, RDX as
// given, through an `enclu; int3` trampoline in the scratch page. The
// host's stack and code are not touched. The run ends at the trampoline's
// int3 (the enclave's EEXIT) or at a nested AEX; either way the thread is
// put back in the AEX state it is in now, and the next ContinueOnce
// returns that as a stop with Handler set. Until then only this thread is
// waited for: the others stay where they are.
func (s *Stop) EnterHandler(rdi, rsi, rdx uint64) error {
	if s.Resumed() {
		return ErrResumed
	}
	cssa, err := s.cssa(s.ev.TCS)
	if err != nil {
		return err
	}
	s.th.handler = &handlerRun{cssa: cssa}
	return s.runTrampoline(sgx.LeafEENTER, func(r *ptrace.Regs) { r.Rdi, r.Rsi, r.Rdx = rdi, rsi, rdx })
}

// handlerRun is a debugger-started exception handler that a nested AEX
// suspended: its frames return to the trampoline, not to the host.
type handlerRun struct {
	cssa uint32 // the TCS's CSSA when the handler was entered
}

// trampolineRun is a run of the enclave through the scratch page's
// trampoline, in flight: what to put back when it ends.
type trampolineRun struct {
	stop  *Stop // the stop it started from
	regs  ptrace.Regs
	xs    []byte
	tramp uint64 // the trampoline's ENCLU
}

// runTrampoline starts ENCLU[leaf] on the stopped thread's TCS at the
// scratch page's `enclu; int3` (which is also the AEP).
func (s *Stop) runTrampoline(leaf sgx.EncluLeaf, setup func(*ptrace.Regs)) error {
	th, pr := s.th, s.th.proc
	saved, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return err
	}
	xs, err := ptrace.GetXState(th.tid, make([]byte, s.em.xs.size))
	if err != nil {
		return err
	}
	tramp := pr.scratch + ptrace.ScratchENCLU
	r := saved
	r.Rax, r.Rbx, r.Rcx, r.Rip = uint64(leaf), s.ev.TCS, tramp, tramp
	r.Rsp = (saved.Rsp - 1024) &^ 15
	r.Orig_rax = ^uint64(0)
	setup(&r)
	if err := ptrace.SetRegs(th.tid, &r); err != nil {
		return err
	}
	th.run = &trampolineRun{stop: s, regs: saved, xs: xs, tramp: tramp}
	s.em.focus = th
	s.over = true
	return s.em.resume(th, 0)
}

// trampolineReturned checks whether st is th's return to the trampoline's
// int3 (its EEXIT went there) and if so ends the run.
func (em *Emulator) trampolineReturned(th *thread, st ptrace.Status) (bool, error) {
	if st.Tid != th.tid || st.Kind != ptrace.SignalStop || st.Sig != unix.SIGTRAP || th.inEnclave() {
		return false, nil
	}
	out, err := ptrace.GetRegs(th.tid)
	if err != nil {
		return false, err
	}
	if out.Rip != th.run.tramp+uint64(len(encluBytes))+1 {
		return false, nil
	}
	th.handler = nil
	return true, em.endRun(th, &HandlerResult{Exited: true, Regs: target.Regs(out)})
}

// endRun ends th's trampoline run: the thread is put back in the AEX state
// it started from, held as a stop that carries res.
func (em *Emulator) endRun(th *thread, res *HandlerResult) error {
	run := th.run
	th.run, em.focus = nil, nil
	th.running = false
	if err := ptrace.SetXState(th.tid, run.xs); err != nil {
		return err
	}
	if err := ptrace.SetRegs(th.tid, &run.regs); err != nil {
		return err
	}
	from := run.stop
	em.queue = append(em.queue, &Stop{em: em, th: th, ev: from.ev, d: from.d, handler: res})
	return nil
}

// Teardown destroys the enclave the stopped thread is in, the way a lost
// enclave looks to its host: every mapping goes away and its file
// descriptors are closed. The stop stays; when it continues, the host's
// next EENTER or ERESUME faults.
func (s *Stop) Teardown() ([]Event, error) {
	if s.Resumed() {
		return nil, ErrResumed
	}
	pr := s.th.proc
	e := pr.enclaveAt(s.ev.Enclave)
	if e == nil {
		return nil, fmt.Errorf("teardown: no enclave at %#x", s.ev.Enclave)
	}
	site := pr.scratch + ptrace.ScratchSyscall
	for _, m := range append([]mapping(nil), e.maps...) {
		if _, err := pr.mem.InjectSyscall(s.th.tid, site, unix.SYS_MUNMAP, m.start, m.end-m.start); err != nil {
			return nil, fmt.Errorf("teardown: unmap %#x: %w", m.start, err)
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
			return nil, fmt.Errorf("teardown: close fd %d: %w", fd, err)
		}
	}
	e.maps = nil
	s.em.removeEnclave(pr, e)
	evs := s.em.events
	s.em.events = nil
	return evs, nil
}
