package coredump

import (
	"errors"
	"fmt"
)

// Sentinel errors; a *FormatError wraps one of the first four.
var (
	// ErrNotELF: the file does not start with an ELF header.
	ErrNotELF = errors.New("not an ELF file")
	// ErrForeign: an ELF file, but not an sgxdbg enclave core for x86-64
	// (another type or machine, or a core without the SGXDBG notes, such
	// as a Linux process core).
	ErrForeign = errors.New("not an sgxdbg enclave core file")
	// ErrTruncated: a header, note or segment extends past the end of
	// the file.
	ErrTruncated = errors.New("truncated core file")
	// ErrCorrupt: a field holds a value the format does not allow, or two
	// parts of the file contradict each other.
	ErrCorrupt = errors.New("corrupt core file")

	// ErrNotInCore: an address that no PT_LOAD segment of the core holds.
	ErrNotInCore = errors.New("address not in the core file")
	// ErrNothingToDump: the stopped host has no debug enclave whose memory
	// EDBGRD could read.
	ErrNothingToDump = errors.New("no debug enclave to dump")
)

// FormatError is a core file that cannot be read: Field names the part
// ("ELF header", "PT_LOAD 3", "NT_SGXDBG_TCS"), Off is its file offset (-1
// when not positional) and Value the offending value. Err is ErrNotELF,
// ErrForeign, ErrTruncated or ErrCorrupt.
type FormatError struct {
	Off   int64
	Field string
	Value uint64
	Msg   string
	Err   error
}

// Error renders "core file: NT_SGXDBG_TCS at offset 0x1f0: TCS 0x… outside every enclave: corrupt core file".
func (e *FormatError) Error() string {
	if e.Off < 0 {
		return fmt.Sprintf("core file: %s: %s: %v", e.Field, e.Msg, e.Err)
	}
	return fmt.Sprintf("core file: %s at offset %#x: %s: %v", e.Field, e.Off, e.Msg, e.Err)
}

// Unwrap returns the sentinel.
func (e *FormatError) Unwrap() error { return e.Err }

func corrupt(off int64, field string, value uint64, format string, args ...any) *FormatError {
	return &FormatError{Off: off, Field: field, Value: value, Msg: fmt.Sprintf(format, args...), Err: ErrCorrupt}
}

func truncated(off int64, field string, need uint64, have int64) *FormatError {
	return &FormatError{Off: off, Field: field, Value: need,
		Msg: fmt.Sprintf("needs %d bytes, the file has %d", need, have), Err: ErrTruncated}
}

// MemoryError is a read of core memory that the core cannot answer.
type MemoryError struct {
	Addr uint64
	Err  error // ErrNotInCore
}

// Error renders "core file: 0x…: address not in the core file".
func (e *MemoryError) Error() string { return fmt.Sprintf("core file: %#x: %v", e.Addr, e.Err) }

// Unwrap returns the sentinel.
func (e *MemoryError) Unwrap() error { return e.Err }
