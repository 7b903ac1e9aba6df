package dap_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
)

// TestAEXStory: pf_untrusted's ecall 0 reads 0x10000, outside ELRANGE.
// Under the #PF exception filter the adapter stops there as an
// exception; exceptionInfo names #PF, the address and the error code in
// words; the stack starts in fault_read_untrusted at its asm line; the
// scopes hold the SSA frame and the synthetic registers (RAX = 3, ERESUME;
// RBX = the TCS; RIP = RCX = the AEP: the synthetic state the SDM gives an AEX); the debug console runs
// ssa; continue delivers the SIGSEGV, which the host reports on stderr
// (an output event) before it exits with status 2.
func TestAEXStory(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "pf_untrusted.elf")
	c := startDAP(t)
	init := c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{"--no-vdso", elf, elf + ".sig", "0", "0x10000"}})
	var filters []string
	for _, f := range init.Body.ExceptionBreakpointFilters {
		filters = append(filters, f.Filter)
	}
	check(t, "filters", strings.Join(filters, " "), "all #PF #GP #UD #DE #BP")
	if !init.Body.SupportsExceptionInfoRequest || !init.Body.SupportsConfigurationDoneRequest || !init.Body.SupportsReadMemoryRequest {
		t.Errorf("capabilities %+v", init.Body)
	}
	call[*godap.SetExceptionBreakpointsResponse](c, "setExceptionBreakpoints", &godap.SetExceptionBreakpointsRequest{
		Arguments: godap.SetExceptionBreakpointsArguments{Filters: []string{"#PF"}}})
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})

	st := c.stopped()
	check(t, "reason", st.Body.Reason, "exception")
	check(t, "description", st.Body.Description, "#PF reading 0x10000: page not present")
	tid := st.Body.ThreadId

	ei := call[*godap.ExceptionInfoResponse](c, "exceptionInfo", &godap.ExceptionInfoRequest{Arguments: godap.ExceptionInfoArguments{ThreadId: tid}})
	check(t, "exceptionId", ei.Body.ExceptionId, "#PF")
	check(t, "exception description", ei.Body.Description, "#PF reading 0x10000: page not present at samples/pf_untrusted.c:11")
	for _, want := range []string{"vector     #PF (page fault)", "exit type  hardware", "MADDR      0x10000",
		"ERRCD      0x4 (page not present, read access, user mode)", "source     samples/pf_untrusted.c:11"} {
		if !strings.Contains(ei.Body.Details.Message, want) {
			t.Errorf("exceptionInfo details lack %q:\n%s", want, ei.Body.Details.Message)
		}
	}

	threads := call[*godap.ThreadsResponse](c, "threads", &godap.ThreadsRequest{})
	if len(threads.Body.Threads) == 0 || !strings.Contains(fmt.Sprint(threads.Body.Threads), fmt.Sprintf("thread %d (TCS 0x", tid)) {
		t.Errorf("threads %+v", threads.Body.Threads)
	}

	bt := call[*godap.StackTraceResponse](c, "stackTrace", &godap.StackTraceRequest{Arguments: godap.StackTraceArguments{ThreadId: tid}})
	if len(bt.Body.StackFrames) < 2 {
		t.Fatalf("stack %+v", bt.Body.StackFrames)
	}
	f0 := bt.Body.StackFrames[0]
	check(t, "frame 0", fmt.Sprint(f0.Name, " ", f0.Source.Name, ":", f0.Line), "fault_read_untrusted pf_untrusted.c:11")
	check(t, "frame 0 path", f0.Source.Path, filepath.Join(fixtures.Root(t), "enclaves/debug/samples/pf_untrusted.c"))
	check(t, "frame 1", bt.Body.StackFrames[1].Name, "enclave_ecall")

	scopes, names := c.scopes(f0.Id)
	check(t, "scopes", strings.Join(names, ", "), "Locals, Arguments, SSA frame 0, Synthetic (host sees)")
	args := c.variables(scopes["Arguments"].VariablesReference)
	check(t, "p", args["p"].Value, "65536")
	ssaVars := c.variables(scopes["SSA frame 0"].VariablesReference)
	check(t, "SSA rdi", ssaVars["rdi"].Value, "0x10000")
	check(t, "SSA MADDR", ssaVars["MADDR"].Value, "0x10000")
	check(t, "SSA EXITINFO", ssaVars["EXITINFO"].Value, "#PF (page fault), hardware")
	syn := c.variables(scopes["Synthetic (host sees)"].VariablesReference)
	if !strings.HasPrefix(syn["rax"].Value, "0x3 (enclave: ") {
		t.Errorf("synthetic rax %q, want ERESUME's leaf 0x3", syn["rax"].Value)
	}
	tcs := regexp.MustCompile(`TCS (0x[0-9a-f]+)`).FindStringSubmatch(fmt.Sprint(threads.Body.Threads))
	if tcs == nil || !strings.HasPrefix(syn["rbx"].Value, tcs[1]+" ") {
		t.Errorf("synthetic rbx %q, want the TCS (threads %v)", syn["rbx"].Value, threads.Body.Threads)
	}
	if aep := strings.Fields(syn["rcx"].Value)[0]; !strings.HasPrefix(syn["rip"].Value, aep+" ") {
		t.Errorf("synthetic rip %q, want the AEP in rcx %q", syn["rip"].Value, syn["rcx"].Value)
	}

	ssa := call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "ssa", Context: "repl", FrameId: f0.Id}})
	for _, want := range []string{"CSSA 1 of NSSA", "SSA frame 0 at 0x", "#PF page fault, hardware exception (valid)", "  at fault_read_untrusted"} {
		if !strings.Contains(ssa.Body.Result, want) {
			t.Errorf("ssa in the REPL lacks %q:\n%s", want, ssa.Body.Result)
		}
	}
	hover := call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "p + 1", Context: "hover", FrameId: f0.Id}})
	check(t, "hover p + 1", hover.Body.Result, "65537")

	call[*godap.ContinueResponse](c, "continue", &godap.ContinueRequest{Arguments: godap.ContinueArguments{ThreadId: tid}})
	exited := c.event("exited").(*godap.ExitedEvent)
	check(t, "exit code", exited.Body.ExitCode, 2)
	c.event("terminated")
	if out := c.OutputOf("stderr"); !strings.Contains(out, "unhandled enclave exception: #PF (SIGSEGV)\n") {
		t.Errorf("stderr output events %q lack the host's report", out)
	}
	if out := c.OutputOf("console"); !strings.HasPrefix(out, "stopped: aex ") {
		t.Errorf("console output %q lacks the stop", out)
	}
	call[*godap.DisconnectResponse](c, "disconnect", &godap.DisconnectRequest{})
}

// TestBreakpointStory: a breakpoint at clean.c:9 (sum += v[i]) is pending
// before the enclave exists, verified by a breakpoint event once it is
// loaded, and hit in sum_values with n = 3 (the host passes 1 2 3); the
// pointer v expands to *v = 1, v[2] evaluates to 3, setVariable on
// args->values[2] changes what the enclave sums, next stops on the next
// line; without the breakpoint, continue runs the host to its end
// (the enclave's OCALL output and the host's result as output events).
func TestBreakpointStory(t *testing.T) {
	dir := fixtures.Samples(t)
	elf := filepath.Join(dir, "clean.elf")
	src := filepath.Join(fixtures.Root(t), "enclaves/debug/samples/clean.c")
	c := startDAP(t)
	c.begin(map[string]any{"program": filepath.Join(dir, "host"), "args": []string{elf, elf + ".sig", "0", "1", "2", "3"}, "stopOn": "none"})
	source := godap.Source{Name: "clean.c", Path: src}
	bps := call[*godap.SetBreakpointsResponse](c, "setBreakpoints", &godap.SetBreakpointsRequest{Arguments: godap.SetBreakpointsArguments{
		Source: source, Breakpoints: []godap.SourceBreakpoint{{Line: 9}}}})
	if len(bps.Body.Breakpoints) != 1 {
		t.Fatalf("breakpoints %+v", bps.Body.Breakpoints)
	}
	bp := bps.Body.Breakpoints[0]
	check(t, "pending breakpoint", fmt.Sprint(bp.Id, " ", bp.Verified, " ", bp.Line), "1 false 9")
	call[*godap.SetExceptionBreakpointsResponse](c, "setExceptionBreakpoints", &godap.SetExceptionBreakpointsRequest{
		Arguments: godap.SetExceptionBreakpointsArguments{Filters: []string{}}})
	call[*godap.ConfigurationDoneResponse](c, "configurationDone", &godap.ConfigurationDoneRequest{})

	ev := c.event("breakpoint").(*godap.BreakpointEvent)
	check(t, "breakpoint event", fmt.Sprint(ev.Body.Reason, " ", ev.Body.Breakpoint.Id, " ", ev.Body.Breakpoint.Verified, " ", ev.Body.Breakpoint.Line), "changed 1 true 9")
	st := c.stopped()
	check(t, "stop", fmt.Sprint(st.Body.Reason, " ", st.Body.HitBreakpointIds), "breakpoint [1]")
	tid := st.Body.ThreadId

	bt := call[*godap.StackTraceResponse](c, "stackTrace", &godap.StackTraceRequest{Arguments: godap.StackTraceArguments{ThreadId: tid}})
	f0 := bt.Body.StackFrames[0]
	check(t, "frame 0", fmt.Sprint(f0.Name, " ", f0.Source.Path, ":", f0.Line), "sum_values "+src+":9")
	check(t, "frame 1", bt.Body.StackFrames[1].Name, "enclave_ecall")
	host := false
	for _, f := range bt.Body.StackFrames {
		host = host || f.PresentationHint == "subtle" && strings.Contains(f.Name, "main")
	}
	if !host {
		t.Errorf("no host frame (main) after the enclave's: %+v", bt.Body.StackFrames)
	}

	scopes, _ := c.scopes(f0.Id)
	args := c.variables(scopes["Arguments"].VariablesReference)
	check(t, "n", args["n"].Value, "3")
	check(t, "n type", args["n"].Type, "uint64_t")
	locals := c.variables(scopes["Locals"].VariablesReference)
	// -O2: i lives nowhere gdb could read at this line either.
	check(t, "locals", fmt.Sprint(locals["sum"].Value, ", ", locals["i"].Value), "0, <optimized out>")

	// Frame 1, enclave_ecall: args is a struct ecall_args * whose target
	// holds count and the values array.
	f1 := bt.Body.StackFrames[1]
	scopes1, _ := c.scopes(f1.Id)
	args1 := c.variables(scopes1["Arguments"].VariablesReference)
	a := args1["args"]
	check(t, "args type", a.Type, "const struct ecall_args *")
	if a.VariablesReference == 0 {
		t.Fatalf("args (%s %s) has no children", a.Type, a.Value)
	}
	star := c.variables(a.VariablesReference)["*args"]
	check(t, "*args", star.Value, "{count = 3, values = {1, 2, 3, 0 <repeats 13 times>}}")
	fields := c.variables(star.VariablesReference)
	check(t, "(*args).count", fields["count"].Value, "3")
	values := fields["values"]
	check(t, "values children", values.IndexedVariables, 16)
	elems := c.variables(values.VariablesReference)
	check(t, "values[2], [15]", fmt.Sprint(elems["[2]"].Value, " ", elems["[15]"].Value, " ", elems["[2]"].EvaluateName), "3 0 ((*(args)).values)[2]")
	locals1 := c.variables(scopes1["Locals"].VariablesReference)
	check(t, "msg", locals1["msg"].Value, `"clean: summing 3 values", '\000' <repeats 40 times>`)
	check(t, "msg children", locals1["msg"].VariablesReference, 0)

	watch := call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "args->values[2]", Context: "watch", FrameId: f1.Id}})
	check(t, "args->values[2]", watch.Body.Result, "3")
	// setVariable on an element: set var through EDBGWR; the enclave sums
	// what it now holds (1 + 2 + 10 = 0xd).
	set := call[*godap.SetVariableResponse](c, "setVariable", &godap.SetVariableRequest{Arguments: godap.SetVariableArguments{
		VariablesReference: values.VariablesReference, Name: "[2]", Value: "10"}})
	check(t, "set [2]", set.Body.Value, "10")
	watch = call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "args->values[2]", Context: "watch", FrameId: f1.Id}})
	check(t, "args->values[2] after", watch.Body.Result, "10")
	hover := call[*godap.EvaluateResponse](c, "evaluate", &godap.EvaluateRequest{Arguments: godap.EvaluateArguments{Expression: "n", Context: "hover", FrameId: f0.Id}})
	check(t, "hover n in frame 0", hover.Body.Result, "3")

	call[*godap.NextResponse](c, "next", &godap.NextRequest{Arguments: godap.NextArguments{ThreadId: tid}})
	st = c.stopped()
	check(t, "next", st.Body.Reason, "step")
	bt = call[*godap.StackTraceResponse](c, "stackTrace", &godap.StackTraceRequest{Arguments: godap.StackTraceArguments{ThreadId: tid, Levels: 1}})
	check(t, "after next", fmt.Sprint(bt.Body.StackFrames[0].Name, ":", bt.Body.StackFrames[0].Line), "sum_values:8")

	bps = call[*godap.SetBreakpointsResponse](c, "setBreakpoints", &godap.SetBreakpointsRequest{Arguments: godap.SetBreakpointsArguments{Source: source}})
	check(t, "cleared", len(bps.Body.Breakpoints), 0)
	call[*godap.ContinueResponse](c, "continue", &godap.ContinueRequest{Arguments: godap.ContinueArguments{ThreadId: tid}})
	exited := c.event("exited").(*godap.ExitedEvent)
	check(t, "exit code", exited.Body.ExitCode, 0)
	c.event("terminated")
	out := c.OutputOf("stdout")
	for _, want := range []string{"clean: summing 3 values\n", "ecall 0 returned 0xd\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output events %q lack %q", out, want)
		}
	}
	call[*godap.DisconnectResponse](c, "disconnect", &godap.DisconnectRequest{})
}
