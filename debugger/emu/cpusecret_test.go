package emu

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateCPUSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "cpu-secret")
	rnd := bytes.NewReader(bytes.Repeat([]byte{0x42}, 64))
	s, err := LoadOrCreateCPUSecret(path, rnd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s, bytes.Repeat([]byte{0x42}, 32)) {
		t.Errorf("secret %x", s)
	}
	raw, _ := os.ReadFile(path)
	if string(raw) != strings.Repeat("42", 32)+"\n" {
		t.Errorf("file holds %q", raw)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", fi.Mode())
	}
	if m, _ := filepath.Glob(path + ".new-*"); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	// An existing file is read, never replaced.
	s2, err := LoadOrCreateCPUSecret(path, bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	if err != nil || !bytes.Equal(s2, s) {
		t.Errorf("second load %x, %v", s2, err)
	}

	for _, c := range []struct {
		name  string
		setup func(p string)
		want  string
	}{
		{"symlink", func(p string) { os.Symlink(path, p) }, "symbolic link"},
		{"mode 0644", func(p string) { os.WriteFile(p, raw, 0o644) }, "mode 0644"},
		{"not hex", func(p string) { os.WriteFile(p, []byte("zz\n"), 0o600) }, "not hex"},
		{"short", func(p string) { os.WriteFile(p, []byte("abcd\n"), 0o600) }, "2 bytes, want 32"},
		{"directory", func(p string) { os.Mkdir(p, 0o700) }, "not a regular file"},
	} {
		p := filepath.Join(dir, c.name)
		c.setup(p)
		_, err := LoadOrCreateCPUSecret(p, bytes.NewReader(make([]byte, 64)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// A symlink to a missing file is refused too, not followed to create it.
	link := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), link)
	if _, err := LoadOrCreateCPUSecret(link, bytes.NewReader(make([]byte, 64))); err == nil {
		t.Error("a dangling symlink is accepted")
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the secret was written through a dangling symlink")
	}
	if _, err := LoadOrCreateCPUSecret(filepath.Join(dir, "eof"), bytes.NewReader(make([]byte, 3))); err == nil {
		t.Error("a short random source is accepted")
	}
}

func TestEmulatorCPUSecretOption(t *testing.T) {
	em := &Emulator{opts: Options{CPUSecret: make([]byte, 16)}}
	if _, err := em.keyHierarchy(); err == nil || !strings.Contains(err.Error(), "16 bytes") {
		t.Errorf("16-byte Options.CPUSecret: %v", err)
	}
	t.Setenv(CPUSecretEnv, "00ff")
	em = &Emulator{}
	if _, err := em.keyHierarchy(); err == nil || !strings.Contains(err.Error(), CPUSecretEnv) {
		t.Errorf("short $%s: %v", CPUSecretEnv, err)
	}
}

// FuzzParseCPUSecret parses secret-file contents: a secret is returned
// only for 64 hex digits with white space around them, and never a panic.
func FuzzParseCPUSecret(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseCPUSecret(s)
		if err != nil {
			return
		}
		if len(b) != 32 || len(strings.TrimSpace(s)) != 64 {
			t.Fatalf("%q parsed as %d bytes", s, len(b))
		}
	})
}
