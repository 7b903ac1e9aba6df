package ptrace

import (
	"errors"
	"runtime"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("ptrace: tracer closed")

// Tracer runs functions on one goroutine locked to its OS thread, the only
// thread from which ptrace requests reach the tracees it starts.
type Tracer struct {
	work chan func()
	quit chan struct{}
}

// NewTracer starts the tracer goroutine.
func NewTracer() *Tracer {
	t := &Tracer{work: make(chan func()), quit: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		// The thread stays locked until the goroutine exits, and then the
		// runtime discards it: no other goroutine ever runs on a thread
		// that still has tracees.
		runtime.LockOSThread()
		close(started)
		for {
			select {
			case f := <-t.work:
				f()
			case <-t.quit:
				return
			}
		}
	}()
	<-started
	return t
}

// Do runs f on the tracer thread and returns its error. Calls from inside
// f (already on the tracer thread) must call f's body directly instead.
func (t *Tracer) Do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case t.work <- func() { errc <- f() }:
	case <-t.quit:
		return ErrClosed
	}
	return <-errc
}

// Close stops the tracer goroutine once the current work returns. Tracees
// launched with PTRACE_O_EXITKILL are killed when the thread goes away.
func (t *Tracer) Close() {
	select {
	case <-t.quit:
	default:
		close(t.quit)
	}
}
