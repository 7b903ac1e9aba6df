package dwarfx

import (
	"fmt"
	"strconv"
	"strings"
)

// The C expression language of print and ptype, parsed by recursive
// descent (go/parser cannot tell a C cast from a parenthesised
// expression: that needs to know which names are types, as a C parser
// does). Grammar, loosest first:
//
//	expr    = lor
//	lor     = land { "||" land }
//	land    = bor { "&&" bor }
//	bor     = bxor { "|" bxor }
//	bxor    = band { "^" band }
//	band    = eq { "&" eq }
//	eq      = rel { ("==" | "!=") rel }
//	rel     = shift { ("<" | "<=" | ">" | ">=") shift }
//	shift   = add { ("<<" | ">>") add }
//	add     = mul { ("+" | "-") mul }
//	mul     = unary { ("*" | "/" | "%") unary }
//	unary   = ("-" | "+" | "!" | "~" | "*" | "&") unary
//	        | "sizeof" unary | "sizeof" "(" typename ")"
//	        | "(" typename ")" unary
//	        | postfix
//	postfix = primary { "[" expr "]" | "." ident | "->" ident }
//	primary = ident | "$" ident | number | char | "(" expr ")"
//	typename = { "const" | "volatile" } base { "*" { "const" | "volatile" } }
//	base    = C base-type keywords | "struct" ident | "union" ident
//	        | "enum" ident | typedef-name

// SyntaxError is a malformed expression: Col is the 1-based column of the
// offending token.
type SyntaxError struct {
	Expr string
	Col  int
	Msg  string
}

// Error renders the SyntaxError.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("syntax error at column %d: %s", e.Col, e.Msg)
}

// node is a parsed expression.
type node interface{ col() int }

type (
	identNode struct {
		c    int
		name string
	}
	regNode struct {
		c    int
		name string
	}
	numNode struct {
		c        int
		val      uint64
		unsigned bool
		long     bool
	}
	floatNode struct {
		c   int
		val float64
	}
	charNode struct {
		c   int
		val byte
	}
	unaryNode struct {
		c  int
		op string
		x  node
	}
	binaryNode struct {
		c    int
		op   string
		x, y node
	}
	indexNode struct {
		c    int
		x, i node
	}
	memberNode struct {
		c     int
		x     node
		name  string
		arrow bool
	}
	castNode struct {
		c  int
		ty *typeSpec
		x  node
	}
	sizeofNode struct {
		c  int
		ty *typeSpec // or
		x  node
	}
	typeNode struct { // a type name alone (ptype struct point)
		c  int
		ty *typeSpec
	}
)

func (n *identNode) col() int  { return n.c }
func (n *regNode) col() int    { return n.c }
func (n *numNode) col() int    { return n.c }
func (n *floatNode) col() int  { return n.c }
func (n *charNode) col() int   { return n.c }
func (n *unaryNode) col() int  { return n.c }
func (n *binaryNode) col() int { return n.c }
func (n *indexNode) col() int  { return n.c }
func (n *memberNode) col() int { return n.c }
func (n *castNode) col() int   { return n.c }
func (n *sizeofNode) col() int { return n.c }
func (n *typeNode) col() int   { return n.c }

// typeSpec is a type name: a base type and pointer levels.
type typeSpec struct {
	base string // canonical: "unsigned long", "struct point", "uint64_t"
	ptrs int
}

// token kinds
const (
	tEOF = iota
	tIdent
	tReg
	tNum
	tFloat
	tChar
	tPunct
)

type token struct {
	kind int
	text string
	col  int
	num  uint64
	f    float64
	uns  bool
	long bool
}

// punctuators, longest first.
var puncts = []string{"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
	"(", ")", "[", "]", ".", "*", "&", "+", "-", "/", "%", "<", ">", "!", "~", "^", "|"}

// maxExprLen bounds an expression's length (and so the parser's depth).
const maxExprLen = 4096

// lex splits an expression into tokens.
func lex(s string) ([]token, error) {
	if len(s) > maxExprLen {
		return nil, &SyntaxError{Expr: s, Col: maxExprLen + 1, Msg: fmt.Sprintf("expression longer than %d characters", maxExprLen)}
	}
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		col := i + 1
		switch {
		case c == ' ' || c == '\t':
			i++
		case isIdentStart(c) || c == '$':
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			if c == '$' {
				if j == i+1 {
					return nil, &SyntaxError{Expr: s, Col: col, Msg: "'$' without a register name"}
				}
				toks = append(toks, token{kind: tReg, text: s[i+1 : j], col: col})
			} else {
				toks = append(toks, token{kind: tIdent, text: s[i:j], col: col})
			}
			i = j
		case c >= '0' && c <= '9':
			tok, n, err := lexNumber(s[i:])
			if err != nil {
				return nil, &SyntaxError{Expr: s, Col: col, Msg: err.Error()}
			}
			tok.col = col
			toks = append(toks, tok)
			i += n
		case c == '\'':
			v, n, err := lexChar(s[i:])
			if err != nil {
				return nil, &SyntaxError{Expr: s, Col: col, Msg: err.Error()}
			}
			toks = append(toks, token{kind: tChar, num: uint64(v), col: col, text: s[i : i+n]})
			i += n
		default:
			found := false
			for _, p := range puncts {
				if strings.HasPrefix(s[i:], p) {
					toks = append(toks, token{kind: tPunct, text: p, col: col})
					i += len(p)
					found = true
					break
				}
			}
			if !found {
				return nil, &SyntaxError{Expr: s, Col: col, Msg: fmt.Sprintf("unexpected character %q", c)}
			}
		}
	}
	return append(toks, token{kind: tEOF, col: len(s) + 1}), nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

// lexNumber reads a decimal, hex (0x) or octal (leading 0) integer with
// optional u/l suffixes, or a decimal floating-point number.
func lexNumber(s string) (token, int, error) {
	j := 0
	hex := len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
	if hex {
		j = 2
	}
	for j < len(s) && (isIdentChar(s[j]) || (!hex && s[j] == '.')) {
		j++
	}
	lit := s[:j]
	if !hex && strings.ContainsAny(lit, ".eE") {
		f, err := strconv.ParseFloat(lit, 64)
		if err != nil {
			return token{}, 0, fmt.Errorf("invalid number %q", lit)
		}
		return token{kind: tFloat, f: f, text: lit}, j, nil
	}
	digits := strings.TrimRight(strings.ToLower(lit), "ul")
	suffix := strings.ToLower(lit[len(digits):])
	tok := token{kind: tNum, text: lit}
	switch suffix {
	case "", "u", "l", "ul", "lu", "ll", "ull", "llu":
		tok.uns = strings.Contains(suffix, "u")
		tok.long = strings.Contains(suffix, "l")
	default:
		return token{}, 0, fmt.Errorf("invalid number %q", lit)
	}
	base := 10
	switch {
	case hex:
		base, digits = 16, digits[2:]
	case len(digits) > 1 && digits[0] == '0':
		base, digits = 8, digits[1:]
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return token{}, 0, fmt.Errorf("invalid number %q", lit)
	}
	tok.num = v
	return tok, j, nil
}

// lexChar reads 'c', '\n', '\0', '\x41', '\101'.
func lexChar(s string) (byte, int, error) {
	if len(s) < 3 {
		return 0, 0, fmt.Errorf("unterminated character constant")
	}
	if s[1] != '\\' {
		if s[2] != '\'' {
			return 0, 0, fmt.Errorf("unterminated character constant")
		}
		return s[1], 3, nil
	}
	end := strings.IndexByte(s[2:], '\'')
	if end < 1 {
		return 0, 0, fmt.Errorf("unterminated character constant")
	}
	esc := s[2 : 2+end]
	n := 3 + end
	switch esc {
	case "n":
		return '\n', n, nil
	case "t":
		return '\t', n, nil
	case "r":
		return '\r', n, nil
	case "a":
		return '\a', n, nil
	case "b":
		return '\b', n, nil
	case "f":
		return '\f', n, nil
	case "v":
		return '\v', n, nil
	case "\\", "'", "\"", "?":
		return esc[0], n, nil
	case "e":
		return 0x1b, n, nil
	}
	if esc[0] == 'x' {
		v, err := strconv.ParseUint(esc[1:], 16, 8)
		if err != nil {
			return 0, 0, fmt.Errorf("invalid escape \\%s", esc)
		}
		return byte(v), n, nil
	}
	v, err := strconv.ParseUint(esc, 8, 8)
	if err != nil {
		return 0, 0, fmt.Errorf("invalid escape \\%s", esc)
	}
	return byte(v), n, nil
}

// parser is the recursive-descent parser; isType tells typedef names
// from other identifiers.
type parser struct {
	src    string
	toks   []token
	pos    int
	isType func(name string) bool
}

// parseExpr parses a whole expression, or a type name alone when
// allowType is set (ptype/whatis/sizeof operands).
func parseExpr(src string, isType func(string) bool, allowType bool) (node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, isType: isType}
	if p.peek().kind == tEOF {
		return nil, p.errf(p.peek(), "empty expression")
	}
	var n node
	if allowType && p.startsType(0) {
		c := p.peek().col
		ts, err := p.typeName()
		if err != nil {
			return nil, err
		}
		n = &typeNode{c: c, ty: ts}
	} else if n, err = p.binary(0); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errf(t, "unexpected %s", t.describe())
	}
	return n, nil
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tReg:
		return "'$" + t.text + "'"
	}
	return "'" + t.text + "'"
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) peekAt(k int) token {
	if p.pos+k < len(p.toks) {
		return p.toks[p.pos+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) is(text string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == text
}

func (p *parser) expect(text string) error {
	if !p.is(text) {
		return p.errf(p.peek(), "expected '%s', found %s", text, p.peek().describe())
	}
	p.next()
	return nil
}

func (p *parser) errf(t token, format string, args ...any) error {
	return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// binary levels, loosest first.
var binLevels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", "<=", ">", ">="},
	{"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (p *parser) binary(level int) (node, error) {
	if level == len(binLevels) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tPunct || !contains(binLevels[level], t.text) {
			return x, nil
		}
		p.next()
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = &binaryNode{c: t.col, op: t.text, x: x, y: y}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	if t.kind == tPunct {
		switch t.text {
		case "-", "+", "!", "~", "*", "&":
			p.next()
			x, err := p.unary()
			if err != nil {
				return nil, err
			}
			return &unaryNode{c: t.col, op: t.text, x: x}, nil
		case "(":
			if p.startsType(1) {
				p.next()
				ts, err := p.typeName()
				if err != nil {
					return nil, err
				}
				if err := p.expect(")"); err != nil {
					return nil, err
				}
				x, err := p.unary()
				if err != nil {
					return nil, err
				}
				return &castNode{c: t.col, ty: ts, x: x}, nil
			}
		}
	}
	if t.kind == tIdent && t.text == "sizeof" {
		p.next()
		if p.is("(") && p.startsType(1) {
			p.next()
			ts, err := p.typeName()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return &sizeofNode{c: t.col, ty: ts}, nil
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &sizeofNode{c: t.col, x: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case p.is("["):
			p.next()
			i, err := p.binary(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			x = &indexNode{c: t.col, x: x, i: i}
		case p.is(".") || p.is("->"):
			p.next()
			id := p.next()
			if id.kind != tIdent {
				return nil, p.errf(id, "expected a member name after '%s', found %s", t.text, id.describe())
			}
			x = &memberNode{c: t.col, x: x, name: id.text, arrow: t.text == "->"}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tIdent:
		if typeKeywords[t.text] {
			return nil, p.errf(t, "a type name (%s) is not an expression", t.text)
		}
		return &identNode{c: t.col, name: t.text}, nil
	case tReg:
		return &regNode{c: t.col, name: t.text}, nil
	case tNum:
		return &numNode{c: t.col, val: t.num, unsigned: t.uns, long: t.long}, nil
	case tFloat:
		return &floatNode{c: t.col, val: t.f}, nil
	case tChar:
		return &charNode{c: t.col, val: byte(t.num)}, nil
	case tPunct:
		if t.text == "(" {
			x, err := p.binary(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
	}
	return nil, p.errf(t, "expected an expression, found %s", t.describe())
}

// typeKeywords start a type name.
var typeKeywords = map[string]bool{
	"unsigned": true, "signed": true, "char": true, "short": true, "int": true, "long": true,
	"void": true, "float": true, "double": true, "_Bool": true, "struct": true, "union": true,
	"enum": true, "const": true, "volatile": true,
}

// startsType reports whether the token k ahead begins a type name.
func (p *parser) startsType(k int) bool {
	t := p.peekAt(k)
	return t.kind == tIdent && (typeKeywords[t.text] || p.isType != nil && p.isType(t.text))
}

// typeName parses a type name into a canonical base spelling and the
// number of pointer levels. Qualifiers are accepted and dropped.
func (p *parser) typeName() (*typeSpec, error) {
	var words []string
	start := p.peek()
	ts := &typeSpec{}
	for {
		t := p.peek()
		if t.kind != tIdent {
			break
		}
		if t.text == "const" || t.text == "volatile" {
			p.next()
			continue
		}
		if t.text == "struct" || t.text == "union" || t.text == "enum" {
			if len(words) > 0 || ts.base != "" {
				return nil, p.errf(t, "unexpected '%s' in a type name", t.text)
			}
			p.next()
			tag := p.next()
			if tag.kind != tIdent {
				return nil, p.errf(tag, "expected a tag name after '%s', found %s", t.text, tag.describe())
			}
			ts.base = t.text + " " + tag.text
			continue
		}
		if typeKeywords[t.text] {
			if ts.base != "" {
				return nil, p.errf(t, "unexpected '%s' in a type name", t.text)
			}
			words = append(words, t.text)
			p.next()
			continue
		}
		if len(words) == 0 && ts.base == "" && p.isType != nil && p.isType(t.text) {
			p.next()
			ts.base = t.text
			continue
		}
		break
	}
	if ts.base == "" {
		base, err := canonicalBase(words)
		if err != nil {
			return nil, p.errf(start, "%v", err)
		}
		ts.base = base
	}
	for {
		if p.is("*") {
			p.next()
			ts.ptrs++
			continue
		}
		if t := p.peek(); t.kind == tIdent && (t.text == "const" || t.text == "volatile") {
			p.next()
			continue
		}
		break
	}
	return ts, nil
}

// canonicalBase turns base-type keywords in any order ("long unsigned
// int") into gdb's spelling ("unsigned long").
func canonicalBase(words []string) (string, error) {
	if len(words) == 0 {
		return "", fmt.Errorf("expected a type name")
	}
	var signed, unsigned, char, short, intw, long, void, float, double, boolean int
	for _, w := range words {
		switch w {
		case "signed":
			signed++
		case "unsigned":
			unsigned++
		case "char":
			char++
		case "short":
			short++
		case "int":
			intw++
		case "long":
			long++
		case "void":
			void++
		case "float":
			float++
		case "double":
			double++
		case "_Bool":
			boolean++
		}
	}
	bad := fmt.Errorf("invalid type name %q", strings.Join(words, " "))
	if signed+unsigned > 1 || char > 1 || short > 1 || intw > 1 || long > 2 {
		return "", bad
	}
	others := void + float + double + boolean
	switch {
	case others > 0:
		if len(words) != 1 {
			return "", bad
		}
		return words[0], nil
	case char == 1:
		if short+long+intw > 0 {
			return "", bad
		}
		switch {
		case unsigned == 1:
			return "unsigned char", nil
		case signed == 1:
			return "signed char", nil
		}
		return "char", nil
	}
	prefix := ""
	if unsigned == 1 {
		prefix = "unsigned "
	}
	switch {
	case short == 1 && long == 0:
		return prefix + "short", nil
	case long == 1 && short == 0:
		return prefix + "long", nil
	case long == 2 && short == 0:
		return prefix + "long long", nil
	case short == 0 && long == 0:
		return prefix + "int", nil
	}
	return "", bad
}
