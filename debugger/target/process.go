package target

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// LaunchOptions describe the host program a backend starts.
type LaunchOptions struct {
	Path  string
	Args  []string // argv, including argv[0]
	Env   []string // nil: sgxdbg's environment
	Dir   string
	Files []*os.File // stdin, stdout, stderr; nil: sgxdbg's
	// OwnGroup runs the host in a process group of its own, so that the
	// terminal's Ctrl-C reaches the debugger alone, which interrupts the
	// host (Interrupter) instead of letting the signal kill it.
	OwnGroup bool
}

// ExitStatus is how the host's main process ended.
type ExitStatus struct {
	Code   int         // exit code, when Signal is 0
	Signal unix.Signal // the signal that killed it, or 0
}

// ShellCode returns the status the way a shell reports it: the exit code,
// or 128 + the signal number.
func (s ExitStatus) ShellCode() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

// Trap is what one Process.ContinueOnce found.
type Trap struct {
	// Events happened since the previous call, in order. When Stop is set,
	// the last one is the event it stopped at (a stop that ends a handler
	// run stops at the AEX it started from, which is not repeated).
	Events []Event
	// Stop is the thread held at the event, or nil when the threads went on.
	Stop Stop
	// Exited reports the host's end (its exit event is the last of Events).
	Exited bool
	Status ExitStatus
}

// Process is one host program under a backend. The debugger pulls: it
// calls ContinueOnce, which lets the held thread go on and returns the next
// thing that happened. Nothing in a backend calls back into the debugger;
// an action at a stop (Stop's methods) only changes state and lets the
// thread go, and what it leads to is a later ContinueOnce's Trap.
//
// Except Kill, every method — and every method of the Stops it returns —
// must run inside Do (on the emulator's tracer thread, for instance).
type Process interface {
	// Do runs f where the backend may be used and returns its error.
	Do(f func() error) error
	// Pid is the host's process id.
	Pid() int
	// ContinueOnce lets a held stop that no action ended continue as it
	// would without a debugger, waits until something happens, and
	// returns it. After the host's end it keeps returning Exited.
	ContinueOnce() (Trap, error)
	// Kill ends the host; ContinueOnce then reports its end. Any goroutine.
	Kill()
	// Detach lets an attached host go on without the debugger. A host the
	// backend launched cannot be detached from (ErrCannotDetach).
	Detach() error
	// Close releases the backend; a launched host that still runs is
	// killed and reaped first.
	Close() error
}

// Interrupter is a Process that can stop a running host from any
// goroutine: every thread then stops (one Trap each), a thread inside an
// enclave with the AEX of an interrupt (EXITINFO.VALID = 0) and nothing for
// the host, one in host code with an EvInterrupt event.
type Interrupter interface {
	Interrupt() error
}

// ErrCannotDetach is Detach's answer for a host that cannot live without
// the backend (the emulator is what gives it SGX).
var ErrCannotDetach = errors.New("this host cannot run without the debugger's backend")

// Backend creates Processes. Launch starts a new host; Attach takes one
// that runs already (on SGX hardware: its enclaves are found through
// /proc/PID/maps and TCS addresses at its AEX stops). Either may be nil
// when the backend cannot do it.
type Backend struct {
	Name   string
	Launch func(LaunchOptions) (Process, error)
	Attach func(pid int) (Process, error)
}

// EnclaveInfo describes one enclave, as the driver and its SECS know it.
type EnclaveInfo struct {
	Pid          int
	Base, Size   uint64
	SSAFrameSize uint32
	MiscSelect   sgx.MiscSelect
	Attributes   sgx.Attributes
	MRENCLAVE    [32]byte
	MRSIGNER     [32]byte
	Initialized  bool
	TCS          []uint64 // linear addresses of its TCS pages, ascending
	Pages        []Page   // every EPC page, by offset
	// CPUIDRewritten lists the CPUID instructions the emulator rewrote to
	// UD2 (only on a CPU without CPUID faulting), ascending.
	CPUIDRewritten []uint64
}

// Page is one EPC page of an enclave and its EPCM type and permissions.
type Page struct {
	Offset  uint64 // from the enclave base
	Secinfo sgx.SecinfoFlags
}

// ThreadInfo says where a traced thread is.
type ThreadInfo struct {
	Pid, Tid  int
	InEnclave bool
	Enclave   uint64 // when InEnclave
	TCS       uint64 // when InEnclave
}

// HandlerResult is what running an enclave's exception path (EnterHandler,
// or ERESUME of a frame such a run left) produced.
type HandlerResult struct {
	Exited bool   // the enclave left through EEXIT
	Regs   Regs   // registers at that EEXIT (RDI/RSI carry the runtime's answer)
	Event  *Event // else: a nested AEX, or the enclu-fault of a refused EENTER
}

// ErrResumed is returned by a Stop's methods once an action let the
// thread go: the stop is over.
var ErrResumed = errors.New("the thread is no longer stopped")

// Stop is a thread held at an event: after an AEX, at the AEP with the
// synthetic state, the host's notification (Pending) not yet delivered;
// after EENTER, ERESUME or EEXIT, just past the transition.
type Stop interface {
	// Event is the event the thread is held at.
	Event() Event
	// Pending is how the host learns of the AEX when the stop continues.
	Pending() Delivery
	// Regs are the thread's registers as the OS sees them.
	Regs() (Regs, error)
	// ReadEnclave and WriteEnclave go through the EDBGRD/EDBGWR path
	// (CheckDebugAccess's rules, the same errors everywhere).
	ReadEnclave(buf []byte, addr uint64) (int, error)
	WriteEnclave(buf []byte, addr uint64) (int, error)
	// ReadHost reads host (non-enclave) memory.
	ReadHost(buf []byte, addr uint64) (int, error)
	Enclaves() []EnclaveInfo
	Threads() []ThreadInfo
	// Handler is set on the stop that ends a run of the enclave's exception
	// path started by EnterHandler (or by ERESUME of a frame such a run
	// left): the thread is back at the AEX it started from.
	Handler() *HandlerResult
	// InHandler reports whether the newest SSA frame of the stopped TCS
	// belongs to a handler run a nested AEX interrupted: ERESUME then
	// finishes that run, and its end is a stop with Handler set.
	InHandler() bool
	// Resumed reports whether an action let the thread go.
	Resumed() bool
	// DR6 is the debug status of a #DB stop (B0–B3: the debug-register
	// slot that fired; BS: a single step), 0 otherwise.
	DR6() uint64

	// Actions. Each but Teardown lets the thread go and ends the stop.
	// Continue goes on as without a debugger (after an AEX: Pending).
	Continue() error
	// ERESUME resumes the enclave from its newest SSA frame; with step,
	// TCS.FLAGS.DBGOPTIN and TF make it take a #DB after one instruction.
	ERESUME(step bool) error
	// SingleStep runs one enclave instruction of a thread held inside an
	// enclave (an EENTER or ERESUME stop) with TCS.FLAGS.DBGOPTIN and TF,
	// which ends in a #DB AEX (or an EEXIT stop, or the instruction's own
	// fault). At an AEX stop, ERESUME(true) is the single step.
	SingleStep() error
	// EnterHandler EENTERs the enclave on the stopped TCS with RDI, RSI,
	// RDX as given and runs it to its EEXIT or a nested AEX.
	EnterHandler(rdi, rsi, rdx uint64) error
	// Teardown destroys the stopped thread's enclave the way a lost
	// enclave looks to its host; the stop stays. It returns the events it
	// caused (the enclave's removal).
	Teardown() ([]Event, error)
}
