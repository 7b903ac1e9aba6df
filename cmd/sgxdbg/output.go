package main

// Output streams: every write to stdout and to the event streams is
// checked, and a failed write makes sgxdbg exit non-zero.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// OutputError is a write to one of sgxdbg's output streams that failed.
type OutputError struct {
	Name string // "stdout", "stderr" or the file's path
	Err  error
}

// Error renders "write stdout: no space left on device".
func (e *OutputError) Error() string {
	err := e.Err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is /dev/stdout or Name itself
	}
	return fmt.Sprintf("write %s: %v", e.Name, err)
}

// Unwrap returns the write's error.
func (e *OutputError) Unwrap() error { return e.Err }

// checkedWriter remembers the first write error of w; later writes fail
// with it without being attempted.
type checkedWriter struct {
	w    io.Writer
	name string
	err  *OutputError
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = &OutputError{Name: c.name, Err: err}
		return n, c.err
	}
	return n, nil
}

// outputFailed merges a command's error with a failed write to stdout: a
// command that otherwise succeeded, or only returned an exit status,
// fails with the write error.
func outputFailed(err error, out *checkedWriter) error {
	if out.err == nil {
		return err
	}
	var ec exitCode
	if err == nil || asExitCode(err, &ec) {
		return out.err
	}
	if errors.Is(err, out.err) {
		return err
	}
	return fmt.Errorf("%w (and %v)", err, out.err)
}
