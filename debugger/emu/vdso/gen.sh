#!/bin/sh
# Rebuilds sgx_vdso.so, the synthetic vDSO image the emulator embeds
# (go generate ./debugger/emu). The output is committed so that building
# sgxdbg needs no C toolchain; TestVDSOImageUpToDate checks it is current.
set -e
cd "$(dirname "$0")"
gcc -c -o sgx_vdso.o sgx_vdso.S
gcc -shared -nostdlib -o sgx_vdso.so sgx_vdso.o \
	-Wl,-T,sgx_vdso.lds -Wl,--version-script=sgx_vdso.map -Wl,-soname,linux-vdso.so.1 \
	-Wl,--hash-style=both -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
	-Wl,-z,norelro -Wl,-z,noexecstack
rm -f sgx_vdso.o
