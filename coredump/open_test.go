package coredump

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sgxdbg/sgxdbg/internal/inputfile"
)

// TestOpenNotRegular: Open refuses a FIFO, a directory and a device
// without blocking or reading them, and names the file a truncated core
// is.
func TestOpenNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, typ string }{
		{fifo, "FIFO"},
		{dir, "directory"},
		{"/dev/zero", "character device"},
	} {
		_, err := Open(tt.path)
		var e *inputfile.Error
		if !errors.As(err, &e) || e.Type != tt.typ || e.Kind != "core file" {
			t.Errorf("Open(%s): %v, want a %s refused", tt.path, err, tt.typ)
		}
	}
	short := filepath.Join(dir, "short.core")
	if err := os.WriteFile(short, []byte("\x7fELF\x02\x01\x01"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(short)
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) || fe.Value != 64 ||
		err.Error() != short+": core file: ELF header at offset 0x0: needs 64 bytes, the file has 7: truncated core file" {
		t.Errorf("7-byte core: %v", err)
	}
}
