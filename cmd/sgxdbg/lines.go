package main

import (
	"fmt"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// deathPoll is how often the line prompt, waiting for input at a stop,
// asks whether the host died there.
const deathPoll = 100 * time.Millisecond

// lineResult is one read of the line editor.
type lineResult struct {
	line string
	err  error
}

// next reads a line with the editor on a goroutine, so that the prompt
// notices the host's death at the stop and the end of the session (done)
// while it waits: ended reports either; ok is false at the end of input.
// A read the prompt stopped waiting for is dropped with the session.
func (e *lineEditor) next(s *debugger.Session, prompt string, done <-chan struct{}) (line string, ok, ended bool) {
	if e.pending == nil {
		if e.ln == nil {
			// Printed here, not by the reading goroutine: nothing comes
			// after the last words of a session that a signal ends.
			fmt.Fprint(e.w, prompt)
		}
		ch := make(chan lineResult, 1)
		go func() {
			l, err := e.read(prompt)
			ch <- lineResult{l, err}
		}()
		e.pending = ch
	}
	tick := time.NewTicker(deathPoll)
	defer tick.Stop()
	for {
		select {
		case r := <-e.pending:
			e.pending = nil
			return r.line, r.err == nil, false
		case <-done:
			return "", false, true
		case <-tick.C:
			if s.HostDead() {
				return "", false, true
			}
		}
	}
}
