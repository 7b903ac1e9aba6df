#!/usr/bin/env bash
# `make demo`: sgxdbg on a faulting sample enclave, under the emulator.
# On a terminal it opens the interactive debugger; without one (CI, a pipe)
# it runs a short scripted session that shows the same things.
set -uo pipefail
SGXDBG=${1:?usage: demo.sh SGXDBG BUILD_DIR}
B=${2:?usage: demo.sh SGXDBG BUILD_DIR}
host=("$B/host" "$B/de.elf" "$B/de.elf.sig" 0 42 0)

echo "sgxdbg demo: the 'de' sample divides 42 by 0 inside the enclave (#DE)."
if [ -t 0 ] && [ -t 1 ]; then
	echo "The terminal UI opens at the AEX: try J (skip) then e (ERESUME), or H (the enclave's handler),"
	echo "T (teardown), c (continue); : for commands, ? for help, q to quit."
	"$SGXDBG" exec -- "${host[@]}"
	status=$?
else
	echo "No terminal: a scripted session (run 'make demo' in a terminal for the interactive debugger)."
	echo
	"$SGXDBG" exec -x 'info enclaves; ssa; regs; disas; bt; skip; eresume' -- "${host[@]}"
	status=$?
fi
echo
echo "demo: the host exited with status $status"
