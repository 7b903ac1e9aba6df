package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/internal/outputfile"
)

// hostOutput is where exec's host writes: sgxdbg's own stdout and stderr
// (the default), a file (--host-output), or, with --json, pipes whose
// text becomes {"output":…} lines of the JSON stream, so that stdout
// carries nothing but JSON lines.
type hostOutput struct {
	files   []*os.File       // the host's stdin, stdout, stderr
	file    *outputfile.File // --host-output
	writers []*os.File       // sgxdbg's copies of the pipes' write ends
	pipes   []*outputPipe    // --json without --host-output
}

// newHostOutput sets up the host's files for exec's options; emit
// receives the host's output text with --json.
func newHostOutput(o execOptions, emit func(stream, text string)) (*hostOutput, error) {
	h := &hostOutput{files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	switch {
	case o.hostOut != "":
		f, err := outputfile.Create(o.hostOut, outputfile.Options{Mode: 0o600, Force: o.force})
		if err != nil {
			return nil, fmt.Errorf("--host-output: %w", err)
		}
		h.file = f
		h.files[1], h.files[2] = f.OS(), f.OS()
	case o.json:
		for i, stream := range []string{"stdout", "stderr"} {
			r, w, err := os.Pipe()
			if err != nil {
				h.abort()
				return nil, fmt.Errorf("host %s pipe: %w", stream, err)
			}
			p, err := newOutputPipe(r, stream, emit)
			if err != nil {
				r.Close()
				w.Close()
				h.abort()
				return nil, err
			}
			h.files[1+i] = w
			h.writers = append(h.writers, w)
			h.pipes = append(h.pipes, p)
		}
	}
	return h, nil
}

// started closes sgxdbg's copies of the pipes' write ends once the host
// holds its own, so that the host's end is the pipes' end.
func (h *hostOutput) started() {
	for _, w := range h.writers {
		w.Close()
	}
	h.writers = nil
}

// drain emits what the host has written so far (at a stop: everything it
// wrote before stopping). With ended, it first waits for the host's end
// of the pipes (at most a second: a child of the host may hold them).
func (h *hostOutput) drain(ended bool) {
	if ended {
		deadline := time.After(time.Second)
		for _, p := range h.pipes {
			select {
			case <-p.done:
			case <-deadline:
			}
		}
	}
	for _, p := range h.pipes {
		p.drain()
	}
}

// close completes the --host-output file.
func (h *hostOutput) close() error {
	if h.file == nil {
		return nil
	}
	if err := h.file.Close(); err != nil {
		return fmt.Errorf("--host-output: %w", err)
	}
	return nil
}

// abort closes everything after a failed start.
func (h *hostOutput) abort() {
	h.started()
	if h.file != nil {
		h.file.Abort()
	}
}

// outputPipe reads one of the host's output pipes. The read end is
// non-blocking and read only under mu, by the reader goroutine when poll
// says there is data and by drain, so a drain sees everything written
// before it and emits it in order.
type outputPipe struct {
	r       *os.File
	fd      int
	stream  string
	emit    func(stream, text string)
	mu      sync.Mutex
	partial []byte // a line without its newline yet
	eof     bool
	done    chan struct{}
}

// maxOutputLine is the longest text one output line carries; longer
// lines are split.
const maxOutputLine = 64 << 10

func newOutputPipe(r *os.File, stream string, emit func(stream, text string)) (*outputPipe, error) {
	fd := int(r.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("host %s pipe: %w", stream, err)
	}
	p := &outputPipe{r: r, fd: fd, stream: stream, emit: emit, done: make(chan struct{})}
	go p.run()
	return p, nil
}

func (p *outputPipe) run() {
	defer close(p.done)
	fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			break
		}
		p.mu.Lock()
		p.read()
		eof := p.eof
		p.mu.Unlock()
		if eof {
			break
		}
	}
	p.drain()
	p.r.Close()
}

// read takes what the pipe holds and emits its complete lines. Under mu.
func (p *outputPipe) read() {
	var buf [32 << 10]byte
	for !p.eof {
		n, err := unix.Read(p.fd, buf[:])
		switch {
		case n > 0:
			p.lines(buf[:n])
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return
		default: // 0 bytes: the end; or an error
			p.eof = true
		}
	}
}

func (p *outputPipe) lines(b []byte) {
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if i == len(b) {
			p.partial = append(p.partial, b...)
			if len(p.partial) >= maxOutputLine {
				p.emit(p.stream, string(p.partial))
				p.partial = p.partial[:0]
			}
			return
		}
		line := append(p.partial, b[:i+1]...)
		p.emit(p.stream, string(line))
		p.partial = p.partial[:0]
		b = b[i+1:]
	}
}

// drain reads what is left and emits a pending partial line.
func (p *outputPipe) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.eof {
		p.read()
	}
	if len(p.partial) > 0 {
		p.emit(p.stream, string(p.partial))
		p.partial = p.partial[:0]
	}
}

// execPrinter is exec's printer: on stdout, or on the -o file. The
// returned function completes the file (and reports a failure to stderr).
func execPrinter(cmd *cobra.Command, o execOptions) (*printer, func(), error) {
	if o.output == "" {
		if o.force && o.hostOut == "" {
			return nil, nil, errors.New("exec: --force needs -o FILE or --host-output FILE")
		}
		return &printer{w: cmd.OutOrStdout(), json: o.json}, func() {}, nil
	}
	f, err := outputfile.Create(o.output, outputfile.Options{Mode: 0o600, Force: o.force})
	if err != nil {
		return nil, nil, fmt.Errorf("exec: -o: %w", err)
	}
	return &printer{w: f, json: o.json}, func() {
		if err := f.Close(); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "sgxdbg: exec: -o: %v\n", err)
		}
	}, nil
}
