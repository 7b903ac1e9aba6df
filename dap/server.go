// Package dap serves a debugging session over the Debug Adapter Protocol
// (github.com/google/go-dap's messages), so that any DAP client (VS Code,
// nvim-dap) debugs SGX enclaves with sgxdbg: breakpoints, stepping,
// variables, and the AEX stops with their SSA frames, the synthetic
// registers and the enclave actions of the command language.
//
// One goroutine reads requests and serves them in order; while the host
// runs, another waits for its next stop and hands it to the first, so
// that the session is only called from the request goroutine (Interrupt
// excepted, which is safe anywhere).
//
// # Security
//
// The adapter trusts its client: a DAP client launches programs. On a
// socket it listens on loopback unless told otherwise (cmd/sgxdbg).
package dap

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/hostpipe"
)

// Config is what the adapter needs from its command.
type Config struct {
	// Backend returns the backend a launch runs the host on: cpu is the
	// launch's "cpu" ("" for the default), images the enclave image
	// candidates (the host's arguments and the launch's "enclaves").
	Backend func(cpu string, images []string) (target.Backend, error)
}

// Server is one client's connection.
type Server struct {
	cfg Config
	r   *bufio.Reader

	wmu sync.Mutex // guards w and seq
	w   io.Writer
	seq int

	// Request goroutine only, below.
	s          *debugger.Session
	pipes      []*hostpipe.Pipe
	running    bool // a Wait runs
	ended      bool // exited and terminated were sent
	configured bool // configurationDone came
	launched   bool
	stopTid    int // the thread of the current stop
	stop       *debugger.Stopped
	policy     policyState
	srcBreaks  map[string][]bpState // source path → its breakpoints, in request order
	fnBreaks   []bpState
	verified   map[int]bool // debugger breakpoint ID → verified as last said
	handles    handles
	selTid     int // the thread the session's views follow now
	selFrame   int // the frame selected by the frame command (-1: unknown)
	stops      chan waitResult
}

// bpState is one DAP breakpoint and the debugger breakpoint behind it.
type bpState struct {
	id   int // the debugger's ID (DAP uses the same), 0 when it failed
	line int // source breakpoints: the requested line
}

type waitResult struct {
	st  debugger.Stopped
	err error
}

// NewServer makes a server reading requests from r and writing to w.
func NewServer(r io.Reader, w io.Writer, cfg Config) *Server {
	return &Server{cfg: cfg, r: bufio.NewReader(r), w: w, srcBreaks: map[string][]bpState{}, verified: map[int]bool{},
		stops: make(chan waitResult, 1), selFrame: -1}
}

// Serve serves requests until the client disconnects or the connection
// ends; the host, if still there, is killed.
func (sv *Server) Serve() error {
	msgs := make(chan godap.Message)
	rerr := make(chan error, 1)
	quit := make(chan struct{}) // Serve returned: the reader stops handing on
	defer close(quit)
	go func() {
		for {
			m, err := godap.ReadProtocolMessage(sv.r)
			if err != nil {
				var fe *godap.DecodeProtocolMessageFieldError
				if errors.As(err, &fe) {
					sv.sendError(fe.Seq, fe.SubType, err)
					continue
				}
				rerr <- err
				close(msgs)
				return
			}
			select {
			case msgs <- m:
			case <-quit:
				return
			}
		}
	}()
	defer sv.shutdown()
	// At a stop, a host killed from outside is noticed without a request
	// (as the prompt and the TUI do): the Wait then reaps it and its end
	// is reported.
	tick := time.NewTicker(deadPoll)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if sv.s != nil && !sv.running && !sv.ended && sv.stop != nil && sv.s.HostDead() {
				sv.wait()
			}
		case m, ok := <-msgs:
			if !ok {
				err := <-rerr
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("dap: read: %w", err)
			}
			if done := sv.dispatch(m); done {
				return nil
			}
		case wr := <-sv.stops:
			sv.stopped(wr)
		}
	}
}

// shutdown kills a host that is still there.
func (sv *Server) shutdown() {
	if sv.s == nil {
		return
	}
	_ = sv.s.Kill()
	if sv.running {
		<-sv.stops
	}
	sv.s.Close()
	sv.s = nil
}

// deadPoll is how often a stopped host is checked for a death from
// outside.
const deadPoll = 250 * time.Millisecond

// send writes one message.
func (sv *Server) send(m godap.Message) {
	sv.wmu.Lock()
	defer sv.wmu.Unlock()
	sv.seq++
	setSeq(m, sv.seq)
	_ = godap.WriteProtocolMessage(sv.w, m)
}

// setSeq stamps a message's sequence number.
func setSeq(m godap.Message, seq int) {
	switch v := m.(type) {
	case godap.ResponseMessage:
		v.GetResponse().Seq = seq
	case godap.EventMessage:
		v.GetEvent().Seq = seq
	}
}

func response(req *godap.Request) godap.Response {
	return godap.Response{ProtocolMessage: godap.ProtocolMessage{Type: "response"}, RequestSeq: req.Seq, Success: true, Command: req.Command}
}

func event(name string) godap.Event {
	return godap.Event{ProtocolMessage: godap.ProtocolMessage{Type: "event"}, Event: name}
}

// sendError answers a request with an error whose text the client shows.
func (sv *Server) sendError(seq int, command string, err error) {
	r := &godap.ErrorResponse{Response: godap.Response{ProtocolMessage: godap.ProtocolMessage{Type: "response"}, RequestSeq: seq, Command: command, Message: err.Error()}}
	r.Body.Error = &godap.ErrorMessage{Id: 1, Format: err.Error(), ShowUser: true}
	if c := debugger.Code(err); c != "" {
		r.Body.Error.Variables = map[string]string{"code": string(c)}
	}
	sv.send(r)
}

// output sends text as an output event of category cat (stdout, stderr,
// console).
func (sv *Server) output(cat, text string) {
	sv.send(&godap.OutputEvent{Event: event("output"), Body: godap.OutputEventBody{Category: cat, Output: text}})
}

// args decodes a request's raw arguments.
func args(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	return nil
}
