package emu

import (
	"sort"

	"golang.org/x/arch/x86/x86asm"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// ud2 replaces instructions that must raise #UD inside an enclave but run
// natively on this CPU.
var ud2 = [2]byte{0x0f, 0x0b}

// patchIllegal sweeps the enclave's executable pages linearly (as objdump
// does) after EINIT and rewrites CPUID, SYSCALL, SYSENTER and INT 0x80 —
// all two bytes long, and all #UD inside an enclave but native on this CPU
// (which has no CPUID faulting, and whose hardware breakpoints do not fire
// under its hypervisor) — to UD2 in the copy that executes. EDBGRD and core
// files show the original bytes. Bytes that do not decode are skipped one
// at a time. When a rewritten site raises its #UD, the original bytes are
// put back until the enclave resumes normal execution (ERESUME to CSSA 0),
// so that an exception handler that decodes the faulting instruction reads
// what hardware would show it.
func (e *enclave) patchIllegal() {
	var offs []uint64
	for off, p := range e.pages {
		if p.secinfo.PageType() == sgx.PageTypeREG && p.secinfo&sgx.SecinfoX != 0 {
			offs = append(offs, off)
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	for i := 0; i < len(offs); {
		j := i + 1
		for j < len(offs) && offs[j] == offs[j-1]+sgx.PageSize {
			j++
		}
		e.sweep(offs[i], offs[j-1]+sgx.PageSize)
		i = j
	}
}

// showOriginal puts back the original bytes of the rewritten site at
// addr, if it is one, while the enclave's exception path runs.
func (e *enclave) showOriginal(addr uint64) {
	off := addr - e.base()
	if orig, ok := e.original[off]; ok && !e.shown[off] {
		copy(e.mem[off:off+2], orig[:])
		e.shown[off] = true
	}
}

// rearm rewrites again the sites showOriginal restored.
func (e *enclave) rearm() {
	for off := range e.shown {
		copy(e.mem[off:off+2], ud2[:])
		delete(e.shown, off)
	}
}

func (e *enclave) sweep(start, end uint64) {
	for off := start; off < end; {
		inst, err := x86asm.Decode(e.mem[off:end], 64)
		if err != nil {
			off++
			continue
		}
		if mustTrap(inst) && inst.Len == 2 {
			e.original[off] = [2]byte{e.mem[off], e.mem[off+1]}
			copy(e.mem[off:], ud2[:])
		}
		off += uint64(inst.Len)
	}
}

func mustTrap(inst x86asm.Inst) bool {
	switch inst.Op {
	case x86asm.CPUID, x86asm.SYSCALL, x86asm.SYSENTER:
		return true
	case x86asm.INT:
		imm, ok := inst.Args[0].(x86asm.Imm)
		return ok && imm == 0x80
	}
	return false
}

// unpatched copies enclave bytes at off into buf with the original bytes
// of rewritten instructions in place.
func (e *enclave) unpatched(buf []byte, off uint64) {
	// Large reads go through the memfd rather than the tracer's mapping:
	// on this VM the first read of each page through a mapping costs a
	// fault, a read of the file does not.
	if len(buf) < 512 {
		copy(buf, e.mem[off:])
	} else if n, err := e.file.ReadAt(buf, int64(off)); err != nil || n != len(buf) {
		copy(buf, e.mem[off:])
	}
	for at, orig := range e.original {
		if e.shown[at] {
			continue
		}
		for k := uint64(0); k < 2; k++ {
			if at+k >= off && at+k < off+uint64(len(buf)) {
				buf[at+k-off] = orig[k]
			}
		}
	}
}
