package dap

import (
	"errors"
	"fmt"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/sgx"
)

// variables lists a scope's variables, or an expression's children:
// struct fields and array elements from its printed value, a pointer's
// target as "*p"; each child is printed (print) for its own type.
func (sv *Server) variables(r *godap.VariablesRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	rf, ok := sv.handles.getRef(r.Arguments.VariablesReference)
	if !ok {
		return fmt.Errorf("variables: no reference %d at this stop", r.Arguments.VariablesReference)
	}
	vars, err := sv.vars(rf)
	if err != nil {
		return err
	}
	if s := r.Arguments.Start; s > 0 {
		vars = vars[min(s, len(vars)):]
	}
	if c := r.Arguments.Count; c > 0 && c < len(vars) {
		vars = vars[:c]
	}
	resp := &godap.VariablesResponse{Response: response(&r.Request)}
	resp.Body.Variables = vars
	if vars == nil {
		resp.Body.Variables = []godap.Variable{}
	}
	sv.send(resp)
	return nil
}

func (sv *Server) vars(rf ref) ([]godap.Variable, error) {
	switch rf.kind {
	case refLocals, refArgs:
		if err := sv.selectFrame(rf.tid, rf.frame); err != nil {
			return nil, err
		}
		cmd := "info locals"
		if rf.kind == refArgs {
			cmd = "info args"
		}
		res, err := sv.s.Exec(cmd)
		if err != nil {
			return nil, err
		}
		vr, ok := res.(*debugger.VarsResult)
		if !ok {
			return nil, fmt.Errorf("%s: unexpected result %T", cmd, res)
		}
		var out []godap.Variable
		for _, v := range vr.Vars {
			out = append(out, sv.variable(rf.tid, rf.frame, v.Name, v.Name, v.Type, v.Value))
		}
		return out, nil
	case refSSA:
		ssa, err := sv.ssa(rf.tid)
		if err != nil {
			return nil, err
		}
		for _, f := range ssa.Frames {
			if f.Index != rf.n {
				continue
			}
			var out []godap.Variable
			for name, v := range f.GPRs {
				out = append(out, godap.Variable{Name: name, Value: v.String(), Type: "uint64", EvaluateName: "$" + name})
			}
			sortRegs(out)
			info := []godap.Variable{{Name: "EXITINFO", Value: exitInfoWords(f)}}
			if f.MAddr != nil {
				info = append(info, godap.Variable{Name: "MADDR", Value: f.MAddr.String()})
			}
			if f.ErrCd != nil {
				w := f.ErrCd.String()
				if f.ErrWords != "" {
					w += " (" + f.ErrWords + ")"
				}
				info = append(info, godap.Variable{Name: "ERRCD", Value: w})
			}
			return append(info, out...), nil
		}
		return nil, fmt.Errorf("variables: SSA frame %d is no longer in use", rf.n)
	case refSynthetic:
		regs, err := sv.regs(rf.tid)
		if err != nil {
			return nil, err
		}
		var out []godap.Variable
		for _, row := range regs.Rows {
			v := row.Host.String()
			if row.Host != row.Enclave {
				v += " (enclave: " + row.Enclave.String() + ")"
			}
			out = append(out, godap.Variable{Name: row.Name, Value: v, Type: "uint64"})
		}
		sortRegs(out)
		return out, nil
	case refExpr:
		return sv.exprChildren(rf)
	}
	return nil, errors.New("variables: unknown reference")
}

// exitInfoWords renders an SSA frame's EXITINFO: "#PF (page fault),
// hardware exception" or "not valid (an interrupt or another AEX cause)".
func exitInfoWords(f debugger.FrameView) string {
	if !f.Valid {
		return "not valid (an interrupt, or a cause EXITINFO does not report)"
	}
	return fmt.Sprintf("%s (%s), %s", f.VectorName, sgx.Vector(f.Vector).Name(), f.ExitType)
}

// variable makes a DAP variable of a printed value, with a reference for
// its children when it has any.
func (sv *Server) variable(tid, frame int, name, expr, typ, value string) godap.Variable {
	v := godap.Variable{Name: name, Value: value, Type: typ, EvaluateName: expr}
	if kids := children(expr, value); len(kids) > 0 || pointerType(typ) && !strings.HasSuffix(value, " 0x0") && value != "0x0" {
		v.VariablesReference = sv.handles.ref(ref{kind: refExpr, tid: tid, frame: frame, expr: expr, value: value, typ: typ})
		if len(kids) > 0 {
			if strings.HasPrefix(kids[0].name, "[") {
				v.IndexedVariables = len(kids)
			} else {
				v.NamedVariables = len(kids)
			}
		}
	}
	return v
}

// exprChildren prints each child of an aggregate (or the target of a
// pointer) in the frame of its parent.
func (sv *Server) exprChildren(rf ref) ([]godap.Variable, error) {
	if err := sv.selectFrame(rf.tid, rf.frame); err != nil {
		return nil, err
	}
	kids := children(rf.expr, rf.value)
	if len(kids) == 0 && pointerType(rf.typ) {
		kids = []child{{name: "*" + rf.expr, expr: "*(" + rf.expr + ")"}}
	}
	var out []godap.Variable
	for _, k := range kids {
		vr, err := sv.print(k.expr)
		if err != nil {
			out = append(out, godap.Variable{Name: k.name, Value: "<" + err.Error() + ">", EvaluateName: k.expr})
			continue
		}
		out = append(out, sv.variable(rf.tid, rf.frame, k.name, k.expr, vr.Type, vr.Value))
	}
	return out, nil
}

// print evaluates a C expression in the selected frame.
func (sv *Server) print(expr string) (*debugger.ValueResult, error) {
	if strings.ContainsAny(expr, "\n") {
		return nil, errors.New("an expression is one line")
	}
	res, err := sv.s.Exec("print " + expr)
	if err != nil {
		return nil, err
	}
	vr, ok := res.(*debugger.ValueResult)
	if !ok {
		return nil, fmt.Errorf("print: unexpected result %T", res)
	}
	return vr, nil
}

// evaluate: in the REPL, any command of sgxdbg's command language (a
// command that lets the host run resumes it, as continue would); for
// watch and hover, a C expression printed in the frame.
func (sv *Server) evaluate(r *godap.EvaluateRequest) error {
	a := r.Arguments
	if sv.s == nil {
		return errNoSession
	}
	if a.Context == "repl" {
		return sv.repl(r)
	}
	if err := sv.atStop(); err != nil {
		return err
	}
	tid, frame := sv.stopTid, 0
	if a.FrameId != 0 {
		fr, ok := sv.handles.getFrame(a.FrameId)
		if !ok || fr.index < 0 {
			return fmt.Errorf("evaluate: no frame %d at this stop", a.FrameId)
		}
		tid, frame = fr.tid, fr.index
	}
	if err := sv.selectFrame(tid, frame); err != nil {
		return err
	}
	vr, err := sv.print(a.Expression)
	if err != nil {
		return err
	}
	v := sv.variable(tid, frame, a.Expression, a.Expression, vr.Type, vr.Value)
	resp := &godap.EvaluateResponse{Response: response(&r.Request)}
	resp.Body = godap.EvaluateResponseBody{Result: v.Value, Type: v.Type, VariablesReference: v.VariablesReference,
		NamedVariables: v.NamedVariables, IndexedVariables: v.IndexedVariables}
	if vr.Addr != nil {
		resp.Body.MemoryReference = vr.Addr.String()
	}
	sv.send(resp)
	return nil
}

// repl runs a command line of the command language.
func (sv *Server) repl(r *godap.EvaluateRequest) error {
	line := strings.TrimSpace(r.Arguments.Expression)
	if line == "" {
		return errors.New("empty command")
	}
	if sv.running && line != "help" {
		return errRunning
	}
	if r.Arguments.FrameId != 0 && sv.stop != nil {
		if fr, ok := sv.handles.getFrame(r.Arguments.FrameId); ok && fr.index >= 0 {
			_ = sv.selectFrame(fr.tid, fr.index)
		}
	}
	res, err := sv.s.Exec(line)
	if errors.Is(err, debugger.ErrQuit) {
		sv.send(&godap.EvaluateResponse{Response: response(&r.Request), Body: godap.EvaluateResponseBody{Result: "killing the host"}})
		_ = sv.s.Kill()
		sv.wait()
		return nil
	}
	// A command may select another thread or frame.
	sv.selTid, sv.selFrame = 0, -1
	if err != nil {
		return err
	}
	text := ""
	if res != nil {
		text = res.Text()
	}
	sv.send(&godap.EvaluateResponse{Response: response(&r.Request), Body: godap.EvaluateResponseBody{Result: text}})
	sv.afterAction()
	return nil
}

// afterAction: when a command let the host go (continue, eresume,
// teardown, a step), the client is told it runs and the next stop is
// awaited.
func (sv *Server) afterAction() {
	if sv.stop == nil || sv.s.IsStopped() {
		return
	}
	sv.send(&godap.ContinuedEvent{Event: event("continued"), Body: godap.ContinuedEventBody{ThreadId: sv.stopTid, AllThreadsContinued: true}})
	sv.wait()
}

// setVariable changes a register of the newest SSA frame (set ssa.REG)
// or a variable of the program: a local, an argument or a child of one
// (set var, through EDBGWR or the newest SSA frame's registers).
func (sv *Server) setVariable(r *godap.SetVariableRequest) error {
	if err := sv.atStop(); err != nil {
		return err
	}
	a := r.Arguments
	rf, ok := sv.handles.getRef(a.VariablesReference)
	if !ok {
		return fmt.Errorf("setVariable: no reference %d at this stop", a.VariablesReference)
	}
	if strings.ContainsAny(a.Name+a.Value, ";\n") {
		return fmt.Errorf("setVariable: bad name or value %q = %q", a.Name, a.Value)
	}
	switch rf.kind {
	case refLocals, refArgs, refExpr:
		return sv.setProgramVariable(r, rf)
	case refSSA:
	default:
		return errors.New("setVariable: the registers the host sees cannot be set: they are the AEX's synthetic state")
	}
	ssa, err := sv.ssa(rf.tid)
	if err != nil {
		return err
	}
	if len(ssa.Frames) == 0 || ssa.Frames[len(ssa.Frames)-1].Index != rf.n {
		return fmt.Errorf("setVariable: SSA frame %d is not the newest: only the newest frame's registers can be set", rf.n)
	}
	if strings.ContainsAny(a.Name, " \t") {
		return fmt.Errorf("setVariable: bad register %q", a.Name)
	}
	if _, err := sv.s.Exec(fmt.Sprintf("set ssa.%s %s", a.Name, a.Value)); err != nil {
		return err
	}
	ssa, err = sv.ssa(rf.tid)
	if err != nil {
		return err
	}
	v, ok := ssa.Frames[len(ssa.Frames)-1].GPRs[a.Name]
	if !ok {
		return fmt.Errorf("setVariable: SSA frame %d has no register %s", rf.n, a.Name)
	}
	sv.send(&godap.SetVariableResponse{Response: response(&r.Request), Body: godap.SetVariableResponseBody{Value: v.String(), Type: "uint64"}})
	return nil
}

// setProgramVariable assigns to the variable named a.Name in the
// container rf (its expression is the one the variables request gave it)
// with set var, then answers with the value as printed now.
func (sv *Server) setProgramVariable(r *godap.SetVariableRequest, rf ref) error {
	a := r.Arguments
	vars, err := sv.vars(rf)
	if err != nil {
		return err
	}
	expr := ""
	for _, v := range vars {
		if v.Name == a.Name {
			expr = v.EvaluateName
		}
	}
	if expr == "" {
		return fmt.Errorf("setVariable: no variable %s there", a.Name)
	}
	if err := sv.selectFrame(rf.tid, rf.frame); err != nil {
		return err
	}
	if _, err := sv.s.Exec(fmt.Sprintf("set var %s = %s", expr, a.Value)); err != nil {
		return err
	}
	vr, err := sv.print(expr)
	if err != nil {
		return err
	}
	v := sv.variable(rf.tid, rf.frame, a.Name, expr, vr.Type, vr.Value)
	sv.send(&godap.SetVariableResponse{Response: response(&r.Request), Body: godap.SetVariableResponseBody{
		Value: v.Value, Type: v.Type, VariablesReference: v.VariablesReference}})
	return nil
}
