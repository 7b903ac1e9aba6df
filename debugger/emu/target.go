package emu

import "github.com/sgxdbg/sgxdbg/debugger/target"

// The emulator speaks the debugger's vocabulary (package target).
type (
	Event         = target.Event
	EventKind     = target.EventKind
	EnclaveInfo   = target.EnclaveInfo
	ThreadInfo    = target.ThreadInfo
	HandlerResult = target.HandlerResult
)

// Event kinds (see package target).
const (
	EvEnclaveCreated     = target.EvEnclaveCreated
	EvPagesAdded         = target.EvPagesAdded
	EvEnclaveInitialized = target.EvEnclaveInitialized
	EvEENTER             = target.EvEENTER
	EvEEXIT              = target.EvEEXIT
	EvAEX                = target.EvAEX
	EvERESUME            = target.EvERESUME
	EvENCLUFault         = target.EvENCLUFault
	EvEnclaveRemoved     = target.EvEnclaveRemoved
	EvCPUIDRewritten     = target.EvCPUIDRewritten
	EvExit               = target.EvExit
)

// ErrResumed: see target.ErrResumed.
var ErrResumed = target.ErrResumed
