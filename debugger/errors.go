package debugger

import (
	"errors"
	"fmt"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// Sentinel errors of the command language; errors.Is tells them apart
// whatever the message says. ErrExited, ErrNotStopped (session.go),
// ErrNoDumper (dump.go) and ErrNoCPU (info_cpu.go) are four more; target's
// ErrNotDebug, ErrNotEnclave and ErrReadOnly come from the backends.
var (
	// ErrUsage: the command's words are wrong (the message shows the usage).
	ErrUsage = errors.New("usage")
	// ErrUnknownCommand: no command has that name.
	ErrUnknownCommand = errors.New("unknown command")
	// ErrNotAtAEX: the command needs an AEX stop.
	ErrNotAtAEX = errors.New("not stopped at an AEX")
	// ErrNoFrame: the SSA frame (or TCS) asked for does not exist.
	ErrNoFrame = errors.New("no such SSA frame")
	// ErrNoSymbol: a name is not a symbol, register or address.
	ErrNoSymbol = errors.New("no such symbol")
	// ErrNoImage: no enclave image matches the enclave.
	ErrNoImage = errors.New("no enclave image")
)

// ErrorCode names a command error's class for scripts: the "code" of a
// JSON error line.
type ErrorCode string

// The codes, one per sentinel; "error" for anything else.
const (
	CodeUsage          ErrorCode = "usage"
	CodeUnknownCommand ErrorCode = "unknown-command"
	CodeNotAtAEX       ErrorCode = "not-at-aex"
	CodeNoFrame        ErrorCode = "no-frame"
	CodeNoSymbol       ErrorCode = "no-symbol"
	CodeNoImage        ErrorCode = "no-image"
	CodeNotStopped     ErrorCode = "not-stopped"
	CodeExited         ErrorCode = "exited"
	CodeNoDumper       ErrorCode = "no-dumper"
	CodeNotDebug       ErrorCode = "not-debug"
	CodeNotEnclave     ErrorCode = "not-enclave"
	CodeReadOnly       ErrorCode = "read-only"
	CodeDebugAccess    ErrorCode = "debug-access"
	CodeNoCPU          ErrorCode = "no-cpu"
	CodeError          ErrorCode = "error"
)

var errorCodes = []struct {
	err  error
	code ErrorCode
}{
	{ErrUsage, CodeUsage}, {ErrUnknownCommand, CodeUnknownCommand}, {ErrNotAtAEX, CodeNotAtAEX},
	{ErrNoFrame, CodeNoFrame}, {ErrNoSymbol, CodeNoSymbol}, {ErrNoImage, CodeNoImage},
	{ErrNotStopped, CodeNotStopped}, {ErrExited, CodeExited}, {ErrNoDumper, CodeNoDumper},
	{target.ErrNotDebug, CodeNotDebug}, {target.ErrNotEnclave, CodeNotEnclave}, {target.ErrReadOnly, CodeReadOnly},
	{ErrNoCPU, CodeNoCPU},
}

// Code classifies err.
func Code(err error) ErrorCode {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	var dae *target.DebugAccessError
	if errors.As(err, &dae) {
		return CodeDebugAccess
	}
	return CodeError
}

// classed is an error with its own message that errors.Is matches to a
// sentinel.
type classed struct {
	msg   string
	class error
}

func (e *classed) Error() string { return e.msg }
func (e *classed) Unwrap() error { return e.class }

// errorf formats a message of class (a sentinel above).
func errorf(class error, format string, a ...any) error {
	return &classed{msg: fmt.Sprintf(format, a...), class: class}
}

// usage is the ErrUsage error "usage: U".
func usage(u string) error { return errorf(ErrUsage, "usage: %s", u) }
