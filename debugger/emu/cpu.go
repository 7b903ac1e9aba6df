package emu

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// CPUModel is the SGX processor the emulator presents.
type CPUModel string

// The emulated models.
const (
	// CPUSGX1 has the SGX1 leaves only: SGX2's ioctls answer ENODEV, as
	// the kernel answers them on such a processor.
	CPUSGX1 CPUModel = "sgx1"
	// CPUSGX2 also reports SGX2 (EAUG, EACCEPT, EMODPE, EMODPR, EMODT) and
	// AEX-Notify (ATTRIBUTES.AEXNOTIFY, EDECCSSA), as current server
	// processors do. The default.
	CPUSGX2 CPUModel = "sgx2"
)

// DefaultEPCSize is the size of the emulated EPC unless Options.EPCSize
// says otherwise: 128 MiB, the largest PRMRR of client processors.
const DefaultEPCSize = 128 << 20

// EPCBase is the physical base address of the emulated EPC section.
// Nothing maps it; CPUID reports it, as hardware reports the PRM the BIOS
// reserved.
const EPCBase = 0x80000000

// ParseCPUModel accepts "sgx1" and "sgx2" ("" is the default, sgx2).
func ParseCPUModel(s string) (CPUModel, error) {
	switch CPUModel(s) {
	case "", CPUSGX2:
		return CPUSGX2, nil
	case CPUSGX1:
		return CPUSGX1, nil
	}
	return "", fmt.Errorf("unknown CPU model %q (sgx1 or sgx2)", s)
}

// ParseSize reads a size in bytes: a number (decimal or 0x hex) with an
// optional K, M, G or T suffix (powers of 1024; KiB, MiB … also accepted).
// The result must be a non-zero multiple of 4 KiB below 2^52, as leaf 12H
// can report it.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "iB"), "B")
	shift := 0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		case 't', 'T':
			shift = 40
		}
		if shift != 0 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: not a number with an optional K, M, G or T suffix", s)
	}
	if v<<shift>>shift != v || v<<shift >= 1<<52 {
		return 0, fmt.Errorf("size %q: too large (at most 2^52 bytes)", s)
	}
	v <<= shift
	if v == 0 || v%sgx.PageSize != 0 {
		return 0, fmt.Errorf("size %q: not a non-zero multiple of 4 KiB", s)
	}
	return v, nil
}

// sgxCPUID is leaf 12H of the emulated processor. MISCSELECT: EXINFO
// only (no CET, so no CPINFO). ATTRIBUTES: DEBUG, MODE64BIT, PROVISIONKEY
// and EINITTOKENKEY; on the SGX2 model also KSS and AEXNOTIFY with the
// EDECCSSA leaf (as on the server processors that have SGX2, AEX-Notify
// since their 2023 microcode).
// XFRM: what this machine's XCR0 enables. Maximum enclave sizes: 2^31 and
// 2^36 bytes, as Skylake reports them (SDM example, EDX = 0x241f).
func sgxCPUID(model CPUModel, epcSize, xcr0 uint64) sgx.SGXCPUID {
	c := sgx.SGXCPUID{
		SGX2:            model == CPUSGX2,
		MiscSelect:      sgx.MiscEXINFO,
		Attributes:      sgx.AttrDebug | sgx.AttrMode64Bit | sgx.AttrProvisionKey | sgx.AttrEINITTokenKey,
		XFRM:            xcr0,
		MaxEnclaveLog32: 31,
		MaxEnclaveLog64: 36,
		EPC:             []sgx.EPCSection{{Base: EPCBase, Size: epcSize}},
	}
	if c.SGX2 {
		c.Attributes |= sgx.AttrKSS | sgx.AttrAEXNotify
		c.EDECCSSA = true
	}
	return c
}

// CPUIDMethod is how the emulator catches CPUID.
type CPUIDMethod string

// CPUID methods.
const (
	// CPUIDAuto uses faulting where the CPU offers it, else rewriting.
	CPUIDAuto CPUIDMethod = ""
	// CPUIDFaulting: arch_prctl(ARCH_SET_CPUID, 0) in every traced
	// thread; CPUID raises SIGSEGV and nothing is rewritten.
	CPUIDFaulting CPUIDMethod = "faulting"
	// CPUIDRewrite: the fallback for CPUs without CPUID faulting. CPUID
	// instructions inside the enclave image's functions become UD2 after
	// EINIT (each one reported); host code gets the real CPU's answers.
	CPUIDRewrite CPUIDMethod = "rewrite"
)

// ParseCPUIDMethod accepts "auto" (or ""), "faulting" and "rewrite".
func ParseCPUIDMethod(s string) (CPUIDMethod, error) {
	switch s {
	case "", "auto":
		return CPUIDAuto, nil
	case string(CPUIDFaulting), string(CPUIDRewrite):
		return CPUIDMethod(s), nil
	}
	return "", fmt.Errorf("unknown CPUID method %q (auto, faulting or rewrite)", s)
}

// BackendWith is Backend launching every host with base's processor and
// CPUID settings (CPU, EPCSize, CPUID, FunctionRanges, CPUSecret); the
// launch options replace its program, arguments, environment, directory
// and files.
func BackendWith(base Options) target.Backend {
	return target.Backend{
		Name: Backend.Name,
		Launch: func(o target.LaunchOptions) (target.Process, error) {
			opts := base
			opts.Path, opts.Args, opts.Env, opts.Dir, opts.Files, opts.OwnGroup = o.Path, o.Args, o.Env, o.Dir, o.Files, o.OwnGroup
			return Launch(opts)
		},
	}
}
