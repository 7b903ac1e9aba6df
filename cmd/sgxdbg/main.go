// Command sgxdbg is an interactive debugger for Intel SGX debug-mode
// enclaves. It runs on SGX hardware through the Linux driver and, on
// machines without SGX, on its own emulator.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		var ec exitCode
		if asExitCode(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "sgxdbg:", err)
		os.Exit(1)
	}
}
