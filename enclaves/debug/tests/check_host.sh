#!/bin/sh
# check_host.sh BUILD_DIR - what the host can show without SGX: it parses
# every sample and stops at open("/dev/sgx_enclave") (ENOENT here), and it
# rejects bad usage, bad SIGSTRUCT files and malformed images with a clear
# message and exit status 1. Skips the ENOENT cases where the device exists.
set -u
B=$1
H=$B/host
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# expect STATUS MESSAGE-SUBSTRING COMMAND...
expect() {
	want=$1 msg=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" != "$want" ] || ! grep -qF -- "$msg" "$T/err"; then
		echo "FAIL: $*: exit $got, stderr: $(cat "$T/err") (want $want, \"$msg\")" >&2
		fails=$((fails + 1))
	fi
}

head -c 1808 /dev/zero >"$T/zero.sig"
if [ ! -e /dev/sgx_enclave ]; then
	for elf in "$B"/*.elf; do
		expect 1 "host: open /dev/sgx_enclave: No such file or directory" "$H" "$elf" "$T/zero.sig" 0
		expect 1 "host: open /dev/sgx_enclave: No such file or directory" "$H" --no-vdso "$elf" "$T/zero.sig" 0 1 0x2
	done
	expect 1 "open /dev/sgx_enclave" "$H" --threads 2 --repeat 3 "$B/threads.elf" "$T/zero.sig" 0 2
fi

expect 1 "usage: host" "$H"
expect 1 "usage: host" "$H" "$B/clean.elf" "$T/zero.sig"
expect 1 "unknown option --bogus" "$H" --bogus "$B/clean.elf" "$T/zero.sig" 0
expect 1 "--threads needs a number >= 1" "$H" --threads 0 "$B/clean.elf" "$T/zero.sig" 0
expect 1 "ECALL x is not a number" "$H" "$B/clean.elf" "$T/zero.sig" x
expect 1 "argument -1 is not a number" "$H" "$B/clean.elf" "$T/zero.sig" 0 -1
expect 1 "at most 16 arguments" "$H" "$B/clean.elf" "$T/zero.sig" 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17
expect 1 "TCS 1..1 requested, the enclave has 1" "$H" --tcs 1 "$B/clean.elf" "$T/zero.sig" 0
expect 1 "TCS 0..2 requested, the enclave has 2" "$H" --threads 3 "$B/threads.elf" "$T/zero.sig" 0
expect 1 "not a SIGSTRUCT (want exactly 1808 bytes)" "$H" "$B/clean.elf" /dev/null 0
head -c 1809 /dev/zero >"$T/long.sig"
expect 1 "not a SIGSTRUCT (want exactly 1808 bytes)" "$H" "$B/clean.elf" "$T/long.sig" 0
expect 1 "open $T/missing.elf: No such file or directory" "$H" "$T/missing.elf" "$T/zero.sig" 0
expect 1 "--peer needs a sample name (no slash)" "$H" --peer "$B/verifier" "$B/keys.elf" "$T/zero.sig" 4
expect 1 "--peer needs a sample name (no slash)" "$H" --peer
expect 1 "open $B/missing.elf: No such file or directory" "$H" --peer missing "$B/keys.elf" "$T/zero.sig" 4
cp "$B/verifier.elf" "$T/verifier.elf"
cp "$B/keys.elf" "$T/keys.elf"
expect 1 "$T/verifier.elf.sig: No such file or directory" "$H" --peer verifier "$T/keys.elf" "$T/zero.sig" 4

# Malformed images.
head -c 100 "$B/clean.elf" >"$T/short.elf"
expect 1 "program headers" "$H" "$T/short.elf" "$T/zero.sig" 0
head -c 20000 "$B/clean.elf" >"$T/trunc.elf"
expect 1 "past the end of the file" "$H" "$T/trunc.elf" "$T/zero.sig" 0
cp "$B/clean.elf" "$T/machine.elf"
printf '\003\000' | dd of="$T/machine.elf" bs=1 seek=18 conv=notrunc 2>/dev/null
expect 1 "e_machine 3, want EM_X86_64 (62)" "$H" "$T/machine.elf" "$T/zero.sig" 0
: >"$T/empty.elf"
expect 1 "empty file" "$H" "$T/empty.elf" "$T/zero.sig" 0
expect 1 "not an ELF file" "$H" "$T/zero.sig" "$T/zero.sig" 0
LC_ALL=C sed 's/SGXDBG/SGXDBX/g' "$B/clean.elf" >"$T/owner.elf"
expect 1 "no NT_SGXDBG_ENCLAVE note" "$H" "$T/owner.elf" "$T/zero.sig" 0
expect 1 "ELF e_type 1, want ET_DYN" "$H" "$B/runtime/runtime.o" "$T/zero.sig" 0

if [ "$fails" -ne 0 ]; then
	echo "check_host: $fails failures" >&2
	exit 1
fi
echo "check_host: the host parses every sample and rejects bad input cleanly"
