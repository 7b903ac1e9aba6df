package dwarfx

// DWARF register numbers of the x86-64 psABI (figure 3.36).
const (
	RegRAX    = 0
	RegRDX    = 1
	RegRCX    = 2
	RegRBX    = 3
	RegRSI    = 4
	RegRDI    = 5
	RegRBP    = 6
	RegRSP    = 7
	RegR8     = 8
	RegR15    = 15
	RegRIP    = 16 // the return address column; the PC in a Registers set
	RegEFLAGS = 49
	numRegs   = 50
)

// regNames are the 64-bit general registers by DWARF number.
var regNames = [17]string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}

// RegisterName returns the name of DWARF register n ("rax", "eflags"), or
// "" for a number this package does not name.
func RegisterName(n int) string {
	switch {
	case n >= 0 && n < len(regNames):
		return regNames[n]
	case n == RegEFLAGS:
		return "eflags"
	}
	return ""
}

// registerNumber returns the DWARF number of a register name as
// expressions write it after '$' ("rax", "pc", "sp", "fp", "eflags").
func registerNumber(name string) (int, bool) {
	switch name {
	case "pc":
		return RegRIP, true
	case "sp":
		return RegRSP, true
	case "fp":
		return RegRBP, true
	case "eflags":
		return RegEFLAGS, true
	}
	for i, n := range regNames {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// Registers is a frame's register set by DWARF register number; a
// register not set is unknown (for a caller frame: not saved).
type Registers struct {
	val [numRegs]uint64
	ok  [numRegs]bool
}

// Set sets register n; numbers outside 0..49 are ignored.
func (r *Registers) Set(n int, v uint64) {
	if n >= 0 && n < numRegs {
		r.val[n], r.ok[n] = v, true
	}
}

// Get returns register n and whether it is known.
func (r *Registers) Get(n int) (uint64, bool) {
	if n < 0 || n >= numRegs || !r.ok[n] {
		return 0, false
	}
	return r.val[n], true
}

// Frame is the machine state of one stack frame as the caller knows it.
type Frame struct {
	PC   uint64    // run-time address: RIP for the innermost frame, else the return address
	Regs Registers // the frame's registers (RIP need not be set: PC is used)
	CFA  uint64    // canonical frame address; 0: computed from the program's CFI when needed
	// Outer says PC is a return address (a frame other than the
	// innermost): scopes and location lists are then looked up at PC-1,
	// inside the call instruction, as gdb does. Caller frames are always
	// taken as outer.
	Outer bool
	// Caller is the calling frame (PC = this frame's return address), or
	// nil. It is used only to evaluate DW_OP_entry_value through the
	// caller's DW_TAG_call_site parameters.
	Caller *Frame
}
