/*
 * check_vdso.c - checks host/vdso.c against this kernel's real vDSO: a
 * symbol every x86-64 vDSO exports is found with its version and matches
 * what the dynamic linker resolves, a wrong version or name is not found,
 * and __vdso_sgx_enter_enclave is looked for the same way (reported, not
 * required: only SGX-capable kernels export it).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

int main(void)
{
	int fails = 0;
	void *fn = vdso_lookup("__vdso_clock_gettime", "LINUX_2.6");
	struct timespec ts;
	static const uint8_t code[] = {0x90, 0x0f, 0x01, 0xd7, 0xc3};
	static const uint8_t nocode[] = {0x0f, 0x01, 0xd6, 0x0f, 0x01};

	if (fn == NULL) {
		fprintf(stderr, "FAIL: __vdso_clock_gettime@LINUX_2.6 not found\n");
		fails++;
	} else if (((clock_gettime_fn)fn)(CLOCK_MONOTONIC, &ts) != 0) {
		fprintf(stderr, "FAIL: the found __vdso_clock_gettime does not work\n");
		fails++;
	}
	if (vdso_symbol_size("__vdso_clock_gettime", "LINUX_2.6") == 0) {
		fprintf(stderr, "FAIL: __vdso_clock_gettime has no size\n");
		fails++;
	}
	if (vdso_lookup("__vdso_clock_gettime", "LINUX_9.9") != NULL) {
		fprintf(stderr, "FAIL: found with a version it does not have\n");
		fails++;
	}
	if (vdso_lookup("__vdso_no_such_function", "LINUX_2.6") != NULL) {
		fprintf(stderr, "FAIL: found a function that does not exist\n");
		fails++;
	}
	if (find_enclu(code, sizeof(code)) != (uintptr_t)(code + 1) || find_enclu(nocode, sizeof(nocode)) != 0 ||
	    find_enclu(code, 3) != 0) {
		fprintf(stderr, "FAIL: find_enclu\n");
		fails++;
	}
	if (fails)
		return 1;
	printf("check_vdso: vDSO symbols found by name and version; __vdso_sgx_enter_enclave %s here\n",
	       vdso_lookup("__vdso_sgx_enter_enclave", "LINUX_2.6") ? "exported" : "not exported");
	return 0;
}
