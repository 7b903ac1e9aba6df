// Package outputfile creates the files sgxdbg writes (SIGSTRUCTs, keys,
// event logs, core files) under one set of rules: a symbolic link is
// never followed or replaced, a new file gets exactly the mode asked for
// (0600 for enclave data and keys), an existing file is replaced only when
// the user asked for it (--force), and only whole: the data goes to a new
// file that is renamed over the old one once every write, the flush and
// the close succeeded. An existing character device (/dev/null, a
// terminal) is written in place. A write error is returned, and a file
// that was not completely written is removed.
package outputfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Sentinel errors an *Error wraps.
var (
	// ErrExists: the file exists and Force was not given.
	ErrExists = errors.New("file exists")
	// ErrSymlink: the path names a symbolic link.
	ErrSymlink = errors.New("symbolic link")
	// ErrNotRegular: the path names a directory, FIFO, socket or block device.
	ErrNotRegular = errors.New("not a regular file")
)

// Error is an output path that cannot be written under the rules.
type Error struct {
	Path string
	Type string // what is there: "regular file", "symbolic link", "directory", "FIFO", …
	Err  error  // ErrExists, ErrSymlink or ErrNotRegular
}

// Error renders "x.sig exists: pass --force to replace it" and the like.
func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrExists):
		return fmt.Sprintf("%s exists: pass --force to replace it", e.Path)
	case errors.Is(e.Err, ErrSymlink):
		return fmt.Sprintf("%s is a symbolic link: sgxdbg writes no file through or over a link", e.Path)
	}
	return fmt.Sprintf("%s is a %s, not a regular file", e.Path, e.Type)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Is makes an ErrExists error match fs.ErrExist too.
func (e *Error) Is(target error) bool { return e.Err == ErrExists && target == fs.ErrExist }

// Options say how to create the file.
type Options struct {
	Mode  fs.FileMode // permissions of a new file (before the umask)
	Force bool        // replace an existing regular file
}

// File is an output file being written; Close completes it.
type File struct {
	f      *os.File
	path   string // what the caller asked for
	tmp    string // with Force over an existing file: the new file, renamed to path by Close
	remove bool   // the file was created here: remove it if it is not completed
	err    error  // the first write error
}

// Create creates path for writing under the package's rules.
func Create(path string, o Options) (*File, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f, err := openNew(path, o.Mode)
		if errors.Is(err, fs.ErrExist) {
			return nil, existing(path, o) // created meanwhile
		}
		if err != nil {
			return nil, err
		}
		return &File{f: f, path: path, remove: true}, nil
	case err != nil:
		return nil, err
	}
	m := fi.Mode()
	switch {
	case m&fs.ModeSymlink != 0:
		return nil, &Error{Path: path, Type: "symbolic link", Err: ErrSymlink}
	case m&fs.ModeCharDevice != 0:
		f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_NOCTTY, 0)
		if err != nil {
			return nil, err
		}
		return &File{f: f, path: path}, nil
	case !m.IsRegular():
		return nil, &Error{Path: path, Type: typeName(m), Err: ErrNotRegular}
	case !o.Force:
		return nil, &Error{Path: path, Type: "regular file", Err: ErrExists}
	}
	f, tmp, err := createTemp(path, o.Mode)
	if err != nil {
		return nil, err
	}
	return &File{f: f, path: path, tmp: tmp, remove: true}, nil
}

// createTemp creates a new file beside path, named .BASE.N.tmp, with mode
// (and the umask), exclusively.
func createTemp(path string, mode fs.FileMode) (*os.File, string, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d.tmp", base, rand.Uint32()))
		f, err := openNew(tmp, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("create a temporary file beside %s: too many tries", path)
}

// existing is the error for a path that appeared between Lstat and the
// exclusive create: what Create would have said had it been there.
func existing(path string, o Options) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &Error{Path: path, Type: "symbolic link", Err: ErrSymlink}
	}
	return &Error{Path: path, Type: typeName(fi.Mode()), Err: ErrExists}
}

// openNew creates path exclusively; O_EXCL makes the create fail on any
// existing name, a dangling link included, and O_NOFOLLOW says so twice.
func openNew(path string, mode fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, mode)
}

// OS returns the open file itself, for a child process to write to (its
// writes bypass Write's error tracking; Close still completes the file).
func (f *File) OS() *os.File { return f.f }

// Name returns the path the file will have once closed.
func (f *File) Name() string { return f.path }

// Write writes p; the first error is kept and returned by every later
// Write and by Close.
func (f *File) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.f.Write(p)
	if err != nil {
		f.err = err
	}
	return n, err
}

// Close completes the file: it closes it and, with Force over an existing
// file, renames the new file over the old one. When a write, the close or
// the rename failed, it removes what Create created and returns the error.
func (f *File) Close() error {
	if f.f == nil {
		return f.err
	}
	err := f.err
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	f.f = nil
	if err == nil && f.tmp != "" {
		err = os.Rename(f.tmp, f.path)
	}
	if err != nil {
		f.err = err
		if f.remove {
			os.Remove(f.f0())
		}
		return err // an *fs.PathError or *os.LinkError: it names the file
	}
	return nil
}

// f0 is the name of the file Create created.
func (f *File) f0() string {
	if f.tmp != "" {
		return f.tmp
	}
	return f.path
}

// Abort closes the file and removes what Create created.
func (f *File) Abort() {
	if f.f == nil {
		return
	}
	f.f.Close()
	f.f = nil
	if f.remove {
		os.Remove(f.f0())
	}
	f.err = errors.New("aborted")
}

// typeName names a file mode that is not a regular file.
func typeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0:
		return "block device"
	}
	return "special file"
}
