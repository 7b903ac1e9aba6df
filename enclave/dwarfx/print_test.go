package dwarfx

import (
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildGlobals compiles testdata/globals.c with gcc -g -O0 into a plain
// (non-PIE) ELF and returns its path.
func buildGlobals(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "globals")
	cmd := exec.Command("gcc", "-g", "-O0", "-no-pie", "-o", out, filepath.Join("testdata", "globals.c"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

// fileMemory reads an ELF's loaded image from the file: each PT_LOAD's
// file bytes, then zeros to its memory size (.bss).
func fileMemory(t *testing.T, path string) ReadMemory {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return elfMemory(f)
}

// elfMemory reads f's loaded image (see fileMemory).
func elfMemory(f *elf.File) ReadMemory {
	return func(buf []byte, addr uint64) (int, error) {
		for _, p := range f.Progs {
			if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Memsz {
				continue
			}
			n := 0
			for n < len(buf) && addr+uint64(n)-p.Vaddr < p.Memsz {
				off := addr + uint64(n) - p.Vaddr
				if off < p.Filesz {
					k, err := p.ReadAt(buf[n:min(len(buf), n+int(p.Filesz-off))], int64(off))
					n += k
					if err != nil {
						return n, err
					}
				} else {
					buf[n] = 0
					n++
				}
			}
			if n < len(buf) {
				return n, fmt.Errorf("cannot access memory at address %#x", addr+uint64(n))
			}
			return n, nil
		}
		return 0, fmt.Errorf("cannot access memory at address %#x", addr)
	}
}

func globalsScope(t *testing.T) (*Scope, string) {
	t.Helper()
	path := buildGlobals(t)
	p, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Scope(0, nil, fileMemory(t, path)), path
}

// The expected strings are gdb 13's print output for the same program
// (gdb -batch -ex 'print EXPR' globals), addresses taken from nm.
func TestPrintGlobals(t *testing.T) {
	s, path := globalsScope(t)
	origin := nmAddr(t, path, "origin")
	numbers := nmAddr(t, path, "numbers")
	square := nmAddr(t, path, "square")
	tests := []struct{ expr, want string }{
		{"counter", "42"},
		{"negative", "-7"},
		{"big", "18446744073709551615"},
		{"letter", "65 'A'"},
		{"numbers", "{1, 2, 3, 4, 5}"},
		{"zeros", "{0 <repeats 16 times>}"},
		{"greeting", `"hello\000\000\000\000\000\000\000\000\000\000"`},
		{"origin", "{x = 3, y = -4}"},
		{"porigin", fmt.Sprintf("(point_t *) %#x <origin>", origin)},
		{"*porigin", "{x = 3, y = -4}"},
		{"porigin->y", "-4"},
		{"points", "{{x = 1, y = 2}, {x = 3, y = 4}}"},
		{"points[1].x", "3"},
		{"favorite", "GREEN"},
		{"unknown_color", "7"},
		{"u64", "1234567890123"},
		{"flag", "true"},
		{"nullp", "0x0"},
		{"pfn", fmt.Sprintf("(int (*)(int)) %#x <square>", square)},
		{"square", fmt.Sprintf("{int (int)} %#x <square>", square)},
		{"&origin", fmt.Sprintf("(struct point *) %#x <origin>", origin)},
		{"&numbers[2]", fmt.Sprintf("(int *) %#x <numbers+8>", numbers+8)},
		{"numbers[1] + numbers[3] * 2", "10"},
		{"(char)counter", "42 '*'"},
		{"(unsigned long)negative", "18446744073709551609"},
		{"*message", "104 'h'"},
		{"record.w", `{i = 16909060, b = "\004\003\002\001"}`},
		{"record.flags", "5"},
		{"record.mode", "17"},
		{"record.arr[2] << 4", "144"},
		{"-counter / 5", "-8"},
		{"counter % 5", "2"},
		{"counter > 40 && negative < 0", "1"},
		{"~counter", "-43"},
		{"!counter", "0"},
		{"sizeof(struct rec)", "64"},
		{"sizeof record", "64"},
		{"BLUE", "BLUE"},
		{"record.ratio", "1.5"},
		{"0x10 + 010", "24"},
		{"&points[1] - &points[0]", "1"},
		{"'A' + 1", "66"},
		{"(long)&origin == (long)porigin", "1"},
		{"numbers[4] - numbers[0] * 3 + (counter >> 1) ^ 1", "22"},
		{"(unsigned char)257", "1 '\\001'"},
		{"*(int *)&record.arr[1]", "8"},
		{"points->y", "2"},
		{"record.next->x", "3"},
		{"big == -1", "1"},
		{"negative < 0u", "1"}, // long vs unsigned int: long,
	}
	for _, tc := range tests {
		got, err := s.Print(tc.expr)
		if err != nil {
			t.Errorf("print %s: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("print %s = %s, want %s", tc.expr, got, tc.want)
		}
	}
	// The strings the pointers point at are in .rodata: compare the
	// address with nm and the rest with gdb's format.
	for _, tc := range []struct{ expr, sym, suffix string }{
		{"message", "", ` "hi there"`},
		{"record.label", "", ` "lbl"`},
	} {
		got, err := s.Print(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		var addr uint64
		var rest string
		if _, err := fmt.Sscanf(got, "%v", &addr); err != nil {
			t.Errorf("print %s = %s: no address", tc.expr, got)
			continue
		}
		rest = got[len(fmt.Sprintf("%#x", addr)):]
		if rest != tc.suffix || addr == 0 {
			t.Errorf("print %s = %s, want 0x… %s", tc.expr, got, tc.suffix)
		}
	}
	rec, err := s.Print("record")
	if err != nil {
		t.Fatal(err)
	}
	lbl, _ := s.Print("record.label")
	want := fmt.Sprintf(`{name = "rec\000\000\000\000", pt = {x = 1, y = 2}, next = %#x <origin>, c = BLUE, flags = 5, mode = 17, label = %s, ratio = 1.5, arr = {7, 8, 9}, w = {i = 16909060, b = "\004\003\002\001"}}`, origin, lbl)
	if rec != want {
		t.Errorf("print record =\n%s\nwant\n%s", rec, want)
	}
}

func TestPTypeGlobals(t *testing.T) {
	s, _ := globalsScope(t)
	tests := []struct {
		cmd, expr, want string
	}{
		{"ptype", "record", "struct rec {\n    char name[8];\n    struct point pt;\n    struct point *next;\n    enum color c;\n    unsigned int flags : 3;\n    unsigned int mode : 5;\n    const char *label;\n    double ratio;\n    int arr[3];\n    union word w;\n}"},
		{"ptype", "porigin", "struct point {\n    int x;\n    int y;\n} *"},
		{"whatis", "porigin", "point_t *"},
		{"ptype", "u64", "unsigned long"},
		{"whatis", "u64", "uint64_t"},
		{"ptype", "enum color", "enum color {RED, GREEN = 5, BLUE}"},
		{"ptype", "pfn", "int (*)(int)"},
		{"whatis", "record.name", "char [8]"},
		{"ptype", "union word", "union word {\n    int i;\n    unsigned char b[4];\n}"},
		{"whatis", "(char *)message", "char *"},
		{"whatis", "message", "const char *"},
		{"whatis", "counter + 1L", "long"},
		{"whatis", "&points[1]", "struct point *"},
		{"whatis", "*nullp", "char"},
		{"ptype", "point_t", "struct point {\n    int x;\n    int y;\n}"},
		{"whatis", "unsigned long int", "unsigned long"},
		{"whatis", "point_t", "struct point"},
		{"whatis", "uint64_t", "__uint64_t"},
		{"ptype", "square", "int (int)"},
	}
	for _, tc := range tests {
		f := s.PType
		if tc.cmd == "whatis" {
			f = s.WhatIs
		}
		got, err := f(tc.expr)
		if err != nil {
			t.Errorf("%s %s: %v", tc.cmd, tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s %s =\n%s\nwant\n%s", tc.cmd, tc.expr, got, tc.want)
		}
	}
}

func TestExprErrors(t *testing.T) {
	s, _ := globalsScope(t)
	tests := []struct {
		expr  string
		check func(error) bool
		want  string
	}{
		{"nosuch + 1", func(err error) bool {
			var e *UnknownSymbolError
			return errors.As(err, &e) && e.Name == "nosuch" && e.Col == 1
		}, `no symbol "nosuch" in current context (column 1)`},
		{"counter +", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 10
		}, "syntax error at column 10: expected an expression, found end of expression"},
		{"counter ) 1", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 9
		}, "syntax error at column 9: unexpected ')'"},
		{"numbers[1", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 10
		}, "syntax error at column 10: expected ']', found end of expression"},
		{"counter # 2", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 9
		}, `syntax error at column 9: unexpected character '#'`},
		{"0x", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 1
		}, `syntax error at column 1: invalid number "0x"`},
		{"*counter", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Col == 1 && e.Op == "*" && e.Type == "int"
		}, "column 1: attempt to take contents of a non-pointer value"},
		{"origin.z", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Col == 7 && e.Type == "struct point"
		}, "column 7: there is no member named z"},
		{"counter.x", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Op == "."
		}, "column 8: attempt to extract a component of a value that is not a structure"},
		{"counter[1]", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Op == "[]"
		}, "column 8: cannot subscript something of type 'int'"},
		{"counter / 0", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Col == 9
		}, "column 9: division by zero"},
		{"&5", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Op == "&"
		}, "column 1: attempt to take address of value not located in memory"},
		{"(struct point)counter", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Op == "cast"
		}, "column 1: invalid cast to struct point"},
		{"(struct nosuch *)0", func(err error) bool {
			var e *UnknownSymbolError
			return errors.As(err, &e) && e.Name == "struct nosuch"
		}, `no symbol "struct nosuch" in current context (column 1)`},
		{"$rax", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Op == "$"
		}, "column 1: no frame selected: no registers"},
		{"$xyz", func(err error) bool {
			var e *UnknownSymbolError
			return errors.As(err, &e) && e.Name == "$xyz"
		}, `no symbol "$xyz" in current context (column 1)`},
		{"", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 1
		}, "syntax error at column 1: empty expression"},
		{"(unsigned short long)1", func(err error) bool {
			var e *SyntaxError
			return errors.As(err, &e) && e.Col == 2
		}, `syntax error at column 2: invalid type name "unsigned short long"`},
		{"*(int *)8", func(err error) bool {
			var e *EvalError
			return errors.As(err, &e) && e.Type == "int" && e.Err != nil
		}, "column 1: cannot read the value: read memory at 0x8: cannot access memory at address 0x8"},
	}
	for _, tc := range tests {
		v, err := s.Eval(tc.expr)
		if err == nil {
			t.Errorf("Eval(%q) = %v, want an error", tc.expr, v)
			continue
		}
		if !tc.check(err) {
			t.Errorf("Eval(%q) error %T %v: wrong type or fields", tc.expr, err, err)
		}
		if err.Error() != tc.want {
			t.Errorf("Eval(%q) error %q, want %q", tc.expr, err.Error(), tc.want)
		}
	}
}

// gdbPrint asks gdb 13 to print each expression in the program at path
// (read from the file, not run); ok is false when gdb is not installed.
func gdbPrint(t *testing.T, path string, exprs []string) ([]string, bool) {
	t.Helper()
	if _, err := exec.LookPath("gdb"); err != nil {
		return nil, false
	}
	args := []string{"-nx", "-batch"}
	for _, e := range exprs {
		args = append(args, "-ex", "print "+e)
	}
	out, err := exec.Command("gdb", append(args, path)...).Output()
	if err != nil {
		t.Fatalf("gdb: %v", err)
	}
	var vals []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if _, v, ok := strings.Cut(l, " = "); ok && strings.HasPrefix(l, "$") {
			vals = append(vals, v)
		}
	}
	if len(vals) != len(exprs) {
		t.Fatalf("gdb printed %d values for %d expressions:\n%s", len(vals), len(exprs), out)
	}
	return vals, true
}

// Print agrees with gdb on every expression of the program's globals.
func TestPrintLikeGDB(t *testing.T) {
	s, path := globalsScope(t)
	exprs := []string{"counter", "negative", "big", "letter", "numbers", "zeros", "greeting", "origin",
		"porigin", "*porigin", "points", "favorite", "unknown_color", "message", "record", "u64", "flag",
		"nullp", "pfn", "square", "&origin", "&numbers[2]", "(char)counter", "(unsigned long)negative",
		"*message", "record.w", "record.label", "sizeof(struct rec)", "-counter / 5", "~big",
		"&record.pt", "record.next->y", "points[1]", "&points[1]", "(long)porigin - (long)&origin",
		"numbers[1] * -3 >> 1", "'A' + 1", "counter == 42 || *nullp"}
	want, ok := gdbPrint(t, path, exprs)
	if !ok {
		t.Skip("gdb not installed")
	}
	for i, e := range exprs {
		got, err := s.Print(e)
		if err != nil {
			t.Errorf("print %s: %v (gdb: %s)", e, err, want[i])
		} else if got != want[i] {
			t.Errorf("print %s = %s, gdb says %s", e, got, want[i])
		}
	}
}

// print/FMT agrees with gdb.
func TestPrintFormatLikeGDB(t *testing.T) {
	s, path := globalsScope(t)
	cases := []struct {
		letter byte
		expr   string
	}{
		{'x', "counter"}, {'x', "record"}, {'x', "numbers"}, {'o', "counter"}, {'t', "letter"},
		{'d', "big"}, {'u', "negative"}, {'c', "65"}, {'a', "pfn"}, {'x', "greeting"}, {'x', "porigin"},
		{'x', "negative"}, {'x', "favorite"}, {'d', "favorite"}, {'x', "flag"}, {'c', "counter"},
		{'t', "0"}, {'o', "0"}, {'x', "message"}, {'u', "letter"}, {'x', "(char)-1"},
		{'d', "(unsigned char)200"}, {'x', "record.ratio"}, {'z', "counter"}, {'x', "origin"},
		{'a', "&numbers[1]"}, {'x', "points"},
	}
	var exprs []string
	for _, c := range cases {
		exprs = append(exprs, "/"+string(c.letter)+" "+c.expr)
	}
	want, ok := gdbPrint(t, path, exprs)
	if !ok {
		t.Skip("gdb not installed")
	}
	for i, c := range cases {
		got, err := s.PrintFormat(c.expr, c.letter)
		if err != nil {
			t.Errorf("print/%c %s: %v", c.letter, c.expr, err)
		} else if got != want[i] {
			t.Errorf("print/%c %s = %s, gdb says %s", c.letter, c.expr, got, want[i])
		}
	}
	if _, err := s.PrintFormat("counter", 'q'); !errors.Is(err, ErrBadFormat) {
		t.Errorf("print/q: %v, want ErrBadFormat", err)
	}
}
