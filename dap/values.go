package dap

import (
	"regexp"
	"strconv"
	"strings"
)

// A value as print renders it (gdb's form): a struct is "{a = 1, b = {c =
// 2}}", an array "{1, 2, 3}" or "{0 <repeats 16 times>, 7}", a string
// "\"text\"". The children of a struct or array are read from the
// top-level items; each child is then printed on its own (its type).

// child is one member of a printed aggregate.
type child struct {
	name string // "a" (a field) or "[2]" (an element)
	expr string // the C expression for it, from the parent's
	// value is the item's text (an element with <repeats N times> stands
	// for N elements, each the value before it).
	value string
}

// maxChildren bounds the children listed for one value.
const maxChildren = 256

var fieldItem = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*) = `)

var repeats = regexp.MustCompile(` <repeats (\d+) times>$`)

// children splits a printed aggregate into its members; parent is the
// expression it was printed from. A value that is not "{…}" has none.
func children(parent, value string) []child {
	value = strings.TrimSpace(value)
	if len(value) < 2 || value[0] != '{' || value[len(value)-1] != '}' {
		return nil
	}
	items := splitTop(value[1 : len(value)-1])
	var out []child
	index := 0
	for _, it := range items {
		if len(out) >= maxChildren {
			break
		}
		if m := fieldItem.FindStringSubmatch(it); m != nil {
			out = append(out, child{name: m[1], expr: "(" + parent + ")." + m[1], value: it[len(m[0]):]})
			continue
		}
		n := 1
		v := it
		if m := repeats.FindStringSubmatch(it); m != nil {
			if k, err := strconv.Atoi(m[1]); err == nil && k > 0 {
				n, v = k, strings.TrimSuffix(it, m[0])
			}
		}
		for range n {
			if len(out) >= maxChildren {
				break
			}
			out = append(out, child{name: "[" + strconv.Itoa(index) + "]", expr: "(" + parent + ")[" + strconv.Itoa(index) + "]", value: v})
			index++
		}
	}
	return out
}

// splitTop splits s at the commas that are outside braces, parentheses,
// brackets and quotes; items are trimmed. Unbalanced input still splits
// (a closer without its opener is taken as text).
func splitTop(s string) []string {
	var out []string
	depth := 0
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{' || c == '(' || c == '[' || c == '<':
			depth++
		case (c == '}' || c == ')' || c == ']' || c == '>') && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" || len(out) > 0 {
		out = append(out, rest)
	}
	return out
}

// pointerType reports whether a C type is a pointer whose target can be
// printed (not void *, not a function pointer).
func pointerType(t string) bool {
	t = strings.TrimSpace(t)
	if !strings.HasSuffix(t, "*") || strings.Contains(t, "(") {
		return false
	}
	base := strings.TrimSpace(strings.TrimSuffix(t, "*"))
	base = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(base, "const "), "volatile "))
	return base != "void" && base != "const void"
}
