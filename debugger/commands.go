package debugger

import (
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
		{Name: "help", Aliases: []string{"h"}, Usage: "help [COMMAND]", Help: "List the commands, or explain one.", local: true, run: cmdHelp},
		{Name: "info", Aliases: []string{"i"}, Usage: "info enclaves|tcs|threads",
			Help: "Show enclaves (SECS, MRENCLAVE, TCS), every TCS (state, CSSA/NSSA) or the host's threads.", run: cmdInfo},
		{Name: "ssa", Usage: "ssa [N]", Help: "Decode the SSA frames 0..CSSA-1 of the stopped TCS (or frame N).\nVector, exit type, fault address and error code in words, real registers, the INT3 quirk.", run: cmdSSA},
		{Name: "regs", Aliases: []string{"r"}, Usage: "regs", Help: "The enclave's real registers (newest SSA frame) beside the synthetic ones the OS sees.\nDifferences are marked; the synthetic state is checked against the architecture.", run: cmdRegs},
		{Name: "disas", Aliases: []string{"d"}, Usage: "disas [ADDR] [N]", Help: "Disassemble enclave code around the faulting instruction (or ADDR), with symbols and source lines.", run: cmdDisas},
		{Name: "bt", Aliases: []string{"backtrace"}, Usage: "bt", Help: "Backtrace of the enclave stack at the newest SSA frame (CFI, frame pointers as fallback).", run: cmdBT},
		{Name: "x", Usage: "x/NFU ADDR", Help: "Examine memory: N units of U (b,h,w,g) in format F (x,d,u,s,i).\nEnclave memory is read through EDBGRD; ADDR may be a number, SYMBOL[+OFF] or ssa.REG.", run: cmdExamine},
		{Name: "events", Usage: "events [N]", Help: "Show the last N events of the timeline (all by default).", local: true, run: cmdEvents},
		{Name: "dump", Usage: "dump [--force] [FILE]", Help: "Write an ELF core file of every enclave (EDBGRD), its TCS, SSA frames and the timeline (mode 0600).\nThe default FILE is sgxdbg-PID-N.core; open it with `sgxdbg core FILE` or gdb ENCLAVE.elf FILE.\nFILE must not exist unless --force is given (it is then replaced whole); a symbolic link is never followed or replaced.", run: cmdDump},
		{Name: "stop-on", Usage: "stop-on aex [VECTORS]|eenter|eexit|eresume|enclu-fault|all|none ...", Help: "Choose where to stop; with no words, show the current policy.\nenclu-fault stops where an EENTER or ERESUME fails an SDM check (TCS busy, CSSA >= NSSA, ...).", local: true, run: cmdStopOn},
		{Name: "eresume", Resumes: true, Usage: "eresume", Help: "ERESUME the enclave from its newest SSA frame, without telling the host.", run: cmdEresume},
		{Name: "eenter-handler", Aliases: []string{"handler"}, Usage: "eenter-handler [--abi samples|intel-sdk|raw] [--rdi V] [--rsi V] [--rdx V]",
			Help: "EENTER the enclave's exception path on the same TCS and run it to its EEXIT.\nThen show which SSA fields the handler changed; the thread stays at the AEX.", run: cmdHandler},
		{Name: "teardown", Usage: "teardown", Help: "Destroy the enclave as a lost enclave looks to the host (pages and mappings gone, fd closed).\nThe host's pending exception is then delivered, and its runtime sees the loss.", run: cmdTeardown},
		{Name: "skip", Usage: "skip", Help: "Advance the newest SSA frame's RIP past the faulting instruction (then eresume).", run: cmdSkip},
		{Name: "set", Usage: "set ssa.REG VALUE", Help: "Change a register of the newest SSA frame (EDBGWR).\nVALUE is a number, SYMBOL[+OFF] or ssa.REG.", run: cmdSet},
		{Name: "write", Usage: "write ADDR HEXBYTES", Help: "Write bytes into enclave memory (EDBGWR).", run: cmdWrite},
		{Name: "step", Aliases: []string{"s", "si"}, Resumes: true, Usage: "step", Help: "Run one enclave instruction (DBGOPTIN and TF), then stop at its #DB.", run: cmdStep},
		{Name: "continue", Aliases: []string{"c"}, Resumes: true, Usage: "continue", Help: "Let the host go on as it would without a debugger (it gets the AEX's signal).", run: cmdContinue},
		{Name: "kill", Resumes: true, Usage: "kill", Help: "Kill the host.", local: true, run: cmdKill},
		{Name: "quit", Aliases: []string{"q"}, Resumes: true, Usage: "quit", Help: "Kill the host and leave.", local: true, run: cmdQuit},
	}
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
		return nil, usage("info enclaves|tcs|threads")
	}
	switch args[0] {
	case "enclaves", "enclave", "e":
		return s.atStop(s.viewEnclaves)
	case "tcs":
		return s.atStop(s.viewTCS)
	case "threads", "thread", "t":
		return s.atStop(s.viewThreads)
	}
	return nil, errorf(ErrUsage, "info: unknown subject %q (enclaves, tcs or threads)", args[0])
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

func cmdRegs(s *Session, _ []string) (Result, error) { return s.atStop(s.viewRegs) }

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
// or ssa.REG of the newest SSA frame.
func (s *Session) parseAddr(st target.Stop, w string) (uint64, error) {
	if v, err := strconv.ParseUint(w, 0, 64); err == nil {
		return v, nil
	}
	if reg, ok := strings.CutPrefix(w, "ssa."); ok {
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
	return 0, errorf(ErrNoSymbol, "%q is not an address, a symbol of a matched enclave image, or ssa.REG", w)
}

func cmdExamine(s *Session, args []string) (Result, error) {
	if len(args) != 2 || !strings.HasPrefix(args[0], "/") {
		return nil, usage("x/NFU ADDR (e.g. x/8xg 0x7f0000001000, x/s msg, x/4i ssa.rip)")
	}
	count, format, size, err := parseFormat(args[0][1:])
	if err != nil {
		return nil, err
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		addr, err := s.parseAddr(st, args[1])
		if err != nil {
			return nil, err
		}
		return s.viewMemory(st, count, format, size, addr)
	})
}

func parseFormat(f string) (count int, format string, size int, err error) {
	count, format, size = 1, "x", 8
	i := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	if i > 0 {
		count, _ = strconv.Atoi(f[:i])
	}
	if count <= 0 || count > 4096 {
		return 0, "", 0, errorf(ErrUsage, "x: count %q out of range (1..4096)", f[:i])
	}
	for _, c := range f[i:] {
		switch c {
		case 'x', 'd', 'u', 's', 'i':
			format = string(c)
		case 'b':
			size = 1
		case 'h':
			size = 2
		case 'w':
			size = 4
		case 'g':
			size = 8
		default:
			return 0, "", 0, errorf(ErrUsage, "x: unknown format letter %q (formats x d u s i, units b h w g)", c)
		}
	}
	return count, format, size, nil
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
		inHandler := st.InHandler()
		if err := st.ERESUME(false); err != nil {
			return nil, fmt.Errorf("eresume: %w", err)
		}
		if !inHandler {
			return &ActionResult{Action: "eresume", Message: msg}, nil
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

func cmdStep(s *Session, _ []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		if err := needAEX(st); err != nil {
			return nil, err
		}
		ts, f, err := s.stopFrame(st)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.stepping[ts.addr] = true
		s.mu.Unlock()
		if err := st.ERESUME(true); err != nil {
			s.mu.Lock()
			delete(s.stepping, ts.addr)
			s.mu.Unlock()
			return nil, fmt.Errorf("step: %w", err)
		}
		return &ActionResult{Action: "step", Message: fmt.Sprintf("stepping TCS %#x from %#x (DBGOPTIN set)", ts.addr, f.GPR.RIP)}, nil
	})
}

func cmdContinue(s *Session, _ []string) (Result, error) {
	return s.atStop(func(st target.Stop) (Result, error) {
		switch {
		case s.stepDone:
			// The #DB of our own step is the debugger's, not the host's.
			if err := st.ERESUME(false); err != nil {
				return nil, err
			}
			return &ActionResult{Action: "continue", Message: "ERESUME after the step"}, nil
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

func cmdSet(s *Session, args []string) (Result, error) {
	if len(args) != 2 || !strings.HasPrefix(args[0], "ssa.") {
		return nil, usage("set ssa.REG VALUE")
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		// A number, SYMBOL[+OFF] of a matched image, or another ssa.REG.
		v, err := s.parseAddr(st, args[1])
		if err != nil {
			return nil, errorf(ErrNoSymbol, "set: value %q is not a number, a symbol or ssa.REG", args[1])
		}
		return s.writeSSAReg(st, strings.ToLower(strings.TrimPrefix(args[0], "ssa.")), v)
	})
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
