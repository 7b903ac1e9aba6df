package dwarfx

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// insnAddrs lists the instruction addresses of function fn by objdump.
func insnAddrs(t *testing.T, path, fn string) []uint64 {
	t.Helper()
	out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", path).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	var addrs []uint64
	in := false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(line, "<"+fn+">:") {
			in = true
			continue
		}
		if in && strings.TrimSpace(line) == "" {
			break
		}
		if a, _, ok := strings.Cut(strings.TrimSpace(line), ":"); in && ok {
			if v, err := strconv.ParseUint(a, 16, 64); err == nil {
				addrs = append(addrs, v)
			}
		}
	}
	return addrs
}

// addr2lineChains returns, per address, the function names addr2line -i
// gives: the inlined function first, out to the real one.
func addr2lineChains(t *testing.T, path string, addrs []uint64) map[uint64][]string {
	t.Helper()
	args := []string{"-a", "-f", "-i", "-e", path}
	for _, a := range addrs {
		args = append(args, fmt.Sprintf("%#x", a))
	}
	out, err := exec.Command("addr2line", args...).Output()
	if err != nil {
		t.Fatalf("addr2line: %v", err)
	}
	m := map[uint64][]string{}
	var cur uint64
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "0x") {
			cur, _ = strconv.ParseUint(lines[i], 0, 64)
			continue
		}
		m[cur] = append(m[cur], lines[i])
		i++ // the file:line after each name
	}
	return m
}

// At every instruction of the de sample's skip_div_handler, the Scope
// and its Callers name the same inline chain as addr2line -i.
func TestInlineChainLikeAddr2line(t *testing.T) {
	p := openSample(t, "de")
	path := samplePath(t, "de")
	for _, fn := range []string{"skip_div_handler", "runtime_ecall", "enclave_ecall"} {
		// The instructions inside the symbol's size (not the padding after).
		start, size := nmSized(t, path, fn)
		var addrs []uint64
		for _, a := range insnAddrs(t, path, fn) {
			if a-start < size {
				addrs = append(addrs, a)
			}
		}
		want := addr2lineChains(t, path, addrs)
		inlined := 0
		for _, a := range addrs {
			fr := &Frame{PC: testBase + a}
			var got []string
			for s := p.Scope(testBase, fr, nil); s != nil; s = s.Caller() {
				got = append(got, s.Function())
			}
			if !equalStrings(got, want[a]) {
				t.Errorf("%s at %#x: chain %q, addr2line says %q", fn, a, got, want[a])
			}
			if len(got) > 1 {
				inlined++
			}
		}
		if fn == "skip_div_handler" && inlined == 0 {
			t.Errorf("no instruction of %s in inlined code", fn)
		}
	}
}

// Inside div_length inlined into skip_div_handler: the inline frame's
// arguments and locals are div_length's, its caller's are
// skip_div_handler's without div_length's.
func TestInlineScope(t *testing.T) {
	p := openSample(t, "de")
	path := samplePath(t, "de")
	var pc uint64
	chains := addr2lineChains(t, path, insnAddrs(t, path, "skip_div_handler"))
	for a, c := range chains {
		if len(c) == 2 && c[0] == "div_length" && (pc == 0 || a < pc) {
			pc = a
		}
	}
	if pc == 0 {
		t.Fatal("no instruction inside the inlined div_length")
	}
	s := p.Scope(testBase, &Frame{PC: testBase + pc, CFA: 0x7f1200100000}, nil)
	names := func(vs []Variable, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.Type+" "+v.Name)
		}
		return out
	}
	if !s.Inlined() || s.Function() != "div_length" {
		t.Fatalf("Scope at %#x: %s, inlined %v", pc, s.Function(), s.Inlined())
	}
	if got, want := names(s.Args()), []string{"const uint8_t * ip"}; !equalStrings(got, want) {
		t.Errorf("div_length args %q, want %q", got, want)
	}
	if got, want := names(s.Locals()), []string{"unsigned int n", "unsigned int mod", "unsigned int rm"}; !equalStrings(got, want) {
		t.Errorf("div_length locals %q, want %q", got, want)
	}
	c := s.Caller()
	if c == nil || c.Inlined() || c.Function() != "skip_div_handler" || c.Caller() != nil {
		t.Fatalf("caller scope: %+v", c)
	}
	if got, want := names(c.Args()), []string{"struct exception_info * e"}; !equalStrings(got, want) {
		t.Errorf("skip_div_handler args %q, want %q", got, want)
	}
	if got, want := names(c.Locals()), []string{"const uint8_t * ip", "unsigned int len"}; !equalStrings(got, want) {
		t.Errorf("skip_div_handler locals %q, want %q", got, want)
	}
	// Names resolve in the level's own scope: n is div_length's, e is not.
	if _, err := s.WhatIs("n"); err != nil {
		t.Errorf("whatis n in div_length: %v", err)
	}
	if _, err := s.WhatIs("e"); err == nil {
		t.Error("whatis e in div_length: skip_div_handler's argument is visible")
	}
	// gdb: whatis ((struct exception_info *)0)->gpr, ptype struct exception_info.
	if got, err := c.WhatIs("e->gpr"); err != nil || got != "struct ssa_gpr *" {
		t.Errorf("whatis e->gpr in skip_div_handler = %q, %v", got, err)
	}
	want := "struct exception_info {\n    uint32_t vector;\n    uint32_t exit_type;\n    uint32_t valid;\n" +
		"    uint32_t frame;\n    uint64_t maddr;\n    uint32_t errcd;\n    uint32_t reserved;\n    struct ssa_gpr *gpr;\n} *"
	if got, err := c.PType("e"); err != nil || got != want {
		t.Errorf("ptype e =\n%s\n%v; want\n%s", got, err, want)
	}
}

// nmSized returns a symbol's address and size by nm -S.
func nmSized(t *testing.T, path, name string) (uint64, uint64) {
	t.Helper()
	out, err := exec.Command("nm", "-S", "--defined-only", path).Output()
	if err != nil {
		t.Fatalf("nm: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && f[3] == name {
			a, _ := strconv.ParseUint(f[0], 16, 64)
			s, _ := strconv.ParseUint(f[1], 16, 64)
			return a, s
		}
	}
	t.Fatalf("nm: no sized symbol %s", name)
	return 0, 0
}
