package debugger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/sgxdbg/sgxdbg/debugger/target"
	"github.com/sgxdbg/sgxdbg/enclave/dwarfx"
)

// Source-level views: C expressions, arguments and locals of the selected
// frame, evaluated with DWARF (enclave/dwarfx, over delve's op and godwarf
// packages) against the frame's registers — the SSA frame's GPRSGX at the
// innermost frame, CFI-unwound ones above — and enclave memory through
// EDBGRD.

// scope is the selected frame's evaluation scope.
func (s *Session) scope(st target.Stop) (*dwarfx.Scope, *stackFrame, error) {
	f, err := s.selectedFrame(st)
	if err != nil {
		return nil, nil, err
	}
	prog, err := f.place.program()
	if err != nil {
		return nil, nil, err
	}
	return prog.Scope(f.place.encl.Base, f.dw, readFunc(st)), f, nil
}

// ValueResult is a printed value.
type ValueResult struct {
	Expr  string `json:"expr"`
	Type  string `json:"type,omitempty"`
	Value string `json:"value"`
	Addr  *Hex   `json:"addr,omitempty"` // when the value lives in memory
}

// Text renders gdb's "$N = value" without history numbers: "expr = value".
func (r *ValueResult) Text() string { return r.Value }

// specialReg matches the registers print reads from the SSA's XSAVE area.
var specialReg = regexp.MustCompile(`^\$(xmm([0-9]|1[0-5])|ymm([0-9]|1[0-5])|mxcsr|fctrl|fstat|st([0-7]))$`)

func cmdPrint(s *Session, args []string) (Result, error) {
	expr := strings.TrimSpace(strings.Join(args, " "))
	format := ""
	if strings.HasPrefix(expr, "/") {
		f, rest, _ := strings.Cut(expr, " ")
		format, expr = f[1:], strings.TrimSpace(rest)
	}
	if expr == "" {
		return nil, usage("print [/x|/d|/u|/t] EXPR")
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		if m := specialReg.FindStringSubmatch(expr); m != nil {
			v, err := s.xsaveRegister(st, m[1])
			if err != nil {
				return nil, err
			}
			return &ValueResult{Expr: expr, Value: v}, nil
		}
		sc, _, err := s.scope(st)
		if err != nil {
			return nil, err
		}
		v, err := sc.Eval(expr)
		if err != nil {
			return nil, exprError(err)
		}
		text := v.String()
		if format != "" {
			if len(format) != 1 {
				return nil, errorf(ErrUsage, "print/%s: one format letter (%s)", format, dwarfx.FormatLetters)
			}
			if text, err = v.Format(format[0]); err != nil {
				return nil, errorf(ErrUsage, "print/%s: %v", format, err)
			}
		}
		r := &ValueResult{Expr: expr, Type: dwarfx.TypeName(v.Type), Value: text}
		if v.InMemory {
			a := Hex(v.Addr)
			r.Addr = &a
		}
		return r, nil
	})
}

// exprError classifies evaluator errors.
func exprError(err error) error {
	var us *dwarfx.UnknownSymbolError
	var se *dwarfx.SyntaxError
	switch {
	case errors.As(err, &us):
		return &classed{msg: err.Error(), class: ErrNoSymbol}
	case errors.As(err, &se):
		return &classed{msg: err.Error(), class: ErrUsage}
	}
	return err
}

func cmdPType(what string) func(*Session, []string) (Result, error) {
	return func(s *Session, args []string) (Result, error) {
		expr := strings.TrimSpace(strings.Join(args, " "))
		if expr == "" {
			return nil, usage(what + " EXPR|TYPE")
		}
		return s.atStop(func(st target.Stop) (Result, error) {
			sc, _, err := s.scope(st)
			if err != nil {
				return nil, err
			}
			var t string
			if what == "ptype" {
				t, err = sc.PType(expr)
			} else {
				t, err = sc.WhatIs(expr)
			}
			if err != nil {
				return nil, exprError(err)
			}
			return &ValueResult{Expr: expr, Value: "type = " + t}, nil
		})
	}
}

// VarsResult lists arguments or locals.
type VarsResult struct {
	Function string    `json:"function"`
	Vars     []VarView `json:"vars"`
	none     string
}

// VarView is one variable.
type VarView struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
	Line  int    `json:"decl_line,omitempty"`
}

// Text renders "name = value" lines, as gdb's info args/locals.
func (r *VarsResult) Text() string {
	if len(r.Vars) == 0 {
		return r.none
	}
	var b strings.Builder
	for _, v := range r.Vars {
		fmt.Fprintf(&b, "%s = %s\n", v.Name, v.Value)
	}
	return strings.TrimRight(b.String(), "\n")
}

func (s *Session) viewVars(st target.Stop, args bool) (Result, error) {
	sc, _, err := s.scope(st)
	if err != nil {
		return nil, err
	}
	var vs []dwarfx.Variable
	none := "No locals."
	if args {
		vs, err = sc.Args()
		none = "No arguments."
	} else {
		vs, err = sc.Locals()
	}
	if err != nil {
		return nil, err
	}
	r := &VarsResult{Function: sc.Function(), Vars: []VarView{}, none: none}
	for _, v := range vs {
		r.Vars = append(r.Vars, VarView{Name: v.Name, Type: v.Type, Value: v.String()[len(v.Name)+3:], Line: v.DeclLine})
	}
	return r, nil
}

// displays are the expressions shown at every stop.
func cmdDisplay(s *Session, args []string) (Result, error) {
	expr := strings.TrimSpace(strings.Join(args, " "))
	if expr == "" {
		return s.showDisplays(), nil
	}
	s.displays = append(s.displays, expr)
	return s.showDisplays(), nil
}

func cmdUndisplay(s *Session, args []string) (Result, error) {
	if len(args) == 0 {
		s.displays = nil
		return &ActionResult{Action: "undisplay", Message: "no expressions are displayed"}, nil
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > len(s.displays) {
		return nil, errorf(ErrNoSymbol, "undisplay: no display number %s", args[0])
	}
	s.displays = append(s.displays[:n-1], s.displays[n:]...)
	return &ActionResult{Action: "undisplay", Message: fmt.Sprintf("display %d deleted", n)}, nil
}

// DisplayResult shows the display expressions.
type DisplayResult struct {
	Displays []DisplayValue `json:"displays"`
}

// DisplayValue is one display at a stop.
type DisplayValue struct {
	N     int    `json:"n"`
	Expr  string `json:"expr"`
	Value string `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

// Text renders gdb's "N: expr = value" lines.
func (r *DisplayResult) Text() string {
	var b strings.Builder
	for _, d := range r.Displays {
		if d.Error != "" {
			fmt.Fprintf(&b, "%d: %s = <%s>\n", d.N, d.Expr, d.Error)
		} else {
			fmt.Fprintf(&b, "%d: %s = %s\n", d.N, d.Expr, d.Value)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// showDisplays evaluates the displays at the current stop.
func (s *Session) showDisplays() *DisplayResult {
	r := &DisplayResult{Displays: []DisplayValue{}}
	for i, e := range s.displays {
		d := DisplayValue{N: i + 1, Expr: e}
		if s.cur == nil || s.cur.Resumed() {
			d.Error = "shown at the next stop"
		} else if res, err := cmdPrint(s, []string{e}); err != nil {
			d.Error = err.Error()
		} else {
			d.Value = res.(*ValueResult).Value
		}
		r.Displays = append(r.Displays, d)
	}
	return r
}

// xsaveRegister formats an SSE/x87 register from the newest SSA frame's
// XSAVE area (the state the enclave had at the AEX).
func (s *Session) xsaveRegister(st target.Stop, name string) (string, error) {
	_, f, err := s.stopFrame(st)
	if err != nil {
		return "", err
	}
	x := f.XSave
	if x == nil {
		return "", fmt.Errorf("$%s: the SSA frame has no XSAVE area", name)
	}
	switch {
	case name == "mxcsr":
		return fmt.Sprintf("%#x %s", x.MXCSR, mxcsrFlags(x.MXCSR)), nil
	case name == "fctrl":
		return fmt.Sprintf("%#x", x.FCW), nil
	case name == "fstat":
		return fmt.Sprintf("%#x", x.FSW), nil
	case strings.HasPrefix(name, "xmm"):
		n, _ := strconv.Atoi(name[3:])
		return vec128(x.XMM[n][:]), nil
	case strings.HasPrefix(name, "ymm"):
		n, _ := strconv.Atoi(name[3:])
		b := append(append([]byte(nil), x.XMM[n][:]...), x.YMMHi[n][:]...)
		return vecInts(b), nil
	case strings.HasPrefix(name, "st"):
		n, _ := strconv.Atoi(name[2:])
		return fmt.Sprintf("raw 0x%x", reverse(x.ST[n][:])), nil
	}
	return "", fmt.Errorf("$%s: unknown register", name)
}

// vec128 renders a 128-bit register as gdb's union of its lanes.
func vec128(b []byte) string {
	var fl, db, i8, i16, i32, i64 []string
	for i := 0; i < 16; i += 4 {
		fl = append(fl, strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))), 'g', -1, 32))
		i32 = append(i32, fmt.Sprintf("%#x", binary.LittleEndian.Uint32(b[i:])))
	}
	for i := 0; i < 16; i += 8 {
		db = append(db, strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b[i:])), 'g', -1, 64))
		i64 = append(i64, fmt.Sprintf("%#x", binary.LittleEndian.Uint64(b[i:])))
	}
	for i := 0; i < 16; i++ {
		i8 = append(i8, fmt.Sprintf("%#x", b[i]))
	}
	for i := 0; i < 16; i += 2 {
		i16 = append(i16, fmt.Sprintf("%#x", binary.LittleEndian.Uint16(b[i:])))
	}
	j := func(a []string) string { return "{" + strings.Join(a, ", ") + "}" }
	return fmt.Sprintf("{v4_float = %s, v2_double = %s, v16_int8 = %s, v8_int16 = %s, v4_int32 = %s, v2_int64 = %s, uint128 = 0x%x}",
		j(fl), j(db), j(i8), j(i16), j(i32), j(i64), reverse(b))
}

func vecInts(b []byte) string {
	var i64 []string
	for i := 0; i+8 <= len(b); i += 8 {
		i64 = append(i64, fmt.Sprintf("%#x", binary.LittleEndian.Uint64(b[i:])))
	}
	return "{v4_int64 = {" + strings.Join(i64, ", ") + "}}"
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

// mxcsrFlags names MXCSR's set bits as gdb does ([ IM DM ZM OM UM PM ]).
func mxcsrFlags(v uint32) string {
	names := []string{"IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM", "UM", "PM", "", "", "FZ"}
	var set []string
	for i, n := range names {
		if n != "" && v&(1<<i) != 0 {
			set = append(set, n)
		}
	}
	return "[ " + strings.Join(set, " ") + " ]"
}

// RegistersResult is every register of the selected frame: the general
// ones and, with all, the SSE, AVX and x87 state of the SSA's XSAVE area.
type RegistersResult struct {
	Frame     int               `json:"frame"`
	Registers []RegisterView    `json:"registers"`
	Vector    map[string]string `json:"vector,omitempty"`
}

// RegisterView is one general register.
type RegisterView struct {
	Name  string `json:"name"`
	Value Hex    `json:"value"`
	Known bool   `json:"known"` // false: not saved in this (outer) frame
}

// Text renders gdb's info registers columns.
func (r *RegistersResult) Text() string {
	var b strings.Builder
	for _, reg := range r.Registers {
		if !reg.Known {
			fmt.Fprintf(&b, "%-8s <not saved>\n", reg.Name)
			continue
		}
		fmt.Fprintf(&b, "%-8s %#-18x %d\n", reg.Name, uint64(reg.Value), int64(reg.Value))
	}
	for _, n := range xsaveNames {
		if v, ok := r.Vector[n]; ok {
			fmt.Fprintf(&b, "%-8s %s\n", n, v)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

var xsaveNames = func() []string {
	out := []string{"mxcsr", "fctrl", "fstat"}
	for i := 0; i < 16; i++ {
		out = append(out, fmt.Sprintf("xmm%d", i))
	}
	for i := 0; i < 16; i++ {
		out = append(out, fmt.Sprintf("ymm%d", i))
	}
	for i := 0; i < 8; i++ {
		out = append(out, fmt.Sprintf("st%d", i))
	}
	return out
}()

var gprNames = []string{"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"}

func (s *Session) viewRegisters(st target.Stop, all bool) (Result, error) {
	f, err := s.selectedFrame(st)
	if err != nil {
		return nil, err
	}
	r := &RegistersResult{Frame: s.frameSel}
	for i, n := range gprNames {
		v, ok := f.dw.Regs.Get(i)
		if n == "rip" {
			v, ok = f.PC, true
		}
		r.Registers = append(r.Registers, RegisterView{Name: n, Value: Hex(v), Known: ok})
	}
	if all && s.frameSel == 0 {
		r.Vector = map[string]string{}
		for _, n := range xsaveNames {
			if v, err := s.xsaveRegister(st, n); err == nil {
				r.Vector[n] = v
			}
		}
	}
	return r, nil
}

// isArrayOrFunc reports whether v's type is an array or a function (whose
// value, in an address context, is where it is).
func isArrayOrFunc(v *dwarfx.Value) bool {
	t := dwarfx.TypeName(v.Type)
	return strings.HasSuffix(t, "]") || strings.Contains(t, "(")
}

// cmdSetVar assigns to a C lvalue of the selected frame: a variable in
// enclave memory (EDBGWR), or one a register holds in the innermost frame
// of an AEX (the newest SSA frame, as set $REG does). VALUE is a C
// expression of integer (or pointer) value.
func cmdSetVar(s *Session, args []string) (Result, error) {
	lhs, rhs, ok := strings.Cut(strings.Join(args, " "), "=")
	lhs, rhs = strings.TrimSpace(lhs), strings.TrimSpace(rhs)
	if !ok || lhs == "" || rhs == "" {
		return nil, usage("set var EXPR = VALUE")
	}
	return s.atStop(func(st target.Stop) (Result, error) {
		sc, f, err := s.scope(st)
		if err != nil {
			return nil, err
		}
		dst, err := sc.Eval(lhs)
		if err != nil {
			return nil, exprError(err)
		}
		src, err := sc.Eval(rhs)
		if err != nil {
			return nil, exprError(err)
		}
		b, err := src.Bytes()
		if err != nil || len(b) == 0 || len(b) > 8 {
			return nil, errorf(ErrUsage, "set var: %s is not a scalar value", rhs)
		}
		var v [8]byte
		copy(v[:], b)
		// Sign-extend a narrower signed source into the destination.
		if len(b) < 8 && b[len(b)-1]&0x80 != 0 && strings.HasPrefix(strings.TrimSpace(dwarfx.TypeName(src.Type)), "int") {
			for i := len(b); i < 8; i++ {
				v[i] = 0xff
			}
		}
		size := int(dst.Type.Size())
		if size <= 0 || size > 8 {
			return nil, errorf(ErrUsage, "set var: %s (%s) is not a scalar", lhs, dwarfx.TypeName(dst.Type))
		}
		old := dst.String()
		switch {
		case dst.InMemory:
			if _, err := st.WriteEnclave(v[:size], dst.Addr); err != nil {
				return nil, fmt.Errorf("set var %s: %w", lhs, err)
			}
		case dst.Reg >= 0 && dst.Reg < len(gprNames) && s.frameSel == 0 && f.place.frame >= 0:
			val := binary.LittleEndian.Uint64(v[:])
			if size < 8 {
				cur, _ := f.dw.Regs.Get(dst.Reg)
				mask := uint64(1)<<(8*size) - 1
				val = cur&^mask | val&mask
			}
			if _, err := s.writeSSAReg(st, gprNames[dst.Reg], val); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("set var %s: not an lvalue the debugger can write (a register of an outer frame, a computed or optimized-out value)", lhs)
		}
		sc, _, err = s.scope(st) // the registers and memory as they are now
		if err != nil {
			return nil, err
		}
		now, err := sc.Eval(lhs)
		if err != nil {
			return nil, err
		}
		return &ActionResult{Action: "set", Message: fmt.Sprintf("%s = %s (was %s)", lhs, now.String(), old)}, nil
	})
}

// setXSaveRegister writes $mxcsr, $xmmN (the low 64 bits, the rest
// zeroed) or $fctrl into the newest SSA frame's XSAVE area through EDBGWR:
// what ERESUME loads back into the enclave.
func (s *Session) setXSaveRegister(st target.Stop, name, val string) (Result, error) {
	_, f, err := s.stopFrame(st)
	if err != nil {
		return nil, err
	}
	v, err := strconv.ParseUint(val, 0, 64)
	if err != nil {
		return nil, errorf(ErrUsage, "set $%s: %q is not a number", name, val)
	}
	var off uint64
	var b []byte
	switch {
	case name == "mxcsr":
		if v > 0xffff {
			return nil, errorf(ErrUsage, "set $mxcsr: %#x has reserved bits set", v)
		}
		off, b = 24, binary.LittleEndian.AppendUint32(nil, uint32(v))
	case name == "fctrl":
		off, b = 0, binary.LittleEndian.AppendUint16(nil, uint16(v))
	case strings.HasPrefix(name, "xmm"):
		n, _ := strconv.Atoi(name[3:])
		off, b = 160+16*uint64(n), append(binary.LittleEndian.AppendUint64(nil, v), make([]byte, 8)...)
	default:
		return nil, errorf(ErrUsage, "set $%s: only $mxcsr, $fctrl and $xmm0-15 can be set", name)
	}
	old, _ := s.xsaveRegister(st, name)
	if _, err := st.WriteEnclave(b, f.Addr+off); err != nil {
		return nil, fmt.Errorf("set $%s: %w", name, err)
	}
	now, err := s.xsaveRegister(st, name)
	if err != nil {
		return nil, err
	}
	return &ActionResult{Action: "set", Message: fmt.Sprintf("$%s = %s (was %s)", name, now, old)}, nil
}
