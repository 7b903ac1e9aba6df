package emu

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// Interrupting a running host. Interrupt (any goroutine) sends SIGSTOP to
// every thread of every traced process with tgkill; each thread reports
// it as a signal-delivery-stop, which the tracer turns into a stop instead
// of a group-stop: a thread inside an enclave takes the AEX an interrupt
// causes on hardware (EXITINFO.VALID = 0, the synthetic state at the AEP,
// CSSA+1) with no signal for the host — continuing it resumes at the AEP,
// whose ENCLU[ERESUME] goes back into the enclave, as the kernel returns
// there after an interrupt; a thread in host code stops where it is (an
// "interrupt" event). ContinueOnce returns those stops one by one; the
// ones the debugger does not want continue as if nothing happened.

// Interrupt stops every thread of the host (target.Interrupter). Any
// goroutine.
func (p *Process) Interrupt() error { return p.em.Interrupt() }

var _ target.Interrupter = (*Process)(nil)

// Interrupt: see Process.Interrupt.
func (em *Emulator) Interrupt() error {
	em.pidMu.Lock()
	defer em.pidMu.Unlock()
	if em.interrupting == nil {
		em.interrupting = map[int]bool{}
	}
	sent := 0
	for pid := range em.pids {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			continue // it is exiting
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || em.interrupting[tid] {
				continue
			}
			if err := unix.Tgkill(pid, tid, unix.SIGSTOP); err == nil {
				em.interrupting[tid] = true
				sent++
			}
		}
	}
	if sent == 0 {
		return fmt.Errorf("interrupt: no thread of the host could be signalled")
	}
	return nil
}

// takeInterrupt reports whether a SIGSTOP at th's signal-delivery-stop is
// one Interrupt sent (and forgets it).
func (em *Emulator) takeInterrupt(th *thread, sig unix.Signal, si ptrace.Siginfo) bool {
	if sig != unix.SIGSTOP || si.Code != ptrace.SITkill || int(uint32(si.Addr)) != os.Getpid() {
		return false
	}
	em.pidMu.Lock()
	defer em.pidMu.Unlock()
	if !em.interrupting[th.tid] {
		return false
	}
	delete(em.interrupting, th.tid)
	return true
}

// interrupted makes th's interrupt a stop: the AEX of an interrupt inside
// an enclave, else an interrupt event where the thread is.
func (em *Emulator) interrupted(th *thread, r *ptrace.Regs) error {
	if th.inEnclave() {
		return em.aex(th, r, aexInfo{interrupt: true, rip: r.Rip})
	}
	ev := Event{Kind: EvInterrupt, Pid: th.proc.pid, Tid: th.tid, RIP: r.Rip}
	em.emit(ev)
	em.hold(th, ev, nil)
	return nil
}

// holding reports whether th is held for ContinueOnce to return.
func (em *Emulator) holding(th *thread) bool {
	for _, s := range em.queue {
		if s.th == th {
			return true
		}
	}
	return false
}
