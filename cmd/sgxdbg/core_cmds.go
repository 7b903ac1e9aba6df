package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/coredump"
	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/corefile"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/tui"
)

type coreOptions struct {
	batch    string
	cmds     string
	json     bool
	enclaves []string
	noTUI    bool
}

func newCoreCmd() *cobra.Command {
	var o coreOptions
	cmd := &cobra.Command{
		Use:   "core [flags] FILE",
		Short: "Open an enclave core file in the debugger's views",
		Long: `core opens a core file written by sgxdbg's dump command (or exec
--dump-on) as a stopped host: the views (info enclaves|tcs|threads, ssa,
regs, disas, bt, x, events) show what the live session showed at the stop.
It is read-only: actions that need a live process (eresume, continue,
eenter-handler, set, write, skip, stepi, teardown) say that the host is not
running. Commands come from --batch FILE, -x 'cmd; cmd', the terminal UI
(when stdin and stdout are terminals; its actions that need a live host
are not offered) or, with --no-tui or without a terminal, a line prompt
(quit or end of input leaves). Enclave symbols come from --enclave images
and from the image paths recorded in the core, matched by MRENCLAVE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCore(cmd, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.batch, "batch", "", "run the commands of `FILE`")
	f.StringVarP(&o.cmds, "execute", "x", "", "run these `commands` (separated by ;)")
	f.BoolVar(&o.json, "json", false, "print the stop and results as JSON lines")
	f.StringArrayVar(&o.enclaves, "enclave", nil, "enclave ELF `image` for symbols")
	f.BoolVar(&o.noTUI, "no-tui", false, "use the line prompt even on a terminal")
	return cmd
}

// coreSession opens a session over the core's stop st.
func coreSession(c *coredump.Core, st *corefile.Stop, enclaves []string) (*debugger.Session, error) {
	paths := append([]string(nil), enclaves...)
	for _, e := range c.Enclaves {
		if e.Image.Path != "" {
			if _, err := os.Stat(e.Image.Path); err == nil {
				paths = append(paths, e.Image.Path)
			}
		}
	}
	all, err := debugger.ParsePolicy([]string{"all"})
	if err != nil {
		return nil, err
	}
	s := debugger.New(corefile.Open(c, st), debugger.Options{Enclaves: paths, Policy: all})
	stopped, err := s.Wait()
	if err == nil && stopped.Exited {
		err = errors.New("the core's stop was not handed to the session")
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func runCore(cmd *cobra.Command, o coreOptions, file string) error {
	if err := checkEnclaveImages(o.enclaves); err != nil {
		return err
	}
	c, err := coredump.Open(file)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := coreSession(c, corefile.NewStop(c), o.enclaves)
	if err != nil {
		return fmt.Errorf("core %s: %w", file, err)
	}
	defer s.Close()
	defer s.Kill()
	script, err := loadScript(execOptions{batch: o.batch, cmds: o.cmds})
	if err != nil {
		return err
	}
	interactive := o.batch == "" && o.cmds == ""
	if interactive && !o.noTUI && !o.json && isTerminal(os.Stdin) && isTerminal(os.Stdout) {
		ts := &coreTUISession{Session: s, first: debugger.Stopped{Event: c.Stop}}
		_, err := tui.Run(tui.Config{Session: ts, Title: "core " + filepath.Base(file), ReadOnly: true}, os.Stdin, os.Stdout)
		return err
	}
	out := &printer{w: cmd.OutOrStdout(), json: o.json}
	out.stop(debugger.Stopped{Event: c.Stop})
	if interactive {
		in := newLineEditor(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), s.Complete)
		defer in.close()
		prompt(s, in, out, nil)
		return nil
	}
	failed, ran := 0, 0
	for _, line := range script {
		r, err := s.Exec(line.cmd)
		if errors.Is(err, debugger.ErrQuit) {
			break
		}
		ran++
		if err != nil {
			failed++
		}
		out.result(line.cmd, r, wrapWhere(line, err))
	}
	if failed > 0 {
		return fmt.Errorf("core %s: %w", file, &ScriptError{Failed: failed, Ran: ran})
	}
	return nil
}

// coreTUISession is a core's session for the terminal UI, whose first
// Wait gets the core's stop (coreSession has taken it from the session
// already); later Waits are the session's.
type coreTUISession struct {
	*debugger.Session
	first debugger.Stopped
	taken bool
}

// Wait returns the core's stop, then the session's.
func (c *coreTUISession) Wait() (debugger.Stopped, error) {
	if !c.taken {
		c.taken = true
		return c.first, nil
	}
	return c.Session.Wait()
}

// ScriptError: commands of a batch script failed (each error was printed
// where it happened); sgxdbg exits 1.
type ScriptError struct {
	Failed, Ran int
}

// Error renders "2 of 5 script commands failed".
func (e *ScriptError) Error() string {
	return fmt.Sprintf("%d of %d script commands failed", e.Failed, e.Ran)
}

// coreDumper wires the core-file writer into sessions; on a terminal it
// shows the progress of large dumps on w.
func coreDumper(w io.Writer) debugger.Dumper {
	return func(f io.Writer, req debugger.DumpRequest) (debugger.DumpStats, error) {
		opts := coredump.Options{Timeline: req.Timeline, Images: map[uint64]coredump.ImageRef{}}
		for base, im := range req.Images {
			opts.Images[base] = coredump.ImageRef{Path: im.Path, Entry: im.Entry}
		}
		if writerIsTerminal(w) {
			opts.Progress = progressLine(w)
		}
		sum, err := coredump.Write(f, req.Stop, opts)
		if opts.Progress != nil {
			fmt.Fprint(w, "\r\033[K")
		}
		return debugger.DumpStats{Bytes: sum.Bytes, Enclaves: sum.Enclaves, Pages: sum.Pages, Threads: sum.Threads, Main: sum.Main}, err
	}
}

func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressLine prints "dumping enclave memory: N/M MiB" in place, once
// per MiB at most.
func progressLine(w io.Writer) func(done, total uint64) {
	last := uint64(0)
	return func(done, total uint64) {
		if done-last < 1<<20 && done != total {
			return
		}
		last = done
		fmt.Fprintf(w, "\rdumping enclave memory: %d/%d MiB", done>>20, (total+(1<<20)-1)>>20)
	}
}

// dumpOn is exec's --dump-on: aex dumps at every AEX stop; fatal dumps at
// every AEX into a temporary file and keeps the last one only if the host
// then exits with a non-zero status or dies of a signal; exit dumps at
// every stop the same way and keeps the last one whatever the status (the
// exit event itself comes after the enclave is gone).
type dumpOn struct {
	mode string
	last *debugger.DumpResult // fatal, exit: the newest temporary dump
}

func newDumpOn(mode string) (*dumpOn, error) {
	switch mode {
	case "":
		return nil, nil
	case "aex", "fatal", "exit":
		return &dumpOn{mode: mode}, nil
	}
	return nil, fmt.Errorf("--dump-on %q: want aex, fatal or exit", mode)
}

// stop runs at each stop, before the script.
func (d *dumpOn) stop(s *debugger.Session, ev target.Event, out *printer) {
	if d == nil || d.mode != "exit" && ev.Kind != target.EvAEX {
		return
	}
	if d.mode == "aex" {
		r, err := s.Exec("dump")
		out.result("dump", r, err)
		return
	}
	tmp, err := os.CreateTemp(".", ".sgxdbg-*.core.tmp")
	if err != nil {
		out.result("dump", nil, fmt.Errorf("dump: %w", err))
		return
	}
	tmp.Close()
	r, err := s.Exec("dump --force " + tmp.Name())
	if err != nil {
		os.Remove(tmp.Name())
		out.result("dump", nil, err)
		return
	}
	if d.last != nil {
		os.Remove(d.last.File)
	}
	d.last = r.(*debugger.DumpResult)
}

// discard removes the temporary dump, if any: the session ends without a
// core to keep (a signal, a quit, an error).
func (d *dumpOn) discard() {
	if d == nil || d.last == nil {
		return
	}
	os.Remove(d.last.File)
	d.last = nil
}

// exit runs when the host has ended with status: it keeps or removes the
// last temporary dump.
func (d *dumpOn) exit(status int, out *printer) {
	if d == nil {
		return
	}
	if d.last == nil {
		switch {
		case d.mode == "exit":
			out.result("dump", nil, errors.New("--dump-on exit: the host never stopped, nothing was dumped (--stop-on eexit stops after each ecall)"))
		case d.mode == "fatal" && status != 0:
			out.result("dump", nil, fmt.Errorf("--dump-on fatal: the host ended with status %d without an AEX stop, nothing was dumped", status))
		}
		return
	}
	r := d.last
	d.last = nil
	if d.mode == "fatal" && status == 0 {
		os.Remove(r.File)
		return
	}
	f, err := debugger.CreateCoreFile(filepath.Dir(r.File), r.Pid)
	if err == nil {
		f.Close()
		err = os.Rename(r.File, f.Name())
	}
	if err != nil {
		out.result("dump", nil, fmt.Errorf("dump: keep %s: %w", r.File, err))
		return
	}
	r.File = f.Name()
	if r.Image != "" {
		r.GDB = debugger.GDBCommand(r.Image, r.File)
	}
	out.result("dump", r, nil)
}

type inspectOptions struct {
	json     bool
	events   int
	enclaves []string
}

func newInspectCmd() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [flags] FILE",
		Short: "Print a post-mortem report of an enclave core file",
		Long: `inspect prints what a core file written by sgxdbg says about the crash:
the enclaves (SECS, MRENCLAVE, MRSIGNER, TCS), for every TCS with SSA frames
in use each frame decoded (vector, exit type, MADDR, ERRCD in words), the
enclave's real registers beside the synthetic ones the OS saw (for the
stopped thread), the faulting instruction with its source line, the
backtrace, the last events of the timeline, and the gdb command line that
opens the core. With --json it is one JSON object.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runInspect(cmd, o, args[0]) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	f.IntVar(&o.events, "events", 20, "show the last `N` events (0: none, -1: all)")
	f.StringArrayVar(&o.enclaves, "enclave", nil, "enclave ELF `image` for symbols")
	return cmd
}

// InspectReport is inspect's report; its JSON form is the --json output.
type InspectReport struct {
	File     string                   `json:"file"`
	Pid      int                      `json:"pid"`
	Tid      int                      `json:"tid"`
	Signal   string                   `json:"signal,omitempty"`
	Stop     target.Event             `json:"stop"`
	Enclaves *debugger.EnclavesResult `json:"enclaves"`
	Stack    *debugger.StackResult    `json:"stack,omitempty"` // stacks and heaps: the deepest bytes written
	Threads  []InspectThread          `json:"threads"`
	Events   []target.Event           `json:"events"`
	GDB      string                   `json:"gdb,omitempty"`
	Errors   map[string]string        `json:"errors,omitempty"`
}

// InspectThread is one TCS with SSA frames in use.
type InspectThread struct {
	TCS       debugger.Hex              `json:"tcs"`
	Event     target.Event              `json:"event"` // the AEX that wrote its newest frame
	SSA       *debugger.SSAResult       `json:"ssa,omitempty"`
	Regs      *debugger.RegsResult      `json:"regs,omitempty"`
	Fault     *debugger.DisasLine       `json:"fault,omitempty"`
	Backtrace *debugger.BacktraceResult `json:"backtrace,omitempty"`
	Errors    map[string]string         `json:"errors,omitempty"`
}

func runInspect(cmd *cobra.Command, o inspectOptions, file string) error {
	if err := checkEnclaveImages(o.enclaves); err != nil {
		return err
	}
	c, err := coredump.Open(file)
	if err != nil {
		return err
	}
	defer c.Close()
	rep, err := inspect(c, file, o)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", file, err)
	}
	out := &printer{w: cmd.OutOrStdout(), json: o.json}
	out.line(rep, rep.Text())
	return nil
}

// inspect builds the report: one session over the core's stop for the
// enclaves, the events and the stopped TCS, and one per other TCS with
// frames in use (focused on its last AEX).
func inspect(c *coredump.Core, file string, o inspectOptions) (*InspectReport, error) {
	rep := &InspectReport{File: file, Pid: c.Pid, Tid: c.Tid, Stop: c.Stop, Errors: map[string]string{}}
	if c.Signal != 0 {
		rep.Signal = unix.SignalName(c.Signal)
	}
	stop := corefile.NewStop(c)
	focus := []uint64{}
	if c.Stop.TCS != 0 {
		focus = append(focus, c.Stop.TCS)
	}
	for _, t := range c.TCS {
		if t.TCS.CSSA > 0 && t.Addr != c.Stop.TCS {
			focus = append(focus, t.Addr)
		}
	}
	s, err := coreSession(c, stop, o.enclaves)
	if err != nil {
		return nil, err
	}
	if r, err := s.Exec("info enclaves"); err != nil {
		rep.Errors["enclaves"] = err.Error()
	} else {
		rep.Enclaves = r.(*debugger.EnclavesResult)
	}
	if r, err := s.Exec("info stack"); err != nil {
		rep.Errors["stack"] = err.Error()
	} else {
		rep.Stack = r.(*debugger.StackResult)
	}
	evCmd := "events"
	if o.events >= 0 {
		evCmd = fmt.Sprintf("events %d", o.events)
	}
	if r, err := s.Exec(evCmd); err != nil {
		rep.Errors["events"] = err.Error()
	} else {
		rep.Events = r.(*debugger.EventsResult).Events
	}
	if main := c.Enclave(c.Entry); main != nil {
		if im := s.Image(main.Base); im != nil {
			path := im.Path
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			rep.GDB = debugger.GDBCommand(path, file)
		}
	}
	s.Kill()
	s.Close()
	for _, tcs := range focus {
		st, err := stop.At(tcs)
		if err != nil {
			rep.Errors[fmt.Sprintf("tcs %#x", tcs)] = err.Error()
			continue
		}
		s, err := coreSession(c, st, o.enclaves)
		if err != nil {
			return nil, err
		}
		rep.Threads = append(rep.Threads, inspectTCS(s, tcs, st.Event()))
		s.Kill()
		s.Close()
	}
	if len(rep.Errors) == 0 {
		rep.Errors = nil
	}
	return rep, nil
}

// inspectTCS runs the views on a session stopped at one TCS.
func inspectTCS(s *debugger.Session, tcs uint64, ev target.Event) InspectThread {
	t := InspectThread{TCS: debugger.Hex(tcs), Event: ev, Errors: map[string]string{}}
	view := func(name, line string) debugger.Result {
		r, err := s.Exec(line)
		if err != nil {
			t.Errors[name] = err.Error()
			return nil
		}
		return r
	}
	if r := view("ssa", "ssa"); r != nil {
		t.SSA = r.(*debugger.SSAResult)
	}
	if r := view("regs", "regs"); r != nil {
		t.Regs = r.(*debugger.RegsResult)
	}
	if r := view("fault", "disas"); r != nil {
		for _, l := range r.(*debugger.DisasResult).Lines {
			if l.Current {
				t.Fault = &l
			}
		}
	}
	if r := view("backtrace", "bt"); r != nil {
		t.Backtrace = r.(*debugger.BacktraceResult)
	}
	if len(t.Errors) == 0 {
		t.Errors = nil
	}
	return t
}

// Text renders the report in sections.
func (r *InspectReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "core file %s: host pid %d, thread %d stopped at\n  %s\n", r.File, r.Pid, r.Tid, r.Stop.String())
	if r.Signal != "" {
		fmt.Fprintf(&b, "  the host was about to get %s\n", r.Signal)
	}
	if r.Enclaves != nil {
		b.WriteString("\n" + r.Enclaves.Text() + "\n")
	}
	if r.Stack != nil && len(r.Stack.Regions) > 0 {
		b.WriteString("\n== stacks and heap ==\n" + r.Stack.Text() + "\n")
	}
	for _, t := range r.Threads {
		fmt.Fprintf(&b, "\n== TCS %#x: SSA frame %d written by the %s AEX of thread %d ==\n", uint64(t.TCS), t.Event.SSA, t.Event.VectorName(), t.Event.Tid)
		if t.SSA != nil {
			b.WriteString(t.SSA.Text() + "\n")
		}
		if t.Regs != nil {
			b.WriteString("\n" + t.Regs.Text() + "\n")
		}
		if t.Fault != nil {
			fmt.Fprintf(&b, "\nfaulting instruction:\n%s\n", (&debugger.DisasResult{Lines: []debugger.DisasLine{*t.Fault}}).Text())
		}
		if t.Backtrace != nil {
			b.WriteString("\nbacktrace:\n" + t.Backtrace.Text() + "\n")
		}
		for _, k := range sortedKeys(t.Errors) {
			fmt.Fprintf(&b, "%s: %s\n", k, t.Errors[k])
		}
	}
	if len(r.Events) > 0 {
		fmt.Fprintf(&b, "\n== last %d events ==\n%s\n", len(r.Events), (&debugger.EventsResult{Events: r.Events}).Text())
	}
	for _, k := range sortedKeys(r.Errors) {
		fmt.Fprintf(&b, "%s: %s\n", k, r.Errors[k])
	}
	if r.GDB != "" {
		fmt.Fprintf(&b, "\nopen in gdb: %s\n", r.GDB)
	} else {
		b.WriteString("\nopen in gdb: gdb ENCLAVE.elf " + r.File + " (no enclave image matched: pass --enclave to name it)\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
