package target

import (
	"fmt"
	"strings"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// OSView returns what the operating system learns of an event in an
// enclave whose ATTRIBUTES.DEBUG is clear (a production enclave): all a
// debugger may show of it. Production is set on the result.
//
// At an AEX the kernel sees the exception as if it happened at the AEP
// (SDM Vol. 3D, "Asynchronous Enclave Exit"): its vector (the kernel's
// trap number, hence the exit type too: #BP and #OF arrive as software
// exceptions) or an interrupt, the error code the exception pushes (#PF,
// #GP: the kernel passes it to fixup_vdso_exception and writes it into
// the signal frame's sigcontext), and for #PF CR2 with its low 12 bits
// cleared by the AEX. The thread's registers are the synthetic ones
// (RAX = ERESUME, RBX = TCS, RCX = AEP). The SSA — RIP, the precise
// MADDR, the other registers — and the TCS's CSSA are enclave memory the
// kernel cannot read (EDBGRD refuses a production enclave), so they are
// cleared: SSA, CSSA, RIP, MADDR but for #PF's page, ERRCD but for #PF
// and #GP. EENTER and ERESUME lose their CSSA.
func OSView(e Event) Event {
	switch e.Kind {
	case EvAEX:
		e.SSA, e.CSSA, e.RIP = 0, 0, 0
		if !e.Valid || e.Vector != sgx.VectorPF {
			e.MAddr = 0
		}
		e.MAddr &^= sgx.PageSize - 1
		if !e.Valid || e.Vector != sgx.VectorPF && e.Vector != sgx.VectorGP {
			e.ErrCd = 0
		}
	case EvEENTER, EvERESUME:
		e.CSSA = 0
	default:
		return e
	}
	e.Production = true
	return e
}

// hasErrCd reports whether a production AEX carries an error code.
func (e *Event) hasErrCd() bool {
	return e.Valid && (e.Vector == sgx.VectorPF || e.Vector == sgx.VectorGP)
}

// hasPage reports whether a production AEX carries a page address.
func (e *Event) hasPage() bool { return e.Valid && e.Vector == sgx.VectorPF }

// productionString renders a production enclave's AEX, EENTER or
// ERESUME: what the OS saw, marked as such.
func (e Event) productionString() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-19s", e.Kind)
	switch e.Kind {
	case EvEENTER, EvERESUME:
		fmt.Fprintf(&b, " tid %d tcs %#x (production enclave)", e.Tid, e.TCS)
	case EvAEX:
		fmt.Fprintf(&b, " tid %d tcs %#x %s (%s) %s valid=%v", e.Tid, e.TCS, e.VectorName(), e.Vector.Name(), e.ExitTypeName(), e.Valid)
		if e.hasPage() {
			fmt.Fprintf(&b, " page %#x", e.MAddr)
		}
		if e.hasErrCd() {
			fmt.Fprintf(&b, " errcd %#x", e.ErrCd)
		}
		fmt.Fprintf(&b, " aep %#x -> %s (production enclave: what the OS sees)", e.AEP, e.Delivery)
	}
	return b.String()
}
