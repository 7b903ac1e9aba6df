package dwarfx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gdbStop runs the program at path under gdb to a breakpoint at spec and
// returns gdb's info args and info locals lines, the general registers and
// the 512 bytes of stack around RSP.
func gdbStop(t *testing.T, path, spec string) (args, locals []string, regs map[string]uint64, stackLo uint64, stack []byte) {
	t.Helper()
	out, err := exec.Command("gdb", "-nx", "-batch", "-ex", "break "+spec, "-ex", "run",
		"-ex", "echo ==args\\n", "-ex", "info args", "-ex", "echo ==locals\\n", "-ex", "info locals",
		"-ex", "echo ==regs\\n", "-ex", "info registers rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags",
		"-ex", "echo ==stack\\n", "-ex", "x/64gx $rsp-256", path).CombinedOutput()
	if err != nil {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	regs = map[string]uint64{}
	section := ""
	for _, l := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(l, "=="); ok {
			section = s
			continue
		}
		switch section {
		case "args":
			args = append(args, l)
		case "locals":
			locals = append(locals, l)
		case "regs":
			if f := strings.Fields(l); len(f) >= 2 {
				v, err := strconv.ParseUint(f[1], 0, 64)
				if err == nil {
					regs[f[0]] = v
				}
			}
		case "stack":
			addr, words, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			a, err := strconv.ParseUint(addr, 0, 64)
			if err != nil {
				continue
			}
			if stack == nil {
				stackLo = a
			}
			for _, w := range strings.Fields(words) {
				v, err := strconv.ParseUint(w, 0, 64)
				if err != nil {
					t.Fatalf("stack word %q", w)
				}
				stack = binary.LittleEndian.AppendUint64(stack, v)
			}
		}
	}
	if len(stack) != 512 || regs["rip"] == 0 {
		t.Fatalf("gdb output not understood:\n%s", out)
	}
	return trimEmpty(args), trimEmpty(locals), regs, stackLo, stack
}

func trimEmpty(l []string) []string {
	for len(l) > 0 && l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

// info args and info locals of a -O0 function (locals in nested blocks,
// addressed from the frame base: the CFA), stopped by gdb in a live
// process, agree with gdb's own, given gdb's registers and stack.
func TestInfoLocalsLikeGDB(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Skip("gdb not installed")
	}
	src := filepath.Join("testdata", "locals.c")
	text, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range bytes.Split(text, []byte("\n")) {
		if bytes.Contains(l, []byte("/* BREAK */")) {
			line = i + 1
		}
	}
	path := filepath.Join(t.TempDir(), "locals")
	if b, err := exec.Command("gcc", "-g", "-O0", "-no-pie", "-o", path, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	wantArgs, wantLocals, regs, lo, stack := gdbStop(t, path, fmt.Sprintf("locals.c:%d", line))

	p, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	image := fileMemory(t, path)
	mem := func(buf []byte, addr uint64) (int, error) {
		if addr >= lo && addr-lo+uint64(len(buf)) <= uint64(len(stack)) {
			return copy(buf, stack[addr-lo:]), nil
		}
		return image(buf, addr)
	}
	fr := &Frame{PC: regs["rip"]}
	for n, name := range regNames[:16] {
		fr.Regs.Set(n, regs[name])
	}
	fr.Regs.Set(RegEFLAGS, regs["eflags"])
	s := p.Scope(0, fr, mem)
	args, err := s.Args()
	if err != nil {
		t.Fatal(err)
	}
	locals, err := s.Locals()
	if err != nil {
		t.Fatal(err)
	}
	var gotArgs, gotLocals []string
	for _, v := range args {
		gotArgs = append(gotArgs, v.String())
	}
	for _, v := range locals {
		gotLocals = append(gotLocals, v.String())
	}
	if !equalStrings(gotArgs, wantArgs) {
		t.Errorf("info args:\n%q\ngdb:\n%q", gotArgs, wantArgs)
	}
	if !equalStrings(gotLocals, wantLocals) {
		t.Errorf("info locals:\n%q\ngdb:\n%q", gotLocals, wantLocals)
	}
	if len(wantLocals) != 7 || len(wantArgs) != 4 {
		t.Errorf("gdb shows %d args and %d locals, the test program has 4 and 7", len(wantArgs), len(wantLocals))
	}
	for expr, want := range map[string]string{"$eflags": "[ PF ZF IF ]", "q.x + p.y * 2": "12", "tp[1]": "30",
		"buf[1]": "98 'b'", "*msg": "122 'z'", "deep": "7"} {
		if expr == "$eflags" && regs["eflags"] != 0x246 {
			continue
		}
		if got, err := s.Print(expr); err != nil || got != want {
			t.Errorf("print %s = %q, %v; want %q", expr, got, err, want)
		}
	}
}
