package tui

import (
	"errors"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// interruptSession counts interrupts; its Wait is never called here.
type interruptSession struct {
	n   int
	err error
}

func (s *interruptSession) Wait() (debugger.Stopped, error)      { select {} }
func (s *interruptSession) Exec(string) (debugger.Result, error) { return nil, errors.New("no") }
func (s *interruptSession) IsStopped() bool                      { return false }
func (s *interruptSession) Interrupt() error                     { s.n++; return s.err }

// isQuitCmd reports whether cmd quits the program.
func isQuitCmd(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

// ctrl+c while the host runs interrupts it (once: again leaves); at a
// stop it leaves at once, as before; a failed interrupt says why.
func TestCtrlCInterrupts(t *testing.T) {
	s := &interruptSession{}
	m := New(Config{Session: s})
	if m.state != stateRunning {
		t.Fatalf("state %v", m.state)
	}
	_, cmd := m.Update(keyMsg("ctrl+c"))
	if cmd == nil {
		t.Fatal("ctrl+c while running: no command")
	}
	msg := cmd()
	if _, ok := msg.(interruptMsg); !ok || s.n != 1 {
		t.Fatalf("ctrl+c while running: %#v, %d interrupts", msg, s.n)
	}
	m.Update(msg)
	if m.quit || m.message != "interrupting the host… (ctrl+c again quits, killing it)" {
		t.Errorf("after the interrupt: quit %v, message %q", m.quit, m.message)
	}
	if _, cmd = m.Update(keyMsg("ctrl+c")); !isQuitCmd(cmd) || !m.quit {
		t.Errorf("a second ctrl+c does not leave")
	}

	// A stop ends the interrupt: ctrl+c at a stop leaves at once.
	m = New(Config{Session: s})
	m.state = stateStopped
	if _, cmd = m.Update(keyMsg("ctrl+c")); !isQuitCmd(cmd) || s.n != 1 {
		t.Errorf("ctrl+c at a stop: quit %v, %d interrupts", isQuitCmd(cmd), s.n)
	}

	// The backend cannot interrupt: the status line says so, and ctrl+c
	// may be tried again.
	s.err = errors.New("this backend cannot interrupt the host")
	m = New(Config{Session: s})
	_, cmd = m.Update(keyMsg("ctrl+c"))
	m.Update(cmd())
	if !m.isError || m.message != "interrupt: this backend cannot interrupt the host" || m.interrupting {
		t.Errorf("failed interrupt: %q (error %v, interrupting %v)", m.message, m.isError, m.interrupting)
	}
}
