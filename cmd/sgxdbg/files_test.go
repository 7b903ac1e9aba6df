package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgxdbg/sgxdbg/internal/fixtures"
	"golang.org/x/sys/unix"
)

// The file rules of issue 17 on the built binary: inputs that are not
// regular files or too large are refused without blocking, outputs never
// go through a link or over an existing file without --force, write
// errors fail the run, and unusable flag values are errors.

// runFiles runs the binary in dir with stdout and stderr captured (or
// stdout sent to the file out), failing the test if it runs 60 s.
func runFiles(t *testing.T, bin, dir string, out *os.File, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if out != nil {
		cmd.Stdout = out
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("sgxdbg %v blocked", args)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		status = ee.ExitCode()
	default:
		t.Fatalf("sgxdbg %v: %v\n%s", args, err, e.String())
	}
	return o.String(), e.String(), status
}

// filesFixture is a directory with a good core file, a FIFO, a
// subdirectory, a key and a signed copy of the clean sample.
type filesFixture struct {
	bin, samples, dir string
	image, key        string // a copy of clean.elf, and a signing key
}

func newFilesFixture(t *testing.T) *filesFixture {
	t.Helper()
	samples, err := filepath.Abs(fixtures.Samples(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &filesFixture{bin: fixtures.Binary(t), samples: samples, dir: t.TempDir()}
	if err := unix.Mkfifo(filepath.Join(f.dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(f.dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	f.image = copyFile(t, filepath.Join(samples, "clean.elf"), f.dir)
	f.key = filepath.Join(samples, "test-key.pem")
	_, stderr, status := runFiles(t, f.bin, f.dir, nil, append([]string{"exec", "-x", "dump good.core; continue", "--"},
		hostArgv(samples, "pf_untrusted", "0", "0x10000")...)...)
	if _, err := os.Stat(filepath.Join(f.dir, "good.core")); err != nil {
		t.Fatalf("no core (status %d): %v\n%s", status, err, stderr)
	}
	return f
}

func TestInputFiles(t *testing.T) {
	f := newFilesFixture(t)
	host := hostArgv(f.samples, "clean", "0")
	fi, err := os.Stat(f.image)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "big.pem"), make([]byte, 65537), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"verify", "clean.elf", "/dev/zero"}, "verify clean.elf: SIGSTRUCT /dev/zero: a character device, not a regular file"},
		{[]string{"verify", "clean.elf", "fifo"}, "verify clean.elf: SIGSTRUCT fifo: a FIFO, not a regular file"},
		{[]string{"verify", "clean.elf", "clean.elf"}, fmt.Sprintf("verify clean.elf: SIGSTRUCT clean.elf: %d bytes, more than the 1808 a SIGSTRUCT may have", fi.Size())},
		{[]string{"verify", "fifo"}, "verify fifo: enclave image fifo: a FIFO, not a regular file"},
		{[]string{"measure", "sub"}, "measure sub: enclave image sub: a directory, not a regular file"},
		{[]string{"sign", "--key", "/dev/zero", "clean.elf"}, "sign clean.elf: signing key /dev/zero: a character device, not a regular file"},
		{[]string{"sign", "--key", "fifo", "clean.elf"}, "sign clean.elf: signing key fifo: a FIFO, not a regular file"},
		{[]string{"sign", "--key", "big.pem", "clean.elf"}, "sign clean.elf: signing key big.pem: 65537 bytes, more than the 65536 a signing key may have"},
		{append([]string{"exec", "--batch", "/dev/zero", "--"}, host...), "batch: batch file /dev/zero: a character device, not a regular file"},
		{append([]string{"exec", "--batch", "fifo", "--"}, host...), "batch: batch file fifo: a FIFO, not a regular file"},
		{[]string{"core", "--batch", "/dev/zero", "good.core"}, "batch: batch file /dev/zero: a character device, not a regular file"},
		{[]string{"core", "--batch", "sub", "good.core"}, "batch: batch file sub: a directory, not a regular file"},
		{[]string{"core", "-x", "ssa", "fifo"}, "core file fifo: a FIFO, not a regular file"},
		{[]string{"inspect", "sub"}, "core file sub: a directory, not a regular file"},
		{[]string{"inspect", "/dev/zero"}, "core file /dev/zero: a character device, not a regular file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			stdout, stderr, status := runFiles(t, f.bin, f.dir, nil, tt.args...)
			if status != 1 || stderr != "sgxdbg: "+tt.msg+"\n" || stdout != "" {
				t.Errorf("%v: status %d stderr %q stdout %q, want 1 and %q", tt.args, status, stderr, stdout, tt.msg)
			}
		})
	}
}

func TestOutputFiles(t *testing.T) {
	f := newFilesFixture(t)
	target := filepath.Join(f.dir, "target")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(f.dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("clean.elf.sig", filepath.Join(f.dir, "clean.elf.sig.link")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(f.dir, "link")
	linkMsg := link + " is a symbolic link: sgxdbg writes no file through or over a link"
	host := hostArgv(f.samples, "pf_untrusted", "0", "0x10000")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"sign", "--key", f.key, "-o", "link", "clean.elf"}, "sign clean.elf: link is a symbolic link: sgxdbg writes no file through or over a link"},
		{[]string{"sign", "--force", "--key", f.key, "-o", "link", "clean.elf"}, "sign clean.elf: link is a symbolic link: sgxdbg writes no file through or over a link"},
		{[]string{"sign", "--key", f.key, "-o", "target", "clean.elf"}, "sign clean.elf: target exists: pass --force to replace it"},
		{[]string{"keygen", "link"}, "keygen link: link is a symbolic link: sgxdbg writes no file through or over a link"},
		{[]string{"keygen", "--force", "target"}, ""}, // replaced below, checked after the loop
		{append([]string{"emulate", "--json", "-o", link, "--"}, host...), "emulate: " + linkMsg},
		{append([]string{"emulate", "--json", "-o", "target", "--"}, host...), "emulate: target exists: pass --force to replace it"},
		{append([]string{"emulate", "--force", "--"}, host...), "emulate: --force needs -o FILE"},
	}
	for i, tt := range tests {
		if tt.msg == "" {
			continue
		}
		_, stderr, status := runFiles(t, f.bin, f.dir, nil, tt.args...)
		if status != 1 || stderr != "sgxdbg: "+tt.msg+"\n" {
			t.Errorf("%d %v: status %d stderr %q, want 1 and %q", i, tt.args[:2], status, stderr, tt.msg)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep me" {
			t.Fatalf("%v changed the link's target: %q", tt.args, b)
		}
	}
	// dump through a link or over a file: refused; --force replaces the
	// file, not the link's target.
	stdout, _, _ := runFiles(t, f.bin, f.dir, nil, append([]string{"exec", "--json", "-x", "dump link; dump target; dump --force link; continue", "--"}, host...)...)
	for _, want := range []string{
		`{"code":"error","command":"dump link","error":"dump: ` + "link is a symbolic link: sgxdbg writes no file through or over a link" + `"}`,
		`{"code":"error","command":"dump target","error":"dump: target exists: pass --force to replace it"}`,
		`{"code":"error","command":"dump --force link","error":"dump: link is a symbolic link: sgxdbg writes no file through or over a link"}`,
	} {
		if !strings.Contains(stdout, want+"\n") {
			t.Errorf("exec dump: no line %s in\n%s", want, stdout)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Fatalf("dump changed the link's target: %q", b)
	}

	// --force replaces whole, with the command's mode, not the old file's.
	_, stderr, status := runFiles(t, f.bin, f.dir, nil, append([]string{"emulate", "--json", "--force", "-o", "target", "--"}, host...)...)
	fi, err := os.Stat(target)
	if status != 2 || stderr != "unhandled enclave exception: #PF (SIGSEGV)\n" || err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("emulate --force -o target: status %d %q, %v %v", status, stderr, fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !bytes.HasPrefix(b, []byte(`{"`)) || !bytes.HasSuffix(b, []byte("\"status\":2}\n")) {
		t.Errorf("events file: %q", b)
	}
	if _, stderr, status := runFiles(t, f.bin, f.dir, nil, "keygen", "--force", "target"); status != 0 || stderr != "" {
		t.Fatalf("keygen --force: status %d %q", status, stderr)
	}
	if b, _ := os.ReadFile(target); !bytes.HasPrefix(b, []byte("-----BEGIN RSA PRIVATE KEY-----\n")) {
		t.Errorf("keygen --force wrote %q", b)
	}
	// The default .sig: refused when it exists, replaced with --force.
	if _, stderr, status := runFiles(t, f.bin, f.dir, nil, "sign", "--key", f.key, "--date", "2026-11-24", "clean.elf"); status != 0 {
		t.Fatalf("first sign: %d %s", status, stderr)
	}
	if _, stderr, _ := runFiles(t, f.bin, f.dir, nil, "sign", "--key", f.key, "clean.elf"); stderr != "sgxdbg: sign clean.elf: clean.elf.sig exists: pass --force to replace it\n" {
		t.Errorf("second sign: %q", stderr)
	}
	if _, stderr, status := runFiles(t, f.bin, f.dir, nil, "sign", "--force", "--key", f.key, "clean.elf"); status != 0 {
		t.Errorf("sign --force: %d %s", status, stderr)
	}
}

func TestWriteErrors(t *testing.T) {
	f := newFilesFixture(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer full.Close()
	host := hostArgv(f.samples, "pf_untrusted", "0", "0x10000")
	tests := []struct {
		args []string
		out  *os.File
		msg  string
	}{
		{append([]string{"exec", "--json", "-x", "continue", "--"}, host...), full, "write stdout: no space left on device"},
		{[]string{"core", "--json", "-x", "ssa", "good.core"}, full, "write stdout: no space left on device"},
		{[]string{"inspect", "good.core"}, full, "write stdout: no space left on device"},
		{[]string{"inspect", "--json", "good.core"}, full, "write stdout: no space left on device"},
		{append([]string{"emulate", "--json", "-o", "/dev/full", "--"}, host...), nil,
			"emulate " + host[0] + ": the events were not all written: write /dev/full: no space left on device"},
		{append([]string{"emulate", "--trace", "-o", "/dev/full", "--"}, host...), nil,
			"emulate " + host[0] + ": the events were not all written: write /dev/full: no space left on device"},
	}
	for _, tt := range tests {
		_, stderr, status := runFiles(t, f.bin, f.dir, tt.out, tt.args...)
		if status != 1 || !strings.HasSuffix(stderr, "sgxdbg: "+tt.msg+"\n") {
			t.Errorf("%v: status %d stderr %q, want 1 and %q", tt.args[:3], status, stderr, tt.msg)
		}
	}
	// A core file that cannot be written: the dump fails, nothing is left.
	stdout, _, _ := runFiles(t, f.bin, f.dir, nil, append([]string{"exec", "--json", "-x", "dump /dev/full; continue", "--"}, host...)...)
	if want := `{"code":"error","command":"dump /dev/full","error":"dump: write core headers: write /dev/full: no space left on device"}` + "\n"; !strings.Contains(stdout, want) {
		t.Errorf("dump /dev/full: no line %s in\n%s", want, stdout)
	}
	// Events on stderr: the message cannot be read, the status says it.
	cmd := exec.Command(f.bin, append([]string{"emulate", "--json", "--"}, host...)...)
	cmd.Stderr = full
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("emulate --json 2>/dev/full: %v, want exit status 1", err)
	}
}

func TestArgumentErrors(t *testing.T) {
	f := newFilesFixture(t)
	host := hostArgv(f.samples, "clean", "0")
	notELF := filepath.Join(f.dir, "notes.txt")
	if err := os.WriteFile(notELF, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hostBin := host[0]
	missing := filepath.Join(f.dir, "missing.elf")
	tests := []struct {
		args   []string
		status int
		msg    string
	}{
		{append([]string{"exec", "--enclave", missing, "--"}, host...), 1, "--enclave: open " + missing + ": no such file or directory"},
		{append([]string{"exec", "--enclave", "sub", "--"}, host...), 1, "--enclave: enclave image sub: a directory, not a regular file"},
		{append([]string{"exec", "--enclave", notELF, "--"}, host...), 1, "--enclave " + notELF + ": not a usable enclave image: ELF magic at offset 0x0: not an ELF file (0x68656c6c)"},
		{[]string{"core", "--enclave", hostBin, "-x", "ssa", "good.core"}, 1, "--enclave " + hostBin + ": not a usable enclave image: "},
		{[]string{"inspect", "--enclave", missing, "good.core"}, 1, "--enclave: open " + missing + ": no such file or directory"},
		{append([]string{"exec", "--stop-on", "", "--"}, host...), 1, `--stop-on "": no policy words (aex [VECTORS], eenter, eexit, eresume, all, none)`},
		{append([]string{"exec", "--stop-on", "aex", "--stop-on", " ", "--"}, host...), 1, `--stop-on " ": no policy words (aex [VECTORS], eenter, eexit, eresume, all, none)`},
		{append([]string{"exec", "--dump-on", "", "--"}, host...), 1, `--dump-on "": want aex, fatal or exit`},
		{append([]string{"exec", "--dump-on", "always", "--"}, host...), 1, `--dump-on "always": want aex, fatal or exit`},
		{[]string{"core", "-x", "garbage", "good.core"}, 1, "core good.core: 1 of 1 script commands failed"},
		{[]string{"core", "-x", "ssa; garbage; regs", "good.core"}, 1, "core good.core: 1 of 3 script commands failed"},
	}
	for _, tt := range tests {
		stdout, stderr, status := runFiles(t, f.bin, f.dir, nil, tt.args...)
		if status != tt.status || !strings.HasPrefix(stderr, "sgxdbg: "+tt.msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: status %d stderr %q, want %d and %q", tt.args[:3], status, stderr, tt.status, tt.msg)
		}
		if strings.HasPrefix(tt.args[0], "exec") && stdout != "" {
			t.Errorf("%v: the host ran: %q", tt.args[:3], stdout)
		}
	}
	// A good --enclave and a good script still exit 0.
	if _, stderr, status := runFiles(t, f.bin, f.dir, nil, "core", "--enclave", filepath.Join(f.samples, "pf_untrusted.elf"), "-x", "ssa; bt", "good.core"); status != 0 {
		t.Errorf("core with a good --enclave: %d %s", status, stderr)
	}
}
