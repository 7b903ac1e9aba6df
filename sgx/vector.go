package sgx

// Vector is an x86 exception vector number as recorded in EXITINFO.VECTOR.
type Vector uint8

// Exception vectors (Intel SDM Vol. 3A, Table 6-1).
const (
	VectorDE  Vector = 0  // divide error
	VectorDB  Vector = 1  // debug
	VectorNMI Vector = 2  // non-maskable interrupt
	VectorBP  Vector = 3  // breakpoint (INT3)
	VectorOF  Vector = 4  // overflow (INTO)
	VectorBR  Vector = 5  // BOUND range exceeded
	VectorUD  Vector = 6  // invalid opcode
	VectorNM  Vector = 7  // device not available
	VectorDF  Vector = 8  // double fault
	VectorTS  Vector = 10 // invalid TSS
	VectorNP  Vector = 11 // segment not present
	VectorSS  Vector = 12 // stack-segment fault
	VectorGP  Vector = 13 // general protection
	VectorPF  Vector = 14 // page fault
	VectorMF  Vector = 16 // x87 floating-point error
	VectorAC  Vector = 17 // alignment check
	VectorMC  Vector = 18 // machine check
	VectorXM  Vector = 19 // SIMD floating-point exception
	VectorVE  Vector = 20 // virtualization exception
	VectorCP  Vector = 21 // control protection
)

var vectorMnemonics = []intName{
	{0, "#DE"}, {1, "#DB"}, {2, "NMI"}, {3, "#BP"}, {4, "#OF"}, {5, "#BR"},
	{6, "#UD"}, {7, "#NM"}, {8, "#DF"}, {10, "#TS"}, {11, "#NP"}, {12, "#SS"},
	{13, "#GP"}, {14, "#PF"}, {16, "#MF"}, {17, "#AC"}, {18, "#MC"}, {19, "#XM"},
	{20, "#VE"}, {21, "#CP"},
}

var vectorNames = []intName{
	{0, "divide error"}, {1, "debug"}, {2, "non-maskable interrupt"},
	{3, "breakpoint"}, {4, "overflow"}, {5, "BOUND range exceeded"},
	{6, "invalid opcode"}, {7, "device not available"}, {8, "double fault"},
	{10, "invalid TSS"}, {11, "segment not present"}, {12, "stack-segment fault"},
	{13, "general protection"}, {14, "page fault"}, {16, "x87 floating-point error"},
	{17, "alignment check"}, {18, "machine check"}, {19, "SIMD floating-point exception"},
	{20, "virtualization exception"}, {21, "control protection"},
}

// String returns the vector's mnemonic, "#PF", or "Vector(N)" when unknown.
func (v Vector) String() string { return stringName(uint64(v), vectorMnemonics, "Vector") }

// Name returns the vector's name in words, "page fault".
func (v Vector) Name() string { return stringName(uint64(v), vectorNames, "vector") }

// ReportedInEXITINFO reports whether an AEX for v sets EXITINFO.VALID given
// the enclave's MISCSELECT (SGX.md §1: #GP and #PF need MISCSELECT.EXINFO,
// #CP needs MISCSELECT.CPINFO).
func (v Vector) ReportedInEXITINFO(misc MiscSelect) bool {
	switch v {
	case VectorDE, VectorDB, VectorBP, VectorBR, VectorUD, VectorMF, VectorAC, VectorXM:
		return true
	case VectorGP, VectorPF:
		return misc&MiscEXINFO != 0
	case VectorCP:
		return misc&MiscCPINFO != 0
	}
	return false
}

// ExitType is EXITINFO.EXIT_TYPE (bits 10:8).
type ExitType uint8

// Exit types recorded in EXITINFO.
const (
	ExitHardware ExitType = 3 // hardware exception
	ExitSoftware ExitType = 6 // software exception (INT3, INTO)
)

var exitTypeNames = []intName{{3, "hardware"}, {6, "software"}}

// String returns "hardware", "software" or "ExitType(N)".
func (t ExitType) String() string { return stringName(uint64(t), exitTypeNames, "ExitType") }

// MiscSelect is the SECS/SIGSTRUCT MISCSELECT bit set.
type MiscSelect uint32

// MISCSELECT bits.
const (
	MiscEXINFO MiscSelect = 1 << 0 // report #PF/#GP details in the SSA MISC region
	MiscCPINFO MiscSelect = 1 << 1 // report #CP details
)

var miscNames = []intName{{1, "EXINFO"}, {2, "CPINFO"}}

// String renders the bits, "EXINFO+0x4".
func (m MiscSelect) String() string { return flagName(uint64(m), miscNames) }

// MiscSize returns the size in bytes of the SSA MISC region selected by m.
// EXINFO is 16 bytes; CPINFO (SDM Table 37-11) is 16 bytes below it.
func (m MiscSelect) MiscSize() int {
	n := 0
	if m&MiscEXINFO != 0 {
		n += 16
	}
	if m&MiscCPINFO != 0 {
		n += 16
	}
	return n
}
