/* pf_untrusted - dereferences an address outside ELRANGE that the host
 * passes (argument 0, default 0x10000): ecall 0 reads (#PF 0x4), ecall 1
 * writes (#PF 0x6). No handler. */
#include "sgxdbg_enclave.h"

#define DEFAULT_ADDRESS 0x10000

__attribute__((noinline)) uint64_t fault_read_untrusted(uintptr_t p)
{
	uint64_t v;
	__asm__ volatile("mov (%%rdi), %%rax" : "=a"(v) : "D"(p) : "memory");
	return v;
}

__attribute__((noinline)) void fault_write_untrusted(uintptr_t p)
{
	__asm__ volatile("movq $0x5a, (%%rdi)" : : "D"(p) : "memory");
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	uintptr_t p = args->count > 0 ? args->values[0] : DEFAULT_ADDRESS;

	sgx_register_handler(NULL);
	switch (n) {
	case 0:
		*ret = fault_read_untrusted(p);
		return 0;
	case 1:
		fault_write_untrusted(p);
		*ret = 0;
		return 0;
	}
	return -1;
}
