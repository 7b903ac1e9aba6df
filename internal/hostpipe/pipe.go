// Package hostpipe reads a debugged host's output pipe and hands its text
// on line by line, so that a stop or the host's end can first emit
// everything the host wrote before it (exec --json's output lines, the DAP
// adapter's output events).
package hostpipe

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Pipe reads one of the host's output pipes. The read end is non-blocking
// and read only under mu, by the reader goroutine when poll says there is
// data and by Drain, so a Drain sees everything written before it and
// emits it in order.
type Pipe struct {
	r       *os.File
	fd      int
	stream  string
	emit    func(stream, text string)
	mu      sync.Mutex
	partial []byte // a line without its newline yet
	eof     bool
	done    chan struct{}
}

// MaxLine is the longest text one emit carries; longer lines are split.
const MaxLine = 64 << 10

// New starts reading r (the read end of the pipe named stream, "stdout" or
// "stderr"); emit receives each line, newline included, from the reader
// goroutine or from Drain's caller. The Pipe closes r at its end.
func New(r *os.File, stream string, emit func(stream, text string)) (*Pipe, error) {
	fd := int(r.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("host %s pipe: %w", stream, err)
	}
	p := &Pipe{r: r, fd: fd, stream: stream, emit: emit, done: make(chan struct{})}
	go p.run()
	return p, nil
}

// Done is closed when every writer has closed the pipe and its text was
// emitted.
func (p *Pipe) Done() <-chan struct{} { return p.done }

func (p *Pipe) run() {
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
	p.Drain()
	p.r.Close()
}

// read takes what the pipe holds and emits its complete lines. Under mu.
func (p *Pipe) read() {
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

func (p *Pipe) lines(b []byte) {
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if i == len(b) {
			p.partial = append(p.partial, b...)
			if len(p.partial) >= MaxLine {
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

// Drain reads what is left and emits a pending partial line.
func (p *Pipe) Drain() {
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
