package debugger

import (
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
)

// xFormat is an x command's format: N units of U bytes shown as F.
type xFormat struct {
	count  int
	format string // x d u s i
	size   int    // 1 2 4 8
}

// defaultX is x's format before any x ran: one giant word in hex, as
// gdb's x/1xg.
var defaultX = xFormat{count: 1, format: "x", size: 8}

// examined is what the last x showed: its format and the address after
// its last unit, where an x without ADDR goes on.
type examined struct {
	f    xFormat
	next uint64
	ok   bool // an x has run
}

func cmdExamine(s *Session, args []string) (Result, error) {
	fmtArg := ""
	if len(args) > 0 && strings.HasPrefix(args[0], "/") {
		fmtArg, args = args[0][1:], args[1:]
	}
	if len(args) > 1 {
		return nil, usage("x[/NFU] [ADDR] (e.g. x/8xg 0x7f0000001000, x/s msg, x/4i ssa.rip, x ssa.rsp)")
	}
	last := s.lastX
	base := defaultX
	if last.ok {
		base = last.f
	}
	f, err := parseFormat(fmtArg, base)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 && !last.ok {
		return nil, usage("x[/NFU] ADDR: no address (x without ADDR goes on after the last x)")
	}
	if len(args) == 0 && fmtArg == "" {
		// gdb: a bare x repeats the last x's count where it stopped.
		f.count = last.f.count
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		addr := last.next
		if len(args) == 1 {
			a, err := s.parseAddr(st, args[0])
			if err != nil {
				return nil, err
			}
			addr = a
		}
		r, err := s.viewMemory(st, f.count, f.format, f.size, addr)
		if err != nil {
			return nil, err
		}
		s.lastX = examined{f: f, next: r.(*MemoryResult).end(), ok: true}
		return r, nil
	})
}

// end is the address after the last unit shown.
func (r *MemoryResult) end() uint64 {
	switch r.Format {
	case "s":
		return uint64(r.Addr) + uint64(len(r.String)) + 1
	case "i":
		if len(r.Lines) == 0 {
			return uint64(r.Addr)
		}
		l := r.Lines[len(r.Lines)-1]
		return uint64(l.Addr) + uint64(len(strings.Fields(l.Bytes)))
	}
	return uint64(r.Addr) + uint64(len(r.Values)*r.Size)
}

// parseFormat reads NFU; a missing count is 1, a missing format or unit
// is the last x's (base), as in gdb.
func parseFormat(f string, base xFormat) (xFormat, error) {
	out := xFormat{count: 1, format: base.format, size: base.size}
	i := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	if i > 0 {
		out.count, _ = strconv.Atoi(f[:i])
	}
	if out.count <= 0 || out.count > 4096 {
		return xFormat{}, errorf(ErrUsage, "x: count %q out of range (1..4096)", f[:i])
	}
	for _, c := range f[i:] {
		switch c {
		case 'x', 'd', 'u', 's', 'i':
			out.format = string(c)
		case 'b':
			out.size = 1
		case 'h':
			out.size = 2
		case 'w':
			out.size = 4
		case 'g':
			out.size = 8
		default:
			return xFormat{}, errorf(ErrUsage, "x: unknown format letter %q (formats x d u s i, units b h w g)", c)
		}
	}
	return out, nil
}

// setArgs reads set's operands: "ssa.REG VALUE" or gdb's "$REG = VALUE"
// (also "$REG=VALUE"), both naming a register of the newest SSA frame.
func setArgs(args []string) (reg, value string, err error) {
	const u = "set ssa.REG VALUE | set $REG = VALUE"
	line := strings.Join(args, " ")
	if r, ok := strings.CutPrefix(line, "$"); ok {
		name, val, found := strings.Cut(r, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !found || name == "" || val == "" || strings.ContainsAny(name, " \t") || strings.ContainsAny(val, " \t") {
			return "", "", usage(u)
		}
		return strings.ToLower(name), val, nil
	}
	if len(args) != 2 || !strings.HasPrefix(args[0], "ssa.") {
		return "", "", usage(u)
	}
	return strings.ToLower(strings.TrimPrefix(args[0], "ssa.")), args[1], nil
}

func cmdSet(s *Session, args []string) (Result, error) {
	if len(args) > 0 && args[0] == "var" {
		return cmdSetVar(s, args[1:])
	}
	if name, val, ok := strings.Cut(strings.TrimPrefix(strings.Join(args, " "), "$"), "="); ok && strings.HasPrefix(strings.Join(args, " "), "$") &&
		specialReg.MatchString("$"+strings.TrimSpace(name)) {
		return s.atStop(func(st target.Stop) (Result, error) {
			return s.setXSaveRegister(st, strings.TrimSpace(name), strings.TrimSpace(val))
		})
	}
	reg, val, err := setArgs(args)
	if err != nil {
		return nil, err
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		// A number, SYMBOL[+OFF] of a matched image, or another ssa.REG.
		v, err := s.parseAddr(st, val)
		if err != nil {
			return nil, errorf(ErrNoSymbol, "set: value %q is not a number, a symbol or ssa.REG", val)
		}
		return s.writeSSAReg(st, reg, v)
	})
}
