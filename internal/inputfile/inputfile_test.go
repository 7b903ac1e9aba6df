package inputfile

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// badInputs makes a FIFO, a directory, a socket, a symlink to a FIFO and
// an oversized file in a temporary directory, beside /dev/zero.
func badInputs(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := os.Symlink("fifo", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 1809), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadFileRefuses(t *testing.T) {
	dir := badInputs(t)
	tests := []struct {
		path string
		kind Kind
		want Error
		text string
	}{
		{filepath.Join(dir, "fifo"), BatchFile, Error{Type: "FIFO", Err: ErrNotRegular}, "batch file %s: a FIFO, not a regular file"},
		{filepath.Join(dir, "link"), CoreFile, Error{Type: "FIFO", Err: ErrNotRegular}, "core file %s: a FIFO, not a regular file"},
		{filepath.Join(dir, "dir"), EnclaveImage, Error{Type: "directory", Err: ErrNotRegular}, "enclave image %s: a directory, not a regular file"},
		{filepath.Join(dir, "sock"), SigningKey, Error{Type: "socket", Err: ErrNotRegular}, "signing key %s: a socket, not a regular file"},
		{"/dev/zero", SigningKey, Error{Type: "character device", Err: ErrNotRegular}, "signing key %s: a character device, not a regular file"},
		{filepath.Join(dir, "big"), SigStruct, Error{Size: 1809, Max: 1808, Err: ErrTooLarge}, "SIGSTRUCT %s: 1809 bytes, more than the 1808 a SIGSTRUCT may have"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := ReadFile(tt.path, tt.kind); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			want := tt.want
			want.Path, want.Kind = tt.path, tt.kind.Name
			if *e != want {
				t.Errorf("got %+v, want %+v", *e, want)
			}
			if got, want := err.Error(), strings.Replace(tt.text, "%s", tt.path, 1); got != want {
				t.Errorf("text %q, want %q", got, want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := badInputs(t)
	b, err := ReadFile(filepath.Join(dir, "ok"), BatchFile)
	if err != nil || string(b) != "hello" {
		t.Fatalf("got %q, %v", b, err)
	}
	_, err = ReadFile(filepath.Join(dir, "missing"), BatchFile)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "open "+filepath.Join(dir, "missing")+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	// Exactly the bound is accepted.
	if err := os.WriteFile(filepath.Join(dir, "exact"), make([]byte, 1808), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(filepath.Join(dir, "exact"), SigStruct); err != nil || len(b) != 1808 {
		t.Errorf("1808-byte SIGSTRUCT: %d bytes, %v", len(b), err)
	}
}

func TestOpenSize(t *testing.T) {
	dir := badInputs(t)
	f, size, err := Open(filepath.Join(dir, "ok"), CoreFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if size != 5 {
		t.Errorf("size %d, want 5", size)
	}
}
