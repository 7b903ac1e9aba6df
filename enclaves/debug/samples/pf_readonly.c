/* pf_readonly - writes the runtime's read-only page (PF_R only): ecall 0
 * writes it untouched (#PF 0x6, PTE not present), ecall 1 reads it first
 * and then writes (#PF 0x7). A page-table fault, not an EPCM fault, under
 * the Linux driver. No handler. */
#include "sgxdbg_enclave.h"

#define WORD 8 /* the word written: readonly_page + 0x40 */

__attribute__((noinline)) uint64_t touch_readonly(const volatile uint64_t *p)
{
	uint64_t v;
	__asm__ volatile("mov (%%rdi), %%rax" : "=a"(v) : "D"(p) : "memory");
	return v;
}

__attribute__((noinline)) void fault_write_readonly(const volatile uint64_t *p)
{
	__asm__ volatile("movq $0x5a, (%%rdi)" : : "D"(p) : "memory");
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	(void)args;
	sgx_register_handler(NULL);
	switch (n) {
	case 0:
		fault_write_readonly(&readonly_page[WORD]);
		*ret = 0;
		return 0;
	case 1:
		*ret = touch_readonly(&readonly_page[WORD]);
		fault_write_readonly(&readonly_page[WORD]);
		return 0;
	}
	return -1;
}
