package debugger

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// Command is one entry of the command language.
type Command struct {
	Name    string
	Aliases []string
	Usage   string
	Help    string // first line is the summary
	// Resumes marks commands that let the host run (the stop ends).
	Resumes bool
	// local commands do not use the backend (they answer while the host
	// runs); the others run on the backend's thread.
	local bool
	// setup commands also make sense before the host's first stop (a
	// script's leading setup commands run before the host goes on).
	setup bool
	run   func(s *Session, args []string) (Result, error)
}

// Summary is the first line of the help.
func (c *Command) Summary() string {
	line, _, _ := strings.Cut(c.Help, "\n")
	return line
}

// ErrQuit is returned by the quit command.
var ErrQuit = errors.New("quit")

var commands []*Command

func init() {
	commands = []*Command{
		{Name: "help", setup: true, Aliases: []string{"h"}, Usage: "help [COMMAND]", Help: "List the commands, or explain one.", local: true, run: cmdHelp},
		{Name: "info", Aliases: []string{"i"}, Usage: "info enclaves|tcs|threads|breakpoints|cpu|args|locals|frame|registers|all-registers|stack",
			Help: "Show enclaves (SECS, MRENCLAVE, TCS), every TCS (state, CSSA/NSSA), the host's threads, the breakpoints,\nthe emulated processor (model, how CPUID is caught, CPUID leaves 7 and 12H),\nthe selected frame's arguments, locals, frame (CFA, caller), registers (all-registers: with SSE, AVX, x87),\nor stack (every TCS's stack and the heap: size, RSP, the deepest byte ever written, from the image's initial contents).", run: cmdInfo},
		{Name: "print", Aliases: []string{"p", "inspect"}, Usage: "print [/x|/d|/u|/t|/o] EXPR",
			Help: "Evaluate a C expression in the selected frame (DWARF: locals, arguments, globals, *p, a[i], s.f, p->f, &x, casts, $rax…).\nEnclave memory through EDBGRD; $xmm0-15, $ymm0-15, $mxcsr, $st0-7 from the SSA frame's XSAVE area.", run: cmdPrint},
		{Name: "ptype", Usage: "ptype EXPR|TYPE", Help: "Show the C type of an expression or a type name, expanded.", run: cmdPType("ptype")},
		{Name: "whatis", Usage: "whatis EXPR|TYPE", Help: "Show the C type of an expression or a type name.", run: cmdPType("whatis")},
		{Name: "display", Usage: "display [EXPR]", Help: "Show EXPR at every stop (without EXPR: show the displays now).", run: cmdDisplay},
		{Name: "undisplay", Usage: "undisplay [N]", Help: "Stop showing display N (all without N).", run: cmdUndisplay},
		{Name: "list", Aliases: []string{"l"}, setup: true, Usage: "list [LOCATION|FIRST,LAST]", Help: "Show source lines around the selected frame's line, or at LOCATION; list again goes on.\nSources are found through the compilation directory and the directory command (--source-dir).", run: cmdList},
		{Name: "directory", Aliases: []string{"dir"}, setup: true, Usage: "directory DIR...", Help: "Search DIR for source files too.", run: cmdDirectory},
		{Name: "thread", Usage: "thread [TID]", Help: "Select the thread whose enclave state the views show (a thread at an AEX: its TCS's newest SSA frame); list the threads.", run: cmdThread},
		{Name: "tcs", Usage: "tcs ADDR|INDEX", Help: "Select the TCS whose SSA frames the views show (ssa, regs, bt, print …).", run: cmdTCS},
		{Name: "frame", Aliases: []string{"f"}, Usage: "frame [N]", Help: "Select frame N of the backtrace (print, info locals, disas and x follow it); show it.", run: cmdFrame},
		{Name: "up", Usage: "up [N]", Help: "Select the frame N (1) levels up (toward the host).", run: cmdUpDown(1)},
		{Name: "down", Usage: "down [N]", Help: "Select the frame N (1) levels down (toward the innermost).", run: cmdUpDown(-1)},
		{Name: "ssa", Usage: "ssa [N]", Help: "Decode the SSA frames 0..CSSA-1 of the stopped TCS (or frame N).\nVector, exit type, fault address and error code in words, real registers, the INT3 quirk.", run: cmdSSA},
		{Name: "regs", Aliases: []string{"r"}, Usage: "regs [--all]", Help: "The enclave's real registers (newest SSA frame) beside the synthetic ones the OS sees.\nDifferences are marked; the synthetic state is checked against the architecture.\nWith --all: every register of the selected frame, with the SSE, AVX and x87 state (info all-registers).", run: cmdRegs},
		{Name: "disas", Aliases: []string{"d"}, Usage: "disas [ADDR] [N]", Help: "Disassemble enclave code around the faulting instruction (or ADDR), with symbols and source lines.", run: cmdDisas},
		{Name: "bt", Aliases: []string{"backtrace"}, Usage: "bt", Help: "Backtrace of the enclave stack at the newest SSA frame (CFI, frame pointers as fallback).", run: cmdBT},
		{Name: "x", Usage: "x[/NFU] [ADDR]", Help: "Examine memory: N units of U (b,h,w,g) in format F (x,d,u,s,i).\nEnclave memory is read through EDBGRD; ADDR may be a number, SYMBOL[+OFF] or ssa.REG.\nAs in gdb, a missing N is 1 and a missing F or U is the last x's (x/1xg at first);\nwithout ADDR, x goes on after the last unit the last x showed.", run: cmdExamine},
		{Name: "events", Usage: "events [N]", Help: "Show the last N events of the timeline (all by default).", local: true, run: cmdEvents},
		{Name: "dump", Usage: "dump [--force] [FILE]", Help: "Write an ELF core file of every enclave (EDBGRD), its TCS, SSA frames and the timeline (mode 0600).\nThe default FILE is sgxdbg-PID-N.core; open it with `sgxdbg core FILE` or gdb ENCLAVE.elf FILE.\nFILE must not exist unless --force is given (it is then replaced whole); a symbolic link is never followed or replaced.", run: cmdDump},
		{Name: "stop-on", setup: true, Usage: "stop-on aex [VECTORS]|eenter|eexit|eresume|enclu-fault|all|none ...", Help: "Choose where to stop; with no words, show the current policy.\nenclu-fault stops where an EENTER or ERESUME fails an SDM check (TCS busy, CSSA >= NSSA, ...).", local: true, run: cmdStopOn},
		{Name: "eresume", Aliases: []string{"e"}, Resumes: true, Usage: "eresume", Help: "ERESUME the enclave from its newest SSA frame, without telling the host.", run: cmdEresume},
		{Name: "eenter-handler", Aliases: []string{"handler"}, Usage: "eenter-handler [--abi samples|intel-sdk|raw] [--rdi V] [--rsi V] [--rdx V]",
			Help: "EENTER the enclave's exception path on the same TCS and run it to its EEXIT.\nThen show which SSA fields the handler changed; the thread stays at the AEX.", run: cmdHandler},
		{Name: "teardown", Usage: "teardown", Help: "Destroy the enclave as a lost enclave looks to the host (pages and mappings gone, fd closed).\nThe host's pending exception is then delivered, and its runtime sees the loss.", run: cmdTeardown},
		{Name: "skip", Usage: "skip", Help: "Advance the newest SSA frame's RIP past the faulting instruction (then eresume).", run: cmdSkip},
		{Name: "set", Usage: "set ssa.REG VALUE | set $REG = VALUE", Help: "Change a register of the newest SSA frame (EDBGWR).\nVALUE is a number, SYMBOL[+OFF] or ssa.REG; $REG (gdb's form) is ssa.REG.", run: cmdSet},
		{Name: "write", Usage: "write ADDR HEXBYTES", Help: "Write bytes into enclave memory (EDBGWR).", run: cmdWrite},
		{Name: "break", setup: true, Aliases: []string{"b", "br"}, Usage: "break [LOCATION] [if EXPR]",
			Help: "Set a breakpoint: an INT3 written through EDBGWR at FUNCTION (after its prologue), FILE:LINE, LINE or *ADDR.\nResolved in every enclave image; pending until an enclave of that image is initialized. A hit is a #BP AEX.", run: cmdBreak(BreakSoftware, false)},
		{Name: "tbreak", setup: true, Usage: "tbreak [LOCATION] [if EXPR]", Help: "Set a breakpoint that is deleted when it first stops.", run: cmdBreak(BreakSoftware, true)},
		{Name: "hbreak", setup: true, Usage: "hbreak [LOCATION] [if EXPR]", Help: "Set a hardware breakpoint (a debug register, DR0-DR3): a hit is a #DB AEX; no byte of the enclave changes.", run: cmdBreak(BreakHardware, false)},
		{Name: "watch", Usage: "watch EXPR|*ADDR[,LEN]", Help: "Stop when the enclave writes a new value to EXPR (1, 2, 4 or 8 aligned bytes; a debug register).\nThe stop shows the old and new value; a hit is a #DB AEX after the writing instruction.", run: cmdWatch(WatchWrite)},
		{Name: "rwatch", Usage: "rwatch EXPR|*ADDR[,LEN]", Help: "Stop when the enclave reads EXPR (an access watchpoint whose hits leave the value unchanged).", run: cmdWatch(WatchRead)},
		{Name: "awatch", Usage: "awatch EXPR|*ADDR[,LEN]", Help: "Stop when the enclave reads or writes EXPR.", run: cmdWatch(WatchAccess)},
		{Name: "delete", setup: true, Usage: "delete [N...]", Help: "Delete breakpoints N... (all without numbers).", run: cmdDelete},
		{Name: "disable", setup: true, Usage: "disable [N...]", Help: "Disable breakpoints N... (all without numbers).", run: cmdEnable(false)},
		{Name: "enable", setup: true, Usage: "enable [N...]", Help: "Enable breakpoints N... (all without numbers).", run: cmdEnable(true)},
		{Name: "condition", setup: true, Usage: "condition N [EXPR]", Help: "Stop at breakpoint N only when EXPR (C, in the hit's frame) is non-zero; without EXPR, always.", run: cmdCondition},
		{Name: "ignore", setup: true, Usage: "ignore N COUNT", Help: "Let breakpoint N pass its next COUNT hits.", run: cmdIgnore},
		{Name: "stepi", Aliases: []string{"si"}, Resumes: true, Usage: "stepi [N]", Help: "Run N enclave instructions (DBGOPTIN and TF), stopping at the #DB of the last.\nWorks at AEX, breakpoint, EENTER and ERESUME stops; an EEXIT on the way ends it.", run: cmdMotion(motionStepi)},
		{Name: "nexti", Aliases: []string{"ni"}, Resumes: true, Usage: "nexti [N]", Help: "Like stepi, but a CALL runs to its return.", run: cmdMotion(motionNexti)},
		{Name: "step", Aliases: []string{"s"}, Resumes: true, Usage: "step [N]", Help: "Run to the next source line, into calls that have line information.", run: cmdMotion(motionStep)},
		{Name: "next", Aliases: []string{"n"}, Resumes: true, Usage: "next [N]", Help: "Run to the next source line of this function, over calls (and the OCALLs they make).", run: cmdMotion(motionNext)},
		{Name: "finish", Aliases: []string{"fin"}, Resumes: true, Usage: "finish", Help: "Run until the current function returns; print its return value (RAX, by its DWARF type).", run: cmdMotion(motionFinish)},
		{Name: "until", Aliases: []string{"u"}, Resumes: true, Usage: "until [LOCATION]", Help: "Like next, but never back to an earlier line (out of a loop); with LOCATION, run to it or to this frame's return.", run: cmdMotion(motionUntil)},
		{Name: "advance", Resumes: true, Usage: "advance LOCATION", Help: "Run to LOCATION, or to this frame's return.", run: cmdMotion(motionAdvance)},
		{Name: "continue", Aliases: []string{"c"}, Resumes: true, Usage: "continue", Help: "Let the host go on as it would without a debugger (it gets the AEX's signal).", run: cmdContinue},
		{Name: "kill", Resumes: true, Usage: "kill", Help: "Kill the host.", local: true, run: cmdKill},
		{Name: "quit", Aliases: []string{"q"}, Resumes: true, Usage: "quit", Help: "Kill the host and leave.", local: true, run: cmdQuit},
	}
}

// IsSetup reports whether line is a command that makes sense before the
// host's first stop (breakpoints, the stop policy, source directories).
func IsSetup(line string) bool {
	words := strings.Fields(line)
	if len(words) == 0 {
		return false
	}
	c := lookup(words[0])
	return c != nil && (c.setup || c.Name == "info" && len(words) == 2 && strings.HasPrefix("breakpoints", words[1]))
}

// Commands returns the command table.
func Commands() []*Command { return commands }

func lookup(name string) *Command {
	for _, c := range commands {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// Exec runs one command line. It returns ErrQuit for quit.
func (s *Session) Exec(line string) (Result, error) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil, errorf(ErrUsage, "empty command")
	}
	name, args := words[0], words[1:]
	if strings.HasPrefix(name, "x/") {
		name, args = "x", append([]string{strings.TrimPrefix(name, "x")}, args...)
	}
	// print/FMT, p/FMT: the format goes first, as print takes it.
	if n, f, ok := strings.Cut(name, "/"); ok && lookup(n) != nil && lookup(n).Name == "print" {
		name, args = n, append([]string{"/" + f}, args...)
	}
	c := lookup(name)
	if c == nil {
		return nil, errorf(ErrUnknownCommand, "unknown command %q (try help)", words[0])
	}
	if c.local {
		return c.run(s, args)
	}
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if running {
		return nil, fmt.Errorf("%s: the host is running: %w", c.Name, ErrNotStopped)
	}
	var r Result
	err := s.p.Do(func() error {
		var err error
		r, err = c.run(s, args)
		err = s.diedUnder(c.Name, err) // death.go
		s.setStop(s.cur)
		return err
	})
	return r, err
}

// HelpResult lists commands.
type HelpResult struct {
	Commands []HelpEntry `json:"commands"`
}

// HelpEntry is one command's help.
type HelpEntry struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Usage   string   `json:"usage"`
	Help    string   `json:"help"`
}

// Text renders usage and summary (the whole help for one command).
func (r *HelpResult) Text() string {
	var b strings.Builder
	for _, c := range r.Commands {
		if len(r.Commands) == 1 {
			fmt.Fprintf(&b, "%s\n%s", c.Usage, c.Help)
			if len(c.Aliases) > 0 {
				fmt.Fprintf(&b, "\naliases: %s", strings.Join(c.Aliases, ", "))
			}
			return b.String()
		}
		line, _, _ := strings.Cut(c.Help, "\n")
		fmt.Fprintf(&b, "%-24s %s\n", c.Usage, line)
	}
	return strings.TrimRight(b.String(), "\n")
}

func cmdHelp(_ *Session, args []string) (Result, error) {
	r := &HelpResult{}
	for _, c := range commands {
		if len(args) > 0 && lookup(args[0]) != c {
			continue
		}
		r.Commands = append(r.Commands, HelpEntry{Name: c.Name, Aliases: c.Aliases, Usage: c.Usage, Help: c.Help})
	}
	if len(r.Commands) == 0 {
		return nil, errorf(ErrUnknownCommand, "help: no command %q", args[0])
	}
	return r, nil
}

// atStop runs a view or an action on the current stop. Backend thread.
func (s *Session) atStop(f func(target.Stop) (Result, error)) (Result, error) {
	switch {
	case s.Exited():
		return nil, ErrExited
	case s.cur == nil || s.cur.Resumed():
		return nil, ErrNotStopped
	}
	return f(s.cur)
}

func cmdInfo(s *Session, args []string) (Result, error) {
	if len(args) != 1 {
		return nil, usage("info enclaves|tcs|threads|breakpoints|cpu|args|locals|frame|registers|all-registers|stack")
	}
	switch args[0] {
	case "breakpoints", "breakpoint", "break", "b", "watchpoints":
		return s.viewBreakpoints()
	case "args":
		return s.atStop(func(st target.Stop) (Result, error) { return s.viewVars(st, true) })
	case "locals":
		return s.atStop(func(st target.Stop) (Result, error) { return s.viewVars(st, false) })
	case "frame":
		return cmdInfoFrame(s)
	case "registers", "register", "reg", "r":
		return s.atStop(s.viewRegs)
	case "stack", "heap":
		return s.atStop(s.viewStack)
	case "all-registers":
		return s.atStop(func(st target.Stop) (Result, error) { return s.viewRegisters(st, true) })
	case "enclaves", "enclave", "e":
		return s.atStop(s.viewEnclaves)
	case "tcs":
		return s.atStop(s.viewTCS)
	case "threads", "thread", "t":
		return s.atStop(s.viewThreads)
	case "cpu":
		return s.atStop(s.viewCPU)
	}
	return nil, errorf(ErrUsage, "info: unknown subject %q (enclaves, tcs, threads, breakpoints, cpu, args, locals, frame, registers, all-registers or stack)", args[0])
}

func cmdSSA(s *Session, args []string) (Result, error) {
	which := -1
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return nil, errorf(ErrUsage, "ssa: frame number %q", args[0])
		}
		which = n
	}
	return s.atStop(func(st target.Stop) (Result, error) { return s.viewSSA(st, which) })
}

func cmdRegs(s *Session, args []string) (Result, error) {
	switch {
	case len(args) == 1 && args[0] == "--all":
		return s.atStop(func(st target.Stop) (Result, error) { return s.viewRegisters(st, true) })
	case len(args) > 0:
		return nil, usage("regs [--all]")
	}
	return s.atStop(s.viewRegs)
}

func cmdBT(s *Session, _ []string) (Result, error) { return s.atStop(s.viewBacktrace) }

// maxDisas bounds disas's instruction count, as x/N bounds its units.
const maxDisas = 4096

func cmdDisas(s *Session, args []string) (Result, error) {
	n := 8
	return s.atStop(func(st target.Stop) (Result, error) {
		var addr uint64
		if len(args) > 0 {
			a, err := s.parseAddr(st, args[0])
			if err != nil {
				return nil, err
			}
			addr = a
		}
		if len(args) > 1 {
			v, err := strconv.Atoi(args[1])
			if err != nil || v <= 0 || v > maxDisas {
				return nil, errorf(ErrUsage, "disas: count %q out of range (1..%d)", args[1], maxDisas)
			}
			n = v
		}
		return s.viewDisas(st, addr, n)
	})
}

// parseAddr reads a number, SYMBOL[+OFF] in the stopped enclave's image,
// or ssa.REG (or $REG) of the newest SSA frame.
func (s *Session) parseAddr(st target.Stop, w string) (uint64, error) {
	if v, err := strconv.ParseUint(w, 0, 64); err == nil {
		return v, nil
	}
	reg, ok := strings.CutPrefix(w, "ssa.")
	if !ok {
		reg, ok = strings.CutPrefix(w, "$") // gdb's $rsp
	}
	if ok {
		ts, err := s.stopTCS(st)
		if err != nil {
			return 0, err
		}
		f, err := ts.newest()
		if err != nil {
			return 0, err
		}
		v, ok := ssaReg(&f.GPR, reg)
		if !ok {
			return 0, errorf(ErrNoSymbol, "no SSA register %q", reg)
		}
		return v, nil
	}
	name, offs, _ := strings.Cut(w, "+")
	var off uint64
	if offs != "" {
		v, err := strconv.ParseUint(offs, 0, 64)
		if err != nil {
			return 0, errorf(ErrUsage, "bad offset in %q", w)
		}
		off = v
	}
	for _, e := range st.Enclaves() {
		im := s.Image(e.Base)
		if im == nil {
			continue
		}
		syms, _ := im.Symbols()
		for _, sym := range syms {
			if sym.Name == name {
				return e.Base + sym.Offset + off, nil
			}
		}
	}
	// A C expression of the selected frame: its value is the address (an
	// array or a function: where it is), as gdb's x takes it.
	if sc, _, err := s.scope(st); err == nil {
		if v, err := sc.Eval(w); err == nil {
			if v.InMemory && (isArrayOrFunc(v)) {
				return v.Addr, nil
			}
			if b, err := v.Bytes(); err == nil && len(b) > 0 && len(b) <= 8 {
				var buf [8]byte
				copy(buf[:], b)
				return binary.LittleEndian.Uint64(buf[:]), nil
			}
		}
	}
	return 0, errorf(ErrNoSymbol, "%q is not an address, a symbol of a matched enclave image, ssa.REG, or an expression of the selected frame", w)
}

func cmdEvents(s *Session, args []string) (Result, error) {
	return eventsResult(s, args)
}

// PolicyResult shows the stop policy.
type PolicyResult struct {
	StopOn string `json:"stop_on"`
}

// Text renders the policy.
func (r *PolicyResult) Text() string { return "stopping on: " + r.StopOn }

func cmdStopOn(s *Session, args []string) (Result, error) {
	if len(args) > 0 {
		p, err := ParsePolicy(args)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.policy = p
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &PolicyResult{StopOn: s.policy.String()}, nil
}

// needAEX checks that the current stop is an AEX.
func needAEX(st target.Stop) error {
	if ev := st.Event(); ev.Kind != target.EvAEX {
		return errorf(ErrNotAtAEX, "not stopped at an AEX (stopped at %s)", ev.Kind)
	}
	return nil
}

func cmdEresume(s *Session, _ []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		// At an EENTER or ERESUME stop the thread is inside the enclave:
		// there is nothing to resume (and CSSA may still be > 0).
		if err := needAEX(st); err != nil {
			return nil, err
		}
		ts, _, err := s.stopFrame(st)
		if err != nil {
			return nil, err
		}
		msg := fmt.Sprintf("ERESUME TCS %#x from SSA frame %d", ts.addr, ts.tcs.CSSA-1)
		if !st.InHandler() {
			if err := s.resumeFrom(st, false); err != nil {
				return nil, fmt.Errorf("eresume: %w", err)
			}
			return &ActionResult{Action: "eresume", Message: msg}, nil
		}
		if err := raw(st).ERESUME(false); err != nil {
			return nil, fmt.Errorf("eresume: %w", err)
		}
		// The frame belonged to a handler eenter-handler started: it runs on
		// to its end, and the thread is back at the AEX it started from.
		hs, err := s.pullHandler()
		if err != nil {
			return nil, fmt.Errorf("eresume: %w", err)
		}
		res := hs.Handler()
		if res.Exited {
			s.answer = &HandlerView{Exited: true, RDI: Hex(res.Regs.Rdi), RSI: Hex(res.Regs.Rsi)}
			return &ActionResult{Action: "eresume", Message: msg + fmt.Sprintf(": the handler eenter-handler started ran to its EEXIT (RDI %#x RSI %#x); still stopped at the AEX", res.Regs.Rdi, res.Regs.Rsi)}, nil
		}
		return &ActionResult{Action: "eresume", Message: msg + ": the handler faulted again: " + res.Event.String()}, nil
	})
}

func cmdContinue(s *Session, _ []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		switch {
		case s.own:
			// The debugger's own trap (a breakpoint, a watchpoint, a step's
			// #DB) is not the host's: ERESUME, over a breakpoint if one is
			// at the RIP.
			msg := "ERESUME after the step"
			if s.reason != nil && (s.reason.Kind == "breakpoint" || s.reason.Kind == "watchpoint") {
				msg = "ERESUME past the " + s.reason.Kind
			}
			if err := s.resumeFrom(st, false); err != nil {
				return nil, err
			}
			return &ActionResult{Action: "continue", Message: msg}, nil
		case s.answer != nil && s.answer.Handled:
			// The handler already ran and said handled: the host would
			// ERESUME; delivering the AEX would run the handler again.
			if err := st.ERESUME(false); err != nil {
				return nil, err
			}
			return &ActionResult{Action: "continue", Message: "the handler eenter-handler ran said handled: ERESUME, as the host would"}, nil
		}
		d := st.Pending()
		if err := st.Continue(); err != nil {
			return nil, err
		}
		msg := "continuing"
		switch {
		case s.answer != nil:
			msg = fmt.Sprintf("the handler eenter-handler ran did not say handled (%s): continuing, the host gets the AEX (%s) and answers it itself", s.answer.Status, d)
		case d.VDSO:
			msg = "continuing: the host's vDSO call returns with the exception"
		case d.Signal != 0 && st.Event().Kind == target.EvENCLUFault:
			msg = fmt.Sprintf("continuing: the host gets %s at its ENCLU", d)
		case d.Signal != 0:
			msg = fmt.Sprintf("continuing: the host gets %s at the AEP", d)
		}
		return &ActionResult{Action: "continue", Message: msg}, nil
	})
}

func cmdKill(s *Session, _ []string) (Result, error) {
	if s.Exited() {
		return nil, ErrExited
	}
	if err := s.Kill(); err != nil {
		return nil, err
	}
	return &ActionResult{Action: "kill", Message: "host killed"}, nil
}

func cmdQuit(s *Session, _ []string) (Result, error) {
	if err := s.Kill(); err != nil {
		return nil, err
	}
	return nil, ErrQuit
}

func cmdTeardown(s *Session, _ []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		if err := needAEX(st); err != nil {
			return nil, err
		}
		base := st.Event().Enclave
		evs, err := st.Teardown()
		if err != nil {
			return nil, err
		}
		s.record(evs)
		return &ActionResult{Action: "teardown", Message: fmt.Sprintf("enclave %#x destroyed: its mappings are gone and its file descriptors closed; continue to let the host see the loss", base)}, nil
	})
}

func cmdSkip(s *Session, _ []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) { return s.skip(st) })
}

func cmdWrite(s *Session, args []string) (Result, error) {
	if len(args) < 2 {
		return nil, usage("write ADDR HEXBYTES (e.g. write 0x7f0000001000 2a000000)")
	}
	data, err := hex.DecodeString(strings.Join(args[1:], ""))
	if err != nil || len(data) == 0 {
		return nil, errorf(ErrUsage, "write: %q is not hex bytes", strings.Join(args[1:], " "))
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		addr, err := s.parseAddr(st, args[0])
		if err != nil {
			return nil, err
		}
		return s.writeMemory(st, addr, data)
	})
}

func cmdHandler(s *Session, args []string) (Result, error) {
	abi := ABISamples
	var rdi, rsi, rdx uint64
	for i := 0; i < len(args); i++ {
		flag := args[i]
		if i+1 >= len(args) {
			return nil, errorf(ErrUsage, "eenter-handler: %s needs a value", flag)
		}
		val := args[i+1]
		i++
		switch flag {
		case "--abi":
			abi = ABI(val)
		case "--rdi", "--rsi", "--rdx":
			v, err := strconv.ParseUint(val, 0, 64)
			if err != nil {
				n, err2 := strconv.ParseInt(val, 0, 64)
				if err2 != nil {
					return nil, errorf(ErrUsage, "eenter-handler: %s %q is not a number", flag, val)
				}
				v = uint64(n)
			}
			switch flag {
			case "--rdi":
				rdi = v
			case "--rsi":
				rsi = v
			default:
				rdx = v
			}
			abi = ABIRaw
		default:
			return nil, errorf(ErrUsage, "eenter-handler: unknown flag %q", flag)
		}
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		if err := needAEX(st); err != nil {
			return nil, err
		}
		return s.eenterHandler(st, abi, rdi, rsi, rdx)
	})
}
