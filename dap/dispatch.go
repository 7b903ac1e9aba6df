package dap

import (
	"errors"
	"fmt"

	godap "github.com/google/go-dap"
)

// errNoSession answers requests that need a launched host.
var errNoSession = errors.New("no host: launch one first")

// errRunning answers requests that need a stopped host.
var errRunning = errors.New("the host is running: pause it first")

// dispatch serves one message; it returns true when the client
// disconnected.
func (sv *Server) dispatch(m godap.Message) bool {
	rm, ok := m.(godap.RequestMessage)
	if !ok {
		return false // responses and events from the client: none expected
	}
	req := rm.GetRequest()
	var err error
	switch r := m.(type) {
	case *godap.InitializeRequest:
		sv.initialize(r)
	case *godap.LaunchRequest:
		err = sv.launch(r)
	case *godap.AttachRequest:
		err = errors.New("attach is not supported: sgxdbg launches the host (launch request)")
	case *godap.SetBreakpointsRequest:
		err = sv.setBreakpoints(r)
	case *godap.SetFunctionBreakpointsRequest:
		err = sv.setFunctionBreakpoints(r)
	case *godap.SetExceptionBreakpointsRequest:
		err = sv.setExceptionBreakpoints(r)
	case *godap.ConfigurationDoneRequest:
		err = sv.configurationDone(r)
	case *godap.ThreadsRequest:
		sv.threads(r)
	case *godap.StackTraceRequest:
		err = sv.stackTrace(r)
	case *godap.ScopesRequest:
		err = sv.scopes(r)
	case *godap.VariablesRequest:
		err = sv.variables(r)
	case *godap.EvaluateRequest:
		err = sv.evaluate(r)
	case *godap.SetVariableRequest:
		err = sv.setVariable(r)
	case *godap.ContinueRequest:
		err = sv.resume(req, "continue", r.Arguments.ThreadId)
	case *godap.NextRequest:
		err = sv.resume(req, stepCommand("next", r.Arguments.Granularity), r.Arguments.ThreadId)
	case *godap.StepInRequest:
		err = sv.resume(req, stepCommand("step", r.Arguments.Granularity), r.Arguments.ThreadId)
	case *godap.StepOutRequest:
		err = sv.resume(req, "finish", r.Arguments.ThreadId)
	case *godap.PauseRequest:
		err = sv.pause(r)
	case *godap.DisassembleRequest:
		err = sv.disassemble(r)
	case *godap.ReadMemoryRequest:
		err = sv.readMemory(r)
	case *godap.WriteMemoryRequest:
		err = sv.writeMemory(r)
	case *godap.ExceptionInfoRequest:
		err = sv.exceptionInfo(r)
	case *godap.DisconnectRequest:
		sv.disconnect(r)
		return true
	case *godap.TerminateRequest:
		err = sv.terminate(r)
	default:
		err = fmt.Errorf("%s is not supported by sgxdbg", req.Command)
	}
	if err != nil {
		sv.sendError(req.Seq, req.Command, err)
	}
	return false
}

// stepCommand is the command a step request runs: by line, or by
// instruction (granularity "instruction": stepi, nexti).
func stepCommand(cmd string, g godap.SteppingGranularity) string {
	if g != "instruction" {
		return cmd
	}
	if cmd == "next" {
		return "nexti"
	}
	return "stepi"
}

// exceptionFilters are the AEX vector classes setExceptionBreakpoints
// takes, by filter ID.
var exceptionFilters = []godap.ExceptionBreakpointsFilter{
	{Filter: "all", Label: "Every AEX", Description: "Stop at every Asynchronous Enclave Exit (any vector, and interrupts)", Default: true},
	{Filter: "#PF", Label: "#PF page fault", Description: "Stop at AEXs for page faults (vector 14)"},
	{Filter: "#GP", Label: "#GP general protection", Description: "Stop at AEXs for general-protection faults (vector 13)"},
	{Filter: "#UD", Label: "#UD invalid opcode", Description: "Stop at AEXs for invalid opcodes (vector 6)"},
	{Filter: "#DE", Label: "#DE divide error", Description: "Stop at AEXs for divide errors (vector 0)"},
	{Filter: "#BP", Label: "#BP breakpoint (the enclave's own INT3)", Description: "Stop at AEXs for INT3s the enclave executes (vector 3); sgxdbg's breakpoints stop regardless"},
}

func (sv *Server) initialize(r *godap.InitializeRequest) {
	resp := &godap.InitializeResponse{Response: response(&r.Request)}
	c := &resp.Body
	c.SupportsConfigurationDoneRequest = true
	c.SupportsFunctionBreakpoints = true
	c.SupportsConditionalBreakpoints = true
	c.SupportsEvaluateForHovers = true
	c.ExceptionBreakpointFilters = exceptionFilters
	c.SupportsSetVariable = true
	c.SupportsExceptionInfoRequest = true
	c.SupportTerminateDebuggee = true
	c.SupportsTerminateRequest = true
	c.SupportsReadMemoryRequest = true
	c.SupportsWriteMemoryRequest = true
	c.SupportsDisassembleRequest = true
	c.SupportsSteppingGranularity = true
	sv.send(resp)
}
