package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sgxdbg/sgxdbg/debugger/emu"
)

type emulateOptions struct {
	trace  bool
	json   bool
	output string
	cpu    cpuOptions
}

func newEmulateCmd() *cobra.Command {
	var o emulateOptions
	cmd := &cobra.Command{
		Use:   "emulate [--trace] [--json] [-o FILE] [--cpu sgx1|sgx2] [--epc SIZE] -- HOST [ARGS...]",
		Short: "Run a host program on the SGX emulator, without the debugger",
		Long: `emulate runs HOST under sgxdbg's SGX emulator until it exits and exits with
its status (128+N when a signal N killed it). The emulator makes
/dev/sgx_enclave, the driver's ioctls and ENCLU work as on SGX hardware with
flexible launch control, with the enclave code running natively.

--trace prints every enclave transition; --json prints each event as one
JSON object per line (see README.md, "Event stream"). Events go to stderr,
or to FILE with -o.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runEmulate(cmd, o, args) },
	}
	cmd.Flags().BoolVar(&o.trace, "trace", false, "print every enclave event")
	cmd.Flags().BoolVar(&o.json, "json", false, "print events as JSON lines")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write events to `FILE` instead of stderr")
	o.cpu.addFlags(cmd.Flags())
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
	var w io.Writer = cmd.ErrOrStderr()
	if o.output != "" {
		f, err := os.OpenFile(o.output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("emulate: %w", err)
		}
		defer f.Close()
		w = f
	}
	eo := emu.Options{
		Path:    args[0],
		Args:    args,
		Files:   []*os.File{os.Stdin, os.Stdout, os.Stderr},
		OnEvent: eventPrinter(w, o.json, o.trace),
	}
	cfg.apply(&eo)
	st, err := emu.Run(eo)
	if err != nil {
		return fmt.Errorf("emulate %s: %w", args[0], err)
	}
	if code := st.ShellCode(); code != 0 {
		return exitCode(code)
	}
	return nil
}
