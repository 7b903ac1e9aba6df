package dap

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/debugger"
)

// threads lists the host's threads ("info threads"), named with their TCS
// when inside an enclave. While the host runs, the threads seen in the
// timeline so far.
func (sv *Server) threads(r *godap.ThreadsRequest) {
	resp := &godap.ThreadsResponse{Response: response(&r.Request)}
	resp.Body.Threads = []godap.Thread{}
	if sv.s == nil {
		sv.send(resp)
		return
	}
	if !sv.running && sv.stop != nil {
		if res, err := sv.s.Exec("info threads"); err == nil {
			if tr, ok := res.(*debugger.ThreadsResult); ok {
				for _, t := range tr.Threads {
					resp.Body.Threads = append(resp.Body.Threads, godap.Thread{Id: t.Tid, Name: threadName(t)})
				}
				sv.send(resp)
				return
			}
		}
	}
	seen := map[int]bool{}
	for _, ev := range sv.s.Timeline() {
		if ev.Tid != 0 && !seen[ev.Tid] {
			seen[ev.Tid] = true
			resp.Body.Threads = append(resp.Body.Threads, godap.Thread{Id: ev.Tid, Name: fmt.Sprintf("thread %d", ev.Tid)})
		}
	}
	sv.send(resp)
}

// threadName is "thread 812 (TCS 0x7f…, at an AEX)" or "thread 812".
func threadName(t debugger.ThreadView) string {
	name := fmt.Sprintf("thread %d", t.Tid)
	if t.TCS == 0 {
		return name
	}
	switch t.State {
	case "enclave":
		return fmt.Sprintf("%s (TCS %s, in the enclave)", name, t.TCS)
	case "aex":
		return fmt.Sprintf("%s (TCS %s, AEX into SSA frame %d)", name, t.TCS, t.Frame)
	}
	return fmt.Sprintf("%s (TCS %s)", name, t.TCS)
}

// stopped checks that the host is held at a stop.
func (sv *Server) atStop() error {
	switch {
	case sv.s == nil:
		return errNoSession
	case sv.running:
		return errRunning
	case sv.stop == nil:
		return errors.New("the host is not stopped")
	}
	return nil
}

// selectThread makes the session's views follow tid (0: the stop's).
func (sv *Server) selectThread(tid int) error {
	if tid == 0 {
		tid = sv.stopTid
	}
	if tid == sv.selTid {
		return nil
	}
	if _, err := sv.s.Exec(fmt.Sprintf("thread %d", tid)); err != nil {
		return err
	}
	sv.selTid, sv.selFrame = tid, -1
	return nil
}

// selectFrame makes the views follow a backtrace frame of a thread.
func (sv *Server) selectFrame(tid, index int) error {
	if err := sv.selectThread(tid); err != nil {
		return err
	}
	if index == sv.selFrame {
		return nil
	}
	if _, err := sv.s.Exec(fmt.Sprintf("frame %d", index)); err != nil {
		return err
	}
	sv.selFrame = index
	return nil
}

func (sv *Server) backtrace(tid int) (*debugger.BacktraceResult, error) {
	if err := sv.selectThread(tid); err != nil {
		return nil, err
	}
	res, err := sv.s.Exec("bt")
	if err != nil {
		return nil, err
	}
	bt, ok := res.(*debugger.BacktraceResult)
	if !ok {
		return nil, fmt.Errorf("bt: unexpected result %T", res)
	}
	return bt, nil
}

// stackTrace is the backtrace: enclave frames, then the host's, with a
// label where an SSA frame or an EENTER separates them.
func (sv *Server) stackTrace(r *godap.StackTraceRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	tid := r.Arguments.ThreadId
	bt, err := sv.backtrace(tid)
	if err != nil {
		return err
	}
	if tid == 0 {
		tid = sv.stopTid
	}
	var frames []godap.StackFrame
	for _, f := range bt.Frames {
		if f.Boundary != "" {
			frames = append(frames, godap.StackFrame{Id: sv.handles.frame(frameRef{tid: tid, index: -1}),
				Name: strings.Trim(f.Boundary, "─ "), PresentationHint: "label"})
		}
		name := f.Symbol
		if name == "" {
			name = f.PC.String()
		}
		sf := godap.StackFrame{Id: sv.handles.frame(frameRef{tid: tid, index: f.Index}), Name: name, Column: 1,
			InstructionPointerReference: f.PC.String()}
		if file, line, ok := splitSource(f.Source); ok {
			sf.Line = line
			path := f.Path
			if path != "" && !filepath.IsAbs(path) {
				if abs, err := filepath.Abs(path); err == nil {
					path = abs // clients want absolute paths (found through a relative source directory)
				}
			}
			sf.Source = &godap.Source{Name: filepath.Base(file), Path: path}
			if f.Path == "" {
				sf.Source.PresentationHint = "deemphasize"
				sf.Source.Origin = "source file not found: " + file
			}
		}
		if f.Host {
			sf.PresentationHint = "subtle"
			if f.Module != "" && sf.Source == nil {
				sf.Name = fmt.Sprintf("%s (%s)", name, filepath.Base(f.Module))
			}
		}
		frames = append(frames, sf)
	}
	total := len(frames)
	start := min(r.Arguments.StartFrame, total)
	end := total
	if r.Arguments.Levels > 0 {
		end = min(start+r.Arguments.Levels, total)
	}
	resp := &godap.StackTraceResponse{Response: response(&r.Request)}
	resp.Body.StackFrames, resp.Body.TotalFrames = frames[start:end], total
	if resp.Body.StackFrames == nil {
		resp.Body.StackFrames = []godap.StackFrame{}
	}
	sv.send(resp)
	return nil
}

// splitSource splits "file:line".
func splitSource(s string) (string, int, bool) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, false
	}
	return s[:i], n, true
}

// scopes: Locals and Arguments of an enclave frame; at an AEX, each SSA
// frame's registers and the synthetic registers the host sees.
func (sv *Server) scopes(r *godap.ScopesRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	fr, ok := sv.handles.getFrame(r.Arguments.FrameId)
	if !ok {
		return fmt.Errorf("scopes: no frame %d at this stop", r.Arguments.FrameId)
	}
	resp := &godap.ScopesResponse{Response: response(&r.Request)}
	resp.Body.Scopes = []godap.Scope{}
	if fr.index < 0 {
		sv.send(resp)
		return nil
	}
	if err := sv.selectFrame(fr.tid, fr.index); err == nil {
		resp.Body.Scopes = append(resp.Body.Scopes,
			godap.Scope{Name: "Locals", PresentationHint: "locals", VariablesReference: sv.handles.ref(ref{kind: refLocals, tid: fr.tid, frame: fr.index})},
			godap.Scope{Name: "Arguments", PresentationHint: "arguments", VariablesReference: sv.handles.ref(ref{kind: refArgs, tid: fr.tid, frame: fr.index})})
	}
	if ssa, err := sv.ssa(fr.tid); err == nil {
		for i := len(ssa.Frames) - 1; i >= 0; i-- {
			f := ssa.Frames[i]
			resp.Body.Scopes = append(resp.Body.Scopes, godap.Scope{Name: fmt.Sprintf("SSA frame %d", f.Index), PresentationHint: "registers",
				VariablesReference: sv.handles.ref(ref{kind: refSSA, tid: fr.tid, n: f.Index}), NamedVariables: len(f.GPRs)})
		}
	}
	if regs, err := sv.regs(fr.tid); err == nil && regs.Frame >= 0 {
		resp.Body.Scopes = append(resp.Body.Scopes, godap.Scope{Name: "Synthetic (host sees)", PresentationHint: "registers",
			VariablesReference: sv.handles.ref(ref{kind: refSynthetic, tid: fr.tid}), NamedVariables: len(regs.Rows)})
	}
	sv.send(resp)
	return nil
}

func (sv *Server) ssa(tid int) (*debugger.SSAResult, error) {
	if err := sv.selectThread(tid); err != nil {
		return nil, err
	}
	res, err := sv.s.Exec("ssa")
	if err != nil {
		return nil, err
	}
	r, ok := res.(*debugger.SSAResult)
	if !ok {
		return nil, fmt.Errorf("ssa: unexpected result %T", res)
	}
	return r, nil
}

func (sv *Server) regs(tid int) (*debugger.RegsResult, error) {
	if err := sv.selectThread(tid); err != nil {
		return nil, err
	}
	res, err := sv.s.Exec("regs")
	if err != nil {
		return nil, err
	}
	r, ok := res.(*debugger.RegsResult)
	if !ok {
		return nil, fmt.Errorf("regs: unexpected result %T", res)
	}
	return r, nil
}

// regOrder is the order registers are listed in.
var regOrder = []string{"rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rflags", "fsbase", "gsbase", "ursp", "urbp"}

func regRank(name string) int {
	for i, n := range regOrder {
		if n == name {
			return i
		}
	}
	return len(regOrder)
}

func sortRegs(vs []godap.Variable) {
	sort.SliceStable(vs, func(i, j int) bool {
		ri, rj := regRank(vs[i].Name), regRank(vs[j].Name)
		if ri != rj {
			return ri < rj
		}
		return vs[i].Name < vs[j].Name
	})
}
