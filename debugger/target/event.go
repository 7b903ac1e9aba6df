package target

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// EventKind names an emulator event. The names are a contract shared with
// the debugger and with scripts (`sgxdbg emulate --json`).
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
)

// EvCPUIDRewritten: on a CPU without CPUID faulting, a CPUID inside an
// enclave was rewritten to UD2 (RIP), or none could be (RIP 0, Reason).
const EvCPUIDRewritten EventKind = "cpuid-rewritten"

// Event is one entry of the emulator's timeline. Fields that do not apply
// to a kind are left zero and omitted from its JSON form.
type Event struct {
	Kind    EventKind
	Pid     int
	Tid     int
	Enclave uint64 // enclave base address
	TCS     uint64

	// enclave-created
	Size         uint64
	SSAFrameSize uint32
	MiscSelect   uint32
	Attributes   uint64
	XFRM         uint64

	// pages-added
	Offset  uint64
	Length  uint64
	Secinfo uint64
	Measure bool

	// enclave-initialized
	MRENCLAVE, MRSIGNER [32]byte

	// eenter, eresume, aex: CSSA after the transition; aex: SSA frame written
	CSSA int
	SSA  int

	// aex, enclu-fault
	Vector     uint8
	VectorName string
	ExitType   string
	Valid      bool
	MAddr      uint64
	ErrCd      uint32
	RIP        uint64
	AEP        uint64
	Signal     string // the signal delivered to the host
	Leaf       string // enclu-fault: the leaf that faulted
	Reason     string // enclu-fault: the SDM check that failed; cpuid-rewritten: why

	// exit
	Status int
	Killed string // the signal that killed the host, if any
}

func hexAddr(v uint64) string { return fmt.Sprintf("%#x", v) }

// MarshalJSON renders the event as one flat object with snake_case keys and
// addresses as hex strings.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{"event": string(e.Kind)}
	switch e.Kind {
	case EvEnclaveCreated:
		m["pid"] = e.Pid
		m["enclave"] = hexAddr(e.Enclave)
		m["size"] = hexAddr(e.Size)
		m["ssa_frame_size"] = e.SSAFrameSize
		m["miscselect"] = hexAddr(uint64(e.MiscSelect))
		m["attributes"] = hexAddr(e.Attributes)
		m["xfrm"] = hexAddr(e.XFRM)
	case EvPagesAdded:
		m["enclave"] = hexAddr(e.Enclave)
		m["offset"] = hexAddr(e.Offset)
		m["length"] = hexAddr(e.Length)
		m["secinfo"] = hexAddr(e.Secinfo)
		m["measure"] = e.Measure
	case EvEnclaveInitialized:
		m["enclave"] = hexAddr(e.Enclave)
		m["mrenclave"] = hex.EncodeToString(e.MRENCLAVE[:])
		m["mrsigner"] = hex.EncodeToString(e.MRSIGNER[:])
	case EvEENTER, EvERESUME:
		m["tid"] = e.Tid
		m["tcs"] = hexAddr(e.TCS)
		m["cssa"] = e.CSSA
	case EvEEXIT:
		m["tid"] = e.Tid
		m["tcs"] = hexAddr(e.TCS)
	case EvAEX:
		m["tid"] = e.Tid
		m["enclave"] = hexAddr(e.Enclave)
		m["tcs"] = hexAddr(e.TCS)
		m["ssa"] = e.SSA
		m["cssa"] = e.CSSA
		m["vector"] = e.Vector
		m["vector_name"] = e.VectorName
		m["exit_type"] = e.ExitType
		m["valid"] = e.Valid
		m["maddr"] = hexAddr(e.MAddr)
		m["errcd"] = hexAddr(uint64(e.ErrCd))
		m["rip"] = hexAddr(e.RIP)
		m["aep"] = hexAddr(e.AEP)
		m["signal"] = e.Signal
	case EvENCLUFault:
		m["tid"] = e.Tid
		m["tcs"] = hexAddr(e.TCS)
		m["leaf"] = e.Leaf
		m["vector"] = e.Vector
		m["vector_name"] = e.VectorName
		m["reason"] = e.Reason
		m["rip"] = hexAddr(e.RIP)
		m["signal"] = e.Signal
	case EvEnclaveRemoved:
		m["pid"] = e.Pid
		m["enclave"] = hexAddr(e.Enclave)
	case EvCPUIDRewritten:
		m["pid"] = e.Pid
		m["enclave"] = hexAddr(e.Enclave)
		m["rip"] = hexAddr(e.RIP)
		m["reason"] = e.Reason
	case EvExit:
		m["pid"] = e.Pid
		m["status"] = e.Status
		if e.Killed != "" {
			m["killed"] = e.Killed
		}
	}
	return json.Marshal(m)
}

// String renders the event for `sgxdbg emulate --trace`.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-19s", e.Kind)
	switch e.Kind {
	case EvEnclaveCreated:
		fmt.Fprintf(&b, " pid %d base %#x size %#x ssaframesize %d miscselect %#x attributes %#x xfrm %#x",
			e.Pid, e.Enclave, e.Size, e.SSAFrameSize, e.MiscSelect, e.Attributes, e.XFRM)
	case EvPagesAdded:
		fmt.Fprintf(&b, " enclave %#x offset %#x length %#x secinfo %#x measure %v", e.Enclave, e.Offset, e.Length, e.Secinfo, e.Measure)
	case EvEnclaveInitialized:
		fmt.Fprintf(&b, " enclave %#x mrenclave %x mrsigner %x", e.Enclave, e.MRENCLAVE, e.MRSIGNER)
	case EvEENTER, EvERESUME:
		fmt.Fprintf(&b, " tid %d tcs %#x cssa %d", e.Tid, e.TCS, e.CSSA)
	case EvEEXIT:
		fmt.Fprintf(&b, " tid %d tcs %#x", e.Tid, e.TCS)
	case EvAEX:
		fmt.Fprintf(&b, " tid %d tcs %#x ssa[%d] %s (%s) %s valid=%v maddr %#x errcd %#x rip %#x aep %#x cssa %d -> %s",
			e.Tid, e.TCS, e.SSA, e.VectorName, sgx.Vector(e.Vector).Name(), e.ExitType, e.Valid, e.MAddr, e.ErrCd, e.RIP, e.AEP, e.CSSA, e.Signal)
	case EvENCLUFault:
		fmt.Fprintf(&b, " tid %d %s tcs %#x at %#x: %s %s -> %s", e.Tid, e.Leaf, e.TCS, e.RIP, e.VectorName, e.Reason, e.Signal)
	case EvEnclaveRemoved:
		fmt.Fprintf(&b, " pid %d enclave %#x", e.Pid, e.Enclave)
	case EvCPUIDRewritten:
		fmt.Fprintf(&b, " pid %d enclave %#x at %#x: %s", e.Pid, e.Enclave, e.RIP, e.Reason)
	case EvExit:
		if e.Killed != "" {
			fmt.Fprintf(&b, " pid %d killed by %s", e.Pid, e.Killed)
		} else {
			fmt.Fprintf(&b, " pid %d status %d", e.Pid, e.Status)
		}
	}
	return b.String()
}
