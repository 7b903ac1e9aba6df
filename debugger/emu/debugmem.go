package emu

import (
	"errors"
	"fmt"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// Errors of the EDBGRD/EDBGWR model.
var (
	// ErrNotDebug: the enclave lacks ATTRIBUTES.DEBUG (the driver's
	// /proc/PID/mem access fails with EIO on hardware).
	ErrNotDebug = errors.New("enclave is not a debug enclave")
	// ErrNoEnclave: the address is not inside any enclave of the process.
	ErrNoEnclave = errors.New("address is not in an enclave")
)

// DebugAccessError is an EDBGRD/EDBGWR that the hardware refuses.
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

// TCS bytes EDBGRD may read and the one word EDBGWR may write.
const (
	tcsReadable  = sgx.TCSDebugReadable
	tcsWritable0 = tcsFlags
)

// debugAccess checks EDBGRD/EDBGWR rules for the 8-byte word at addr.
func (e *enclave) debugAccess(addr uint64, write bool) error {
	if e.secs.Attributes.Flags&sgx.AttrDebug == 0 {
		return ErrNotDebug
	}
	p := e.page(addr)
	if p == nil {
		return &DebugAccessError{Addr: addr, Write: write, Reason: "no EPC page at this address"}
	}
	off := addr & (sgx.PageSize - 1)
	switch p.secinfo.PageType() {
	case sgx.PageTypeREG:
	case sgx.PageTypeTCS:
		if write && off != tcsWritable0 {
			return &DebugAccessError{Addr: addr, Write: true, Reason: "EDBGWR may write only TCS.FLAGS"}
		}
		if !write && off >= tcsReadable {
			return &DebugAccessError{Addr: addr, Reason: fmt.Sprintf("EDBGRD may read only the first %d bytes of a TCS", tcsReadable)}
		}
	default:
		return &DebugAccessError{Addr: addr, Write: write, Code: sgx.ErrPageNotDebuggable, Reason: "page type " + p.secinfo.PageType().String()}
	}
	return nil
}

// ReadEnclave reads enclave memory of process pid at addr the way EDBGRD
// does (8-byte words, debug enclaves only, TCS limits), returning the
// original bytes of instructions the emulator rewrote. Tracer thread only.
func (em *Emulator) ReadEnclave(pid int, buf []byte, addr uint64) (int, error) {
	return em.debugIO(pid, buf, addr, false)
}

// WriteEnclave writes enclave memory the way EDBGWR does (a read-modify-
// write of each 8-byte word). Tracer thread only.
func (em *Emulator) WriteEnclave(pid int, buf []byte, addr uint64) (int, error) {
	return em.debugIO(pid, buf, addr, true)
}

func (em *Emulator) debugIO(pid int, buf []byte, addr uint64, write bool) (int, error) {
	pr := em.procs[pid]
	if pr == nil {
		return 0, fmt.Errorf("no traced process %d", pid)
	}
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		e := pr.enclaveAt(a)
		if e == nil {
			return done, fmt.Errorf("%#x: %w", a, ErrNoEnclave)
		}
		word := a &^ 7
		if err := e.debugAccess(word, write); err != nil {
			return done, err
		}
		off := a - e.base()
		if p := e.page(a); p.secinfo.PageType() == sgx.PageTypeREG {
			// Regular pages take the same rules for every word: the run of
			// them from here in one go.
			n := min(uint64(len(buf)-done), sgx.PageSize-off%sgx.PageSize)
			for next := off - off%sgx.PageSize + sgx.PageSize; n < uint64(len(buf)-done); next += sgx.PageSize {
				q := e.pages[next]
				if q == nil || q.secinfo.PageType() != sgx.PageTypeREG || next >= e.size() {
					break
				}
				n = min(uint64(len(buf)-done), n+sgx.PageSize)
			}
			if write {
				e.writeRange(off, buf[done:done+int(n)])
			} else {
				e.unpatched(buf[done:done+int(n)], off)
			}
			done += int(n)
			continue
		}
		var w [8]byte
		e.unpatched(w[:], word-e.base())
		var n int
		if write {
			n = copy(w[a-word:], buf[done:])
			e.writeRange(word-e.base(), w[:])
		} else {
			n = copy(buf[done:], w[a-word:])
		}
		done += n
	}
	return done, nil
}

// writeRange stores a debugger write at off; rewritten instructions it
// touches are restored to what the debugger wrote.
func (e *enclave) writeRange(off uint64, data []byte) {
	end := off + uint64(len(data))
	for at, orig := range e.original {
		if at+1 >= off && at < end {
			copy(e.mem[at:at+2], orig[:])
			delete(e.original, at)
			delete(e.shown, at)
		}
	}
	copy(e.mem[off:end], data)
}
