package target

import "fmt"

// HWKind is what a debug-register slot watches (DR7's R/W field).
type HWKind uint8

// Slot kinds. x86 has no read-only watch: a read watchpoint is an access
// watchpoint whose hits leave the value unchanged.
const (
	HWExecute HWKind = iota // instruction breakpoint (R/W 00, length 1)
	HWWrite                 // data write (R/W 01)
	HWAccess                // data read or write (R/W 11)
)

var hwKindNames = [...]string{"execute", "write", "access"}

func (k HWKind) String() string {
	if int(k) < len(hwKindNames) {
		return hwKindNames[k]
	}
	return fmt.Sprintf("HWKind(%d)", k)
}

// HWSlot is one of DR0–DR3 as the debugger wants it.
type HWSlot struct {
	Enabled bool
	Addr    uint64
	Kind    HWKind
	Len     int // 1, 2, 4 or 8 bytes; 1 for HWExecute
}

// NumHWSlots is how many debug-register slots x86 has (DR0–DR3).
const NumHWSlots = 4

// Validate checks a slot the way the processor and the kernel will:
// lengths 1, 2, 4, 8, the address aligned to the length, execute slots of
// length 1.
func (s HWSlot) Validate() error {
	if !s.Enabled {
		return nil
	}
	switch s.Len {
	case 1, 2, 4, 8:
	default:
		return fmt.Errorf("a hardware watchpoint covers 1, 2, 4 or 8 bytes, not %d", s.Len)
	}
	if s.Kind == HWExecute && s.Len != 1 {
		return fmt.Errorf("a hardware breakpoint has length 1")
	}
	if s.Addr%uint64(s.Len) != 0 {
		return fmt.Errorf("%#x is not aligned to %d bytes (a debug register watches an aligned range)", s.Addr, s.Len)
	}
	return nil
}

// DR7 encodes the slots as the DR7 value (local enables, R/W and LEN
// fields; Intel SDM Vol. 3B, "Debug Control Register (DR7)").
func DR7(slots [NumHWSlots]HWSlot) uint64 {
	var v uint64
	for i, s := range slots {
		if !s.Enabled {
			continue
		}
		v |= 1 << (2 * i) // Li
		var rw, ln uint64
		switch s.Kind {
		case HWWrite:
			rw = 1
		case HWAccess:
			rw = 3
		}
		switch s.Len {
		case 2:
			ln = 1
		case 4:
			ln = 3
		case 8:
			ln = 2
		}
		v |= rw<<(16+4*i) | ln<<(18+4*i)
	}
	return v
}

// DebugRegisters is a Process whose backend offers DR0–DR3. The slots
// apply to every thread of the host, present and future.
type DebugRegisters interface {
	SetDebugRegisters(slots [NumHWSlots]HWSlot) error
}
