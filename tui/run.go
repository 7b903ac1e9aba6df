package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// ErrTerminalClosed is Run's error when its terminal went away (end of
// input, EIO after a hangup): the UI ended as after SIGHUP.
var ErrTerminalClosed = errors.New("the terminal was closed")

// Run shows the UI on the terminal (in, out) until the user leaves, and
// returns how the session stood then. Bubble Tea restores the terminal on
// every way out: quit, Ctrl-C (a key in raw mode), closing cfg.Quit (a
// signal the caller caught), a closed terminal (ErrTerminalClosed) and a
// panic in the model or in a command, which Run reports as an error.
// Without cfg.Quit, Bubble Tea ends the UI at SIGINT and SIGTERM itself.
func Run(cfg Config, in, out *os.File) (Outcome, error) {
	m := New(cfg)
	opts := []tea.ProgramOption{tea.WithInput(ttyInput{in}), tea.WithOutput(out)}
	if cfg.Quit != nil {
		opts = append(opts, tea.WithoutSignalHandler())
	}
	p := tea.NewProgram(m, opts...)
	finished := make(chan struct{})
	defer close(finished)
	if cfg.Quit != nil {
		go func() {
			select {
			case <-cfg.Quit:
				p.Quit()
			case <-finished:
			}
		}()
	}
	_, err := p.Run()
	if errors.Is(err, tea.ErrInterrupted) {
		err = nil
	}
	if err != nil {
		return m.Outcome(), fmt.Errorf("terminal UI: %w", err)
	}
	return m.Outcome(), nil
}

// ttyInput is the terminal's input with its end made an error: Bubble
// Tea's reader takes the end of input for a quiet stop and would keep a
// UI without input open.
type ttyInput struct{ *os.File }

func (t ttyInput) Read(p []byte) (int, error) {
	n, err := t.File.Read(p)
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) {
		return n, fmt.Errorf("%w: %w", ErrTerminalClosed, err)
	}
	return n, err
}

// HostIO gives a host stdio that does not fight the UI for the terminal:
// stdin is /dev/null, stdout and stderr are pipes whose lines go to the
// Output feed (the console pane) and to a transcript that the caller
// replays once the terminal is its own again.
type HostIO struct {
	// Output receives every line the host writes.
	Output *Feed[OutputLine]

	files   []*os.File // what the host gets: stdin, stdout, stderr
	shared  bool       // files are sgxdbg's own: not closed
	readers sync.WaitGroup
	mu      sync.Mutex
	lines   []OutputLine
}

// TerminalHostIO gives the host sgxdbg's own stdin, stdout and stderr, the
// terminal (exec --tty); nothing is captured.
func TerminalHostIO() *HostIO {
	return &HostIO{Output: nil, files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, shared: true}
}

// NewHostIO opens /dev/null and two pipes and starts reading them.
func NewHostIO() (*HostIO, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("host stdin: %w", err)
	}
	h := &HostIO{Output: NewFeed[OutputLine](), files: []*os.File{null}}
	for _, stderr := range []bool{false, true} {
		r, w, err := os.Pipe()
		if err != nil {
			h.Close(false)
			return nil, fmt.Errorf("host output pipe: %w", err)
		}
		h.files = append(h.files, w)
		h.readers.Add(1)
		go h.read(r, stderr)
	}
	return h, nil
}

// Files are the host's stdin, stdout and stderr.
func (h *HostIO) Files() []*os.File { return h.files }

// read forwards r's lines until the host's end closes the pipe. Escape
// sequences are removed: the host's output must not drive the terminal.
func (h *HostIO) read(r *os.File, stderr bool) {
	defer h.readers.Done()
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			l := OutputLine{Text: cleanLine(s), Stderr: stderr}
			h.mu.Lock()
			h.lines = append(h.lines, l)
			h.mu.Unlock()
			h.Output.Push(l)
		}
		if err != nil {
			return
		}
	}
}

// cleanLine makes a line the host wrote safe to draw: valid UTF-8, tabs
// expanded, escape sequences and every other control character removed.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(strings.TrimRight(s, "\r\n"), "\uFFFD")
	s = strings.ReplaceAll(ansi.Strip(s), "\t", "    ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// Close closes sgxdbg's copies of the host's files. When the host has
// ended, wait says to collect what it wrote before its end (bounded by a
// second, in case a child of the host still holds the pipes).
func (h *HostIO) Close(wait bool) {
	if h.shared {
		return
	}
	for _, f := range h.files {
		f.Close()
	}
	if !wait {
		return
	}
	done := make(chan struct{})
	go func() { h.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// Replay writes the host's output to stdout and stderr, in order.
func (h *HostIO) Replay(stdout, stderr io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.lines {
		w := stdout
		if l.Stderr {
			w = stderr
		}
		fmt.Fprintln(w, l.Text)
	}
}
