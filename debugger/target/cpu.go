package target

// CPU describes the SGX processor a backend presents to the host.
type CPU struct {
	Model       string      // "sgx1" or "sgx2"
	CPUIDMethod string      // how CPUID is caught: "faulting" or "rewrite"
	HostCPUIDs  int         // host CPUID instructions answered so far
	Leaf7       [4]uint32   // CPUID.(EAX=7, ECX=0) as the host sees it: EAX, EBX, ECX, EDX
	Leaf12      [][4]uint32 // CPUID.(EAX=12H, ECX=0, 1, 2 …) up to the first invalid EPC subleaf
}

// CPUReporter is the optional capability of a Stop whose backend
// emulates the processor: it tells what the host sees of it.
type CPUReporter interface {
	CPU() CPU
}
