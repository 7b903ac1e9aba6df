package emu

import (
	"fmt"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Errors of the EDBGRD/EDBGWR model: the debugger's own (package target).
var (
	ErrNotDebug  = target.ErrNotDebug
	ErrNoEnclave = target.ErrNotEnclave
)

// debugAccess checks the EDBGRD/EDBGWR rules (target.DebugPage) for the
// 8-byte word at addr.
func (e *enclave) debugAccess(addr uint64, write bool) error {
	dp := target.DebugPage{Enclave: e.base(), Debug: e.secs.Attributes.Flags&sgx.AttrDebug != 0}
	if p := e.page(addr); p != nil {
		dp.Present, dp.Type = true, p.secinfo.PageType()
		dp.Unaccepted = p.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0
	}
	_, err := dp.Span(addr, 8, write)
	return err
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
		if p := e.page(a); p.secinfo.PageType() == sgx.PageTypeREG && p.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) == 0 {
			// Regular pages take the same rules for every word: the run of
			// them from here in one go.
			n := min(uint64(len(buf)-done), sgx.PageSize-off%sgx.PageSize)
			for next := off - off%sgx.PageSize + sgx.PageSize; n < uint64(len(buf)-done); next += sgx.PageSize {
				q := e.pages[next]
				if q == nil || q.secinfo.PageType() != sgx.PageTypeREG || q.secinfo&(sgx.SecinfoPending|sgx.SecinfoModified) != 0 || next >= e.size() {
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

// osView is ev as the debugger may see it: all of it in a debug enclave,
// what the OS sees in a production one (target.OSView), as on hardware.
func (e *enclave) osView(ev Event) Event {
	if e.secs.Attributes.Flags&sgx.AttrDebug != 0 {
		return ev
	}
	return target.OSView(ev)
}
