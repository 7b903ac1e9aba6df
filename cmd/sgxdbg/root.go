package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// exitCode is returned by a command that has already reported its outcome
// and only needs sgxdbg to exit with a given status (a host's exit status,
// a failed verification).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func asExitCode(err error, ec *exitCode) bool { return errors.As(err, ec) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "sgxdbg",
		Short: "Debugger for Intel SGX debug-mode enclaves",
		Long: `sgxdbg stops a host process when one of its enclave threads takes an
Asynchronous Enclave Exit, shows the enclave's State Save Area beside the
synthetic state the operating system sees, and lets you decide what happens
next. On machines without /dev/sgx_enclave it runs the host on its own SGX
emulator.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd(), newEmulateCmd(), newExecCmd(), newCoreCmd(), newInspectCmd(), newDAPCmd())
	root.AddCommand(newKeygenCmd(), newMeasureCmd(), newSignCmd(), newVerifyCmd())
	return root
}
