package ptrace

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Signals that arrive while the tracer runs an injected system call are
// taken from the thread (the signal-delivery-stop is resumed without
// them) and queued again once its registers are back, with the siginfo
// they arrived with:
//
//   - rt_tgsigqueueinfo(2) from the tracer queues the siginfo as it was,
//     but the kernel accepts it from another process only for negative
//     si_code values other than SI_TKILL (kernel/signal.c,
//     do_rt_tgsigqueueinfo: "Not even root can pretend to send signals
//     from the kernel");
//   - every other signal (kernel-generated ones such as SIGCHLD or a
//     timer's SIGALRM, kill(2)'s SI_USER, tgkill(2)'s SI_TKILL) is sent
//     again with tgkill, and its siginfo is put back with
//     PTRACE_SETSIGINFO at the signal-delivery-stop that tgkill causes:
//     the tracer's wait loop calls Requeued at each signal-delivery-stop.

// requeue queues si for thread tid again. Tracer thread only.
func (p *Process) requeue(tid int, si *Siginfo) {
	if si.Code < 0 && si.Code != SITkill {
		_, _, e := unix.Syscall6(unix.SYS_RT_TGSIGQUEUEINFO, uintptr(p.Pid), uintptr(tid), uintptr(si.Signo),
			uintptr(unsafe.Pointer(si)), 0, 0)
		if e == 0 {
			return
		}
	}
	if err := unix.Tgkill(p.Pid, tid, unix.Signal(si.Signo)); err != nil {
		return // the thread is gone, and the signal with it
	}
	if p.requeued == nil {
		p.requeued = map[int][]Siginfo{}
	}
	p.requeued[tid] = append(p.requeued[tid], *si)
}

// Requeued restores the siginfo of a signal InjectSyscall sent again with
// tgkill: when st is tid's signal-delivery-stop for such a signal (si_code
// SI_TKILL from this process), it replaces the stop's siginfo with the
// one the signal arrived with (PTRACE_SETSIGINFO), updates st.Info and
// reports true. Any other stop is left alone. Tracer thread only.
func (p *Process) Requeued(st *Status) (bool, error) {
	q := p.requeued[st.Tid]
	if st.Kind != SignalStop || len(q) == 0 || st.Info.Code != SITkill || st.Info.Pid() != os.Getpid() {
		return false, nil
	}
	for i := range q {
		if unix.Signal(q[i].Signo) != st.Sig {
			continue
		}
		si := q[i]
		p.requeued[st.Tid] = append(q[:i:i], q[i+1:]...)
		if len(p.requeued[st.Tid]) == 0 {
			delete(p.requeued, st.Tid)
		}
		if err := SetSiginfo(st.Tid, &si); err != nil {
			return false, err
		}
		st.Info = si
		return true, nil
	}
	return false, nil
}

// Forget drops what Requeued would still restore for thread tid (it has
// exited). Tracer thread only.
func (p *Process) Forget(tid int) { delete(p.requeued, tid) }

// Pid returns si_pid, the sender's process id of a signal sent by kill,
// tgkill or sigqueue (the low 32 bits of the union Addr also holds).
func (si *Siginfo) Pid() int { return int(int32(uint32(si.Addr))) }
