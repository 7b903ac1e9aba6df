package ptrace

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Options set on every launched process: the tracee dies with the tracer,
// and clones, execs, syscall-stops and seccomp RET_TRACE are reported.
const traceOptions = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK |
	unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACESECCOMP

// LaunchOptions describe the program to start under the tracer.
type LaunchOptions struct {
	Path  string   // executable path (resolved by the caller)
	Args  []string // argv, including argv[0]
	Env   []string // environment; nil means the tracer's
	Dir   string   // working directory; "" means the tracer's
	Files []*os.File
	// OwnGroup puts the tracee in a process group of its own, so that the
	// terminal's Ctrl-C reaches the tracer only (it interrupts the host).
	OwnGroup bool
}

// Process is a traced process. Its memory is reached through
// /proc/PID/mem, which sees every mapping the tracee can (and, on SGX
// hardware, debug enclave pages through the driver's EDBGRD path).
type Process struct {
	Pid int
	mem *os.File
	// requeued holds, per thread, the siginfo of signals InjectSyscall
	// sent again with tgkill, for Requeued to put back.
	requeued map[int][]Siginfo
	// ended holds exit statuses the waits of InjectSyscall took (TakeEnded).
	ended []Status
}

// Launch starts o.Path under ptrace and returns it stopped right after its
// execve, with the trace options set. Tracer thread only.
func Launch(o LaunchOptions) (*Process, error) {
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	files := make([]uintptr, len(o.Files))
	for i, f := range o.Files {
		files[i] = f.Fd()
	}
	if len(files) == 0 {
		files = []uintptr{0, 1, 2}
	}
	attr := &syscall.ProcAttr{
		Dir:   o.Dir,
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL, Setpgid: o.OwnGroup},
	}
	pid, err := syscall.ForkExec(o.Path, o.Args, attr)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Path, err)
	}
	st, err := Wait(pid)
	if err != nil {
		return nil, err
	}
	if st.Kind != SignalStop || st.Sig != unix.SIGTRAP {
		_ = unix.Kill(pid, unix.SIGKILL)
		return nil, fmt.Errorf("start %s: unexpected first stop: %v", o.Path, st)
	}
	if err := unix.PtraceSetOptions(pid, traceOptions); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return nil, fmt.Errorf("PTRACE_SETOPTIONS %d: %w", pid, err)
	}
	p := &Process{Pid: pid}
	if err := p.ReopenMemory(); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return nil, err
	}
	return p, nil
}

// NewProcess returns a Process for pid, already traced by this thread (a
// forked child reported by PTRACE_EVENT_FORK, for instance).
func NewProcess(pid int) (*Process, error) {
	p := &Process{Pid: pid}
	if err := p.ReopenMemory(); err != nil {
		return nil, err
	}
	return p, nil
}

// ReopenMemory opens /proc/PID/mem again; needed after the tracee execs,
// since an open file keeps referring to the old address space.
func (p *Process) ReopenMemory() error {
	if p.mem != nil {
		p.mem.Close()
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", p.Pid), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open memory of %d: %w", p.Pid, err)
	}
	p.mem = f
	return nil
}

// ReadMemory reads len(buf) bytes at addr of the tracee's address space.
func (p *Process) ReadMemory(buf []byte, addr uint64) (int, error) {
	n, err := p.mem.ReadAt(buf, int64(addr))
	if err != nil {
		return n, fmt.Errorf("read %d bytes at %#x of %d: %w", len(buf), addr, p.Pid, err)
	}
	return n, nil
}

// WriteMemory writes buf at addr of the tracee's address space, even into
// read-only mappings (the kernel forces the write for a tracer).
func (p *Process) WriteMemory(buf []byte, addr uint64) (int, error) {
	n, err := p.mem.WriteAt(buf, int64(addr))
	if err != nil {
		return n, fmt.Errorf("write %d bytes at %#x of %d: %w", len(buf), addr, p.Pid, err)
	}
	return n, nil
}

// Kill sends SIGKILL to the whole process.
func (p *Process) Kill() error {
	if err := unix.Kill(p.Pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %d: %w", p.Pid, err)
	}
	return nil
}

// Close releases the memory file.
func (p *Process) Close() error {
	if p.mem == nil {
		return nil
	}
	err := p.mem.Close()
	p.mem = nil
	return err
}
