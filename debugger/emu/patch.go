package emu

import (
	"sort"

	"golang.org/x/arch/x86/x86asm"

	"github.com/sgxdbg/sgxdbg/sgx"
)

// ud2 replaces CPUID in the rewriting fallback (CPUIDRewrite).
var ud2 = [2]byte{0x0f, 0x0b}

// rewriteCPUID is the fallback for processors without CPUID faulting,
// where CPUID cannot be caught without changing code: after EINIT it
// sweeps each of the given [start, end) ranges of enclave offsets (the
// image's function symbols) linearly, as objdump does, and rewrites each
// CPUID to UD2 in the copy that executes, so that it raises #UD as
// hardware would. Bytes outside functions (constants, jump tables) are
// never touched. EDBGRD and core files show the original bytes; while a
// rewritten site's #UD is being handled the original bytes are put back
// (showOriginal) until the enclave resumes normal execution (ERESUME to
// CSSA 0), so a handler that decodes the instruction reads what hardware
// would show it. SYSCALL, SYSENTER and INT 0x80 need no rewriting: a
// thread in enclave mode runs under PTRACE_SYSCALL, which catches them.
// It returns the rewritten sites' offsets, ascending.
func (e *enclave) rewriteCPUID(ranges [][2]uint64) []uint64 {
	var sites []uint64
	for _, r := range ranges {
		start, end := r[0], min(r[1], e.size())
		for off := start; off < end; {
			p := e.pages[off&^(sgx.PageSize-1)]
			if p == nil || p.secinfo.PageType() != sgx.PageTypeREG || p.secinfo&sgx.SecinfoX == 0 {
				off = off&^(sgx.PageSize-1) + sgx.PageSize // not executable code
				continue
			}
			inst, err := x86asm.Decode(e.mem[off:end], 64)
			if err != nil {
				off++
				continue
			}
			if inst.Op == x86asm.CPUID && inst.Len == 2 {
				if _, done := e.original[off]; !done {
					e.original[off] = [2]byte{e.mem[off], e.mem[off+1]}
					copy(e.mem[off:], ud2[:])
					sites = append(sites, off)
				}
			}
			off += uint64(inst.Len)
		}
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i] < sites[j] })
	return sites
}

// rewriteEnclave applies the CPUID rewriting fallback to a newly
// initialized enclave, limited to its image's function symbols, and
// reports every rewritten site (or that none could be, without an image).
func (em *Emulator) rewriteEnclave(pr *process, e *enclave) {
	var ranges [][2]uint64
	if em.opts.FunctionRanges != nil {
		ranges = em.opts.FunctionRanges(e.secs.MRENCLAVE)
	}
	if ranges == nil {
		em.emit(Event{Kind: EvCPUIDRewritten, Pid: pr.pid, Enclave: e.base(),
			Reason: "no enclave image with function symbols matches this MRENCLAVE: CPUID runs natively inside it"})
		return
	}
	for _, off := range e.rewriteCPUID(ranges) {
		e.rewritten = append(e.rewritten, e.base()+off)
		em.emit(Event{Kind: EvCPUIDRewritten, Pid: pr.pid, Enclave: e.base(), RIP: e.base() + off,
			Reason: "no CPUID faulting on this CPU: CPUID rewritten to UD2"})
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
