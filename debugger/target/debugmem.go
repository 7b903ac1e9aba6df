package target

import (
	"errors"
	"fmt"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// Errors of the EDBGRD/EDBGWR rules, the same from every backend.
var (
	// ErrNotDebug: the enclave lacks ATTRIBUTES.DEBUG; on hardware the
	// driver's /proc/PID/mem access fails with EIO.
	ErrNotDebug = errors.New("enclave is not a debug enclave")
	// ErrNotEnclave: the address is not inside any enclave of the host.
	ErrNotEnclave = errors.New("address is not in an enclave")
	// ErrReadOnly: the backend cannot change anything (a core file).
	ErrReadOnly = errors.New("the host is not running")
)

// DebugAccessError is an EDBGRD or EDBGWR that the processor refuses.
type DebugAccessError struct {
	Addr   uint64
	Write  bool
	Code   sgx.ErrorCode // SGX_PAGE_NOT_DEBUGGABLE when it applies, else 0
	Reason string
}

func (e *DebugAccessError) Error() string {
	op := "EDBGRD"
	if e.Write {
		op = "EDBGWR"
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s at %#x: %v: %s", op, e.Addr, e.Code, e.Reason)
	}
	return fmt.Sprintf("%s at %#x: %s", op, e.Addr, e.Reason)
}

// tcsFlagsOffset is TCS.FLAGS, the one TCS word EDBGWR changes.
const tcsFlagsOffset = 8

// DebugPage is what the EDBGRD/EDBGWR rules need to know of the page an
// address falls in.
type DebugPage struct {
	Enclave uint64 // the enclave's base, for messages
	Debug   bool   // the enclave's ATTRIBUTES.DEBUG
	Present bool   // an EPC page is at the address
	Type    sgx.PageType
	// Unaccepted: the EPCM entry is PENDING or MODIFIED (SGX2: an EAUG or
	// EMODT the enclave has not EACCEPTed); EDBGRD and EDBGWR answer
	// SGX_PAGE_NOT_DEBUGGABLE.
	Unaccepted bool
}

// Span applies the rules (SDM Vol. 3D EDBGRD/EDBGWR; the Linux driver's
// sgx_vma_access) to an access of n bytes at addr within this page: it
// returns how many of them, from addr and not past the page, one access
// may cover, or why none may. Only debug enclaves are accessible; regular
// pages wholly; of a TCS, EDBGRD reads the first sgx.TCSDebugReadable bytes
// and EDBGWR writes only TCS.FLAGS; other page types are not debuggable.
func (p DebugPage) Span(addr uint64, n int, write bool) (int, error) {
	if !p.Debug {
		return 0, fmt.Errorf("%#x in enclave %#x: %w", addr, p.Enclave, ErrNotDebug)
	}
	if !p.Present {
		return 0, &DebugAccessError{Addr: addr, Write: write, Reason: "no EPC page at this address"}
	}
	if p.Unaccepted {
		return 0, &DebugAccessError{Addr: addr, Write: write, Code: sgx.ErrPageNotDebuggable, Reason: "the page is PENDING or MODIFIED"}
	}
	off := addr & (sgx.PageSize - 1)
	limit := sgx.PageSize - off
	switch p.Type {
	case sgx.PageTypeREG:
	case sgx.PageTypeTCS:
		switch {
		case write && (off < tcsFlagsOffset || off >= tcsFlagsOffset+8):
			return 0, &DebugAccessError{Addr: addr, Write: true, Reason: "EDBGWR may write only TCS.FLAGS"}
		case write:
			limit = tcsFlagsOffset + 8 - off
		case off >= sgx.TCSDebugReadable:
			return 0, &DebugAccessError{Addr: addr, Reason: fmt.Sprintf("EDBGRD may read only the first %d bytes of a TCS", sgx.TCSDebugReadable)}
		default:
			limit = sgx.TCSDebugReadable - off
		}
	default:
		return 0, &DebugAccessError{Addr: addr, Write: write, Code: sgx.ErrPageNotDebuggable, Reason: "page type " + p.Type.String()}
	}
	return int(min(uint64(n), limit)), nil
}

// PageAt returns the EPC page of e that holds addr.
func (e *EnclaveInfo) PageAt(addr uint64) (Page, bool) {
	if addr < e.Base || addr-e.Base >= e.Size {
		return Page{}, false
	}
	off := (addr - e.Base) &^ (sgx.PageSize - 1)
	lo, hi := 0, len(e.Pages)
	for lo < hi {
		mid := (lo + hi) / 2
		switch p := e.Pages[mid]; {
		case p.Offset == off:
			return p, true
		case p.Offset < off:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return Page{}, false
}

// DebugPage returns what the EDBGRD/EDBGWR rules need of the page at addr.
func (e *EnclaveInfo) DebugPage(addr uint64) DebugPage {
	p, ok := e.PageAt(addr)
	return DebugPage{Enclave: e.Base, Debug: e.Attributes.Flags&sgx.AttrDebug != 0, Present: ok, Type: p.Secinfo.PageType(),
		Unaccepted: p.Secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0}
}
