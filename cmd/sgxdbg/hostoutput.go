package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sgxdbg/sgxdbg/internal/hostpipe"
	"github.com/sgxdbg/sgxdbg/internal/outputfile"
)

// hostOutput is where exec's host writes: sgxdbg's own stdout and stderr
// (the default), a file (--host-output), or, with --json, pipes whose
// text becomes {"output":…} lines of the JSON stream, so that stdout
// carries nothing but JSON lines.
type hostOutput struct {
	files   []*os.File       // the host's stdin, stdout, stderr
	file    *outputfile.File // --host-output
	writers []*os.File       // sgxdbg's copies of the pipes' write ends
	pipes   []*hostpipe.Pipe // --json without --host-output
}

// newHostOutput sets up the host's files for exec's options; emit
// receives the host's output text with --json.
func newHostOutput(o execOptions, emit func(stream, text string)) (*hostOutput, error) {
	h := &hostOutput{files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	switch {
	case o.hostOut != "":
		f, err := outputfile.Create(o.hostOut, outputfile.Options{Mode: 0o600, Force: o.force})
		if err != nil {
			return nil, fmt.Errorf("--host-output: %w", err)
		}
		h.file = f
		h.files[1], h.files[2] = f.OS(), f.OS()
	case o.json:
		for i, stream := range []string{"stdout", "stderr"} {
			r, w, err := os.Pipe()
			if err != nil {
				h.abort()
				return nil, fmt.Errorf("host %s pipe: %w", stream, err)
			}
			p, err := hostpipe.New(r, stream, emit)
			if err != nil {
				r.Close()
				w.Close()
				h.abort()
				return nil, err
			}
			h.files[1+i] = w
			h.writers = append(h.writers, w)
			h.pipes = append(h.pipes, p)
		}
	}
	return h, nil
}

// started closes sgxdbg's copies of the pipes' write ends once the host
// holds its own, so that the host's end is the pipes' end.
func (h *hostOutput) started() {
	for _, w := range h.writers {
		w.Close()
	}
	h.writers = nil
}

// drain emits what the host has written so far (at a stop: everything it
// wrote before stopping). With ended, it first waits for the host's end
// of the pipes (at most a second: a child of the host may hold them).
func (h *hostOutput) drain(ended bool) {
	if ended {
		deadline := time.After(time.Second)
		for _, p := range h.pipes {
			select {
			case <-p.Done():
			case <-deadline:
			}
		}
	}
	for _, p := range h.pipes {
		p.Drain()
	}
}

// close completes the --host-output file.
func (h *hostOutput) close() error {
	if h.file == nil {
		return nil
	}
	if err := h.file.Close(); err != nil {
		return fmt.Errorf("--host-output: %w", err)
	}
	return nil
}

// abort closes everything after a failed start.
func (h *hostOutput) abort() {
	h.started()
	if h.file != nil {
		h.file.Abort()
	}
}

// execPrinter is exec's printer: on stdout, or on the -o file. The
// returned function completes the file (and reports a failure to stderr).
func execPrinter(cmd *cobra.Command, o execOptions) (*printer, func(), error) {
	if o.output == "" {
		if o.force && o.hostOut == "" {
			return nil, nil, errors.New("exec: --force needs -o FILE or --host-output FILE")
		}
		return &printer{w: cmd.OutOrStdout(), json: o.json}, func() {}, nil
	}
	f, err := outputfile.Create(o.output, outputfile.Options{Mode: 0o600, Force: o.force})
	if err != nil {
		return nil, nil, fmt.Errorf("exec: -o: %w", err)
	}
	return &printer{w: f, json: o.json}, func() {
		if err := f.Close(); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "sgxdbg: exec: -o: %v\n", err)
		}
	}, nil
}
