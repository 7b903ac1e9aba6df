package debugger

import (
	"strings"
	"testing"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// seqEvents returns n events numbered by Tid from first, AEX and EENTER
// alternating.
func seqEvents(first, n int) []target.Event {
	evs := make([]target.Event, n)
	for i := range evs {
		evs[i] = target.Event{Kind: target.EvAEX, Tid: first + i}
		if (first+i)%2 == 1 {
			evs[i].Kind = target.EvEENTER
		}
	}
	return evs
}

func tids(evs []target.Event) []int {
	out := make([]int, len(evs))
	for i, e := range evs {
		out[i] = e.Tid
	}
	return out
}

// TestTimelineBounded: the head and the window are kept in order, the
// events between them are counted as dropped, and the counts cover all.
func TestTimelineBounded(t *testing.T) {
	tests := []struct {
		name          string
		add           []int // batch sizes
		window        int
		wantFirst     []int // the first kept Tids
		wantLast      int   // the last kept Tid
		wantKept      int
		wantDropped   int
		wantAEX, wEEN int
	}{
		{"short", []int{10}, 8, []int{0, 1, 2}, 9, 10, 0, 5, 5},
		{"head-full", []int{TimelineHead, 3}, 8, []int{0, 1}, TimelineHead + 2, TimelineHead + 3, 0, (TimelineHead + 4) / 2, (TimelineHead + 2) / 2},
		{"wraps", []int{TimelineHead, 5, 20, 1}, 8, []int{0, 1}, TimelineHead + 25, TimelineHead + 8, 18, (TimelineHead + 26) / 2, (TimelineHead + 26) / 2},
		{"long", []int{1_000_000}, 100, []int{0}, 999_999, TimelineHead + 100, 1_000_000 - TimelineHead - 100, 500_000, 500_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTimeline(tt.window)
			n := 0
			for _, b := range tt.add {
				tl.add(seqEvents(n, b))
				n += b
			}
			got := tids(tl.events())
			if len(got) != tt.wantKept {
				t.Fatalf("kept %d events, want %d", len(got), tt.wantKept)
			}
			for i, w := range tt.wantFirst {
				if got[i] != w {
					t.Errorf("event %d is %d, want %d", i, got[i], w)
				}
			}
			if got[len(got)-1] != tt.wantLast {
				t.Errorf("last event %d, want %d", got[len(got)-1], tt.wantLast)
			}
			// In order: the head, then the window without a gap inside it.
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] || i != TimelineHead && got[i] != got[i-1]+1 {
					t.Fatalf("events %d, %d out of order: %v", got[i-1], got[i], got[max(0, i-3):min(len(got), i+3)])
				}
			}
			st := tl.stats()
			if st.Total != n || st.Dropped != tt.wantDropped || st.Counts[target.EvAEX] != tt.wantAEX || st.Counts[target.EvEENTER] != tt.wEEN {
				t.Errorf("stats %+v, want total %d dropped %d aex %d eenter %d", st, n, tt.wantDropped, tt.wantAEX, tt.wEEN)
			}
		})
	}
}

// TestEventsResultGap: the events command marks where events were dropped
// and sums up all of them.
func TestEventsResultGap(t *testing.T) {
	s := &Session{timeline: newTimeline(4)}
	s.timeline.add(seqEvents(0, TimelineHead+10))
	r, err := eventsResult(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	er := r.(*EventsResult)
	if len(er.Events) != TimelineHead+4 || er.Dropped != 6 || er.GapAt != TimelineHead || er.Total != TimelineHead+10 {
		t.Fatalf("events %d, dropped %d at %d, total %d", len(er.Events), er.Dropped, er.GapAt, er.Total)
	}
	lines := strings.Split(er.Text(), "\n")
	if got, want := lines[TimelineHead], "… 6 events not kept (the timeline keeps the first 512 and the last 4096)"; got != want {
		t.Errorf("gap line %q, want %q", got, want)
	}
	if got, want := lines[len(lines)-1], "522 events in all: aex 261 eenter 261"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	r, _ = eventsResult(s, []string{"6"})
	er = r.(*EventsResult)
	if got := tids(er.Events); len(got) != 6 || got[0] != TimelineHead-2 || er.Dropped != 6 || er.GapAt != 2 {
		t.Errorf("events 6: %v, dropped %d at %d", got, er.Dropped, er.GapAt)
	}
	r, _ = eventsResult(s, []string{"3"})
	er = r.(*EventsResult)
	if got := tids(er.Events); len(got) != 3 || got[0] != TimelineHead+7 || er.Dropped != 0 {
		t.Errorf("events 3: %v, dropped %d", got, er.Dropped)
	}
}
