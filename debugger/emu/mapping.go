package emu

import (
	"sort"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// mapping is a host address range mapped from an enclave's file, and the
// protection the host gave it (the VMA's).
type mapping struct {
	start, end uint64
	prot       int
}

func pageRound(n uint64) uint64 { return (n + sgx.PageSize - 1) &^ (sgx.PageSize - 1) }

// maxProt is the most a mapping of a page may allow (the driver's
// vm_max_prot_bits): its SECINFO permissions, and RW for a TCS.
func maxProt(s sgx.SecinfoFlags) int {
	if s.PageType() == sgx.PageTypeTCS {
		return unix.PROT_READ | unix.PROT_WRITE
	}
	return secinfoProt(s)
}

// mayMap applies the driver's sgx_encl_may_map rule: after EINIT a mapping
// must stay inside ELRANGE, and no present page may be mapped with more
// than its SECINFO allows. It returns 0 or a negative errno.
func (e *enclave) mayMap(start, end uint64, prot int) int64 {
	if e.inited && (start < e.base() || end > e.base()+e.size()) {
		return -int64(unix.EACCES)
	}
	for a := max(start, e.base()); a < end && a < e.base()+e.size(); a += sgx.PageSize {
		if p := e.pages[a-e.base()]; p != nil && prot&^p.maxProt != 0 {
			return -int64(unix.EACCES)
		}
	}
	return 0
}

// mapped reports whether addr is under one of the enclave's mappings.
func (e *enclave) mapped(addr uint64) bool {
	_, ok := e.mapProt(addr)
	return ok
}

// mapProt returns the protection of the mapping over addr.
func (e *enclave) mapProt(addr uint64) (int, bool) {
	for _, m := range e.maps {
		if addr >= m.start && addr < m.end {
			return m.prot, true
		}
	}
	return 0, false
}

// reprotect records that mprotect gave [start,end) prot: the mappings
// over it are split at its ends.
func (e *enclave) reprotect(start, end uint64, prot int) {
	e.maps = splitMaps(e.maps, start, end, func(m mapping) []mapping {
		return []mapping{{max(m.start, start), min(m.end, end), prot}}
	})
}

// splitMaps cuts the mappings that overlap [start,end) at its ends,
// keeps the parts outside it, and puts inside(m) where each overlap was.
func splitMaps(maps []mapping, start, end uint64, inside func(m mapping) []mapping) []mapping {
	var out []mapping
	for _, m := range maps {
		if m.end <= start || m.start >= end {
			out = append(out, m)
			continue
		}
		if m.start < start {
			out = append(out, mapping{m.start, start, m.prot})
		}
		out = append(out, inside(m)...)
		if m.end > end {
			out = append(out, mapping{end, m.end, m.prot})
		}
	}
	return out
}

// setMap records that [start,end) now maps the enclave with prot: every
// page starts inaccessible in the tracee and without a PTE.
func (e *enclave) setMap(start, end uint64, prot int) {
	e.unmap(start, end-start)
	e.maps = append(e.maps, mapping{start, end, prot})
	sort.Slice(e.maps, func(i, j int) bool { return e.maps[i].start < e.maps[j].start })
	e.eachPage(start, end, func(p *epcPage) { *p = epcPage{secinfo: p.secinfo, maxProt: p.maxProt, mapped: true, prot: prot} })
}

// unmap forgets [start,start+length) and the PTEs under it.
func (e *enclave) unmap(start, length uint64) {
	end := start + pageRound(length)
	e.maps = splitMaps(e.maps, start, end, func(mapping) []mapping { return nil })
	e.eachPage(start, end, func(p *epcPage) { *p = epcPage{secinfo: p.secinfo, maxProt: p.maxProt} })
}

func (e *enclave) eachPage(start, end uint64, f func(*epcPage)) {
	e.eachPageAt(start, end, func(_ uint64, p *epcPage) { f(p) })
}

// eachPageAt calls f with the address and EPCM entry of each page in
// [start,end) that has one.
func (e *enclave) eachPageAt(start, end uint64, f func(uint64, *epcPage)) {
	if !e.created {
		return
	}
	for a := max(start, e.base()); a < end && a < e.base()+e.size(); a += sgx.PageSize {
		if p := e.pages[a-e.base()]; p != nil {
			f(a, p)
		}
	}
}

// mappedEnclave returns the enclave with a mapping overlapping
// [addr, addr+length), if any.
func (pr *process) mappedEnclave(addr, length uint64) *enclave {
	end := addr + pageRound(length)
	for _, e := range pr.enclaves {
		for _, m := range e.maps {
			if m.start < end && addr < m.end {
				return e
			}
		}
	}
	return nil
}

// enclaveAt returns the enclave whose ELRANGE holds addr.
func (pr *process) enclaveAt(addr uint64) *enclave {
	for _, e := range pr.enclaves {
		if e.contains(addr) {
			return e
		}
	}
	return nil
}

// sysMmap emulates mmap of an enclave file: the driver's permission rules,
// the file offset derived from the address (the driver ignores the offset;
// the memfd needs it), and every page inaccessible until first touch.
func (em *Emulator) sysMmap(th *thread, r *ptrace.Regs, e *enclave) error {
	addr, length, prot, flags := r.Rdi, pageRound(r.Rsi), int(r.Rdx), int(r.R10)
	if flags&unix.MAP_TYPE != unix.MAP_SHARED && flags&unix.MAP_TYPE != unix.MAP_SHARED_VALIDATE {
		return em.answer(th, r, -int64(unix.EINVAL))
	}
	if !e.created || addr < e.base() || addr+length > e.base()+e.size() || addr&(sgx.PageSize-1) != 0 {
		if e.inited {
			return em.answer(th, r, -int64(unix.EACCES))
		}
		// Before ECREATE (or outside ELRANGE before EINIT) the range only
		// reserves addresses: it can hold no enclave page.
		r.R8 = ^uint64(0)
		r.R9 = 0
		r.R10 = uint64(unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE))
		r.Rdx = unix.PROT_NONE
		return em.setAndResume(th, r)
	}
	if ret := e.mayMap(addr, addr+length, prot); ret != 0 {
		return em.answer(th, r, ret)
	}
	r.Rdx = unix.PROT_NONE
	r.R9 = addr - e.base()
	th.afterSyscall = func(out *ptrace.Regs) error {
		if out.Rax == addr {
			e.setMap(addr, addr+length, prot)
		} else if int64(out.Rax) >= 0 {
			// Placed elsewhere (no MAP_FIXED and the hint was taken): the
			// file offset no longer matches; such a mapping backs nothing.
			_, err := th.proc.mem.InjectSyscall(th.tid, th.proc.scratch+ptrace.ScratchSyscall, unix.SYS_MUNMAP, out.Rax, length)
			out.Rax = uint64(errnoRet(unix.ENOMEM))
			if err == nil {
				err = ptrace.SetRegs(th.tid, out)
			}
			return err
		}
		return nil
	}
	return em.setAndResume(th, r)
}

func (em *Emulator) setAndResume(th *thread, r *ptrace.Regs) error {
	if err := ptrace.SetRegs(th.tid, r); err != nil {
		return err
	}
	return em.resume(th, 0)
}

// sysMprotect applies the driver's rule (sgx_vma_mprotect: no more than
// each page's vm_max_prot_bits, else EACCES) and records the new
// protection; pages become accessible again on their next touch.
func (em *Emulator) sysMprotect(th *thread, r *ptrace.Regs, e *enclave) error {
	start, end, prot := r.Rdi, r.Rdi+pageRound(r.Rsi), int(r.Rdx)
	if ret := e.mayMap(start, end, prot); ret != 0 {
		return em.answer(th, r, ret)
	}
	inside := false
	for _, m := range e.maps {
		if start >= m.start && end <= m.end {
			inside = true
		}
	}
	if !inside {
		// Part of the range is not the enclave's: let the kernel apply it,
		// then take the enclave pages back to what the EPCM allows.
		th.afterSyscall = func(out *ptrace.Regs) error {
			if out.Rax != 0 {
				return nil
			}
			e.reprotect(start, end, prot)
			// The tracee's pages now have prot. Keep that where the page was
			// touched and the EPCM allows as much; close the others again
			// (one mprotect per run of them), so that their next touch is
			// seen.
			var runs []mapping
			e.eachPageAt(start, end, func(addr uint64, p *epcPage) {
				if !p.mapped {
					return
				}
				p.prot, p.active = prot, p.touched && p.effectiveProt() == prot
				if p.active {
					return
				}
				if n := len(runs); n > 0 && runs[n-1].end == addr {
					runs[n-1].end += sgx.PageSize
				} else {
					runs = append(runs, mapping{addr, addr + sgx.PageSize, unix.PROT_NONE})
				}
			})
			for _, m := range runs {
				if _, err := th.proc.mem.InjectSyscall(th.tid, th.proc.scratch+ptrace.ScratchSyscall, unix.SYS_MPROTECT, m.start, m.end-m.start, unix.PROT_NONE); err != nil {
					return err
				}
			}
			return nil
		}
		return em.resume(th, 0)
	}
	r.Rdx = unix.PROT_NONE
	th.afterSyscall = func(out *ptrace.Regs) error {
		if out.Rax == 0 {
			e.reprotect(start, end, prot)
			e.eachPage(start, end, func(p *epcPage) { p.prot, p.active = prot, false })
		}
		return nil
	}
	return em.setAndResume(th, r)
}

// activate gives the tracee's mapping of the page at addr the protection
// that both the page tables and the EPCM allow (the first touch of a page,
// which the driver serves by inserting a PTE).
func (em *Emulator) activate(th *thread, p *epcPage, addr uint64) error {
	page := addr &^ (sgx.PageSize - 1)
	if _, err := th.proc.mem.InjectSyscall(th.tid, th.proc.scratch+ptrace.ScratchSyscall, unix.SYS_MPROTECT, page, sgx.PageSize, uint64(p.effectiveProt())); err != nil {
		return err
	}
	p.active, p.touched = true, true
	return nil
}

// revokeAt makes an accessible page inaccessible in the tracee again,
// after its EPCM entry changed (EMODPR, EMODT, EACCEPT, EMODPE,
// EACCEPTCOPY, the removal of the page) or the kernel applied a host
// mprotect to it: its next touch applies the new rights. The PTE stays
// present, as the driver zaps none for EMODPR.
func (em *Emulator) revokeAt(th *thread, p *epcPage, addr uint64) error {
	if !p.active {
		return nil
	}
	if _, err := th.proc.mem.InjectSyscall(th.tid, th.proc.scratch+ptrace.ScratchSyscall, unix.SYS_MPROTECT, addr, sgx.PageSize, unix.PROT_NONE); err != nil {
		return err
	}
	p.active = false
	return nil
}
