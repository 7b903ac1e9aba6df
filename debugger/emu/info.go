package emu

import (
	"sort"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// Enclaves lists the enclaves of every traced process, by base address.
// Tracer thread only.
func (em *Emulator) Enclaves() []EnclaveInfo {
	var out []EnclaveInfo
	for _, pr := range em.procs {
		for _, e := range pr.enclaves {
			if !e.created {
				continue
			}
			info := EnclaveInfo{Pid: pr.pid, Base: e.base(), Size: e.size(), SSAFrameSize: e.secs.SSAFrameSize,
				MiscSelect: e.secs.MiscSelect, Attributes: e.secs.Attributes, MRENCLAVE: e.secs.MRENCLAVE,
				MRSIGNER: e.secs.MRSIGNER, Initialized: e.inited, CPUIDRewritten: append([]uint64(nil), e.rewritten...)}
			for off, p := range e.pages {
				if p.secinfo.PageType() == sgx.PageTypeTCS {
					info.TCS = append(info.TCS, e.base()+off)
				}
				info.Pages = append(info.Pages, target.Page{Offset: off, Secinfo: p.secinfo})
			}
			sort.Slice(info.Pages, func(i, j int) bool { return info.Pages[i].Offset < info.Pages[j].Offset })
			sort.Slice(info.TCS, func(i, j int) bool { return info.TCS[i] < info.TCS[j] })
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out
}

// Threads lists the traced threads by id. Tracer thread only.
func (em *Emulator) Threads() []ThreadInfo {
	var out []ThreadInfo
	for _, th := range em.threads {
		ti := ThreadInfo{Pid: th.proc.pid, Tid: th.tid}
		if th.inEnclave() {
			ti.InEnclave, ti.Enclave, ti.TCS = true, th.encl.base(), th.tcs
		}
		out = append(out, ti)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tid < out[j].Tid })
	return out
}
