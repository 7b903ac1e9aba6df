package debugger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// ErrNoCPU: the target does not emulate a processor (a core file, real
// hardware), so there is no emulated CPU to describe.
var ErrNoCPU = errors.New("this target does not emulate the processor")

// CPUResult describes the SGX processor the emulator presents.
type CPUResult struct {
	Model       string   `json:"model"`
	CPUIDMethod string   `json:"cpuid_method"`
	HostCPUIDs  int      `json:"host_cpuids"`
	Leaf7       []Hex    `json:"leaf7"`  // EAX, EBX, ECX, EDX of CPUID.(7,0)
	Leaf12      [][]Hex  `json:"leaf12"` // per subleaf: EAX, EBX, ECX, EDX
	SGX1        bool     `json:"sgx1"`
	SGX2        bool     `json:"sgx2"`
	EDECCSSA    bool     `json:"edeccssa"` // AEX-Notify's leaf
	MiscSelect  Hex      `json:"miscselect"`
	Attributes  Hex      `json:"attributes"`
	XFRM        Hex      `json:"xfrm"`
	EPC         []EPCRow `json:"epc"`
}

// EPCRow is one EPC section.
type EPCRow struct {
	Base Hex `json:"base"`
	Size Hex `json:"size"`
}

func hexRegs(r [4]uint32) []Hex { return []Hex{Hex(r[0]), Hex(r[1]), Hex(r[2]), Hex(r[3])} }

func cpuResult(c target.CPU) *CPUResult {
	r := &CPUResult{Model: c.Model, CPUIDMethod: c.CPUIDMethod, HostCPUIDs: c.HostCPUIDs, Leaf7: hexRegs(c.Leaf7)}
	for i, l := range c.Leaf12 {
		r.Leaf12 = append(r.Leaf12, hexRegs(l))
		switch i {
		case 0:
			r.SGX1, r.SGX2, r.MiscSelect = l[0]&sgx.CPUIDSGX1 != 0, l[0]&sgx.CPUIDSGX2 != 0, Hex(l[1])
			r.EDECCSSA = l[0]&sgx.CPUIDSGXEDECCSSA != 0
		case 1:
			r.Attributes, r.XFRM = Hex(uint64(l[1])<<32|uint64(l[0])), Hex(uint64(l[3])<<32|uint64(l[2]))
		default:
			if s, ok := sgx.EPCSectionOf(l); ok {
				r.EPC = append(r.EPC, EPCRow{Base: Hex(s.Base), Size: Hex(s.Size)})
			}
		}
	}
	return r
}

// Text renders the model, the CPUID method and the SGX leaves.
func (r *CPUResult) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cpu %s: SGX1 %v SGX2 %v EDECCSSA %v, CPUID caught by %s", r.Model, r.SGX1, r.SGX2, r.EDECCSSA, r.CPUIDMethod)
	if r.CPUIDMethod == "faulting" {
		fmt.Fprintf(&b, " (%d host CPUIDs answered)\n", r.HostCPUIDs)
	} else {
		b.WriteString(" (host code runs CPUID natively and sees this machine's processor)\n")
	}
	fmt.Fprintf(&b, "  miscselect %#x attributes %#x (%s) xfrm %#x\n", uint64(r.MiscSelect), uint64(r.Attributes),
		sgx.AttributeFlags(r.Attributes), uint64(r.XFRM))
	for _, s := range r.EPC {
		fmt.Fprintf(&b, "  EPC section base %#x size %#x (%d MiB)\n", uint64(s.Base), uint64(s.Size), uint64(s.Size)>>20)
	}
	fmt.Fprintf(&b, "  CPUID.(7,0)   eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n", uint64(r.Leaf7[0]), uint64(r.Leaf7[1]), uint64(r.Leaf7[2]), uint64(r.Leaf7[3]))
	for i, l := range r.Leaf12 {
		fmt.Fprintf(&b, "  CPUID.(12H,%d) eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n", i, uint64(l[0]), uint64(l[1]), uint64(l[2]), uint64(l[3]))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Session) viewCPU(st target.Stop) (Result, error) {
	c, ok := raw(st).(target.CPUReporter)
	if !ok {
		return nil, ErrNoCPU
	}
	return cpuResult(c.CPU()), nil
}

// siteName renders an address in enclave base as "0x… (symbol+0x…)" when
// the image knows the symbol.
func (s *Session) siteName(im *enclave.Image, base, addr uint64) string {
	if im != nil {
		if sym, off, ok := im.SymbolAt(addr - base); ok {
			return fmt.Sprintf("%#x (%s+%#x)", addr, sym.Name, off)
		}
	}
	return fmt.Sprintf("%#x", addr)
}
