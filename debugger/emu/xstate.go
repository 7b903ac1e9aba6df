package emu

import (
	"encoding/binary"
	"fmt"

	"github.com/sgxdbg/sgxdbg/sgx"
)

func cpuid(eax, ecx uint32) (a, b, c, d uint32)

// hostXSave describes this CPU's standard-format XSAVE layout (what
// PTRACE_GETREGSET NT_X86_XSTATE returns), which differs from SGX
// processors' for some components (AMD places the AVX-512 state right after
// AVX). The SSA always uses the SGX layout (sgx.XSaveComponents); the
// emulator copies component by component.
type hostXSave struct {
	xcr0 uint64
	size int
	off  map[int]int // feature → offset in the host layout
}

func probeHostXSave() hostXSave {
	a, b, _, d := cpuid(0xd, 0)
	h := hostXSave{xcr0: uint64(a) | uint64(d)<<32, size: int(b), off: map[int]int{}}
	for _, c := range sgx.XSaveComponents {
		if h.xcr0&(1<<c.Feature) == 0 {
			continue
		}
		sz, off, _, _ := cpuid(0xd, uint32(c.Feature))
		if int(sz) == c.Size {
			h.off[c.Feature] = int(off)
		}
	}
	return h
}

const xstateBVOff = 512

// toSSA copies the components of xfrm from a host XSAVE buffer into an SSA
// frame's XSAVE area (SGX layout, XCOMP_BV 0).
func (h hostXSave) toSSA(dst, host []byte, xfrm uint64) error {
	if len(host) < sgx.XSaveLegacySize || len(dst) < sgx.XSaveSize(xfrm) {
		return fmt.Errorf("xsave buffers too small: host %d, ssa %d", len(host), len(dst))
	}
	copy(dst[:512], host[:512])
	clear(dst[512:576])
	bv := binary.LittleEndian.Uint64(host[xstateBVOff:]) & xfrm
	binary.LittleEndian.PutUint64(dst[xstateBVOff:], bv)
	return h.eachComponent(host, xfrm, func(c sgx.XComponent, hostPart []byte) {
		copy(dst[c.Off:c.Off+c.Size], hostPart)
	})
}

// eachComponent calls f for every extended component in xfrm with its
// bytes in the host buffer.
func (h hostXSave) eachComponent(host []byte, xfrm uint64, f func(c sgx.XComponent, hostPart []byte)) error {
	for _, c := range sgx.XSaveComponents {
		if xfrm&(1<<c.Feature) == 0 {
			continue
		}
		ho, ok := h.off[c.Feature]
		if !ok || ho+c.Size > len(host) {
			return fmt.Errorf("XFRM component %d not available on this CPU", c.Feature)
		}
		f(c, host[ho:ho+c.Size])
	}
	return nil
}

// fromSSA loads the components of xfrm from an SSA XSAVE area into a host
// XSAVE buffer; other components of the host buffer are left alone.
func (h hostXSave) fromSSA(host, src []byte, xfrm uint64) error {
	if len(host) < sgx.XSaveLegacySize || len(src) < sgx.XSaveSize(xfrm) {
		return fmt.Errorf("xsave buffers too small: host %d, ssa %d", len(host), len(src))
	}
	if xfrm&1 != 0 || xfrm&2 != 0 {
		copy(host[:512], src[:512])
	}
	sbv := binary.LittleEndian.Uint64(src[xstateBVOff:]) & xfrm
	hbv := binary.LittleEndian.Uint64(host[xstateBVOff:])&^xfrm | sbv
	binary.LittleEndian.PutUint64(host[xstateBVOff:], hbv)
	return h.eachComponent(host, xfrm, func(c sgx.XComponent, hostPart []byte) {
		copy(hostPart, src[c.Off:c.Off+c.Size])
	})
}

// initState puts the components of xfrm into their initial state in a
// host XSAVE buffer (the synthetic state after an AEX).
func (h hostXSave) initState(host []byte, xfrm uint64) {
	if len(host) < sgx.XSaveLegacySize {
		return
	}
	if xfrm&1 != 0 {
		// x87 init: FCW 0x37F, everything else 0 (FTW abridged 0 = all empty).
		clear(host[0:24])
		binary.LittleEndian.PutUint16(host[0:], 0x37f)
		clear(host[32:160])
	}
	if xfrm&2 != 0 {
		clear(host[160:416])
		binary.LittleEndian.PutUint32(host[24:], 0x1f80)
	}
	bv := binary.LittleEndian.Uint64(host[xstateBVOff:]) &^ xfrm
	binary.LittleEndian.PutUint64(host[xstateBVOff:], bv)
	for _, c := range sgx.XSaveComponents {
		if ho, ok := h.off[c.Feature]; ok && xfrm&(1<<c.Feature) != 0 && ho+c.Size <= len(host) {
			clear(host[ho : ho+c.Size])
		}
	}
}
