package enclave

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Test images are built once per test binary from testdata/image with gcc
// and the linker script there, into a directory TestMain removes.
var (
	buildDir   string
	buildMu    sync.Mutex
	builtPaths = map[string]string{}
)

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "enclave-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	buildDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// Image variants.
const (
	imgDebug    = "debug"    // -O0 -g, .eh_frame
	imgStripped = "stripped" // imgDebug after strip(1)
	imgNoCFI    = "nocfi"    // no .eh_frame: frame-pointer unwinding only
	imgReloc    = "reloc"    // an absolute pointer: a dynamic relocation
	imgPacked   = "packed"   // imgDebug linked with -n: segments not page aligned in the file
)

// testImage returns the path of the built image variant.
func testImage(t testing.TB, variant string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	return buildLocked(t, variant)
}

// buildLocked builds variant unless it exists. The caller holds buildMu.
func buildLocked(t testing.TB, variant string) string {
	t.Helper()
	if p, ok := builtPaths[variant]; ok {
		return p
	}
	src, err := filepath.Abs("testdata/image")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(buildDir, variant+".elf")
	args := []string{"-O0", "-g", "-fcf-protection=none", "-ffreestanding", "-fpie", "-nostdlib",
		"-static-pie", "-Wl,-T," + filepath.Join(src, "image.ld"), "-Wl,-z,norelro",
		"-Wl,--build-id=none", "-Wl,-z,noexecstack", "-Wl,--hash-style=gnu", "-o", out}
	switch variant {
	case imgDebug:
	case imgStripped:
		dbg := buildLocked(t, imgDebug)
		run(t, "strip", "-o", out, dbg)
		builtPaths[variant] = out
		return out
	case imgNoCFI:
		args = append(args, "-DNO_CFI", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables")
	case imgReloc:
		args = append(args, "-DWITH_RELOC")
	case imgPacked:
		args = append(args, "-Wl,-n")
	default:
		t.Fatalf("unknown image variant %q", variant)
	}
	args = append(args, filepath.Join(src, "enclave.c"), filepath.Join(src, "entry.S"))
	run(t, "gcc", args...)
	builtPaths[variant] = out
	return out
}

// run runs a build command, failing the test with its output on error.
func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
