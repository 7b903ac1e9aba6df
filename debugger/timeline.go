package debugger

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// The timeline's memory is bounded whatever the run's length: it keeps the
// first TimelineHead events (the host building its enclaves), the last
// TimelineWindow events, and a count per kind of every event ever
// recorded. The events between the head and the window are dropped and
// counted (TimelineStats.Dropped); nothing is spilled to disk. The
// events command, the TUI's timeline and core files see the head and the
// window.
const (
	TimelineHead   = 512
	TimelineWindow = 4096
)

// TimelineStats describes the whole timeline, kept events or not.
type TimelineStats struct {
	Total   int                      `json:"total"`   // events recorded
	Dropped int                      `json:"dropped"` // events between the head and the window, not kept
	Counts  map[target.EventKind]int `json:"counts"`  // events recorded, by kind
}

// timeline is the session's bounded event store (not safe for concurrent
// use; the session guards it).
type timeline struct {
	head   []target.Event // the first TimelineHead events
	ring   []target.Event // the last events after the head, up to window
	next   int            // where the next event goes in ring, once full
	window int
	total  int
	counts map[target.EventKind]int
}

func newTimeline(window int) *timeline {
	return &timeline{window: window, counts: map[target.EventKind]int{}}
}

// add records events.
func (t *timeline) add(evs []target.Event) {
	for _, ev := range evs {
		t.total++
		t.counts[ev.Kind]++
		switch {
		case len(t.head) < TimelineHead:
			t.head = append(t.head, ev)
		case len(t.ring) < t.window:
			t.ring = append(t.ring, ev)
		default:
			t.ring[t.next] = ev
			t.next = (t.next + 1) % t.window
		}
	}
}

// events returns a copy of the kept events, in order.
func (t *timeline) events() []target.Event {
	out := make([]target.Event, 0, len(t.head)+len(t.ring))
	out = append(out, t.head...)
	out = append(out, t.ring[t.next:]...)
	return append(out, t.ring[:t.next]...)
}

// stats describes the whole timeline.
func (t *timeline) stats() TimelineStats {
	return TimelineStats{Total: t.total, Dropped: t.total - len(t.head) - len(t.ring), Counts: maps.Clone(t.counts)}
}

// kinds returns the kinds counted, sorted.
func (st TimelineStats) kinds() []target.EventKind {
	return slices.Sorted(maps.Keys(st.Counts))
}

// TimelineStats describes the whole timeline, kept events or not.
func (s *Session) TimelineStats() TimelineStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timeline.stats()
}

// EventsResult is the tail of the timeline, with what the session knows
// of the events it did not keep.
type EventsResult struct {
	Events []target.Event `json:"events"`
	// Total counts every event recorded; Counts by kind.
	Total  int                      `json:"total"`
	Counts map[target.EventKind]int `json:"counts"`
	// Dropped events were not kept; they came right before Events[GapAt].
	Dropped int `json:"dropped,omitempty"`
	GapAt   int `json:"gap_at,omitempty"`
}

// Text renders one line per event, a line where dropped events were, and
// the counts when some events are not shown.
func (r *EventsResult) Text() string {
	var b strings.Builder
	for i, e := range r.Events {
		if r.Dropped > 0 && i == r.GapAt {
			fmt.Fprintf(&b, "… %d events not kept (the timeline keeps the first %d and the last %d)\n", r.Dropped, TimelineHead, TimelineWindow)
		}
		b.WriteString(e.String())
		b.WriteString("\n")
	}
	if len(r.Events) < r.Total {
		fmt.Fprintf(&b, "%d events in all:", r.Total)
		for _, k := range (TimelineStats{Counts: r.Counts}).kinds() {
			fmt.Fprintf(&b, " %s %d", k, r.Counts[k])
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// eventsResult is the events command: the last N kept events (all by
// default).
func eventsResult(s *Session, args []string) (Result, error) {
	s.mu.Lock()
	ev, st := s.timeline.events(), s.timeline.stats()
	head := len(s.timeline.head)
	s.mu.Unlock()
	r := &EventsResult{Events: ev, Total: st.Total, Counts: st.Counts, Dropped: st.Dropped, GapAt: head}
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return nil, errorf(ErrUsage, "events: count %q", args[0])
		}
		if n < len(ev) {
			r.Events = ev[len(ev)-n:]
			r.GapAt -= len(ev) - n
		}
	}
	if r.Dropped == 0 || r.GapAt <= 0 {
		r.Dropped, r.GapAt = 0, 0
	}
	return r, nil
}
