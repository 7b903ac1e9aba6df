package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sgxdbg/sgxdbg/debugger/emu"
	"github.com/sgxdbg/sgxdbg/internal/outputfile"
)

type emulateOptions struct {
	trace  bool
	json   bool
	output string
	cpu    cpuOptions
	force  bool
}

func newEmulateCmd() *cobra.Command {
	var o emulateOptions
	cmd := &cobra.Command{
		Use:   "emulate [--trace] [--json] [-o FILE [--force]] [--cpu sgx1|sgx2] [--epc SIZE] [--cpuid METHOD] -- HOST [ARGS...]",
		Short: "Run a host program on the SGX emulator, without the debugger",
		Long: `emulate runs HOST under sgxdbg's SGX emulator until it exits and exits with
its status (128+N when a signal N killed it). The emulator makes
/dev/sgx_enclave, the driver's ioctls and ENCLU work as on SGX hardware with
flexible launch control, with the enclave code running natively.

--trace prints every enclave transition; --json prints each event as one
JSON object per line (see README.md, "Event stream"). Events go to stderr,
or to FILE with -o (a new file, mode 0600; --force replaces an existing
one). When the events cannot be written, sgxdbg says so at the end and
exits 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runEmulate(cmd, o, args) },
	}
	cmd.Flags().BoolVar(&o.trace, "trace", false, "print every enclave event")
	cmd.Flags().BoolVar(&o.json, "json", false, "print events as JSON lines")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write events to `FILE` instead of stderr")
	o.cpu.addFlags(cmd.Flags())
	registerCPUCompletions(cmd)
	cmd.Flags().BoolVar(&o.force, "force", false, "replace the -o file if it exists")
	return cmd
}

// eventPrinter returns the event callback for --trace/--json, or nil.
func eventPrinter(w io.Writer, asJSON, trace bool) func(emu.Event) {
	switch {
	case asJSON:
		enc := json.NewEncoder(w)
		return func(ev emu.Event) { _ = enc.Encode(ev) }
	case trace:
		return func(ev emu.Event) { fmt.Fprintf(w, "sgxdbg: %v\n", ev) }
	}
	return nil
}

func runEmulate(cmd *cobra.Command, o emulateOptions, args []string) error {
	cfg, err := o.cpu.config(args[1:])
	if err != nil {
		return err
	}
	if o.force && o.output == "" {
		return errors.New("emulate: --force needs -o FILE")
	}
	events := &checkedWriter{w: cmd.ErrOrStderr(), name: "stderr"}
	var file *outputfile.File
	if o.output != "" {
		f, err := outputfile.Create(o.output, outputfile.Options{Mode: 0o600, Force: o.force})
		if err != nil {
			return fmt.Errorf("emulate: %w", err)
		}
		defer f.Abort() // after a failed run; a no-op after Close
		file = f
		events = &checkedWriter{w: f, name: o.output}
	}
	eo := emu.Options{
		Path:    args[0],
		Args:    args,
		Files:   []*os.File{os.Stdin, os.Stdout, os.Stderr},
		OnEvent: eventPrinter(events, o.json, o.trace),
	}
	cfg.apply(&eo)
	st, err := emu.Run(eo)
	if err != nil {
		return fmt.Errorf("emulate %s: %w", args[0], err)
	}
	if file != nil {
		if err := file.Close(); err != nil && events.err == nil {
			events.err = &OutputError{Name: o.output, Err: err}
		}
	}
	if events.err != nil {
		return fmt.Errorf("emulate %s: the events were not all written: %w", args[0], events.err)
	}
	if code := st.ShellCode(); code != 0 {
		return exitCode(code)
	}
	return nil
}
