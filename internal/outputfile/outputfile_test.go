package outputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// place makes a directory with an existing file "old" (mode 0644,
// content "old"), a link to it, a dangling link, a FIFO and a directory.
func place(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"link": old, "dangling": filepath.Join(dir, "nowhere")} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCreateRefuses(t *testing.T) {
	dir := place(t)
	tests := []struct {
		name  string
		force bool
		want  Error
		text  string
	}{
		{"old", false, Error{Type: "regular file", Err: ErrExists}, "%s exists: pass --force to replace it"},
		{"link", false, Error{Type: "symbolic link", Err: ErrSymlink}, "%s is a symbolic link: sgxdbg writes no file through or over a link"},
		{"link", true, Error{Type: "symbolic link", Err: ErrSymlink}, "%s is a symbolic link: sgxdbg writes no file through or over a link"},
		{"dangling", true, Error{Type: "symbolic link", Err: ErrSymlink}, "%s is a symbolic link: sgxdbg writes no file through or over a link"},
		{"fifo", true, Error{Type: "FIFO", Err: ErrNotRegular}, "%s is a FIFO, not a regular file"},
		{"sub", true, Error{Type: "directory", Err: ErrNotRegular}, "%s is a directory, not a regular file"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		_, err := Create(path, Options{Mode: 0o600, Force: tt.force})
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an *Error", tt.name, err)
			continue
		}
		want := tt.want
		want.Path = path
		if *e != want || err.Error() != strings.Replace(tt.text, "%s", path, 1) || errors.Is(err, os.ErrExist) != (want.Err == ErrExists) {
			t.Errorf("%s: got %+v %q, want %+v", tt.name, *e, err, want)
		}
	}
	// The link's target and the dangling link's are untouched.
	if b, err := os.ReadFile(filepath.Join(dir, "old")); err != nil || string(b) != "old" {
		t.Errorf("old: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
}

func TestCreateNew(t *testing.T) {
	dir := place(t)
	path := filepath.Join(dir, "new.core")
	f, err := Create(path, Options{Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 4 {
		t.Errorf("new file: %v, %v", fi.Mode(), err)
	}
}

// TestCreateForce: with Force, an existing file is replaced whole, by a
// new inode with the mode asked for, not the old file's.
func TestCreateForce(t *testing.T) {
	dir := place(t)
	path := filepath.Join(dir, "old")
	before, _ := os.Stat(path)
	f, err := Create(path, Options{Mode: 0o600, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("replaced before Close: %q", b)
	}
	f.Write([]byte("new contents"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new contents" || after.Mode().Perm() != 0o600 {
		t.Errorf("after: %q mode %v", b, after.Mode())
	}
	if before.Sys().(*syscall.Stat_t).Ino == after.Sys().(*syscall.Stat_t).Ino {
		t.Error("the old inode was written in place")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".old.*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestWriteError: /dev/full is written in place; its write error comes
// back from Write and Close.
func TestWriteError(t *testing.T) {
	f, err := Create("/dev/full", Options{Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, unix.ENOSPC) {
		t.Errorf("Write: %v, want ENOSPC", err)
	}
	if err := f.Close(); !errors.Is(err, unix.ENOSPC) || err.Error() != "write /dev/full: no space left on device" {
		t.Errorf("Close: %v", err)
	}
}

// TestAbort: an aborted file, new or replacing, leaves the directory as
// it was.
func TestAbort(t *testing.T) {
	dir := place(t)
	for _, name := range []string{"new", "old"} {
		f, err := Create(filepath.Join(dir, name), Options{Mode: 0o600, Force: true})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("partial"))
		f.Abort()
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("new: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "old")); string(b) != "old" {
		t.Errorf("old: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
