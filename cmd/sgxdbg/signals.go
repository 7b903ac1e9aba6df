package main

// Signals: SIGINT, SIGTERM and SIGHUP end an exec session the normal way
// — the launched host is killed and reaped, temporary core files are
// removed, the terminal is restored — and sgxdbg exits with 128 + the
// signal's number. A terminal that closes under the TUI ends it the same
// way, as SIGHUP.

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// sessionSignals are the signals that end a session.
var sessionSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// interrupts catches sessionSignals for one session and ends it at the
// first one.
type interrupts struct {
	ch          chan os.Signal
	interactive bool // a line prompt or the TUI reads commands

	mu   sync.Mutex
	sig  syscall.Signal // the first signal caught, or 0
	s    *debugger.Session
	done chan struct{} // closed at the first signal (the TUI's Config.Quit)
}

// catchSignals starts catching sessionSignals. Call stop when the session
// is over.
func catchSignals(interactive bool) *interrupts {
	in := &interrupts{ch: make(chan os.Signal, 1), interactive: interactive, done: make(chan struct{})}
	signal.Notify(in.ch, sessionSignals...)
	go func() {
		for sig := range in.ch {
			in.onSignal(sig.(syscall.Signal))
		}
	}()
	return in
}

// stop stops catching the signals.
func (in *interrupts) stop() {
	signal.Stop(in.ch)
	close(in.ch)
}

// watch makes the session's host the one a signal kills.
func (in *interrupts) watch(s *debugger.Session) {
	in.mu.Lock()
	in.s = s
	killed := in.sig != 0
	in.mu.Unlock()
	if killed {
		s.Abort()
	}
}

// onSignal decides what a signal does. SIGINT where a person types
// commands (line prompt, TUI) goes through interruptInteractive; every
// other signal ends the session.
func (in *interrupts) onSignal(sig syscall.Signal) {
	if sig == syscall.SIGINT && in.interactive {
		in.interruptInteractive(sig)
		return
	}
	in.endSession(sig)
}

// interruptInteractive is what SIGINT does where a person types commands:
// while the host runs, it interrupts it (every thread stops; the prompt
// comes back at that stop), as gdb's Ctrl-C does. At a stop — where a
// terminal's Ctrl-C is a key of the line editor or the TUI, so the signal
// came from elsewhere (kill, a pipe's writer) — it ends the session like
// SIGTERM.
func (in *interrupts) interruptInteractive(sig syscall.Signal) {
	in.mu.Lock()
	s := in.s
	in.mu.Unlock()
	if s != nil && s.Interrupt() == nil {
		fmt.Fprintln(os.Stderr, "sgxdbg: interrupting the host")
		return
	}
	in.endSession(sig)
}

// endSession records sig, kills the host and ends the TUI (done): the session's
// loop then finds the host's end, cleans up and returns signalExit.
func (in *interrupts) endSession(sig syscall.Signal) {
	in.mu.Lock()
	if in.sig != 0 {
		in.mu.Unlock()
		return
	}
	in.sig = sig
	s := in.s
	close(in.done)
	in.mu.Unlock()
	if s != nil {
		s.Abort()
	}
}

// caught returns the signal that ended the session, or 0.
func (in *interrupts) caught() syscall.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}

// signalExit reports on w that sig ended the session and returns sgxdbg's
// status: 128 + the signal's number.
func signalExit(w io.Writer, sig syscall.Signal) exitCode {
	fmt.Fprintf(w, "sgxdbg: %s: the session ended, the host was killed\n", unix.SignalName(sig))
	return exitCode(128 + int(sig))
}
