package main

import (
	"bufio"
	"io"
	"time"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// deathPoll is how often the line prompt, waiting for input at a stop,
// asks whether the host died there.
const deathPoll = 100 * time.Millisecond

// lineReader reads the prompt's input on a goroutine of its own, so that
// the prompt can notice the host's death and signals while it waits.
type lineReader struct {
	lines chan string // closed at the end of input
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string)}
	go func() {
		defer close(lr.lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
	}()
	return lr
}

// next waits for a line (ok false at the end of input), for the host's
// death at the stop, or for done (a signal ended the session): ended
// reports either of the last two.
func (lr *lineReader) next(s *debugger.Session, done <-chan struct{}) (line string, ok, ended bool) {
	tick := time.NewTicker(deathPoll)
	defer tick.Stop()
	for {
		select {
		case line, ok := <-lr.lines:
			return line, ok, false
		case <-done:
			return "", false, true
		case <-tick.C:
			if s.HostDead() {
				return "", false, true
			}
		}
	}
}

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
