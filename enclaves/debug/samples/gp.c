/* gp - loads through a non-canonical address (argument 0, default
 * 0x8000000000000000): #GP(0), EXINFO MADDR 0, ERRCD 0. No handler. */
#include "sgxdbg_enclave.h"

#define NONCANONICAL 0x8000000000000000ull

__attribute__((noinline)) uint64_t fault_noncanonical(uintptr_t p)
{
	uint64_t v;
	__asm__ volatile("mov (%%rax), %%rax" : "=a"(v) : "a"(p) : "memory");
	return v;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	if (n != 0)
		return -1;
	sgx_register_handler(NULL);
	*ret = fault_noncanonical(args->count > 0 ? args->values[0] : NONCANONICAL);
	return 0;
}
