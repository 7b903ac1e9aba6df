package tui

import (
	"sync"

	tea "charm.land/bubbletea/v2"
)

// Feed is an unbounded queue from a producer that must not block (the
// session's OnEvent, a pipe reader) to the model, which takes everything
// queued so far as one message.
type Feed[T any] struct {
	mu     sync.Mutex
	items  []T
	next   int // index of items[0] among everything ever pushed
	closed bool
	ready  chan struct{} // has a value when items is non-empty or closed
}

// NewFeed returns an empty feed.
func NewFeed[T any]() *Feed[T] {
	return &Feed[T]{ready: make(chan struct{}, 1)}
}

// Push queues v. It never blocks.
func (f *Feed[T]) Push(v T) {
	f.mu.Lock()
	f.items = append(f.items, v)
	f.mu.Unlock()
	f.signal()
}

// Close marks the end of the feed: the model stops listening once it has
// taken what is queued.
func (f *Feed[T]) Close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.signal()
}

func (f *Feed[T]) signal() {
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// batch is what a feed hands the model: the items queued since the last
// batch and the index of the first among all pushed.
type batch[T any] struct {
	first  int
	items  []T
	closed bool
}

// take blocks until items are queued or the feed is closed.
func (f *Feed[T]) take() batch[T] {
	for {
		f.mu.Lock()
		if len(f.items) > 0 || f.closed {
			b := batch[T]{first: f.next, items: f.items, closed: f.closed && len(f.items) == 0}
			f.next += len(f.items)
			f.items = nil
			f.mu.Unlock()
			return b
		}
		f.mu.Unlock()
		<-f.ready
	}
}

// listen returns a command that waits for the feed's next batch and wraps
// it with wrap; the model re-arms it after each batch until the feed ends.
func listen[T any](f *Feed[T], wrap func(batch[T]) tea.Msg) tea.Cmd {
	if f == nil {
		return nil
	}
	return func() tea.Msg { return wrap(f.take()) }
}
