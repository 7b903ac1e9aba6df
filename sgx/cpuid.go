package sgx

import "fmt"

// CPUID leaves and bits that enumerate SGX (SDM Vol. 2A, CPUID, "Structured
// Extended Feature Flags Enumeration Leaf" and "Intel SGX Capability
// Enumeration Leaf"; SDM Vol. 3D §37.7.2, Tables 37-4 to 37-6).
const (
	CPUIDLeafFeatures = 0x07 // structured extended features, subleaf 0
	CPUIDLeafSGX      = 0x12 // SGX capabilities: subleaf 0, 1, then EPC sections

	CPUIDFeatureSGX   = 1 << 2  // CPUID.(7,0):EBX bit 2
	CPUIDFeatureSGXLC = 1 << 30 // CPUID.(7,0):ECX bit 30, flexible launch control

	CPUIDSGX1         = 1 << 0  // CPUID.(12H,0):EAX bit 0: SGX1 leaves
	CPUIDSGX2         = 1 << 1  // CPUID.(12H,0):EAX bit 1: SGX2 leaves (EAUG, EACCEPT, EMODPE …)
	CPUIDSGXEDECCSSA  = 1 << 11 // CPUID.(12H,0):EAX bit 11: ENCLU[EDECCSSA]
	CPUIDEPCSubleaf   = 2       // first EPC section subleaf
	cpuidEPCSection   = 0x1     // EAX[3:0] of a valid EPC section subleaf
	cpuidEPCProtected = 0x1     // ECX[3:0]: confidentiality and integrity protection
)

// EPCSection is one Enclave Page Cache section: a physical range.
type EPCSection struct {
	Base, Size uint64
}

// SGXCPUID is what an SGX processor reports in CPUID leaf 12H.
type SGXCPUID struct {
	SGX2            bool
	EDECCSSA        bool           // ENCLU[EDECCSSA], for AEX-Notify (with ATTRIBUTES.AEXNOTIFY)
	MiscSelect      MiscSelect     // MISCSELECT bits ECREATE accepts
	Attributes      AttributeFlags // ATTRIBUTES.FLAGS bits ECREATE accepts
	XFRM            uint64         // XFRM bits ECREATE accepts
	MaxEnclaveLog32 uint8          // log2 of the largest enclave outside 64-bit mode
	MaxEnclaveLog64 uint8          // log2 of the largest 64-bit enclave
	EPC             []EPCSection
}

// CPUIDError is an SGXCPUID that cannot be encoded.
type CPUIDError struct {
	Field string
	Value uint64
	Rule  string
}

func (e *CPUIDError) Error() string {
	return fmt.Sprintf("CPUID leaf 12H: %s %#x: %s", e.Field, e.Value, e.Rule)
}

// Check reports values leaf 12H cannot represent: EPC sections must be
// 4 KiB aligned, non-empty, and below 2^52.
func (c *SGXCPUID) Check() error {
	for _, s := range c.EPC {
		switch {
		case s.Base&(PageSize-1) != 0:
			return &CPUIDError{"EPC base", s.Base, "not 4 KiB aligned"}
		case s.Size == 0 || s.Size&(PageSize-1) != 0:
			return &CPUIDError{"EPC size", s.Size, "not a non-zero multiple of 4 KiB"}
		case s.Base>>52 != 0 || s.Size>>52 != 0 || (s.Base+s.Size)>>52 != 0:
			return &CPUIDError{"EPC section end", s.Base + s.Size, "beyond 52-bit physical addresses"}
		}
	}
	return nil
}

// Leaf12 returns EAX, EBX, ECX, EDX of CPUID.(EAX=12H, ECX=subleaf).
// Subleaf 0: SGX1/SGX2 bits, MISCSELECT, maximum enclave sizes. Subleaf 1:
// the ATTRIBUTES ECREATE accepts (FLAGS in EBX:EAX, XFRM in EDX:ECX).
// Subleaves 2 and up: one EPC section each, then all zeros (invalid).
func (c *SGXCPUID) Leaf12(subleaf uint32) [4]uint32 {
	switch subleaf {
	case 0:
		eax := uint32(CPUIDSGX1)
		if c.SGX2 {
			eax |= CPUIDSGX2
		}
		if c.EDECCSSA {
			eax |= CPUIDSGXEDECCSSA
		}
		return [4]uint32{eax, uint32(c.MiscSelect), 0, uint32(c.MaxEnclaveLog64)<<8 | uint32(c.MaxEnclaveLog32)}
	case 1:
		return [4]uint32{uint32(c.Attributes), uint32(c.Attributes >> 32), uint32(c.XFRM), uint32(c.XFRM >> 32)}
	}
	i := uint64(subleaf) - CPUIDEPCSubleaf
	if i >= uint64(len(c.EPC)) {
		return [4]uint32{}
	}
	s := c.EPC[i]
	return [4]uint32{
		uint32(s.Base)&^0xfff | cpuidEPCSection,
		uint32(s.Base>>32) & 0xfffff,
		uint32(s.Size)&^0xfff | cpuidEPCProtected,
		uint32(s.Size>>32) & 0xfffff,
	}
}

// EPCSectionOf decodes an EPC section subleaf as the Linux kernel does
// (arch/x86/kernel/cpu/sgx/main.c, sgx_calc_section_metric): ok is false
// for an invalid (type 0) or unknown subleaf type.
func EPCSectionOf(r [4]uint32) (s EPCSection, ok bool) {
	if r[0]&0xf != cpuidEPCSection {
		return s, false
	}
	metric := func(low, high uint32) uint64 { return uint64(low&^0xfff) | uint64(high&0xfffff)<<32 }
	return EPCSection{Base: metric(r[0], r[1]), Size: metric(r[2], r[3])}, true
}

// AdjustFeatures sets the SGX and SGX_LC bits in the registers of
// CPUID.(EAX=7, ECX=0).
func AdjustFeatures(r [4]uint32) [4]uint32 {
	r[1] |= CPUIDFeatureSGX
	r[2] |= CPUIDFeatureSGXLC
	return r
}
