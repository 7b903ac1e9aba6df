package ssa

import (
	"errors"
	"fmt"
)

// Sentinel errors a *DecodeError wraps, for errors.Is.
var (
	// ErrLength: the input is shorter or longer than the structure.
	ErrLength = errors.New("wrong length")
	// ErrReserved: a reserved bit or byte that must be zero is set.
	ErrReserved = errors.New("reserved bits set")
	// ErrInvalid: a field holds a value the architecture does not allow.
	ErrInvalid = errors.New("invalid value")
	// ErrUnsupported: a valid layout this package does not decode
	// (compacted XSAVE format, unknown XFRM or MISCSELECT components).
	ErrUnsupported = errors.New("unsupported layout")
)

// DecodeError reports a bad field in SSA bytes. Off is the byte offset of
// the field within the input handed to the decoder (for DecodeFrame, within
// the frame); Value is the offending value. Encoders return it too when a
// value would not decode.
type DecodeError struct {
	Field string // "GPRSGX.EXITINFO", "XSAVE.XSTATE_BV", "SSAFRAMESIZE", …
	Off   int    // byte offset of the field, -1 when not positional
	Value uint64 // the offending value (a length for ErrLength)
	Msg   string // what is wrong, in words
	Err   error  // one of the Err… sentinels
}

// Error renders "ssa: GPRSGX.EXITINFO at offset 160: reserved bits set (0x7800)".
func (e *DecodeError) Error() string {
	if e.Off < 0 {
		return fmt.Sprintf("ssa: %s: %s", e.Field, e.Msg)
	}
	return fmt.Sprintf("ssa: %s at offset %d: %s", e.Field, e.Off, e.Msg)
}

// Unwrap returns the sentinel, so errors.Is(err, ErrReserved) works.
func (e *DecodeError) Unwrap() error { return e.Err }

// lengthError reports that field needed want bytes and got n.
func lengthError(field string, n, want int) *DecodeError {
	return &DecodeError{Field: field, Off: 0, Value: uint64(n),
		Msg: fmt.Sprintf("length %d, want %d", n, want), Err: ErrLength}
}

// shiftError moves the offset of a *DecodeError inside err by base, so that
// an error found in a sub-structure names its offset within the frame.
func shiftError(err error, base int) error {
	var de *DecodeError
	if errors.As(err, &de) && de.Off >= 0 {
		c := *de
		c.Off += base
		return &c
	}
	return err
}
