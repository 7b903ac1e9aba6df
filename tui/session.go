package tui

import (
	"errors"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// Session is what the UI needs of a debugger session; *debugger.Session
// implements it. Wait blocks until the next stop or the host's end and is
// only ever called from a tea.Cmd.
type Session interface {
	Wait() (debugger.Stopped, error)
	Exec(line string) (debugger.Result, error)
	IsStopped() bool
}

// OutputLine is one line the host wrote.
type OutputLine struct {
	Text   string
	Stderr bool
}

// stopMsg reports the end of a Wait: a stop or the host's end.
type stopMsg struct {
	stopped debugger.Stopped
	err     error
}

// execResult is one command line and what it returned.
type execResult struct {
	line   string
	result debugger.Result
	err    error
}

// refreshMsg carries the pane views read at a stop.
type refreshMsg struct {
	gen     int // the stop the views were read at
	results map[paneID]execResult
}

// actionMsg reports an action or a prompt command.
type actionMsg struct {
	execResult
	stopped bool // the host is still held at the stop
}

// eventsMsg carries timeline events from the OnEvent feed.
type eventsMsg batch[target.Event]

// outputMsg carries the host's output lines.
type outputMsg batch[OutputLine]

// waitCmd waits for the session's next stop. With tty (the host has the
// terminal), the UI gives the terminal back while the host runs, as gdb
// does, and takes it again at the stop.
func waitCmd(s Session, tty bool) tea.Cmd {
	if tty {
		w := &waitExec{s: s}
		return tea.Exec(w, func(err error) tea.Msg { return stopMsg{stopped: w.st, err: err} })
	}
	return func() tea.Msg {
		st, err := s.Wait()
		return stopMsg{stopped: st, err: err}
	}
}

// waitExec is a Wait run as a tea.ExecCommand: Bubble Tea releases the
// terminal for it and restores the UI when it returns.
type waitExec struct {
	s  Session
	st debugger.Stopped
}

// Run waits for the next stop.
func (w *waitExec) Run() error {
	var err error
	w.st, err = w.s.Wait()
	return err
}

// SetStdin is part of tea.ExecCommand; the host has its files already.
func (w *waitExec) SetStdin(io.Reader) {}

// SetStdout is part of tea.ExecCommand.
func (w *waitExec) SetStdout(io.Writer) {}

// SetStderr is part of tea.ExecCommand.
func (w *waitExec) SetStderr(io.Writer) {}

// paneCommand is the command whose result a pane shows.
type paneCommand struct {
	pane paneID
	line string
}

// refreshCmd runs the panes' commands one after the other (never two
// session calls at once) and reports all results together.
func refreshCmd(s Session, gen int, cmds []paneCommand) tea.Cmd {
	return func() tea.Msg {
		m := refreshMsg{gen: gen, results: map[paneID]execResult{}}
		for _, c := range cmds {
			r, err := s.Exec(c.line)
			m.results[c.pane] = execResult{line: c.line, result: r, err: err}
		}
		return m
	}
}

// execCmd runs one command line and reports whether the host is still
// held at the stop afterwards.
func execCmd(s Session, line string) tea.Cmd {
	return func() tea.Msg {
		r, err := s.Exec(line)
		return actionMsg{execResult: execResult{line: line, result: r, err: err}, stopped: s.IsStopped()}
	}
}

// isQuit reports whether err is the quit command's.
func isQuit(err error) bool { return errors.Is(err, debugger.ErrQuit) }

// Interrupter is what a Session may offer ctrl+c while the host runs:
// stop every thread (*debugger.Session.Interrupt); the Wait in progress
// then returns the interrupt's stop. It is called while a Wait runs, from
// another goroutine.
type Interrupter interface {
	Interrupt() error
}

// interrupter returns s's Interrupter, or nil.
func interrupter(s Session) Interrupter {
	if it, ok := s.(Interrupter); ok {
		return it
	}
	return nil
}

// interruptMsg reports an interrupt that failed (err) or was asked for.
type interruptMsg struct{ err error }

// interruptCmd interrupts the running host. Between an action that lets
// the host go and the Wait that runs it, the session answers
// ErrNotRunning: the interrupt is then tried again, a bounded number of
// times, until the Wait runs or a stop is there.
func interruptCmd(s Session, it Interrupter) tea.Cmd {
	return func() tea.Msg {
		const tries = 50
		for i := 0; ; i++ {
			err := it.Interrupt()
			if !errors.Is(err, debugger.ErrNotRunning) || s.IsStopped() || i == tries {
				return interruptMsg{err: err}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Completer is what a Session may offer the prompt's Tab: the lines that
// complete a line (*debugger.Session.Complete).
type Completer interface {
	Complete(line string) []string
}

// completer returns s's completion, or nil.
func completer(s Session) func(string) []string {
	if c, ok := s.(Completer); ok {
		return c.Complete
	}
	return nil
}
