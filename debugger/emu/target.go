package emu

import (
	"github.com/sgxdbg/sgxdbg/debugger/ptrace"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

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
	EvPagesChanged       = target.EvPagesChanged
	EvExit               = target.EvExit
	EvInterrupt          = target.EvInterrupt
)

// ErrResumed: see target.ErrResumed.
var ErrResumed = target.ErrResumed

// Backend is the emulator as a debugger backend: it launches hosts (an
// emulated host cannot be attached to: its enclaves exist only in the
// emulator that loaded them).
var Backend = target.Backend{
	Name: "emu",
	Launch: func(o target.LaunchOptions) (target.Process, error) {
		return Launch(Options{Path: o.Path, Args: o.Args, Env: o.Env, Dir: o.Dir, Files: o.Files, OwnGroup: o.OwnGroup})
	},
}

// Process is a host running on the emulator, on a tracer thread of its own
// (target.Process).
type Process struct {
	tr *ptrace.Tracer
	em *Emulator
}

var _ target.Process = (*Process)(nil)

// Launch starts the host described by opts on a new tracer thread, stopped
// at nothing: the first ContinueOnce runs it. opts.OnEvent and OnStop are
// not used (the debugger pulls events and stops from ContinueOnce).
func Launch(opts Options) (*Process, error) {
	opts.OnEvent, opts.OnStop = nil, nil
	p := &Process{tr: ptrace.NewTracer()}
	err := p.tr.Do(func() error {
		var err error
		p.em, err = Start(opts)
		return err
	})
	if err != nil {
		p.tr.Close()
		return nil, err
	}
	return p, nil
}

// Do runs f on the tracer thread.
func (p *Process) Do(f func() error) error { return p.tr.Do(f) }

// Pid is the host's process id.
func (p *Process) Pid() int { return p.em.mainPid }

// ContinueOnce: see Emulator.ContinueOnce. Inside Do only.
func (p *Process) ContinueOnce() (target.Trap, error) { return p.em.ContinueOnce() }

// Kill ends the host. Any goroutine.
func (p *Process) Kill() { p.em.Kill() }

// Detach is not possible: the host's enclaves live in the emulator.
func (p *Process) Detach() error { return target.ErrCannotDetach }

// Close kills the host if it still runs, reaps it, and ends the tracer
// thread.
func (p *Process) Close() error {
	defer p.tr.Close()
	return p.tr.Do(func() error {
		if p.em.exit == nil {
			p.em.Kill()
		}
		for p.em.exit == nil {
			if _, err := p.em.ContinueOnce(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Emulator returns the emulator (inside Do only).
func (p *Process) Emulator() *Emulator { return p.em }
