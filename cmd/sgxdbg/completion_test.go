package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFlagCompletion runs cobra's hidden __complete command, as the shell
// completion scripts do, and checks the candidates and the directive.
func TestFlagCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"exec", "--stop-on", ""}, "aex\neenter\neexit\neresume\nenclu-fault\nall\nnone\n:4\n"},
		{[]string{"exec", "--stop-on", "e"}, "eenter\neexit\neresume\nenclu-fault\n:4\n"},
		{[]string{"exec", "--stop-on", "aex #P"}, "aex #PF\tpage fault\n:6\n"},
		{[]string{"exec", "--stop-on", "aex #PF,#G"}, "aex #PF,#GP\tgeneral protection\n:6\n"},
		{[]string{"exec", "--dump-on", "f"}, "fatal\tat the last AEX before a bad end\n:4\n"},
		{[]string{"exec", "--backend", ""}, "auto\tthe emulator (hardware once the hw backend exists)\nemu\tthe SGX emulator\n:4\n"},
		{[]string{"exec", "--backend", "x"}, ":4\n"},
		{[]string{"exec", "--cpu", ""}, "sgx2\tSGX1 and SGX2 leaves, EDMM ioctls\nsgx1\tSGX1 only\n:4\n"},
		{[]string{"emulate", "--cpuid", "f"}, "faulting\tarch_prctl(ARCH_SET_CPUID)\n:4\n"},
	}
	for _, tt := range tests {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&bytes.Buffer{})
		root.SetArgs(append([]string{"__complete"}, tt.args...))
		if err := root.Execute(); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if got := out.String(); got != tt.want {
			t.Errorf("%q:\ngot  %q\nwant %q", strings.Join(tt.args, " "), got, tt.want)
		}
	}
}
