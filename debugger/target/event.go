package target

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// EventKind names an event of the timeline. The names are a contract shared
// with scripts (`sgxdbg emulate --json`, `exec --json`) and core files.
type EventKind string

// Event kinds, in the order a typical run produces them.
const (
	EvEnclaveCreated     EventKind = "enclave-created"
	EvPagesAdded         EventKind = "pages-added"
	EvEnclaveInitialized EventKind = "enclave-initialized"
	EvEENTER             EventKind = "eenter"
	EvEEXIT              EventKind = "eexit"
	EvAEX                EventKind = "aex"
	EvERESUME            EventKind = "eresume"
	EvENCLUFault         EventKind = "enclu-fault"
	EvEnclaveRemoved     EventKind = "enclave-removed"
	EvExit               EventKind = "exit"
	// EvInterrupt: the debugger stopped a thread that was running host
	// code (an interrupt inside an enclave is an AEX).
	EvInterrupt EventKind = "interrupt"
)

// EvCPUIDRewritten: on a CPU without CPUID faulting, a CPUID inside an
// enclave was rewritten to UD2 (RIP), or none could be (RIP 0, Reason).
const EvCPUIDRewritten EventKind = "cpuid-rewritten"

// EvPagesChanged: SGX2 changed EPCM entries of Length bytes of pages at
// Offset: the driver EAUGed a page on a fault, an ioctl ran EMODPR or
// EMODT or removed trimmed pages, or the enclave ran EACCEPT, EMODPE or
// EACCEPTCOPY. Reason names the instruction or ioctl; Secinfo is the
// pages' EPCM state after it (0 once removed).
const EvPagesChanged EventKind = "pages-changed"

// Delivery is how the host learns of an AEX or of a faulting ENCLU: a
// signal at the AEP, or the vDSO's exception fixup (the kernel's
// __vdso_sgx_enter_enclave returns to its caller with the exception in
// struct sgx_enclave_run instead of raising a signal).
type Delivery struct {
	Signal unix.Signal // the signal raised at the AEP (0 with VDSO)
	VDSO   bool        // the vDSO's exception fixup
}

// String is the signal's name ("SIGSEGV") or "vdso-fixup".
func (d Delivery) String() string {
	if d.VDSO {
		return "vdso-fixup"
	}
	if d.Signal == 0 {
		return "none"
	}
	return unix.SignalName(d.Signal)
}

// ParseDelivery reads what Delivery.String writes.
func ParseDelivery(s string) (Delivery, error) {
	switch s {
	case "vdso-fixup":
		return Delivery{VDSO: true}, nil
	case "none":
		return Delivery{}, nil
	}
	sig := unix.SignalNum(s)
	if sig == 0 {
		return Delivery{}, fmt.Errorf("%q is neither a signal name nor vdso-fixup", s)
	}
	return Delivery{Signal: sig}, nil
}

// Event is one entry of the timeline. Fields that do not apply to a kind
// are left zero; eventFields says which apply.
type Event struct {
	Kind    EventKind
	Pid     int
	Tid     int
	Enclave uint64 // enclave base address
	TCS     uint64

	// enclave-created
	Size         uint64
	SSAFrameSize uint32 // pages
	MiscSelect   sgx.MiscSelect
	Attributes   sgx.Attributes // ATTRIBUTES.FLAGS and XFRM

	// pages-added
	Offset  uint64
	Length  uint64
	Secinfo sgx.SecinfoFlags
	Measure bool

	// enclave-initialized
	MRENCLAVE, MRSIGNER [32]byte

	// eenter, eresume, aex: CSSA after the transition; aex: SSA frame written
	CSSA int
	SSA  int

	// aex, enclu-fault
	Vector   sgx.Vector
	ExitType sgx.ExitType // aex with Valid
	Valid    bool         // aex: EXITINFO.VALID (false for an interrupt)
	MAddr    uint64       // aex: EXINFO for #PF and #GP
	ErrCd    uint32
	RIP      uint64
	AEP      uint64
	Delivery Delivery
	Leaf     sgx.EncluLeaf // enclu-fault: the leaf that faulted
	Reason   string        // enclu-fault: the SDM check that failed; cpuid-rewritten: why; pages-changed: the leaf or ioctl

	// eenter, eresume, aex: the enclave is a production enclave (DEBUG
	// clear): the event holds only what the OS sees (OSView).
	Production bool

	// exit
	Status int
	Killed unix.Signal // the signal that killed the host, if any
}

// VectorName is the vector's mnemonic ("#PF"), or "none" for an AEX whose
// EXITINFO is not valid (an interrupt).
func (e Event) VectorName() string {
	if e.Kind == EvAEX && !e.Valid {
		return "none"
	}
	return e.Vector.String()
}

// ExitTypeName is the exit type ("hardware", "software"), or "none" for an
// AEX whose EXITINFO is not valid.
func (e Event) ExitTypeName() string {
	if !e.Valid {
		return "none"
	}
	return e.ExitType.String()
}

// String renders the event for people (`sgxdbg emulate --trace`, stop
// lines): the kind padded to 19 columns, then its fields.
func (e Event) String() string {
	if e.Production {
		return e.productionString()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-19s", e.Kind)
	switch e.Kind {
	case EvEnclaveCreated:
		fmt.Fprintf(&b, " pid %d base %#x size %#x ssaframesize %d miscselect %#x attributes %#x xfrm %#x",
			e.Pid, e.Enclave, e.Size, e.SSAFrameSize, uint32(e.MiscSelect), uint64(e.Attributes.Flags), e.Attributes.XFRM)
	case EvPagesAdded:
		fmt.Fprintf(&b, " enclave %#x offset %#x length %#x secinfo %#x measure %v", e.Enclave, e.Offset, e.Length, uint64(e.Secinfo), e.Measure)
	case EvEnclaveInitialized:
		fmt.Fprintf(&b, " enclave %#x mrenclave %x mrsigner %x", e.Enclave, e.MRENCLAVE, e.MRSIGNER)
	case EvEENTER, EvERESUME:
		fmt.Fprintf(&b, " tid %d tcs %#x cssa %d", e.Tid, e.TCS, e.CSSA)
	case EvEEXIT:
		fmt.Fprintf(&b, " tid %d tcs %#x", e.Tid, e.TCS)
	case EvAEX:
		fmt.Fprintf(&b, " tid %d tcs %#x ssa[%d] %s (%s) %s valid=%v maddr %#x errcd %#x rip %#x aep %#x cssa %d -> %s",
			e.Tid, e.TCS, e.SSA, e.VectorName(), e.Vector.Name(), e.ExitTypeName(), e.Valid, e.MAddr, e.ErrCd, e.RIP, e.AEP, e.CSSA, e.Delivery)
	case EvENCLUFault:
		fmt.Fprintf(&b, " tid %d %s tcs %#x at %#x: %s %s -> %s", e.Tid, e.Leaf, e.TCS, e.RIP, e.VectorName(), e.Reason, e.Delivery)
	case EvEnclaveRemoved:
		fmt.Fprintf(&b, " pid %d enclave %#x", e.Pid, e.Enclave)
	case EvInterrupt:
		fmt.Fprintf(&b, " tid %d rip %#x", e.Tid, e.RIP)
	case EvCPUIDRewritten:
		fmt.Fprintf(&b, " pid %d enclave %#x at %#x: %s", e.Pid, e.Enclave, e.RIP, e.Reason)
	case EvPagesChanged:
		if e.Secinfo == 0 {
			fmt.Fprintf(&b, " enclave %#x offset %#x length %#x %s -> removed", e.Enclave, e.Offset, e.Length, e.Reason)
		} else {
			fmt.Fprintf(&b, " enclave %#x offset %#x length %#x %s -> %v", e.Enclave, e.Offset, e.Length, e.Reason, e.Secinfo)
		}
	case EvExit:
		if e.Killed != 0 {
			fmt.Fprintf(&b, " pid %d killed by %s", e.Pid, unix.SignalName(e.Killed))
		} else {
			fmt.Fprintf(&b, " pid %d status %d", e.Pid, e.Status)
		}
	}
	return b.String()
}
