// Package inputfile opens the files sgxdbg reads (enclave images,
// SIGSTRUCTs, signing keys, core files, batch scripts) so that a wrong
// kind of file is refused before it is read: only regular files are
// accepted, a FIFO never blocks the open (O_NONBLOCK), and each kind of
// file has a size bound, checked on the open file.
//
// # Security
//
// The paths come from the command line and from core files (recorded
// enclave image paths); the files may be anything. Nothing is read from a
// file that is not regular, and ReadFile never reads more than the kind's
// bound, even from a file that grows while it is read.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Kind is a kind of input file: its name in errors and its size bound.
type Kind struct {
	Name string // "enclave image", "SIGSTRUCT", …
	Max  int64  // the largest file accepted, in bytes
}

// The kinds of files sgxdbg reads.
var (
	// EnclaveImage: an enclave ELF. Its pages are read into memory; an
	// enclave has at most 4 GiB of pages (enclave.MaxPages), plus its
	// headers and debug information.
	EnclaveImage = Kind{Name: "enclave image", Max: 8 << 30}
	// SigStruct: a SIGSTRUCT, 1808 bytes exactly (sgx.SigStructSize; the
	// exact size is checked by the reader).
	SigStruct = Kind{Name: "SIGSTRUCT", Max: 1808}
	// SigningKey: a PEM private key; an RSA-3072 key is about 2.5 KiB.
	SigningKey = Kind{Name: "signing key", Max: 64 << 10}
	// CoreFile: an sgxdbg core; at most 16 GiB of enclave pages
	// (coredump.MaxPages) plus notes. It is read on demand, never whole.
	CoreFile = Kind{Name: "core file", Max: 32 << 30}
	// BatchFile: a script of debugger commands.
	BatchFile = Kind{Name: "batch file", Max: 1 << 20}
)

// ErrNotRegular and ErrTooLarge are what a *Error wraps.
var (
	// ErrNotRegular: a directory, FIFO, socket or device.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: more bytes than the kind's bound.
	ErrTooLarge = errors.New("file too large")
)

// Error is an input file of the wrong type or size.
type Error struct {
	Path string
	Kind string // the expected kind's Name
	Type string // what the file is: "directory", "FIFO", "character device", "socket", "block device" ("" when regular)
	Size int64  // the file's size, for ErrTooLarge
	Max  int64  // the kind's bound, for ErrTooLarge
	Err  error  // ErrNotRegular or ErrTooLarge
}

// Error renders "batch file /dev/zero: a character device, not a regular
// file" or "SIGSTRUCT x.sig: 4096 bytes, more than the 1808 a SIGSTRUCT
// may have".
func (e *Error) Error() string {
	if errors.Is(e.Err, ErrTooLarge) {
		return fmt.Sprintf("%s %s: %d bytes, more than the %d a %s may have", e.Kind, e.Path, e.Size, e.Max, e.Kind)
	}
	return fmt.Sprintf("%s %s: a %s, not a regular file", e.Kind, e.Path, e.Type)
}

// Unwrap returns ErrNotRegular or ErrTooLarge.
func (e *Error) Unwrap() error { return e.Err }

// typeName names a non-regular file mode.
func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "special file"
}

// Open opens path for reading as a file of kind k: it must be a regular
// file of at most k.Max bytes. The open itself cannot block (a FIFO is
// opened with O_NONBLOCK, then refused). It returns the file and its size.
func Open(path string, k Kind) (*os.File, int64, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		// A socket cannot be opened (ENXIO): say what it is.
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, 0, &Error{Path: path, Kind: k.Name, Type: typeName(fi.Mode()), Err: ErrNotRegular}
		}
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	// Regular files ignore O_NONBLOCK; clear it anyway so that the file
	// behaves as os.Open's would.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s %s: %w", k.Name, path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, &Error{Path: path, Kind: k.Name, Type: typeName(fi.Mode()), Err: ErrNotRegular}
	}
	if fi.Size() > k.Max {
		f.Close()
		return nil, 0, &Error{Path: path, Kind: k.Name, Size: fi.Size(), Max: k.Max, Err: ErrTooLarge}
	}
	return f, fi.Size(), nil
}

// ReadFile reads the whole file at path, a file of kind k (see Open). At
// most k.Max bytes are read, even if the file grows meanwhile.
func ReadFile(path string, k Kind) ([]byte, error) {
	f, size, err := Open(path, k)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, size+1)
	b, err = readAll(io.LimitReader(f, k.Max+1), b)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", k.Name, path, err)
	}
	if int64(len(b)) > k.Max {
		return nil, &Error{Path: path, Kind: k.Name, Size: int64(len(b)), Max: k.Max, Err: ErrTooLarge}
	}
	return b, nil
}

// readAll appends r's bytes to b until EOF.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
