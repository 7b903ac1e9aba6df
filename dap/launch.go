package dap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/hostpipe"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// LaunchArgs are the launch request's arguments.
type LaunchArgs struct {
	// Program is the host program; Args its arguments (enclave images
	// among them are used for symbols).
	Program string   `json:"program"`
	Args    []string `json:"args"`
	// Cwd is the host's working directory (default: the adapter's).
	Cwd string `json:"cwd"`
	// Env is added to the adapter's environment for the host.
	Env map[string]string `json:"env"`
	// StopOn are the stop policy's words (exec --stop-on): "aex [VECTORS]",
	// "eenter", "eexit", "eresume", "enclu-fault", "all", "none"; a string
	// or a list. The exception filters replace its AEX part once the
	// client sends them.
	StopOn stringList `json:"stopOn"`
	// CPU is the emulated processor (sgx1, sgx2).
	CPU string `json:"cpu"`
	// Enclaves are more enclave images for symbols; SourceDirs are
	// searched for sources after each unit's compilation directory.
	Enclaves   []string `json:"enclaves"`
	SourceDirs []string `json:"sourceDirs"`
}

// stringList takes a JSON string (split into words) or a list of strings.
type stringList []string

// UnmarshalJSON reads "aex #PF eenter" or ["aex", "#PF", "eenter"].
func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("stopOn: want a string or a list of strings: %w", err)
	}
	*l = nil
	for _, w := range list {
		*l = append(*l, strings.Fields(w)...)
	}
	return nil
}

// policyState is the stop policy: launch's stopOn, with its AEX part
// replaced by the exception filters once they came.
type policyState struct {
	base debugger.Policy
}

func (sv *Server) launch(r *godap.LaunchRequest) error {
	if sv.launched {
		return errors.New("launch: a host was already launched on this connection")
	}
	var a LaunchArgs
	if err := args(r.Arguments, &a); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	if a.Program == "" {
		return errors.New(`launch: "program" is required (the host program)`)
	}
	if sv.cfg.Backend == nil {
		return errors.New("launch: this adapter has no backend")
	}
	policy := debugger.Policy{}
	if len(a.StopOn) > 0 {
		p, err := debugger.ParsePolicy(a.StopOn)
		if err != nil {
			return fmt.Errorf("launch: stopOn: %w", err)
		}
		policy = p
	}
	prog := a.Program
	if a.Cwd != "" && !filepath.IsAbs(prog) && strings.Contains(prog, "/") {
		prog = filepath.Join(a.Cwd, prog)
	}
	// Launch tries the host's arguments as enclave images relative to
	// sgxdbg's directory; relative to cwd they are added here.
	enclaves := append([]string(nil), a.Enclaves...)
	images := append([]string(nil), a.Enclaves...)
	for _, x := range a.Args {
		if a.Cwd != "" && !filepath.IsAbs(x) {
			x = filepath.Join(a.Cwd, x)
			enclaves = append(enclaves, x)
		}
		images = append(images, x)
	}
	b, err := sv.cfg.Backend(a.CPU, images)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	files, writers, err := sv.hostFiles()
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	var env []string
	if len(a.Env) > 0 {
		env = os.Environ()
		keys := make([]string, 0, len(a.Env))
		for k := range a.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env = append(env, k+"="+a.Env[k])
		}
	}
	lo := target.LaunchOptions{Path: prog, Args: append([]string{prog}, a.Args...), Env: env, Dir: a.Cwd, Files: files}
	s, err := debugger.Launch(b, lo, debugger.Options{Policy: policy, Enclaves: enclaves, SourceDirs: a.SourceDirs})
	files[0].Close()
	for _, w := range writers {
		w.Close()
	}
	if err != nil {
		return fmt.Errorf("launch %s: %w", prog, err)
	}
	sv.s, sv.launched, sv.policy.base = s, true, policy
	sv.send(&godap.LaunchResponse{Response: response(&r.Request)})
	sv.send(&godap.InitializedEvent{Event: event("initialized")})
	return nil
}

// hostFiles makes the host's stdin (/dev/null) and pipes for its stdout
// and stderr, whose text becomes output events; it returns the write ends
// to close once the host holds them.
func (sv *Server) hostFiles() ([]*os.File, []*os.File, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, err
	}
	files := []*os.File{null}
	var writers []*os.File
	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			null.Close()
			for _, w := range writers {
				w.Close()
			}
			return nil, nil, fmt.Errorf("host %s pipe: %w", stream, err)
		}
		p, err := hostpipe.New(r, stream, sv.output)
		if err != nil {
			r.Close()
			w.Close()
			null.Close()
			return nil, nil, err
		}
		sv.pipes = append(sv.pipes, p)
		files = append(files, w)
		writers = append(writers, w)
	}
	return files, writers, nil
}

// drain sends what the host wrote so far; at its end it first waits (at
// most a second: a child of the host may hold the pipes) for the pipes'
// end.
func (sv *Server) drain(ended bool) {
	if ended {
		deadline := time.After(time.Second)
		for _, p := range sv.pipes {
			select {
			case <-p.Done():
			case <-deadline:
			}
		}
	}
	for _, p := range sv.pipes {
		p.Drain()
	}
}

func (sv *Server) configurationDone(r *godap.ConfigurationDoneRequest) error {
	if sv.s == nil {
		return errNoSession
	}
	if sv.configured {
		return errors.New("configurationDone: already done")
	}
	sv.configured = true
	sv.send(&godap.ConfigurationDoneResponse{Response: response(&r.Request)})
	sv.wait()
	return nil
}

// wait lets the host run until its next stop, which the request loop
// receives from sv.stops.
func (sv *Server) wait() {
	sv.running, sv.stop, sv.selFrame = true, nil, -1
	sv.handles.reset()
	s := sv.s
	go func() {
		st, err := s.Wait()
		sv.stops <- waitResult{st, err}
	}()
}

// stopped reports a stop (or the host's end) to the client.
func (sv *Server) stopped(wr waitResult) {
	sv.running = false
	if wr.err != nil {
		sv.output("console", fmt.Sprintf("sgxdbg: %v\n", wr.err))
		sv.end(-1)
		return
	}
	st := wr.st
	if st.Exited {
		sv.end(st.Status)
		return
	}
	sv.drain(false)
	sv.stop, sv.stopTid, sv.selTid = &st, st.Event.Tid, st.Event.Tid
	sv.refreshBreakpoints()
	// Only the thread at the stop is held, except at an interrupt (pause),
	// which stops every thread.
	body := godap.StoppedEventBody{ThreadId: st.Event.Tid}
	body.Reason, body.Description, body.HitBreakpointIds = stopReason(st)
	body.AllThreadsStopped = body.Reason == "pause"
	sv.output("console", "stopped: "+st.Event.String()+"\n")
	if st.Reason != nil && st.Reason.Message != "" {
		body.Text = st.Reason.Message
		sv.output("console", st.Reason.Message+"\n")
	}
	if st.Displays != nil {
		sv.output("console", st.Displays.Text()+"\n")
	}
	sv.send(&godap.StoppedEvent{Event: event("stopped"), Body: body})
}

// stopReason names a stop in DAP's words: an AEX is an exception (a
// breakpoint's or a step's AEX is the breakpoint or the step); a pause's
// interrupt is a pause.
func stopReason(st debugger.Stopped) (reason, desc string, hits []int) {
	if st.Reason != nil {
		switch st.Reason.Kind {
		case "breakpoint", "watchpoint":
			if st.Reason.Breakpoint != 0 {
				hits = []int{st.Reason.Breakpoint}
			}
			return map[string]string{"breakpoint": "breakpoint", "watchpoint": "data breakpoint"}[st.Reason.Kind], firstLine(st.Reason.Message), hits
		case "step", "finish":
			return "step", firstLine(st.Reason.Message), nil
		case "interrupt":
			return "pause", "paused", nil
		}
	}
	ev := st.Event
	switch ev.Kind {
	case target.EvAEX:
		if !ev.Valid {
			return "exception", "AEX: interrupt (EXITINFO not valid)", nil
		}
		return "exception", aexWords(ev), nil
	case target.EvENCLUFault:
		return "exception", fmt.Sprintf("%s faulted: %s", ev.Leaf, ev.Reason), nil
	}
	return "entry", ev.String(), nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// aexWords describes a valid AEX: "#PF reading 0x10000: page not present".
func aexWords(ev target.Event) string {
	switch ev.Vector {
	case sgx.VectorPF:
		return pfWords(ev.MAddr, ev.ErrCd)
	case sgx.VectorGP:
		return fmt.Sprintf("#GP general protection, error code %#x, at %#x", ev.ErrCd, ev.RIP)
	}
	return fmt.Sprintf("%s (%s) at %#x", ev.VectorName(), ev.ExitTypeName(), ev.RIP)
}

// end reports the host's end: exited with its status, then terminated.
func (sv *Server) end(status int) {
	if sv.ended {
		return
	}
	sv.ended = true
	sv.drain(true)
	if status >= 0 {
		sv.send(&godap.ExitedEvent{Event: event("exited"), Body: godap.ExitedEventBody{ExitCode: status}})
	}
	sv.send(&godap.TerminatedEvent{Event: event("terminated")})
}
