package dwarfx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-delve/delve/pkg/dwarf/godwarf"
)

// gdb's defaults for print.
const (
	printElements   = 200 // "set print elements"
	repeatThreshold = 10  // "set print repeats"
	maxFormatDepth  = 16
)

// format renders v as gdb's print does. top is true for the outermost
// value (pointers then carry their type in parentheses).
func (s *Scope) format(v *Value, top bool, depth int, letter byte) string {
	if v.Unavailable != "" {
		if v.Unavailable == NotSaved {
			return "<not saved>"
		}
		return "<optimized out>"
	}
	if depth > maxFormatDepth {
		return "{...}"
	}
	switch t := v.resolved().(type) {
	case *godwarf.StructType:
		return s.formatStruct(v, t, depth, letter)
	case *godwarf.ArrayType:
		return s.formatArray(v, t, depth, letter)
	case *godwarf.FuncType:
		if letter != 0 {
			return s.formatLetter(v.Addr, 8, false, letter)
		}
		return fmt.Sprintf("{%s} %s", TypeName(v.Type), s.addrWithSymbol(v.Addr))
	case *godwarf.VoidType:
		return "void"
	}
	if letter != 0 {
		b, err := v.Bytes()
		if err != nil {
			return errText(err)
		}
		if isFloat(v.Type) { // gdb 13 shows a float's bits
			var buf [8]byte
			copy(buf[:], b)
			return s.formatLetter(binary.LittleEndian.Uint64(buf[:]), len(b), false, letter)
		}
		x, err := v.uint()
		if err != nil {
			return errText(err)
		}
		size := len(b)
		if v.bitLen > 0 {
			size = int(v.bitLen+7) / 8
		}
		return s.formatLetter(x, size, isSigned(v.Type), letter)
	}
	switch t := v.resolved().(type) {
	case *godwarf.FloatType:
		f, err := v.float()
		if err != nil {
			return errText(err)
		}
		if t.ByteSize == 4 {
			return strconv.FormatFloat(f, 'g', 9, 32)
		}
		return strconv.FormatFloat(f, 'g', 17, 64)
	case *godwarf.PtrType:
		x, err := v.uint()
		if err != nil {
			return errText(err)
		}
		return s.formatPointer(v, t, x, top)
	}
	x, err := v.uint()
	if err != nil {
		return errText(err)
	}
	switch t := v.resolved().(type) {
	case *godwarf.BoolType:
		switch x {
		case 0:
			return "false"
		case 1:
			return "true"
		}
		return strconv.FormatUint(x, 10)
	case *godwarf.CharType, *godwarf.UcharType:
		n := strconv.FormatUint(x, 10)
		if isSigned(t) {
			n = strconv.FormatInt(int64(x), 10)
		}
		return n + " '" + charEscape(byte(x), '\'') + "'"
	case *godwarf.EnumType:
		for _, e := range t.Val {
			if uint64(e.Val) == x || (t.ByteSize < 8 && uint64(e.Val)&(1<<(8*t.ByteSize)-1) == x&(1<<(8*t.ByteSize)-1)) {
				return e.Name
			}
		}
		if isSigned(t) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatUint(x, 10)
	}
	if v.Type == typeEflags {
		return formatEflags(x)
	}
	if isSigned(v.Type) {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatUint(x, 10)
}

// errText renders a read error as gdb does inside a value.
func errText(err error) string { return "<error: " + err.Error() + ">" }

// addrWithSymbol renders "0x13120 <sum_values>" (run-time address, the
// symbol looked up at the link address).
func (s *Scope) addrWithSymbol(addr uint64) string {
	out := fmt.Sprintf("%#x", addr)
	if addr >= s.ctx.base {
		if sym := s.p.symbolFor(addr - s.ctx.base); sym != "" {
			out += " <" + sym + ">"
		}
	}
	return out
}

func (s *Scope) formatPointer(v *Value, t *godwarf.PtrType, x uint64, top bool) string {
	elem := godwarf.ResolveTypedef(t.Type)
	switch elem.(type) {
	case *godwarf.CharType, *godwarf.UcharType:
		if x == 0 {
			return "0x0"
		}
		return fmt.Sprintf("%#x %s", x, s.cString(x))
	}
	out := "0x0"
	if x != 0 {
		out = s.addrWithSymbol(x)
	}
	if top {
		return "(" + TypeName(v.Type) + ") " + out
	}
	return out
}

// cString reads a NUL-terminated string at addr, at most printElements
// characters, and quotes it as gdb does.
func (s *Scope) cString(addr uint64) string {
	var b []byte
	chunk := make([]byte, 64)
	for len(b) < printElements {
		n := min(len(chunk), printElements-len(b))
		if _, err := s.ctx.readMem(chunk[:n], addr+uint64(len(b))); err != nil {
			// Fall back to byte reads near the end of readable memory.
			if _, err1 := s.ctx.readMem(chunk[:1], addr+uint64(len(b))); err1 != nil {
				if len(b) == 0 {
					return errText(err1)
				}
				return quoteChars(b, false) + "..."
			}
			n = 1
		}
		for _, c := range chunk[:n] {
			if c == 0 {
				return quoteChars(b, false)
			}
			b = append(b, c)
		}
	}
	return quoteChars(b, true)
}

// quoteChars renders bytes as gdb's generic_printstr: quoted runs, runs
// of more than repeatThreshold equal characters as 'c' <repeats N
// times>, joined by ", "; "..." after a truncation.
func quoteChars(b []byte, truncated bool) string {
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, "\""+cur.String()+"\"")
			cur.Reset()
		}
	}
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] == b[i] {
			j++
		}
		if j-i > repeatThreshold {
			flush()
			parts = append(parts, fmt.Sprintf("'%s' <repeats %d times>", charEscape(b[i], '\''), j-i))
		} else {
			for k := i; k < j; k++ {
				cur.WriteString(charEscape(b[k], '"'))
			}
		}
		i = j
	}
	flush()
	if len(parts) == 0 {
		parts = []string{`""`}
	}
	out := strings.Join(parts, ", ")
	if truncated {
		out += "..."
	}
	return out
}

// charEscape renders one character as C does inside quotes q.
func charEscape(c byte, q byte) string {
	switch c {
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\v':
		return `\v`
	case '\\':
		return `\\`
	case 0x1b:
		return `\033`
	}
	if c == q {
		return `\` + string(q)
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf(`\%03o`, c)
	}
	return string(c)
}

func (s *Scope) formatStruct(v *Value, t *godwarf.StructType, depth int, letter byte) string {
	if t.Incomplete {
		return "<incomplete type>"
	}
	if _, err := v.Bytes(); err != nil {
		return errText(err)
	}
	var parts []string
	for _, f := range t.Field {
		fv, err := s.field(v, f)
		var text string
		if err != nil {
			text = errText(err)
		} else {
			text = s.format(fv, false, depth+1, letter)
		}
		if f.Name == "" {
			parts = append(parts, text)
		} else {
			parts = append(parts, f.Name+" = "+text)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (s *Scope) formatArray(v *Value, t *godwarf.ArrayType, depth int, letter byte) string {
	if t.Count < 0 {
		return "0x" + strconv.FormatUint(v.Addr, 16)
	}
	elem := godwarf.ResolveTypedef(t.Type)
	esize := t.Type.Size()
	if esize <= 0 {
		return "{}"
	}
	n := t.Count
	switch elem.(type) {
	case *godwarf.CharType, *godwarf.UcharType:
		if esize == 1 && letter == 0 {
			b, err := v.Bytes()
			if err != nil {
				return errText(err)
			}
			truncated := false
			if len(b) > printElements {
				b, truncated = b[:printElements], true
			} else if len(b) > 0 && b[len(b)-1] == 0 {
				b = b[:len(b)-1] // gdb drops one trailing NUL
			}
			return quoteChars(b, truncated)
		}
	}
	if _, err := v.Bytes(); err != nil {
		return errText(err)
	}
	var parts []string
	var prev string
	reps := 0
	emit := func() {
		if reps > repeatThreshold {
			parts = append(parts, fmt.Sprintf("%s <repeats %d times>", prev, reps))
		} else {
			for k := 0; k < reps; k++ {
				parts = append(parts, prev)
			}
		}
	}
	shown := min(n, printElements)
	for i := int64(0); i < shown; i++ {
		ev, err := s.element(v, t, i)
		text := ""
		if err != nil {
			text = errText(err)
		} else {
			text = s.format(ev, false, depth+1, letter)
		}
		if i > 0 && text == prev {
			reps++
			continue
		}
		if i > 0 {
			emit()
		}
		prev, reps = text, 1
	}
	if shown > 0 {
		emit()
	}
	out := "{" + strings.Join(parts, ", ")
	if shown < n {
		out += "..."
	}
	return out + "}"
}

// eflagsBits names EFLAGS bits as gdb's i386_eflags type does.
var eflagsBits = []struct {
	bit  uint
	name string
}{{0, "CF"}, {1, ""}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"}, {9, "IF"}, {10, "DF"},
	{11, "OF"}, {14, "NT"}, {16, "RF"}, {17, "VM"}, {18, "AC"}, {19, "VIF"}, {20, "VIP"}, {21, "ID"}}

// formatEflags renders "[ ZF PF ]" as gdb does (bit 1 is reserved and
// unnamed; IOPL is shown as a number).
func formatEflags(x uint64) string {
	var names []string
	for _, b := range eflagsBits {
		if b.name != "" && x&(1<<b.bit) != 0 {
			names = append(names, b.name)
		}
	}
	if iopl := (x >> 12) & 3; iopl != 0 {
		names = append(names, "IOPL="+strconv.FormatUint(iopl, 10))
	}
	return "[ " + strings.Join(append(names, "]"), " ")
}

// FormatLetters are the output formats of gdb's print/FMT this package
// implements: x hex, z zero-padded hex, o octal, t binary, d signed
// decimal, u unsigned decimal, c character, a address (with <symbol>).
const FormatLetters = "xzotduca"

// ErrBadFormat: a print/FMT letter that is not one of FormatLetters.
var ErrBadFormat = errors.New("undefined output format")

// formatLetter renders a scalar's bits (size bytes, sign-extended when
// signed) in a print/FMT letter, as gdb 13 does.
func (s *Scope) formatLetter(x uint64, size int, signed bool, letter byte) string {
	if size <= 0 || size > 8 {
		size = 8
	}
	bits := uint(size * 8)
	u := x
	if bits < 64 {
		u &= 1<<bits - 1
	}
	switch letter {
	case 'x':
		return fmt.Sprintf("%#x", u)
	case 'z':
		return fmt.Sprintf("0x%0*x", size*2, u)
	case 'o':
		if u == 0 {
			return "0"
		}
		return fmt.Sprintf("%#o", u)
	case 't':
		return strconv.FormatUint(u, 2)
	case 'd':
		v := int64(u)
		if bits < 64 && u&(1<<(bits-1)) != 0 {
			v = int64(u | ^uint64(0)<<bits)
		}
		return strconv.FormatInt(v, 10)
	case 'u':
		return strconv.FormatUint(u, 10)
	case 'c':
		c := byte(u)
		n := strconv.FormatInt(int64(int8(c)), 10)
		if !signed && size == 1 {
			n = strconv.FormatUint(uint64(c), 10)
		}
		return n + " '" + charEscape(c, '\'') + "'"
	case 'a':
		return s.addrWithSymbol(x)
	}
	return fmt.Sprintf("%#x", u)
}
