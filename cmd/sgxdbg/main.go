// Command sgxdbg is an interactive debugger for Intel SGX debug-mode
// enclaves. It runs on SGX hardware through the Linux driver and, on
// machines without SGX, on its own emulator.
package main

import (
	"fmt"
	"os"
)

func main() {
	root := newRootCmd()
	// Every write to stdout is checked: output that did not reach it
	// (a full disk, /dev/full) makes sgxdbg fail.
	stdout := &checkedWriter{w: os.Stdout, name: "stdout"}
	root.SetOut(stdout)
	if err := outputFailed(root.Execute(), stdout); err != nil {
		var ec exitCode
		if asExitCode(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "sgxdbg:", err)
		os.Exit(1)
	}
}
