package tui

import (
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

func TestFeedBatches(t *testing.T) {
	f := NewFeed[int]()
	f.Push(1)
	f.Push(2)
	b := f.take()
	if b.first != 0 || len(b.items) != 2 || b.items[0] != 1 || b.items[1] != 2 || b.closed {
		t.Fatalf("first batch %+v, want items 1 2 from index 0", b)
	}
	f.Push(3)
	f.Close()
	if b := f.take(); b.first != 2 || len(b.items) != 1 || b.items[0] != 3 || b.closed {
		t.Fatalf("second batch %+v, want item 3 from index 2, not yet closed", b)
	}
	if b := f.take(); !b.closed || len(b.items) != 0 {
		t.Fatalf("third batch %+v, want the end", b)
	}
}

// A listener blocked in take wakes up for a push from another goroutine.
func TestFeedWakes(t *testing.T) {
	f := NewFeed[string]()
	got := make(chan batch[string])
	go func() { got <- f.take() }()
	f.Push("x")
	if b := <-got; len(b.items) != 1 || b.items[0] != "x" {
		t.Fatalf("batch %+v", b)
	}
}

// Events that arrive through the feed after the stop's timeline was read
// are not added twice.
func TestEventsMsgDedup(t *testing.T) {
	m := New(Config{})
	m.timeline, m.evTotal = make([]target.Event, 3), 3
	m.Update(eventsMsg{first: 2, items: make([]target.Event, 3)})
	if len(m.timeline) != 5 {
		t.Fatalf("timeline has %d events, want 5 (3, then the 2 new of 2..4)", len(m.timeline))
	}
	if m.evTotal != 5 {
		t.Errorf("%d events counted, want 5", m.evTotal)
	}
}

// The model's timeline stays bounded in a long run: past twice the
// session's limit it keeps the last TimelineHead+TimelineWindow events.
func TestEventsMsgBounded(t *testing.T) {
	m := New(Config{})
	limit := debugger.TimelineHead + debugger.TimelineWindow
	total := 0
	for first := 0; first < 5*limit; first += 1000 {
		total = first + 1000
		items := make([]target.Event, 1000)
		for i := range items {
			items[i].Tid = first + i
		}
		m.Update(eventsMsg{first: first, items: items})
		if len(m.timeline) >= 2*limit {
			t.Fatalf("after %d events the timeline holds %d", first+1000, len(m.timeline))
		}
	}
	if last := m.timeline[len(m.timeline)-1].Tid; last != total-1 {
		t.Errorf("last event %d, want %d", last, total-1)
	}
	if m.evTotal != total {
		t.Errorf("%d events counted", m.evTotal)
	}
}

func TestCleanLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\n", "plain"},
		{"a\tb\r\n", "a    b"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"bell\x07 back\x08space", "bell backspace"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"\x1b]0;title\x07text", "text"},
	} {
		if got := cleanLine(tc.in); got != tc.want {
			t.Errorf("cleanLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzCleanLine: whatever the host writes, the line drawn is valid UTF-8
// without a control character.
func FuzzCleanLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		got := cleanLine(s)
		if !utf8.ValidString(got) {
			t.Fatalf("cleanLine(%q) = %q: not UTF-8", s, got)
		}
		if i := strings.IndexFunc(got, unicode.IsControl); i >= 0 {
			t.Fatalf("cleanLine(%q) = %q: control character at %d", s, got, i)
		}
	})
}

// HostIO collects both streams, in order per stream, and replays them.
func TestHostIO(t *testing.T) {
	h, err := NewHostIO()
	if err != nil {
		t.Fatal(err)
	}
	files := h.Files()
	if len(files) != 3 {
		t.Fatalf("%d files, want stdin, stdout, stderr", len(files))
	}
	if files[0].Name() != os.DevNull {
		t.Errorf("stdin is %s, want %s", files[0].Name(), os.DevNull)
	}
	files[1].WriteString("out 1\nout \x1b[1m2\x1b[0m\n")
	files[2].WriteString("err 1\npartial")
	h.Close(true)
	var out, errb strings.Builder
	h.Replay(&out, &errb)
	if out.String() != "out 1\nout 2\n" || errb.String() != "err 1\npartial\n" {
		t.Errorf("replay: stdout %q stderr %q", out.String(), errb.String())
	}
	var lines []OutputLine
	for b := h.Output.take(); len(b.items) > 0; b = h.Output.take() {
		lines = append(lines, b.items...)
		if len(lines) == 4 {
			break
		}
	}
	n := 0
	for _, l := range lines {
		if l.Stderr {
			n++
		}
	}
	if len(lines) != 4 || n != 2 {
		t.Errorf("feed lines %+v, want 2 of stdout and 2 of stderr", lines)
	}
}
