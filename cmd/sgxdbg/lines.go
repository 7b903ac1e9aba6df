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
