package target

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// ErrResumed is returned by a Stop's methods once one of them resumed the
// thread: the stop is over.
var ErrResumed = errors.New("the thread is no longer stopped")

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

// HandlerResult is what running an enclave's exception path produced.
type HandlerResult struct {
	Exited bool        // the enclave left through EEXIT
	Regs   ptrace.Regs // registers at that EEXIT (RDI/RSI carry the runtime's status)
	Event  *Event      // a nested AEX, or the enclu-fault of a refused EENTER
}

// Stop is a thread held at an event the debugger may act on. After an AEX
// the thread is at the AEP with the synthetic state and the signal for the
// host is pending. A Stop is only valid on the goroutine it was handed to,
// until one of its actions resumes the thread.
type Stop interface {
	Event() Event
	// Pending is the signal the host gets when an AEX stop continues.
	Pending() unix.Signal
	// Regs are the thread's registers as the OS sees them.
	Regs() (ptrace.Regs, error)
	// ReadEnclave and WriteEnclave go through the EDBGRD/EDBGWR path.
	ReadEnclave(buf []byte, addr uint64) (int, error)
	WriteEnclave(buf []byte, addr uint64) (int, error)
	// ReadHost reads host (non-enclave) memory.
	ReadHost(buf []byte, addr uint64) (int, error)
	Enclaves() []EnclaveInfo
	Threads() []ThreadInfo
	Resumed() bool

	// Actions. Continue, ERESUME and Kill end the stop.
	Continue() error
	ERESUME(step bool) error
	EnterHandler(rdi, rsi, rdx uint64) (*HandlerResult, error)
	Teardown() error
	Kill()
}
