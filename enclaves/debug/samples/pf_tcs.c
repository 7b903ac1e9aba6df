/* pf_tcs - touches this thread's own TCS page (TCS + 0x10, OSSA): ecall 0
 * writes (EPCM #PF 0x8007), ecall 1 reads (0x8005). No handler. */
#include "sgxdbg_enclave.h"

#define TCS_FIELD 0x10

__attribute__((noinline)) uint64_t fault_read_tcs(uintptr_t p)
{
	uint64_t v;
	__asm__ volatile("mov (%%rdi), %%rax" : "=a"(v) : "D"(p) : "memory");
	return v;
}

__attribute__((noinline)) void fault_write_tcs(uintptr_t p)
{
	__asm__ volatile("movq $0x5a, (%%rdi)" : : "D"(p) : "memory");
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	(void)args;
	sgx_register_handler(NULL);
	switch (n) {
	case 0:
		fault_write_tcs(enclave_tcs() + TCS_FIELD);
		*ret = 0;
		return 0;
	case 1:
		*ret = fault_read_tcs(enclave_tcs() + TCS_FIELD);
		return 0;
	}
	return -1;
}
