package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/debugger"
	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/internal/inputfile"
	"github.com/sgxdbg/sgxdbg/tui"
)

type execOptions struct {
	backend    string
	batch      string
	cmds       string
	json       bool
	stopOn     []string
	enclaves   []string
	dumpOn     string
	noTUI      bool
	breaks     []string
	sourceDirs []string
	cpu        cpuOptions
	output     string // -o: events and results
	force      bool
	hostOut    string // --host-output: the host's stdout and stderr
	tty        bool   // the TUI gives the host the terminal as its stdin
}

func newExecCmd() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [flags] -- HOST [ARGS...]",
		Short: "Run a host program under the debugger",
		Long: `exec runs HOST under sgxdbg and stops where the stop policy says (by
default at every AEX). At each stop it runs commands: from --batch FILE or
-x 'cmd; cmd' in order (a command that resumes the host ends the stop; when
the script is used up the host continues), or interactively: in the
terminal UI when stdin and stdout are terminals (the host's output then
appears in its console pane, and is printed again when you leave), else
(or with --no-tui) at a line prompt. sgxdbg exits with the host's status.

With --json, stdout carries JSON Lines only: {"event":...} for the
timeline, {"stop":{...}} where the host stopped, {"command":"...",
"result":{...}} or {"command":"...","error":"...","code":"..."}, and the
host's own output as {"output":{"stream":"stdout","text":"..."}}
(docs/json.md has the schema). --host-output FILE sends the host's stdout
and stderr to FILE instead; -o FILE writes events and results to FILE
instead of stdout (as emulate's -o). Both imply the line prompt.

With --dump-on, core files are written unattended, with the dump
command's default names (sgxdbg-PID-N.core): "aex" at every AEX stop,
before the script runs; "fatal" at the last AEX before the host dies of a
signal or exits with a non-zero status (every AEX is dumped to a temporary
file and only the last one is kept, only if the host ends badly); "exit"
at the last stop before the host ends, whatever its status (the enclave is
gone at the exit itself; add --stop-on eexit to stop after each ecall).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(cmd.Flags().Changed("dump-on")); err != nil {
				return err
			}
			return runExec(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.backend, "backend", "auto", "`auto` or emu: the emulator (no hardware backend yet; auto says so where /dev/sgx_enclave exists)")
	f.StringVar(&o.batch, "batch", "", "run the commands of `FILE` at the stops")
	f.StringVarP(&o.cmds, "execute", "x", "", "run these `commands` (separated by ;) at the stops")
	f.BoolVar(&o.json, "json", false, "print events and results as JSON lines")
	f.StringArrayVar(&o.stopOn, "stop-on", nil, "stop policy `words` (aex [VECTORS], eenter, eexit, eresume, all, none)")
	f.StringArrayVar(&o.enclaves, "enclave", nil, "enclave ELF `image` for symbols (host arguments are tried too)")
	f.StringVar(&o.dumpOn, "dump-on", "", "write core files at every `aex`, at the AEX before a fatal end (fatal), or at the last stop (exit)")
	f.BoolVar(&o.noTUI, "no-tui", false, "use the line prompt even on a terminal")
	f.StringArrayVar(&o.breaks, "break", nil, "set a breakpoint at `LOCATION` before the host runs (FUNCTION, FILE:LINE, *ADDR)")
	f.StringArrayVar(&o.sourceDirs, "source-dir", nil, "search `DIR` for source files too (after each unit's compilation directory)")
	o.cpu.addFlags(f)
	f.StringVarP(&o.output, "output", "o", "", "write events and results to `FILE` instead of stdout")
	f.BoolVar(&o.force, "force", false, "replace the -o or --host-output file if it exists")
	f.StringVar(&o.hostOut, "host-output", "", "write the host's stdout and stderr to `FILE`")
	f.BoolVar(&o.tty, "tty", false, "in the terminal UI, give the host the terminal as its stdin (default /dev/null)")
	registerExecCompletions(cmd)
	return cmd
}

// backendFor picks the backend by name ("auto" picks one); the emulator
// gets the processor c.
func backendFor(name string, stderr io.Writer, c emuConfig) (target.Backend, error) {
	var eo emu.Options
	c.apply(&eo)
	backends := map[string]target.Backend{"emu": emu.BackendWith(eo)}
	switch name {
	case "auto":
		if _, err := os.Stat(emu.DevicePath); err == nil {
			fmt.Fprintf(stderr, "sgxdbg: %s exists, but the hardware backend is not implemented yet: using the emulator\n", emu.DevicePath)
		}
		return backends["emu"], nil
	case "hw":
		return target.Backend{}, errors.New("the hardware backend is not implemented yet; use --backend emu")
	}
	if b, ok := backends[name]; ok {
		return b, nil
	}
	return target.Backend{}, fmt.Errorf("unknown backend %q (auto, emu or hw)", name)
}

// printer writes events and results, in order, as text or JSON lines.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	// sync, if set, runs before a stop or the exit event is written: it
	// emits the host's output written before them.
	sync func(ended bool)
}

func (p *printer) line(v any, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, err := json.Marshal(v)
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": err.Error()})
		}
		p.w.Write(append(b, '\n'))
		return
	}
	fmt.Fprintln(p.w, text)
}

func (p *printer) event(ev target.Event) {
	if p.json {
		if ev.Kind == target.EvExit && p.sync != nil {
			p.sync(true)
		}
		p.line(ev, "")
	}
}

func (p *printer) stop(st debugger.Stopped) {
	if p.sync != nil {
		p.sync(false)
	}
	m := map[string]any{"stop": st.Event}
	text := "stopped: " + st.Event.String()
	if st.Reason != nil {
		m["reason"] = st.Reason
		text += "\n" + st.Reason.Message
	}
	if st.Displays != nil {
		m["displays"] = st.Displays.Displays
		text += "\n" + st.Displays.Text()
	}
	p.line(m, text)
}

// outputLine is the host's output in the JSON stream.
type outputLine struct {
	Output struct {
		Stream string `json:"stream"` // "stdout" or "stderr"
		Text   string `json:"text"`   // as written, newline included
	} `json:"output"`
}

// output writes text the host wrote (JSON only).
func (p *printer) output(stream, text string) {
	var l outputLine
	l.Output.Stream, l.Output.Text = stream, text
	p.line(l, "")
}

func (p *printer) result(cmd string, r debugger.Result, err error) {
	if err != nil {
		p.line(map[string]any{"command": cmd, "error": err.Error(), "code": debugger.Code(err)}, "error: "+err.Error())
		return
	}
	if r == nil {
		return
	}
	p.line(map[string]any{"command": cmd, "result": r}, r.Text())
}

// scriptLine is one command of a batch script with its origin.
type scriptLine struct {
	cmd   string
	where string // "FILE:LINE" or "-x"
}

func loadScript(o execOptions) ([]scriptLine, error) {
	var out []scriptLine
	if o.batch != "" {
		b, err := inputfile.ReadFile(o.batch, inputfile.BatchFile)
		if err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			out = append(out, scriptLine{cmd: l, where: fmt.Sprintf("%s:%d", o.batch, i+1)})
		}
	}
	for _, c := range strings.Split(o.cmds, ";") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, scriptLine{cmd: c, where: "-x"})
		}
	}
	return out, nil
}

func runExec(cmd *cobra.Command, o execOptions, args []string) error {
	cfg, err := o.cpu.config(append(append([]string(nil), o.enclaves...), args[min(1, len(args)):]...))
	if err != nil {
		return err
	}
	backend, err := backendFor(o.backend, cmd.ErrOrStderr(), cfg)
	if err != nil {
		return err
	}
	policy, err := debugger.ParsePolicy(strings.Fields(strings.Join(o.stopOn, " ")))
	if len(o.stopOn) == 0 {
		policy, err = debugger.Policy{}, nil
	}
	if err != nil {
		return err
	}
	script, err := loadScript(o)
	if err != nil {
		return err
	}
	dumps, err := newDumpOn(o.dumpOn)
	if err != nil {
		return err
	}
	interactive := o.batch == "" && o.cmds == ""
	if interactive && !o.noTUI && o.output == "" && o.hostOut == "" && isTerminal(os.Stdin) && isTerminal(os.Stdout) {
		return runTUI(cmd, o, args, backend, policy)
	}
	// A signal kills the host; the loop below then finds its end and
	// cleans up (signals.go).
	sigs := catchSignals(interactive)
	defer sigs.stop()
	out, closeOut, err := execPrinter(cmd, o)
	if err != nil {
		return err
	}
	defer closeOut()
	host, err := newHostOutput(o, out.output)
	if err != nil {
		return err
	}
	defer func() {
		if err := host.close(); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "sgxdbg:", err)
		}
	}()
	out.sync = host.drain
	// At a line prompt on a terminal the host gets a process group of its
	// own: Ctrl-C then reaches sgxdbg alone, which interrupts the host.
	ownGroup := interactive && isTerminal(os.Stdin)
	s, err := debugger.Launch(backend, target.LaunchOptions{Path: args[0], Args: args, Files: host.files, OwnGroup: ownGroup}, debugger.Options{
		Enclaves:   o.enclaves,
		SourceDirs: o.sourceDirs,
		Policy:     policy,
		OnEvent:    out.event,
		Dumper:     coreDumper(cmd.ErrOrStderr()),
	})
	if err != nil {
		host.abort()
		return err
	}
	host.started()
	defer s.Close()
	sigs.watch(s)

	// The prompt goes to stderr when stdout carries JSON lines.
	pw := cmd.OutOrStdout()
	if o.json {
		pw = cmd.ErrOrStderr()
	}
	in := newLineEditor(os.Stdin, pw, cmd.ErrOrStderr(), s.Complete)
	defer in.close()
	next := 0
	// --break, then the script's leading setup commands (break, stop-on, …)
	// run before the host's first stop, as gdb's do before run.
	for _, loc := range o.breaks {
		r, err := s.Exec("break " + loc)
		out.result("break "+loc, r, err)
		if err != nil {
			return fmt.Errorf("--break %s: %w", loc, err)
		}
	}
	for ; next < len(script) && debugger.IsSetup(script[next].cmd); next++ {
		r, err := s.Exec(script[next].cmd)
		out.result(script[next].cmd, r, wrapWhere(script[next], err))
	}
	for {
		st, err := s.Wait()
		if err != nil {
			dumps.discard()
			return fmt.Errorf("exec %s: %w", args[0], err)
		}
		if sig := sigs.caught(); sig != 0 {
			// The signal's kill, not the host's own end: no fatal core.
			dumps.discard()
			return signalExit(cmd.ErrOrStderr(), sig)
		}
		if st.Exited {
			dumps.exit(st.Status, out)
			if !o.json {
				fmt.Fprintf(cmd.ErrOrStderr(), "sgxdbg: host %s\n", st.End)
			}
			// Commands left in the script still run (post-mortem views of
			// the timeline work; the others say the host has exited).
			for ; next < len(script); next++ {
				r, err := s.Exec(script[next].cmd)
				if errors.Is(err, debugger.ErrQuit) {
					break
				}
				out.result(script[next].cmd, r, wrapWhere(script[next], err))
			}
			if st.Status != 0 {
				return exitCode(st.Status)
			}
			return nil
		}
		out.stop(st)
		dumps.stop(s, st.Event, out)
		if interactive {
			if quit := prompt(s, in, out, sigs.done); quit {
				dumps.discard()
				return exitCode(130)
			}
			continue
		}
		resumed := false
		for next < len(script) && !resumed && sigs.caught() == 0 {
			line := script[next]
			next++
			r, err := s.Exec(line.cmd)
			if errors.Is(err, debugger.ErrQuit) {
				dumps.discard()
				return exitCode(130)
			}
			out.result(line.cmd, r, wrapWhere(line, err))
			resumed = !s.IsStopped()
		}
		if !resumed && s.IsStopped() && sigs.caught() == 0 {
			r, err := s.Exec("continue")
			out.result("continue", r, err)
		}
	}
}

func wrapWhere(l scriptLine, err error) error {
	if err == nil || l.where == "-x" {
		return err
	}
	return fmt.Errorf("%s: %w", l.where, err)
}

// prompt reads commands at a stop until one resumes the host. It returns
// true when the user quit. It also returns when the host dies at the stop
// (the caller's Wait then reaps it) or a signal ends the session (done).
func prompt(s *debugger.Session, in *lineEditor, out *printer, done <-chan struct{}) bool {
	if r, err := s.Exec("ssa"); err == nil {
		out.result("ssa", r, nil)
	}
	for s.IsStopped() {
		line, ok, ended := in.next(s, "(sgxdbg) ", done)
		if ended {
			fmt.Fprintln(in.w)
			return false
		}
		if !ok {
			_ = s.Kill()
			return true
		}
		if line == "" {
			continue
		}
		r, err := s.Exec(line)
		if errors.Is(err, debugger.ErrQuit) {
			return true
		}
		out.result(line, r, err)
	}
	return false
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// runTUI runs the session in the terminal UI. The host's output goes to
// the UI's console and is printed again once the terminal is restored.
func runTUI(cmd *cobra.Command, o execOptions, args []string, backend target.Backend, policy debugger.Policy) error {
	hostIO := tui.TerminalHostIO()
	if !o.tty {
		h, err := tui.NewHostIO()
		if err != nil {
			return err
		}
		hostIO = h
	}
	// A signal kills the host and ends the UI (signals.go); its message
	// waits until the terminal is restored.
	sigs := catchSignals(true)
	defer sigs.stop()
	events := tui.NewFeed[target.Event]()
	s, err := debugger.Launch(backend, target.LaunchOptions{Path: args[0], Args: args, Files: hostIO.Files()}, debugger.Options{
		Enclaves:   o.enclaves,
		SourceDirs: o.sourceDirs,
		Policy:     policy,
		OnEvent:    events.Push,
		Dumper:     coreDumper(io.Discard), // no progress line over the UI
	})
	if err != nil {
		hostIO.Close(false)
		return err
	}
	defer s.Close()
	sigs.watch(s)
	oc, err := tui.Run(tui.Config{Session: s, Events: events, Output: hostIO.Output, Title: tui.HostTitle(args), Quit: sigs.done, TTY: o.tty}, os.Stdin, os.Stdout)
	closed := errors.Is(err, tui.ErrTerminalClosed)
	if closed || sigs.caught() != 0 || oc.HeldAtStop || !oc.HostEnded {
		// The host dies with the session; Close reaps it.
		s.Abort()
	}
	hostIO.Close(oc.HostEnded || oc.HeldAtStop)
	if closed {
		// Nobody reads any more: the host's output has nowhere to go.
		return signalExit(io.Discard, unix.SIGHUP)
	}
	hostIO.Replay(cmd.OutOrStdout(), cmd.ErrOrStderr())
	switch sig := sigs.caught(); {
	case sig != 0:
		return signalExit(cmd.ErrOrStderr(), sig)
	case err != nil:
		return err
	case oc.Quit || !oc.HostEnded:
		return exitCode(130)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "sgxdbg: host %s\n", oc.End)
	if oc.Status != 0 {
		return exitCode(oc.Status)
	}
	return nil
}
