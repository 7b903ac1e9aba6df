package dwarfx

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// stmtRows returns the addresses of the is_stmt rows of file:line, by
// readelf --debug-dump=decodedline (binutils' independent reading of the
// line table).
func stmtRows(t *testing.T, path, file string, line int) []uint64 {
	t.Helper()
	out, err := exec.Command("readelf", "--debug-dump=decodedline", path).Output()
	if err != nil {
		t.Fatalf("readelf: %v", err)
	}
	var addrs []uint64
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		// "clean.c  9  0x13130  [view]  x"
		if len(f) < 4 || f[0] != file || f[1] != strconv.Itoa(line) || f[len(f)-1] != "x" {
			continue
		}
		a, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, a)
	}
	return addrs
}

var gdbBreak = regexp.MustCompile(`Breakpoint \d+ at (0x[0-9a-f]+): file (\S+), line (\d+)\.`)

// gdbBreakAddrs asks gdb 13 where it puts `break SPEC` in the file at
// path (the first location's address); ok is false when gdb is not
// installed.
func gdbBreakAddrs(t *testing.T, path string, specs []string) (map[string]uint64, bool) {
	m, counts, ok := gdbBreakLocations(t, path, specs)
	_ = counts
	return m, ok
}

// gdbBreakLocations is gdbBreakAddrs with the number of locations.
func gdbBreakLocations(t *testing.T, path string, specs []string) (map[string]uint64, map[string]int, bool) {
	t.Helper()
	if _, err := exec.LookPath("gdb"); err != nil {
		return nil, nil, false
	}
	args := []string{"-nx", "-batch"}
	for _, s := range specs {
		args = append(args, "-ex", "echo SPEC "+s+"\\n", "-ex", "break "+s)
	}
	out, _ := exec.Command("gdb", append(args, path)...).CombinedOutput()
	m, counts := map[string]uint64{}, map[string]int{}
	cur := ""
	for _, l := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(l, "SPEC "); ok {
			cur = s
			continue
		}
		if g := gdbBreak.FindStringSubmatch(l); g != nil && cur != "" {
			a, _ := strconv.ParseUint(g[1], 0, 64)
			m[cur], counts[cur] = a, 1
		} else if g := gdbFuncLocations.FindStringSubmatch(l); g != nil && cur != "" {
			a, _ := strconv.ParseUint(g[1], 0, 64)
			n, _ := strconv.Atoi(g[2])
			m[cur], counts[cur] = a, n
		}
	}
	return m, counts, true
}

var gdbFuncLocations = regexp.MustCompile(`Breakpoint \d+ at (0x[0-9a-f]+): \S+\. \((\d+) locations\)`)

// clean.c:9 and sum_values resolve to the addresses binutils and gdb give:
// the is_stmt row of line 9 (readelf), the function's entry (nm) since
// its optimized unit has location lists.
func TestResolveClean(t *testing.T) {
	p := openSample(t, "clean")
	path := samplePath(t, "clean")
	const base = 0x7f0000000000
	rows := stmtRows(t, path, "clean.c", 9)
	if len(rows) != 1 {
		t.Fatalf("readelf: line 9 has is_stmt rows %#x, want one", rows)
	}
	loc, err := p.Resolve("clean.c:9", base, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(loc.Addrs) != 1 || loc.Addrs[0] != base+rows[0] || loc.Line != 9 || loc.Function != "sum_values" ||
		loc.File != "samples/clean.c" {
		t.Errorf("Resolve(clean.c:9) = %+v, want %#x in sum_values", loc, base+rows[0])
	}
	loc, err = p.Resolve("sum_values", base, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := base + nmAddr(t, path, "sum_values"); len(loc.Addrs) != 1 || loc.Addrs[0] != want || loc.Line != 8 {
		t.Errorf("Resolve(sum_values) = %+v, want %#x line 8", loc, want)
	}
	// Line 5 has no code: the next line that has (6).
	loc, err = p.Resolve("samples/clean.c:5", base, "")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Line != 6 || loc.Addrs[0] != base+nmAddr(t, path, "sum_values") {
		t.Errorf("Resolve(samples/clean.c:5) = %+v", loc)
	}
	loc, err = p.Resolve("*0x7f0000013133", base, "")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Function != "sum_values" || loc.Line != 8 || loc.Addrs[0] != 0x7f0000013133 {
		t.Errorf("Resolve(*0x7f0000013133) = %+v", loc)
	}
	loc, err = p.Resolve("*sum_values+3", base, "")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Addrs[0] != base+nmAddr(t, path, "sum_values")+3 {
		t.Errorf("Resolve(*sum_values+3) = %+v", loc)
	}
	loc, err = p.Resolve("14", base, "samples/clean.c")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Function != "enclave_ecall" || loc.Line != 14 {
		t.Errorf("Resolve(14) = %+v", loc)
	}
}

func TestResolveErrors(t *testing.T) {
	p := openSample(t, "clean")
	tests := []struct {
		spec  string
		check func(error) bool
		want  string
	}{
		{"clean.c:24", func(err error) bool {
			var e *NoCodeError
			return errors.As(err, &e) && e.Line == 24 && e.File == "clean.c"
		}, `no code at line 24 in file "clean.c"`},
		{"nosuch.c:3", func(err error) bool {
			var e *NoSuchFileError
			return errors.As(err, &e) && e.File == "nosuch.c"
		}, "no source file named nosuch.c"},
		{"no_such_function", func(err error) bool {
			var e *UnknownSymbolError
			return errors.As(err, &e) && e.Name == "no_such_function" && e.Col == 0
		}, `no symbol "no_such_function" in current context`},
		{"clean.c:x", func(err error) bool {
			var e *BadLocationError
			return errors.As(err, &e)
		}, `bad location "clean.c:x": expected FILE:LINE with a positive line number`},
		{"12", func(err error) bool {
			var e *BadLocationError
			return errors.As(err, &e)
		}, `bad location "12": a line number needs a current source file`},
		{"*zz", func(err error) bool {
			var e *UnknownSymbolError
			return errors.As(err, &e) && e.Name == "zz"
		}, `no symbol "zz" in current context`},
		{"*0xzz", func(err error) bool {
			var e *BadLocationError
			return errors.As(err, &e)
		}, `bad location "*0xzz": invalid address`},
	}
	for _, tc := range tests {
		loc, err := p.Resolve(tc.spec, 0, "")
		if err == nil {
			t.Errorf("Resolve(%q) = %+v, want an error", tc.spec, loc)
			continue
		}
		if !tc.check(err) || err.Error() != tc.want {
			t.Errorf("Resolve(%q) error %T %q, want %q", tc.spec, err, err, tc.want)
		}
	}
}

// Every spec resolves where gdb 13 puts the breakpoint, in the optimized
// samples and in an -O0 program with frame-pointer prologues.
func TestResolveLikeGDB(t *testing.T) {
	cases := []struct {
		name  string
		path  string
		specs []string
	}{
		{"clean", samplePath(t, "clean"), []string{"sum_values", "enclave_ecall", "clean.c:5", "clean.c:6",
			"clean.c:7", "clean.c:8", "clean.c:9", "clean.c:10", "clean.c:11", "clean.c:13", "clean.c:16",
			"clean.c:18", "clean.c:19", "clean.c:22", "runtime_ecall", "entry.S:25"}},
		{"de", samplePath(t, "de"), []string{"fault_divide", "enclave_ecall", "skip_div_handler", "de.c:60",
			"de.c:62", "de.c:66", "de.c:75"}},
		{"globals", buildGlobals(t), []string{"square", "main", "globals.c:46", "globals.c:47", "globals.c:48", "globals.c:50", "globals.c:54", "globals.c:56"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, ok := gdbBreakAddrs(t, c.path, c.specs)
			if !ok {
				t.Skip("gdb not installed")
			}
			p, err := Open(c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for _, spec := range c.specs {
				w, ok := want[spec]
				if !ok {
					t.Errorf("gdb placed no breakpoint at %s", spec)
					continue
				}
				loc, err := p.Resolve(spec, 0, "")
				if err != nil {
					t.Errorf("Resolve(%s): %v", spec, err)
					continue
				}
				if loc.Addrs[0] != w {
					t.Errorf("Resolve(%s) = %#x, gdb says %#x", spec, loc.Addrs[0], w)
				}
			}
		})
	}
}

// The -O0 program: square's breakpoint is the second row of its line
// table (after push %rbp; mov %rsp,%rbp), by readelf.
func TestResolveFramePointerPrologue(t *testing.T) {
	path := buildGlobals(t)
	p, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	entry := nmAddr(t, path, "square")
	body := stmtRows(t, path, "globals.c", 48) // return v * v;
	if len(body) != 1 {
		t.Fatalf("readelf: line 48 rows %#x", body)
	}
	loc, err := p.Resolve("square", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Addrs[0] != body[0] || loc.Line != 48 || body[0] <= entry {
		t.Errorf("Resolve(square) = %+v, want %#x (entry %#x)", loc, body[0], entry)
	}
}

// list LOCATION centres like gdb's list (ranges checked against gdb 13's
// output for the same commands).
func TestList(t *testing.T) {
	p := openSample(t, "clean")
	tests := []struct {
		spec     string
		from, to int
	}{
		{"sum_values", 3, 12},
		{"enclave_ecall", 10, 19},
		{"clean.c:9", 4, 13},
		{"clean.c:2", 1, 10},
		{"*0x13133", 3, 12},
		{"clean.c:1,3", 1, 3},
		{"20", 15, 24},
	}
	for _, tc := range tests {
		r, err := p.List(tc.spec, 0, "samples/clean.c")
		if err != nil {
			t.Errorf("List(%s): %v", tc.spec, err)
			continue
		}
		if r.From != tc.from || r.To != tc.to || r.File != "samples/clean.c" || !strings.HasSuffix(r.CompDir, "enclaves/debug") {
			t.Errorf("List(%s) = %+v, want %d..%d", tc.spec, r, tc.from, tc.to)
		}
	}
}

var gdbLocations = regexp.MustCompile(`Breakpoint \d+ at (0x[0-9a-f]+): \S+\. \((\d+) locations\)`)

// Every line of every sample's C source, and three past its end, resolves
// as gdb 13 resolves `break FILE:LINE`: the same first address and the
// same number of locations where gdb places a breakpoint, an error where
// it places none.
func TestResolveEveryLineLikeGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb not installed")
	}
	srcs, err := filepath.Glob(filepath.Join("..", "..", "enclaves", "debug", "samples", "*.c"))
	if err != nil || len(srcs) < 10 {
		t.Fatalf("sample sources: %v, %v", srcs, err)
	}
	for _, src := range srcs {
		file := filepath.Base(src)
		name := strings.TrimSuffix(file, ".c")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			n := strings.Count(string(text), "\n") + 3
			path := samplePath(t, name)
			args := []string{"-nx", "-batch"}
			for i := 1; i <= n; i++ {
				args = append(args, "-ex", fmt.Sprintf("echo SPEC %d\\n", i), "-ex", fmt.Sprintf("break %s:%d", file, i))
			}
			out, _ := exec.Command("gdb", append(args, path)...).CombinedOutput()
			type bp struct {
				addr  uint64
				count int
			}
			gdb := map[int]bp{}
			cur := 0
			for _, l := range strings.Split(string(out), "\n") {
				if s, ok := strings.CutPrefix(l, "SPEC "); ok {
					cur, _ = strconv.Atoi(s)
					continue
				}
				if g := gdbBreak.FindStringSubmatch(l); g != nil {
					a, _ := strconv.ParseUint(g[1], 0, 64)
					gdb[cur] = bp{a, 1}
				} else if g := gdbLocations.FindStringSubmatch(l); g != nil {
					a, _ := strconv.ParseUint(g[1], 0, 64)
					c, _ := strconv.Atoi(g[2])
					gdb[cur] = bp{a, c}
				}
			}
			if len(gdb) == 0 {
				t.Fatalf("gdb placed no breakpoint:\n%s", out)
			}
			p := openSample(t, name)
			for i := 1; i <= n; i++ {
				want, placed := gdb[i]
				loc, err := p.Resolve(fmt.Sprintf("%s:%d", file, i), 0, "")
				switch {
				case !placed && err == nil:
					t.Errorf("%s:%d: resolved to %#x, gdb places no breakpoint", file, i, loc.Addrs)
				case !placed:
					var nc *NoCodeError
					if !errors.As(err, &nc) {
						t.Errorf("%s:%d: %v, want a NoCodeError", file, i, err)
					}
				case err != nil:
					t.Errorf("%s:%d: %v, gdb says %#x", file, i, err, want.addr)
				case loc.Addrs[0] != want.addr || len(loc.Addrs) != want.count:
					t.Errorf("%s:%d: %#x, gdb says %#x (%d locations)", file, i, loc.Addrs, want.addr, want.count)
				}
			}
		})
	}
}

// Every function with DWARF in every sample (its own and the runtime's)
// resolves where gdb 13 puts `break FUNCTION`.
func TestResolveEveryFunctionLikeGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb not installed")
	}
	for _, name := range []string{"clean", "de", "nested", "threads", "ud"} {
		t.Run(name, func(t *testing.T) {
			p := openSample(t, name)
			seen := map[string]bool{}
			var specs []string
			for _, fn := range p.funcs {
				if !seen[fn.name] {
					seen[fn.name] = true
					specs = append(specs, fn.name)
				}
			}
			want, counts, _ := gdbBreakLocations(t, samplePath(t, name), specs)
			if len(specs) < 10 {
				t.Fatalf("only %d functions", len(specs))
			}
			for _, spec := range specs {
				loc, err := p.Resolve(spec, 0, "")
				if err != nil {
					t.Errorf("Resolve(%s): %v", spec, err)
					continue
				}
				if w, ok := want[spec]; !ok || loc.Addrs[0] != w || len(loc.Addrs) != counts[spec] {
					t.Errorf("Resolve(%s) = %#x, gdb says %#x, %d locations (placed: %v)", spec, loc.Addrs, w, counts[spec], ok)
				}
			}
		})
	}
}
