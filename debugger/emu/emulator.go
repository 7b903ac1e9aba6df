package emu

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Options describe the host program to run under the emulator.
type Options struct {
	Path  string   // executable; looked up in PATH when it has no slash
	Args  []string // argv including argv[0]
	Env   []string // nil: sgxdbg's environment
	Dir   string
	Files []*os.File // stdin, stdout, stderr; nil: sgxdbg's

	// OwnGroup launches the host in a process group of its own (the
	// terminal's Ctrl-C then reaches the debugger only).
	OwnGroup bool
	// NoVDSO leaves the host without the synthetic vDSO (it then calls
	// ENCLU itself and gets exceptions as signals).
	NoVDSO bool

	// OnEvent and OnStop are for Wait and Run, which drive the emulator
	// without a debugger: Wait passes them each event and each stop that
	// ContinueOnce returns, from its own loop, then goes on. A stop that
	// OnStop did not end continues as it would without a debugger.
	OnEvent func(Event)
	OnStop  func(*Stop)
	// CPUSecret pins the emulated processor's 32-byte secret, from which
	// EGETKEY's keys and EREPORT's MACs are derived. Nil: $SGXDBG_CPU_SECRET,
	// else the per-user file (CPUSecretPath), created on first use.
	CPUSecret []byte

	// CPU is the SGX processor to present ("" is CPUSGX2).
	CPU CPUModel
	// EPCSize is the size CPUID reports for the EPC (0: DefaultEPCSize).
	// As on hardware, enclaves larger than the EPC still run (the kernel
	// pages EPC out), so it is reported, not enforced.
	EPCSize uint64
	// CPUID chooses how CPUID is caught; the default uses CPUID faulting
	// where the CPU has it and rewriting otherwise.
	CPUID CPUIDMethod
	// FunctionRanges, used only when CPUID is caught by rewriting, returns
	// the [start, end) offsets of the function symbols of the enclave image
	// that measures to mrenclave (nil when no image is known): only CPUID
	// instructions inside them are rewritten.
	FunctionRanges func(mrenclave [32]byte) [][2]uint64
}

// ExitStatus is how the host's main process ended.
type ExitStatus = target.ExitStatus

// process is one traced thread group.
type process struct {
	pid      int
	mem      *ptrace.Process
	scratch  uint64
	enclaves []*enclave
	fds      map[int]*enclave // enclave file descriptors
	prov     map[int]bool     // /dev/sgx_provision file descriptors
	enclu    map[uint64]bool  // host addresses known to hold an ENCLU
	// vdsoEnclu and vdsoFixup locate the synthetic vDSO's ENCLU and its
	// exception fixup (0 when the process has no synthetic vDSO).
	vdsoEnclu, vdsoFixup uint64
}

// thread is one traced thread and its enclave-mode state.
type thread struct {
	tid  int
	proc *process

	// Enclave mode: set between EENTER/ERESUME and EEXIT/AEX.
	encl                 *enclave
	tcs, aep             uint64
	outsideFS, outsideGS uint64

	// afterSyscall runs at the thread's next syscall-exit stop.
	afterSyscall func(r *ptrace.Regs) error
	// onFirstStop runs at a new process's first stop.
	onFirstStop func() error
	// handler is the debugger-started exception handler a nested AEX
	// suspended on this thread, if any.
	handler *handlerRun
	// retried is the address of the last fault retried because another
	// thread had already made its page accessible.
	retried uint64
	// run is the trampoline run (EnterHandler, or ERESUME of a frame a
	// handler run left) in flight on this thread.
	run *trampolineRun
	// gone is set once the thread has exited or been killed.
	gone bool
	// running is set when the thread was resumed since its last stop.
	running bool
	// hostCPUIDFault is the CPUID faulting the host itself asked for with
	// arch_prctl(ARCH_SET_CPUID, 0) (sysArchPrctl).
	hostCPUIDFault bool
	// drGen is the generation of the debug registers the thread has.
	drGen int
	// dr6 is the debug status of the #DB being turned into an AEX.
	dr6 uint64
	// debugStep is set while the thread runs one instruction for the
	// debugger (ERESUME with TF): an EEXIT on the way clears TF.
	debugStep bool
	// deliver is the siginfo to put in place of the SIGILL the tracer sent
	// itself with tgkill (to deliver an AEX from a syscall-stop).
	deliver *ptrace.Siginfo
}

func (t *thread) inEnclave() bool { return t.encl != nil }

// Emulator runs one host program. All its methods run on the tracer thread.
type Emulator struct {
	opts    Options
	xs      hostXSave
	procs   map[int]*process
	threads map[int]*thread
	mainPid int
	exit    *ExitStatus

	model      CPUModel
	sgx        sgx.SGXCPUID // leaf 12H of the emulated processor
	cpuid      CPUIDMethod  // settled at the first exec
	cpuidCount int          // host CPUIDs answered
	cpuidCache map[[2]uint32][4]uint32
	// events happened since ContinueOnce last returned.
	events []Event
	// cur is the stop ContinueOnce last returned; queue, the threads held
	// since, for the next calls to return one by one (an action's stop, or
	// every thread an interrupt stopped).
	cur   *Stop
	queue []*Stop
	// focus is the thread running a debugger-started handler: until the
	// run ends, only its stops are waited for.
	focus *thread

	// dr are the debugger's DR0–DR3 slots; drGen counts their changes, and
	// each thread records the generation it has (hwdebug.go).
	dr    [4]target.HWSlot
	drGen int

	// pids are the live processes, for Kill from any goroutine.
	pidMu  sync.Mutex
	pids   map[int]bool
	killed bool
	// interrupting: Interrupt sent SIGSTOP to these threads; their stops
	// become interrupt stops (interrupt.go).
	interrupting map[int]bool

	keys *sgx.KeyHierarchy // loaded at the first EREPORT or EGETKEY

	// endedQueue holds exit statuses injected system calls took from wait.
	endedQueue []ptrace.Status
}

// Run starts the host under a new tracer, emulates SGX for it until its
// main process ends (see Wait), and returns how it ended.
func Run(opts Options) (ExitStatus, error) {
	tr := ptrace.NewTracer()
	defer tr.Close()
	var st ExitStatus
	err := tr.Do(func() error {
		em, err := Start(opts)
		if err != nil {
			return err
		}
		st, err = em.Wait()
		return err
	})
	return st, err
}

// Start launches the host stopped at its first instruction with the
// seccomp filter installed. Tracer thread only.
func Start(opts Options) (*Emulator, error) {
	path := opts.Path
	if !strings.Contains(path, "/") {
		if p, err := lookPath(path); err == nil {
			path = p
		}
	}
	model, err := ParseCPUModel(string(opts.CPU))
	if err != nil {
		return nil, err
	}
	if _, err := ParseCPUIDMethod(string(opts.CPUID)); err != nil {
		return nil, err
	}
	epc := opts.EPCSize
	if epc == 0 {
		epc = DefaultEPCSize
	}
	xs := probeHostXSave()
	leaf12 := sgxCPUID(model, epc, xs.xcr0)
	if err := leaf12.Check(); err != nil {
		return nil, fmt.Errorf("emulated CPU: %w", err)
	}
	p, err := ptrace.Launch(ptrace.LaunchOptions{Path: path, Args: opts.Args, Env: opts.Env, Dir: opts.Dir, Files: opts.Files, OwnGroup: opts.OwnGroup})
	if err != nil {
		return nil, err
	}
	em := &Emulator{
		opts:    opts,
		xs:      xs,
		procs:   map[int]*process{},
		threads: map[int]*thread{},
		mainPid: p.Pid,
		model:   model,
		sgx:     leaf12,
		cpuid:   opts.CPUID,
		pids:    map[int]bool{p.Pid: true},
	}
	pr := &process{pid: p.Pid, mem: p, fds: map[int]*enclave{}, prov: map[int]bool{}, enclu: map[uint64]bool{}}
	em.procs[p.Pid] = pr
	em.threads[p.Pid] = &thread{tid: p.Pid, proc: pr}
	if err := em.prepare(pr, p.Pid, 0); err != nil {
		_ = p.Kill()
		return nil, fmt.Errorf("prepare %s for emulation: %w", path, err)
	}
	if err := ptrace.Cont(p.Pid, 0); err != nil {
		_ = p.Kill()
		return nil, err
	}
	return em, nil
}

func lookPath(name string) (string, error) {
	for _, dir := range strings.Split(os.Getenv("PATH"), ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

// prepare maps the scratch page (at want, if not 0) and installs the
// seccomp filter in a process stopped right after exec.
func (em *Emulator) prepare(pr *process, tid int, want uint64) error {
	scratch, err := pr.mem.MapScratch(tid, want)
	if err != nil {
		return err
	}
	pr.scratch = scratch
	if err := putScratchNames(pr); err != nil {
		return err
	}
	if err := em.enableCPUIDFaulting(pr, tid); err != nil {
		return err
	}
	pr.vdsoEnclu, pr.vdsoFixup = 0, 0
	if !em.opts.NoVDSO {
		if err := em.mapVDSO(pr, tid); err != nil {
			return err
		}
	}
	if want != 0 {
		return nil // the filter survives exec
	}
	return pr.mem.InstallSeccomp(tid, scratch, seccompFilter(scratch))
}

// emit records an event for ContinueOnce to return.
func (em *Emulator) emit(ev Event) { em.events = append(em.events, ev) }

// Pid returns the host's process id.
func (em *Emulator) Pid() int { return em.mainPid }

// Wait runs the host to the end of its main process: it calls
// ContinueOnce in a loop, handing each event to Options.OnEvent and each
// stop to Options.OnStop. Tracer thread only.
func (em *Emulator) Wait() (ExitStatus, error) {
	for {
		tr, err := em.ContinueOnce()
		if err != nil {
			return ExitStatus{}, err
		}
		if em.opts.OnEvent != nil {
			for _, ev := range tr.Events {
				em.opts.OnEvent(ev)
			}
		}
		if tr.Exited {
			return tr.Status, nil
		}
		if s, ok := tr.Stop.(*Stop); ok && em.opts.OnStop != nil {
			em.opts.OnStop(s)
		}
	}
}

// ContinueOnce lets the stop it returned last go on (as without a
// debugger, unless an action already let it go), waits until something
// happens, and returns the events and the stop, if any (target.Process).
// Tracer thread only.
func (em *Emulator) ContinueOnce() (target.Trap, error) {
	if s := em.cur; s != nil {
		em.cur = nil
		if !s.Resumed() && !em.isKilled() {
			if err := s.Continue(); err != nil && !dying(s.th.tid, err) {
				return target.Trap{}, err
			}
		}
	}
	for em.exit == nil && len(em.queue) == 0 && len(em.events) == 0 {
		tid := -1
		if em.focus != nil {
			tid = em.focus.tid
		}
		st, ok := em.takeEnded()
		var err error
		if !ok {
			st, err = ptrace.Wait(tid)
		}
		if errors.Is(err, ptrace.ErrVanished) {
			continue // killed at its stop; its exit comes next
		}
		if err != nil {
			if errors.Is(err, unix.ECHILD) {
				if tid > 0 {
					em.focus = nil // the handler's thread is gone
					continue
				}
				return target.Trap{}, fmt.Errorf("host %d vanished without an exit status", em.mainPid)
			}
			return target.Trap{}, err
		}
		if th := em.focus; th != nil && th.run != nil {
			if done, err := em.trampolineReturned(th, st); done || err != nil {
				if err != nil {
					return target.Trap{}, err
				}
				continue
			}
		}
		if err := em.handle(st); err != nil {
			if dying(st.Tid, err) {
				continue // the thread died meanwhile; its exit comes next
			}

			em.Kill()
			return target.Trap{}, err
		}
	}
	tr := target.Trap{Events: em.events}
	em.events = nil
	if len(em.queue) > 0 {
		em.cur, em.queue = em.queue[0], em.queue[1:]
		tr.Stop = em.cur
	}
	if em.exit != nil {
		tr.Exited, tr.Status = true, *em.exit
	}
	return tr, nil
}

// dying reports whether err, from handling a stop of tid, comes from the
// thread being killed while the tracer worked on it (its process exiting,
// a SIGKILL): ESRCH from a ptrace request, or EIO or EOF from
// /proc/PID/mem once the address space is being torn down (fs/proc/base.c
// mem_rw: no mm gives 0 bytes, an unreadable page EIO) — and the thread no
// longer answers ptrace requests. Its exit status is then the next thing
// wait reports; the session goes on. An EIO from a live thread (a read of
// an unmapped address) stays an error.
func dying(tid int, err error) bool {
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if !errors.Is(err, unix.EIO) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false
	}
	return !ptrace.Examinable(tid)
}

// takeEnded returns an exit status an injected system call took from
// wait (ptrace.ThreadEndedError), to be handled as if Wait had returned
// it: nothing else reports it.
func (em *Emulator) takeEnded() (ptrace.Status, bool) {
	for _, pr := range em.procs {
		if sts := pr.mem.TakeEnded(); len(sts) > 0 {
			em.endedQueue = append(em.endedQueue, sts...)
		}
	}
	if len(em.endedQueue) == 0 {
		return ptrace.Status{}, false
	}
	st := em.endedQueue[0]
	em.endedQueue = em.endedQueue[1:]
	return st, true
}

// Kill ends the host. Any goroutine.
func (em *Emulator) Kill() {
	em.pidMu.Lock()
	defer em.pidMu.Unlock()
	em.killed = true
	for pid := range em.pids {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

func (em *Emulator) isKilled() bool {
	em.pidMu.Lock()
	defer em.pidMu.Unlock()
	return em.killed
}

func (em *Emulator) trackPid(pid int, live bool) {
	em.pidMu.Lock()
	defer em.pidMu.Unlock()
	if live {
		em.pids[pid] = true
		if em.killed {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	} else {
		delete(em.pids, pid)
	}
}

func (em *Emulator) handle(st ptrace.Status) error {
	th := em.threads[st.Tid]
	if th == nil && (st.Kind == ptrace.Exited || st.Kind == ptrace.Killed) {
		// The end of a process this emulator never ran: when a thread
		// exits, Linux gives its children to another thread of the same
		// process, so the zombie host of a tracer thread that has ended
		// (another session in this process) can be reported here.
		return nil
	}
	if th == nil {
		var err error
		if th, err = em.adopt(st.Tid); err != nil {
			if errors.Is(err, fs.ErrNotExist) && (st.Kind == ptrace.Exited || st.Kind == ptrace.Killed) {
				// A thread we never saw stop, gone already (its process
				// is exiting): nothing to emulate for it.
				return nil
			}
			return err
		}
	}
	th.running = false
	if em.drGen != th.drGen && st.Kind != ptrace.Exited && st.Kind != ptrace.Killed {
		if err := em.applyDebugRegisters(th); err != nil {
			return err
		}
	}
	if st.Kind == ptrace.SignalStop && th.proc != nil && (th.deliver == nil || st.Sig != unix.Signal(th.deliver.Signo)) {
		// A signal an injected syscall deferred: its own siginfo back.
		if _, err := th.proc.mem.Requeued(&st); err != nil {
			return err
		}
	}
	if f := th.onFirstStop; f != nil && (st.Kind == ptrace.SignalStop || st.Kind == ptrace.GroupStop) {
		th.onFirstStop = nil
		if err := f(); err != nil {
			return err
		}
		if st.Sig == unix.SIGSTOP {
			return em.resume(th, 0)
		}
	}
	switch st.Kind {
	case ptrace.Exited, ptrace.Killed:
		return em.threadGone(th, st)
	case ptrace.EventStop:
		return em.handleEvent(th, st)
	case ptrace.SyscallStop:
		r, err := ptrace.GetRegs(th.tid)
		if err != nil {
			return err
		}
		if f := th.afterSyscall; f != nil {
			th.afterSyscall = nil
			// f may have made a stop of the thread (the #UD AEX of a
			// SYSCALL in an enclave): then it stays held.
			if err := f(&r); err != nil || th.running || em.holding(th) {
				return err
			}
			return em.resume(th, 0)
		}
		if th.inEnclave() {
			return em.syscallInEnclave(th, &r)
		}
		return em.resume(th, 0)
	case ptrace.SignalStop:
		return em.handleSignal(th, st.Sig, st.Info)
	case ptrace.GroupStop:
		return em.resume(th, 0)
	}
	return nil
}

// adopt registers a thread whose first stop arrived before its parent's
// clone event.
func (em *Emulator) adopt(tid int) (*thread, error) {
	tgid, err := readTgid(tid)
	if err != nil {
		return nil, err
	}
	pr := em.procs[tgid]
	if pr == nil {
		return nil, fmt.Errorf("stop of unknown thread %d (thread group %d)", tid, tgid)
	}
	th := &thread{tid: tid, proc: pr}
	em.threads[tid] = th
	return th, nil
}

func readTgid(tid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return 0, fmt.Errorf("read status of thread %d: %w", tid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("thread %d: no Tgid in /proc status", tid)
}

// resume continues th, stopping at its next syscall when it is in enclave
// mode or has work pending at a syscall exit.
func (em *Emulator) resume(th *thread, sig unix.Signal) error {
	th.running = true
	if th.inEnclave() || th.afterSyscall != nil {
		return ptrace.ContSyscall(th.tid, sig)
	}
	return ptrace.Cont(th.tid, sig)
}

func (em *Emulator) threadGone(th *thread, st ptrace.Status) error {
	delete(em.threads, th.tid)
	th.gone = true
	if em.focus == th {
		em.focus, th.run = nil, nil
	}
	if th.proc != nil && th.proc.mem != nil {
		th.proc.mem.Forget(th.tid)
	}
	if th.inEnclave() {
		// A logical processor left the enclave without EEXIT or AEX (the
		// thread was killed): the TCS is no longer busy.
		th.encl.putTCS64(th.tcs, tcsState, 0)
	}
	pr := th.proc
	if th.tid != pr.pid {
		return nil
	}
	for _, e := range pr.enclaves {
		em.removeEnclave(pr, e)
	}
	pr.mem.Close()
	delete(em.procs, pr.pid)
	em.trackPid(pr.pid, false)
	for tid, t := range em.threads {
		if t.proc == pr {
			delete(em.threads, tid)
		}
	}
	if pr.pid == em.mainPid {
		ev := Event{Kind: EvExit, Pid: pr.pid}
		if st.Kind == ptrace.Killed {
			em.exit = &ExitStatus{Signal: st.Sig}
			ev.Killed = st.Sig
			ev.Status = 128 + int(st.Sig)
		} else {
			em.exit = &ExitStatus{Code: st.Code}
			ev.Status = st.Code
		}
		em.emit(ev)
	}
	return nil
}

func (em *Emulator) removeEnclave(pr *process, e *enclave) {
	for i, x := range pr.enclaves {
		if x == e {
			pr.enclaves = append(pr.enclaves[:i], pr.enclaves[i+1:]...)
			break
		}
	}
	for fd, x := range pr.fds {
		if x == e {
			delete(pr.fds, fd)
		}
	}
	if e.created {
		em.emit(Event{Kind: EvEnclaveRemoved, Pid: pr.pid, Enclave: e.base()})
	}
	e.release()
}

func (em *Emulator) handleEvent(th *thread, st ptrace.Status) error {
	switch st.Event {
	case unix.PTRACE_EVENT_SECCOMP:
		return em.handleSyscall(th)
	case unix.PTRACE_EVENT_CLONE, unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK:
		msg, err := ptrace.EventMsg(th.tid)
		if err != nil {
			return err
		}
		child := int(msg)
		if st.Event == unix.PTRACE_EVENT_CLONE {
			if em.threads[child] == nil {
				em.threads[child] = &thread{tid: child, proc: th.proc}
			}
		} else if err := em.forked(th.proc, child); err != nil {
			return err
		}
		em.threads[child].hostCPUIDFault = th.hostCPUIDFault // inherited, as the kernel's setting is
		return em.resume(th, 0)
	case unix.PTRACE_EVENT_EXEC:
		return em.execed(th)
	}
	return em.resume(th, 0)
}

// forked registers a child process. Enclave mappings are not inherited
// (the driver's VMAs are VM_DONTCOPY); the child's copies of the emulated
// mappings are removed once it first stops.
func (em *Emulator) forked(parent *process, pid int) error {
	mem, err := ptrace.NewProcess(pid)
	if err != nil {
		return err
	}
	pr := &process{pid: pid, mem: mem, scratch: parent.scratch, fds: map[int]*enclave{}, prov: map[int]bool{}, enclu: map[uint64]bool{}}
	for fd := range parent.prov {
		pr.prov[fd] = true // a plain file: the child inherits it
	}
	em.procs[pid] = pr
	em.trackPid(pid, true)
	th := em.threads[pid]
	if th == nil {
		th = &thread{tid: pid}
		em.threads[pid] = th
	}
	th.proc = pr
	var ranges [][2]uint64
	for _, e := range parent.enclaves {
		if e.created {
			ranges = append(ranges, [2]uint64{e.base(), e.size()})
		}
	}
	if len(ranges) > 0 {
		th.afterSyscall = nil
		th.deliver = nil
		pending := ranges
		th.onFirstStop = func() error {
			for _, r := range pending {
				if _, err := pr.mem.InjectSyscall(pid, pr.scratch+ptrace.ScratchSyscall, unix.SYS_MUNMAP, r[0], r[1]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return nil
}

// execed handles a successful execve: the old address space and its
// enclaves are gone; the scratch page is mapped again where the seccomp
// filter expects it.
func (em *Emulator) execed(th *thread) error {
	pr := th.proc
	for _, e := range append([]*enclave(nil), pr.enclaves...) {
		em.removeEnclave(pr, e)
	}
	for tid, t := range em.threads {
		if t.proc == pr && tid != pr.pid {
			delete(em.threads, tid)
		}
	}
	leader := em.threads[pr.pid]
	if leader == nil {
		leader = &thread{tid: pr.pid, proc: pr}
		em.threads[pr.pid] = leader
	}
	*leader = thread{tid: pr.pid, proc: pr}
	if err := pr.mem.ReopenMemory(); err != nil {
		return err
	}
	pr.enclu = map[uint64]bool{}
	// The exec event stop is inside execve: its return value would
	// overwrite an injected call's registers. Prepare at its exit stop.
	leader.afterSyscall = func(*ptrace.Regs) error { return em.prepare(pr, pr.pid, pr.scratch) }
	return em.resume(leader, 0)
}
