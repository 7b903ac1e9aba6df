package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/sgxdbg/sgxdbg/"

// deps lists every package pkg imports, directly or not (go list -deps).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestLayers: the pure packages and the core-file code never reach process
// control; the debugger core, the UI and the DAP adapter see backends only
// through target.
func TestLayers(t *testing.T) {
	backends := []string{"debugger/emu", "debugger/corefile", "debugger/ptrace", "debugger/hw"}
	for _, tc := range []struct {
		pkg       string
		forbidden []string // import-path prefixes under the module
		allowed   []string // exceptions to them
	}{
		{"sgx", []string{"debugger", "enclave", "coredump", "tui", "cmd"}, nil},
		{"ssa", []string{"debugger", "enclave", "coredump", "tui", "cmd"}, nil},
		{"enclave", []string{"debugger", "coredump", "tui", "cmd"}, nil},
		{"coredump", []string{"debugger", "tui", "cmd"}, []string{"debugger/target"}},
		{"debugger/target", []string{"debugger", "coredump", "enclave", "tui", "cmd"}, []string{"debugger/target"}},
		{"debugger", backends, nil},
		{"tui", backends, nil},
		{"dap", append(append([]string(nil), backends...), "tui", "cmd"), nil},
	} {
		for _, d := range deps(t, tc.pkg) {
			rel, ok := strings.CutPrefix(d, mod)
			if !ok || rel == tc.pkg {
				continue
			}
			if under(rel, tc.forbidden) && !under(rel, tc.allowed) {
				t.Errorf("%s imports %s", tc.pkg, rel)
			}
		}
	}
}

// under reports whether pkg is one of prefixes or inside one.
func under(pkg string, prefixes []string) bool {
	for _, p := range prefixes {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

// TestLayersCatch: the rule above would see a violation (so it can fail).
func TestLayersCatch(t *testing.T) {
	found := false
	for _, d := range deps(t, "debugger/emu") {
		found = found || d == mod+"debugger/ptrace"
	}
	if !found {
		t.Fatal("go list -deps debugger/emu does not list debugger/ptrace: the layering test sees nothing")
	}
}
