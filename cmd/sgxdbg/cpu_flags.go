package main

import (
	"fmt"
	"os"
	"sync"

	"github.com/spf13/pflag"

	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/enclave"
)

// cpuOptions are the emulated processor's flags, shared by exec and
// emulate.
type cpuOptions struct {
	cpu   string
	epc   string
	cpuid string
}

func (o *cpuOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.cpu, "cpu", string(emu.CPUSGX2), "emulated SGX processor: `sgx1` or sgx2 (CPUID, ENCLU leaves, driver ioctls)")
	f.StringVar(&o.epc, "epc", "128M", "EPC `size` CPUID reports (K, M, G suffixes); not a limit, as the kernel pages EPC out")
	f.StringVar(&o.cpuid, "cpuid", "auto", "how CPUID is caught: `auto`, faulting (arch_prctl ARCH_SET_CPUID) or rewrite (CPUID→UD2 in enclave functions)")
}

// emuConfig is the emulator configuration the flags select.
type emuConfig struct {
	cpu       emu.CPUModel
	epc       uint64
	cpuid     emu.CPUIDMethod
	functions func([32]byte) [][2]uint64
}

// config checks the flags. images are the enclave image candidates whose
// function symbols bound the CPUID rewriting fallback.
func (o cpuOptions) config(images []string) (emuConfig, error) {
	var c emuConfig
	var err error
	if c.cpu, err = emu.ParseCPUModel(o.cpu); err != nil {
		return c, fmt.Errorf("--cpu: %w", err)
	}
	if c.epc, err = emu.ParseSize(o.epc); err != nil {
		return c, fmt.Errorf("--epc: %w", err)
	}
	if c.cpuid, err = emu.ParseCPUIDMethod(o.cpuid); err != nil {
		return c, fmt.Errorf("--cpuid: %w", err)
	}
	c.functions = imageFunctions(images)
	return c, nil
}

func (c emuConfig) apply(o *emu.Options) {
	o.CPU, o.EPCSize, o.CPUID, o.FunctionRanges = c.cpu, c.epc, c.cpuid, c.functions
}

// imageFunctions returns a lookup of function ranges by MRENCLAVE over
// the enclave images among paths (other files are skipped). The images are
// read the first time an enclave needs them (only the rewriting fallback
// asks).
func imageFunctions(paths []string) func([32]byte) [][2]uint64 {
	var once sync.Once
	byMR := map[[32]byte][][2]uint64{}
	load := func() {
		for _, p := range paths {
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			im, err := enclave.Open(p)
			if err != nil {
				continue
			}
			mr, err := im.MRENCLAVE()
			if err == nil {
				if rs, err := im.FunctionRanges(); err == nil {
					byMR[mr] = rs
				}
			}
			im.Close()
		}
	}
	return func(mr [32]byte) [][2]uint64 {
		once.Do(load)
		return byMR[mr]
	}
}
