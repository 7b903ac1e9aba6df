package dap_test

// A DAP client for the tests: it runs `sgxdbg dap` (the real binary) and
// talks to it over its stdin and stdout with go-dap's messages.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// hangLimit is how long the client waits for a message before it calls
// the adapter hung (a deadlock detector, not a timing assertion).
const hangLimit = 2 * time.Minute

type client struct {
	t      *testing.T
	w      io.Writer
	seq    int
	msgs   chan godap.Message
	errs   chan error
	held   []godap.Message // read, not yet taken
	mu     sync.Mutex
	output strings.Builder // the output events' text
	byCat  map[string]*strings.Builder
	stderr strings.Builder
}

// startDAP runs `sgxdbg dap` and returns a client speaking to it.
func startDAP(t *testing.T) *client {
	t.Helper()
	cmd := exec.Command(fixtures.Binary(t), "dap")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, w: in, msgs: make(chan godap.Message, 64), errs: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{mu: &c.mu, b: &c.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go c.read(bufio.NewReader(out))
	t.Cleanup(func() {
		in.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			// A -race build of sgxdbg (SGXDBG=…) reports races on stderr.
			if e := c.stderrText(); strings.Contains(e, "DATA RACE") {
				t.Errorf("sgxdbg dap: %s", e)
			}
		case <-time.After(hangLimit):
			_ = cmd.Process.Kill()
			t.Errorf("sgxdbg dap did not end after its stdin closed")
		}
	})
	return c
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (c *client) read(r *bufio.Reader) {
	for {
		m, err := godap.ReadProtocolMessage(r)
		if err != nil {
			c.errs <- err
			close(c.msgs)
			return
		}
		if o, ok := m.(*godap.OutputEvent); ok {
			c.mu.Lock()
			c.output.WriteString(o.Body.Output)
			if c.byCat == nil {
				c.byCat = map[string]*strings.Builder{}
			}
			if c.byCat[o.Body.Category] == nil {
				c.byCat[o.Body.Category] = &strings.Builder{}
			}
			c.byCat[o.Body.Category].WriteString(o.Body.Output)
			c.mu.Unlock()
		}
		c.msgs <- m
	}
}

// Output returns the output events' text so far.
func (c *client) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.output.String()
}

// send sends a request (its seq and command set here) and returns its seq.
func (c *client) send(command string, req godap.RequestMessage) int {
	c.t.Helper()
	c.seq++
	r := req.GetRequest()
	r.Seq, r.Type, r.Command = c.seq, "request", command
	if err := godap.WriteProtocolMessage(c.w, req); err != nil {
		c.t.Fatalf("send %s: %v", command, err)
	}
	return c.seq
}

// await returns the first message (held or new) that ok accepts; the
// others are held for later.
func (c *client) await(what string, ok func(godap.Message) bool) godap.Message {
	c.t.Helper()
	for i, m := range c.held {
		if ok(m) {
			c.held = append(c.held[:i:i], c.held[i+1:]...)
			return m
		}
	}
	deadline := time.After(hangLimit)
	for {
		select {
		case m, open := <-c.msgs:
			if !open {
				c.t.Fatalf("waiting for %s: the adapter closed its output (%v); stderr %q", what, <-c.errs, c.stderrText())
			}
			if ok(m) {
				return m
			}
			c.held = append(c.held, m)
		case <-deadline:
			c.t.Fatalf("waiting for %s: nothing came (held %s)", what, c.heldText())
		}
	}
}

// OutputOf returns the text of the output events of one category.
func (c *client) OutputOf(category string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.byCat[category]; b != nil {
		return b.String()
	}
	return ""
}

func (c *client) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

func (c *client) heldText() string {
	var parts []string
	for _, m := range c.held {
		b, _ := json.Marshal(m)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

// response awaits the response to request seq; an error response fails
// the test.
func (c *client) response(seq int) godap.ResponseMessage {
	c.t.Helper()
	m := c.await(fmt.Sprintf("the response to request %d", seq), func(m godap.Message) bool {
		r, ok := m.(godap.ResponseMessage)
		return ok && r.GetResponse().RequestSeq == seq
	})
	r := m.(godap.ResponseMessage)
	if !r.GetResponse().Success {
		b, _ := json.Marshal(m)
		c.t.Fatalf("request %d (%s) failed: %s", seq, r.GetResponse().Command, b)
	}
	return r
}

// failure awaits the response to request seq, which must be an error,
// and returns its message.
func (c *client) failure(seq int) string {
	c.t.Helper()
	m := c.await(fmt.Sprintf("the response to request %d", seq), func(m godap.Message) bool {
		r, ok := m.(godap.ResponseMessage)
		return ok && r.GetResponse().RequestSeq == seq
	})
	r := m.(godap.ResponseMessage).GetResponse()
	if r.Success {
		c.t.Fatalf("request %d (%s) succeeded, want an error", seq, r.Command)
	}
	return r.Message
}

// event awaits the next event named name.
func (c *client) event(name string) godap.EventMessage {
	c.t.Helper()
	return c.await("a "+name+" event", func(m godap.Message) bool {
		e, ok := m.(godap.EventMessage)
		return ok && e.GetEvent().Event == name
	}).(godap.EventMessage)
}

// call sends a request and returns its (successful) response as T.
func call[T godap.ResponseMessage](c *client, command string, req godap.RequestMessage) T {
	c.t.Helper()
	r := c.response(c.send(command, req))
	t, ok := r.(T)
	if !ok {
		c.t.Fatalf("%s: response %T", command, r)
	}
	return t
}

// launchArgs marshals the launch request's arguments.
func launchArgs(t *testing.T, v map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// begin runs initialize and launch, and awaits initialized.
func (c *client) begin(launch map[string]any) *godap.InitializeResponse {
	c.t.Helper()
	init := call[*godap.InitializeResponse](c, "initialize", &godap.InitializeRequest{Arguments: godap.InitializeRequestArguments{
		AdapterID: "sgxdbg", LinesStartAt1: true, ColumnsStartAt1: true, PathFormat: "path"}})
	call[*godap.LaunchResponse](c, "launch", &godap.LaunchRequest{Arguments: launchArgs(c.t, launch)})
	c.event("initialized")
	return init
}

// stopped awaits the next stopped event.
func (c *client) stopped() *godap.StoppedEvent {
	c.t.Helper()
	return c.event("stopped").(*godap.StoppedEvent)
}

// variables returns a reference's variables by name.
func (c *client) variables(ref int) map[string]godap.Variable {
	c.t.Helper()
	r := call[*godap.VariablesResponse](c, "variables", &godap.VariablesRequest{Arguments: godap.VariablesArguments{VariablesReference: ref}})
	out := map[string]godap.Variable{}
	for _, v := range r.Body.Variables {
		out[v.Name] = v
	}
	return out
}

// scopes returns a frame's scopes by name, and their names in order.
func (c *client) scopes(frame int) (map[string]godap.Scope, []string) {
	c.t.Helper()
	r := call[*godap.ScopesResponse](c, "scopes", &godap.ScopesRequest{Arguments: godap.ScopesArguments{FrameId: frame}})
	out := map[string]godap.Scope{}
	var names []string
	for _, s := range r.Body.Scopes {
		out[s.Name] = s
		names = append(names, s.Name)
	}
	return out, names
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
