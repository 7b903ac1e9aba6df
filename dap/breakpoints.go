package dap

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// setBreakpoints replaces the breakpoints of one source file: each line
// becomes `break FILE:LINE` (the path as the client names it, else its
// base name), verified once it is inserted in a loaded enclave; pending
// ones are verified by a breakpoint event at the first stop after their
// enclave was initialized.
func (sv *Server) setBreakpoints(r *godap.SetBreakpointsRequest) error {
	if sv.s == nil {
		return errNoSession
	}
	if sv.running {
		return sv.whileHeld(func() error { return sv.setBreakpoints(r) })
	}
	src := r.Arguments.Source
	key := src.Path
	if key == "" {
		key = src.Name
	}
	if key == "" {
		return errors.New("setBreakpoints: the source has neither a path nor a name")
	}
	for _, old := range sv.srcBreaks[key] {
		sv.deleteBreak(old.id)
	}
	var states []bpState
	resp := &godap.SetBreakpointsResponse{Response: response(&r.Request)}
	for _, b := range r.Arguments.Breakpoints {
		bv, err := sv.breakAt([]string{fmt.Sprintf("%s:%d", key, b.Line), fmt.Sprintf("%s:%d", filepath.Base(key), b.Line)}, b.Condition)
		st := bpState{line: b.Line}
		out := godap.Breakpoint{Source: &src, Line: b.Line}
		if err != nil {
			out.Message = err.Error()
		} else {
			st.id = bv.ID
			sv.describe(&out, bv)
		}
		states = append(states, st)
		resp.Body.Breakpoints = append(resp.Body.Breakpoints, out)
	}
	sv.srcBreaks[key] = states
	sv.send(resp)
	return nil
}

// setFunctionBreakpoints replaces the function breakpoints (`break
// FUNCTION`).
func (sv *Server) setFunctionBreakpoints(r *godap.SetFunctionBreakpointsRequest) error {
	if sv.s == nil {
		return errNoSession
	}
	if sv.running {
		return sv.whileHeld(func() error { return sv.setFunctionBreakpoints(r) })
	}
	for _, old := range sv.fnBreaks {
		sv.deleteBreak(old.id)
	}
	sv.fnBreaks = nil
	resp := &godap.SetFunctionBreakpointsResponse{Response: response(&r.Request)}
	for _, b := range r.Arguments.Breakpoints {
		var out godap.Breakpoint
		st := bpState{}
		bv, err := sv.breakAt([]string{b.Name}, b.Condition)
		if err != nil {
			out.Message = err.Error()
		} else {
			st.id = bv.ID
			sv.describe(&out, bv)
		}
		sv.fnBreaks = append(sv.fnBreaks, st)
		resp.Body.Breakpoints = append(resp.Body.Breakpoints, out)
	}
	sv.send(resp)
	return nil
}

// breakAt sets a breakpoint at the first spec the debugger resolves, with
// a condition.
func (sv *Server) breakAt(specs []string, cond string) (debugger.BreakView, error) {
	var first error
	for _, spec := range specs {
		if strings.ContainsAny(spec, ";\n") {
			return debugger.BreakView{}, fmt.Errorf("break %q: a location has no ';' or newline", spec)
		}
		res, err := sv.s.Exec("break " + spec)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		br, ok := res.(*debugger.BreakResult)
		if !ok {
			return debugger.BreakView{}, fmt.Errorf("break %s: unexpected result %T", spec, res)
		}
		bv := br.Breakpoint
		if cond = strings.TrimSpace(cond); cond != "" {
			if _, err := sv.s.Exec(fmt.Sprintf("condition %d %s", bv.ID, cond)); err != nil {
				sv.deleteBreak(bv.ID)
				return debugger.BreakView{}, fmt.Errorf("condition %q: %w", cond, err)
			}
		}
		sv.verified[bv.ID] = verified(bv)
		return bv, nil
	}
	return debugger.BreakView{}, first
}

func (sv *Server) deleteBreak(id int) {
	if id == 0 {
		return
	}
	_, _ = sv.s.Exec(fmt.Sprintf("delete %d", id))
	delete(sv.verified, id)
}

// verified: the breakpoint is in a loaded enclave's code.
func verified(bv debugger.BreakView) bool { return !bv.Pending && len(bv.Inserted) > 0 }

// describe fills a DAP breakpoint from the debugger's view.
func (sv *Server) describe(out *godap.Breakpoint, bv debugger.BreakView) {
	out.Id, out.Verified = bv.ID, verified(bv)
	if len(bv.Where) > 0 {
		out.Message = strings.Join(bv.Where, "; ")
		if i := strings.LastIndex(bv.Where[0], ":"); i >= 0 {
			var line int
			if _, err := fmt.Sscanf(bv.Where[0][i+1:], "%d", &line); err == nil && line > 0 {
				out.Line = line
			}
		}
	}
	if bv.Pending {
		out.Message = "pending until an enclave of its image is initialized: " + out.Message
	}
	if len(bv.Inserted) > 0 {
		out.InstructionReference = bv.Inserted[0].String()
	}
}

// refreshBreakpoints sends a breakpoint event for each breakpoint whose
// verification changed (an enclave was loaded or removed).
func (sv *Server) refreshBreakpoints() {
	if len(sv.verified) == 0 {
		return
	}
	res, err := sv.s.Exec("info breakpoints")
	if err != nil {
		return
	}
	bps, ok := res.(*debugger.BreakpointsResult)
	if !ok {
		return
	}
	for _, bv := range bps.Breakpoints {
		was, ours := sv.verified[bv.ID]
		if !ours || was == verified(bv) {
			continue
		}
		sv.verified[bv.ID] = verified(bv)
		var out godap.Breakpoint
		sv.describe(&out, bv)
		if src := sv.sourceOf(bv.ID); src != nil {
			out.Source = src
		}
		sv.send(&godap.BreakpointEvent{Event: event("breakpoint"), Body: godap.BreakpointEventBody{Reason: "changed", Breakpoint: out}})
	}
}

// sourceOf is the source a breakpoint was set in, or nil.
func (sv *Server) sourceOf(id int) *godap.Source {
	for path, states := range sv.srcBreaks {
		for _, st := range states {
			if st.id == id {
				return &godap.Source{Name: filepath.Base(path), Path: path}
			}
		}
	}
	return nil
}

// setExceptionBreakpoints sets the AEX part of the stop policy: "all"
// stops at every AEX, the vector filters at those vectors only, none at
// no AEX; launch's eenter/eexit/eresume/enclu-fault words stay.
func (sv *Server) setExceptionBreakpoints(r *godap.SetExceptionBreakpointsRequest) error {
	if sv.s == nil {
		return errNoSession
	}
	if sv.running {
		return sv.whileHeld(func() error { return sv.setExceptionBreakpoints(r) })
	}
	p := sv.policy.base
	p.NoAEX, p.Vectors = true, nil
	resp := &godap.SetExceptionBreakpointsResponse{Response: response(&r.Request)}
	filters := r.Arguments.Filters
	for _, o := range r.Arguments.FilterOptions {
		filters = append(filters, o.FilterId)
	}
	for _, f := range filters {
		v, err := filterVector(f)
		if err != nil {
			return err
		}
		switch {
		case f == "all":
			p.NoAEX, p.Vectors = false, nil
		case !p.NoAEX && p.Vectors == nil:
			// all already
		default:
			if p.Vectors == nil {
				p.Vectors = map[sgx.Vector]bool{}
			}
			p.NoAEX, p.Vectors[v] = false, true
		}
		resp.Body.Breakpoints = append(resp.Body.Breakpoints, godap.Breakpoint{Verified: true})
	}
	if _, err := sv.s.Exec("stop-on " + p.String()); err != nil {
		return fmt.Errorf("setExceptionBreakpoints: %w", err)
	}
	sv.send(resp)
	return nil
}

// filterVector is the vector of an exception filter ("all" has none).
func filterVector(f string) (sgx.Vector, error) {
	for _, x := range exceptionFilters {
		if x.Filter != f {
			continue
		}
		if f == "all" {
			return 0, nil
		}
		for v := sgx.Vector(0); v < 32; v++ {
			if v.String() == f {
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("setExceptionBreakpoints: unknown filter %q (all, #PF, #GP, #UD, #DE, #BP)", f)
}

// whileHeld serves a request that changes breakpoints while the host runs:
// it interrupts the host, serves the request at the interrupt's stop and
// lets the host go on transparently (continue resumes an interrupt's AEX
// with ERESUME). A stop that came for another reason meanwhile is
// reported as usual after the change; if the host ended, so is its end.
func (sv *Server) whileHeld(serve func() error) error {
	got, err := sv.interrupt()
	if err != nil {
		return err
	}
	var wr waitResult
	if got != nil {
		wr = *got
	} else {
		wr = <-sv.stops
	}
	sv.running = false
	if wr.err != nil || wr.st.Exited {
		sv.stopped(wr)
		return serve() // answers that there is no host to change
	}
	st := wr.st
	sv.stop, sv.stopTid, sv.selTid, sv.selFrame = &st, st.Event.Tid, st.Event.Tid, -1
	err = serve()
	if st.Reason != nil && st.Reason.Kind == "interrupt" {
		if _, cerr := sv.s.Exec("continue"); cerr != nil {
			sv.output("console", fmt.Sprintf("sgxdbg: continue after changing breakpoints: %v\n", cerr))
		}
		sv.wait()
		return err
	}
	sv.stopped(wr)
	return err
}
