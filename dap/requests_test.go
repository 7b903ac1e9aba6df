package dap_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// atPF launches pf_untrusted and returns the client at its #PF stop with
// the stop's thread and frame 0.
func atPF(t *testing.T) (*client, int, godap.StackFrame) {
	t.Helper()
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "pf_untrusted.elf")
	c := startDAP(t)
	c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{elf, elf + ".sig", "0", "0x10000"}})
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})
	st := c.stopped()
	if st.Body.Reason != "exception" {
		t.Fatalf("stop %+v", st.Body)
	}
	bt := call[*godap.StackTraceResponse](c, "stackTrace", &godap.StackTraceRequest{Arguments: godap.StackTraceArguments{ThreadId: st.Body.ThreadId}})
	return c, st.Body.ThreadId, bt.Body.StackFrames[0]
}

// TestMemoryRequests: at pf_untrusted's #PF, disassemble shows the
// faulting load at the frame's instruction pointer, readMemory returns
// its bytes (EDBGRD), writeMemory changes enclave stack memory (EDBGWR)
// as a second readMemory shows, and setVariable sets an SSA register and
// an argument held in one.
func TestMemoryRequests(t *testing.T) {
	c, _, f0 := atPF(t)
	dis := call[*godap.DisassembleResponse](c, "disassemble", &godap.DisassembleRequest{Arguments: godap.DisassembleArguments{
		MemoryReference: f0.InstructionPointerReference, InstructionCount: 2}})
	if len(dis.Body.Instructions) != 2 {
		t.Fatalf("instructions %+v", dis.Body.Instructions)
	}
	in := dis.Body.Instructions[0]
	check(t, "instruction", fmt.Sprint(in.Address, " ", in.InstructionBytes, " ", in.Instruction, " ", in.Line),
		f0.InstructionPointerReference+" 48 8b 07 mov (%rdi),%rax 11")
	mem := call[*godap.ReadMemoryResponse](c, "readMemory", &godap.ReadMemoryRequest{Arguments: godap.ReadMemoryArguments{
		MemoryReference: f0.InstructionPointerReference, Count: 3}})
	b, err := base64.StdEncoding.DecodeString(mem.Body.Data)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "bytes", fmt.Sprintf("%s % x", mem.Body.Address, b), f0.InstructionPointerReference+" 48 8b 07")

	scopes, _ := c.scopes(f0.Id)
	ssaRef := scopes["SSA frame 0"].VariablesReference
	rsp, err := strconv.ParseUint(c.variables(ssaRef)["rsp"].Value, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	at := fmt.Sprintf("%#x", rsp-512) // below the red zone: nothing live there
	call[*godap.WriteMemoryResponse](c, "writeMemory", &godap.WriteMemoryRequest{Arguments: godap.WriteMemoryArguments{
		MemoryReference: at, Data: base64.StdEncoding.EncodeToString([]byte{0xde, 0xad, 0xbe, 0xef})}})
	mem = call[*godap.ReadMemoryResponse](c, "readMemory", &godap.ReadMemoryRequest{Arguments: godap.ReadMemoryArguments{MemoryReference: at, Count: 4}})
	check(t, "written", mem.Body.Data, base64.StdEncoding.EncodeToString([]byte{0xde, 0xad, 0xbe, 0xef}))

	set := call[*godap.SetVariableResponse](c, "setVariable", &godap.SetVariableRequest{Arguments: godap.SetVariableArguments{
		VariablesReference: ssaRef, Name: "rax", Value: "0x1234"}})
	check(t, "set rax", set.Body.Value, "0x1234")
	check(t, "rax after", c.variables(ssaRef)["rax"].Value, "0x1234")
	// p lives in RDI at the fault: set var writes the newest SSA frame.
	set = call[*godap.SetVariableResponse](c, "setVariable", &godap.SetVariableRequest{Arguments: godap.SetVariableArguments{
		VariablesReference: scopes["Arguments"].VariablesReference, Name: "p", Value: "0x20000"}})
	check(t, "set p", set.Body.Value, "131072")
	check(t, "rdi after", c.variables(ssaRef)["rdi"].Value, "0x20000")
	msg := c.failure(c.send("setVariable", &godap.SetVariableRequest{Arguments: godap.SetVariableArguments{
		VariablesReference: scopes["Synthetic (host sees)"].VariablesReference, Name: "rax", Value: "1"}}))
	check(t, "set synthetic", msg, "setVariable: the registers the host sees cannot be set: they are the AEX's synthetic state")
	msg = c.failure(c.send("disassemble", &godap.DisassembleRequest{Arguments: godap.DisassembleArguments{
		MemoryReference: f0.InstructionPointerReference, InstructionOffset: -4, InstructionCount: 8}}))
	check(t, "negative offset", msg, "disassemble: a negative instructionOffset is not supported (x86 code does not decode backwards)")
	call[*godap.TerminateResponse](c, "terminate", &godap.TerminateRequest{})
	c.event("exited")
	c.event("terminated")
}

// TestREPLActions: at ud's #UD (the enclave's CPUID), the debug console
// runs eenter-handler (the enclave's handler emulates CPUID and says
// handled) and eresume, which lets the host go on to its end: ecall 0
// returns what the handler put in RAX/RBX/RCX/RDX.
func TestREPLActions(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "ud.elf")
	c := startDAP(t)
	c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{elf, elf + ".sig", "0"}, "stopOn": []string{"aex", "#UD"}})
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})
	st := c.stopped()
	check(t, "stop", fmt.Sprint(st.Body.Reason, " ", st.Body.Description), "exception #UD (hardware) at "+regexp.MustCompile(`0x[0-9a-f]+$`).FindString(st.Body.Description))
	repl := func(cmd string) string {
		r := call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: cmd, Context: "repl"}})
		return r.Body.Result
	}
	if h := repl("eenter-handler"); !strings.Contains(h, "(handled: the host would ERESUME)") || !strings.Contains(h, "rax        0x0 -> 0x5347") {
		t.Errorf("eenter-handler: %q", h)
	}
	if r := repl("eresume"); !strings.HasPrefix(r, "ERESUME TCS 0x") {
		t.Errorf("eresume: %q", r)
	}
	c.event("continued")
	check(t, "exit code", c.event("exited").(*godap.ExitedEvent).Body.ExitCode, 0)
	c.event("terminated")
	if !strings.Contains(c.Output(), "ecall 0 returned 0x5347584442470001\n") {
		t.Errorf("output %q", c.Output())
	}
	msg := c.failure(c.send("evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "ssa", Context: "repl"}}))
	check(t, "ssa after the end", msg, "the host has exited")
}

// TestFunctionBreakpointStepOut: a function breakpoint on sum_values
// stops there; stepOut (finish) returns to enclave_ecall at line 22 with
// the sum in the reason; stepIn by instruction (stepi) is a step stop.
func TestFunctionBreakpointStepOut(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "clean.elf")
	c := startDAP(t)
	c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{elf, elf + ".sig", "0", "1", "2", "3"}, "stopOn": "none"})
	fb := call[*godap.SetFunctionBreakpointsResponse](c, "setFunctionBreakpoints", &godap.SetFunctionBreakpointsRequest{
		Arguments: godap.SetFunctionBreakpointsArguments{Breakpoints: []godap.FunctionBreakpoint{{Name: "sum_values"}, {Name: "no_such_function"}}}})
	check(t, "function breakpoints", fmt.Sprint(fb.Body.Breakpoints[0].Verified, " ", fb.Body.Breakpoints[1].Id, " ", fb.Body.Breakpoints[1].Verified), "false 0 false")
	if fb.Body.Breakpoints[1].Message == "" {
		t.Errorf("no message for an unknown function")
	}
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})
	st := c.stopped()
	check(t, "stop", fmt.Sprint(st.Body.Reason, " ", st.Body.HitBreakpointIds), fmt.Sprint("breakpoint [", fb.Body.Breakpoints[0].Id, "]"))
	tid := st.Body.ThreadId
	call[*godap.StepOutResponse](c, "stepOut", &godap.StepOutRequest{Arguments: godap.StepOutArguments{ThreadId: tid}})
	st = c.stopped()
	check(t, "finish", st.Body.Reason, "step")
	if !strings.HasSuffix(st.Body.Text, "Value returned is 6") {
		t.Errorf("finish text %q", st.Body.Text)
	}
	bt := call[*godap.StackTraceResponse](c, "stackTrace", &godap.StackTraceRequest{Arguments: godap.StackTraceArguments{ThreadId: tid, Levels: 1}})
	check(t, "after finish", fmt.Sprint(bt.Body.StackFrames[0].Name, ":", bt.Body.StackFrames[0].Line), "enclave_ecall:22")
	check(t, "levels", fmt.Sprint(len(bt.Body.StackFrames), " ", bt.Body.TotalFrames > 2), "1 true")
	pc := bt.Body.StackFrames[0].InstructionPointerReference
	call[*godap.StepInResponse](c, "stepIn", &godap.StepInRequest{Arguments: godap.StepInArguments{ThreadId: tid, Granularity: "instruction"}})
	st = c.stopped()
	check(t, "stepi", st.Body.Reason, "step")
	bt = call[*godap.StackTraceResponse](c, "stackTrace", &godap.StackTraceRequest{Arguments: godap.StackTraceArguments{ThreadId: tid, Levels: 1}})
	if bt.Body.StackFrames[0].InstructionPointerReference == pc {
		t.Errorf("stepi stayed at %s", pc)
	}
	call[*godap.DisconnectResponse](c, "disconnect", &godap.DisconnectRequest{Arguments: &godap.DisconnectArguments{TerminateDebuggee: true}})
}

// TestPause: pause interrupts a long run of ecalls (clean --repeat):
// the stop's reason is pause, and the threads request answers at it.
func TestPause(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "clean.elf")
	c := startDAP(t)
	c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{"--repeat", "100000000", elf, elf + ".sig", "0", "1"}})
	msg := c.failure(c.send("pause", &godap.PauseRequest{}))
	check(t, "pause before the run", msg, "pause: the host is not running")
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})
	call[*godap.PauseResponse](c, "pause", &godap.PauseRequest{})
	st := c.stopped()
	check(t, "reason", fmt.Sprint(st.Body.Reason, " ", st.Body.AllThreadsStopped), "pause true")
	th := call[*godap.ThreadsResponse](c, "threads", &godap.ThreadsRequest{})
	if !strings.Contains(fmt.Sprint(th.Body.Threads), fmt.Sprintf("{%d thread %d", st.Body.ThreadId, st.Body.ThreadId)) {
		t.Errorf("threads %+v lack the stopped thread %d", th.Body.Threads, st.Body.ThreadId)
	}
	call[*godap.DisconnectResponse](c, "disconnect", &godap.DisconnectRequest{})
	c.event("terminated")
}

// TestRequestErrors: requests out of order or with bad arguments get
// error responses that say why.
func TestRequestErrors(t *testing.T) {
	c := startDAP(t)
	call[*godap.InitializeResponse](c, "initialize", &godap.InitializeRequest{})
	for _, tt := range []struct {
		command string
		req     godap.RequestMessage
		want    string
	}{
		{"stackTrace", &godap.StackTraceRequest{}, "no host: launch one first"},
		{"configurationDone", &godap.ConfigurationDoneRequest{}, "no host: launch one first"},
		{"launch", &godap.LaunchRequest{Arguments: []byte(`{}`)}, `launch: "program" is required (the host program)`},
		{"launch", &godap.LaunchRequest{Arguments: []byte(`{"program":"/bin/true","stopOn":"aex #XX"}`)}, `launch: stopOn: stop-on: "#XX" is not an exception vector (#PF, PF or 14)`},
		{"attach", &godap.AttachRequest{}, "attach is not supported: sgxdbg launches the host (launch request)"},
		{"restartFrame", &godap.RestartFrameRequest{}, "restartFrame is not supported by sgxdbg"},
	} {
		check(t, tt.command, c.failure(c.send(tt.command, tt.req)), tt.want)
	}
}

// TestListen: --listen serves one client on a loopback socket; an
// address that is not loopback is refused without --allow-remote.
func TestListen(t *testing.T) {
	out, err := exec.Command(fixtures.Binary(t), "dap", "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil {
		t.Fatalf("--listen 0.0.0.0:0 succeeded: %s", out)
	}
	check(t, "refusal", strings.TrimSpace(string(out)), "sgxdbg: --listen 0.0.0.0:0: not a loopback address (a DAP client can run programs as you; --allow-remote to listen there anyway)")

	cmd := exec.Command(fixtures.Binary(t), "dap", "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "sgxdbg: DAP server listening at "))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("dial %q: %v", addr, err)
	}
	defer conn.Close()
	c := &client{t: t, w: conn, msgs: make(chan godap.Message, 64), errs: make(chan error, 1)}
	go c.read(bufio.NewReader(conn))
	init := call[*godap.InitializeResponse](c, "initialize", &godap.InitializeRequest{})
	check(t, "supportsDisassembleRequest", init.Body.SupportsDisassembleRequest, true)
	call[*godap.DisconnectResponse](c, "disconnect", &godap.DisconnectRequest{})
}

// TestREPLTeardown: teardown from the debug console destroys the enclave
// and keeps the host stopped; continue lets it see the loss (the host
// says "enclave lost" and exits with status 4).
func TestREPLTeardown(t *testing.T) {
	c, tid, _ := atPF(t)
	r := call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "teardown", Context: "repl"}})
	if !regexp.MustCompile(`^enclave 0x[0-9a-f]+ destroyed: its mappings are gone and its file descriptors closed; continue to let the host see the loss$`).MatchString(r.Body.Result) {
		t.Errorf("teardown: %q", r.Body.Result)
	}
	call[*godap.ContinueResponse](c, "continue", &godap.ContinueRequest{Arguments: godap.ContinueArguments{ThreadId: tid}})
	check(t, "exit code", c.event("exited").(*godap.ExitedEvent).Body.ExitCode, 4)
	c.event("terminated")
	if !strings.Contains(c.Output(), "enclave lost\n") {
		t.Errorf("output %q", c.Output())
	}
	for _, m := range c.held {
		if e, ok := m.(godap.EventMessage); ok && e.GetEvent().Event == "continued" {
			t.Errorf("teardown sent a continued event: the host stays stopped")
		}
	}
}

// TestBreakpointWhileRunning: a function breakpoint set while the host
// runs (clean --repeat, a long run of ecalls) is set at an interrupt the
// client does not see, and the host goes on to hit it.
func TestBreakpointWhileRunning(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "clean.elf")
	c := startDAP(t)
	c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{"--repeat", "100000000", elf, elf + ".sig", "0", "1", "2"}, "stopOn": "none"})
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})
	fb := call[*godap.SetFunctionBreakpointsResponse](c, "setFunctionBreakpoints", &godap.SetFunctionBreakpointsRequest{
		Arguments: godap.SetFunctionBreakpointsArguments{Breakpoints: []godap.FunctionBreakpoint{{Name: "sum_values"}}}})
	id := fb.Body.Breakpoints[0].Id
	st := c.stopped()
	check(t, "stop", fmt.Sprint(st.Body.Reason, " ", st.Body.HitBreakpointIds), fmt.Sprint("breakpoint [", id, "]"))
	call[*godap.DisconnectResponse](c, "disconnect", &godap.DisconnectRequest{})
}

// TestHostKilledAtStop: a host killed from outside (SIGKILL) while held
// at the #PF stop is noticed without a request: exited with status 137
// (128 + SIGKILL), then terminated.
func TestHostKilledAtStop(t *testing.T) {
	c, tid, _ := atPF(t)
	// pf_untrusted has one thread: the stopped thread is the host process.
	if err := syscall.Kill(tid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	check(t, "exit code", c.event("exited").(*godap.ExitedEvent).Body.ExitCode, 137)
	c.event("terminated")
}
