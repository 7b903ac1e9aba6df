package enclave

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrNoDebugInfo: the image has no DWARF line information (it was
	// stripped or built without -g).
	ErrNoDebugInfo = errors.New("no debug information")
	// ErrNoSymbols: the image has neither a .symtab nor a .dynsym with
	// defined symbols.
	ErrNoSymbols = errors.New("no symbols")
	// ErrClosed: debug information was requested after Close.
	ErrClosed = errors.New("image closed")
	// ErrUnwind: the unwinder met a frame it could not step past (a CFA
	// or return-address rule it does not evaluate).
	ErrUnwind = errors.New("cannot unwind")
)

// FormatError reports a malformed or non-conforming enclave image, like
// debug/elf's FormatError but with exported fields for errors.As.
type FormatError struct {
	Off   int64  // file offset of the offending field; -1 when it has none (a zero-fill page)
	Field string // what was being checked: "ELF class", "PT_LOAD 2 p_vaddr", "region 1 kind", "TCS 0 NSSA"
	Value uint64 // the offending value
	Msg   string // what is wrong, in words
	Err   error  // an underlying error (from debug/elf or package sgx), or nil
}

// Error renders "PT_LOAD 2 p_vaddr at offset 0xb0: not page aligned (0x1234)".
func (e *FormatError) Error() string {
	s := e.Field
	if e.Off >= 0 {
		s += fmt.Sprintf(" at offset %#x", e.Off)
	}
	s += fmt.Sprintf(": %s (%#x)", e.Msg, e.Value)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error, if any.
func (e *FormatError) Unwrap() error { return e.Err }

// formatErr builds a *FormatError.
func formatErr(off int64, field string, value uint64, format string, args ...any) *FormatError {
	return &FormatError{Off: off, Field: field, Value: value, Msg: fmt.Sprintf(format, args...)}
}
