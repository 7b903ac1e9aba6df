/* nested - a UD2 (#UD, SSA frame 0) whose handler reads address 0 (#PF
 * 0x4, SSA frame 1): CSSA reaches NSSA = 2, so the host's next EENTER of
 * the exception path fails with #GP. */
#include "sgxdbg_enclave.h"

static int nested_handler(struct exception_info *e)
{
	uint64_t v;

	(void)e;
	__asm__ volatile("mov (%%rdi), %%rax" : "=a"(v) : "D"(0ull) : "memory");
	return v == 0 ? EXCEPTION_CONTINUE : EXCEPTION_UNHANDLED;
}

__attribute__((noinline)) void nested_first_fault(void)
{
	__asm__ volatile("ud2" ::: "memory");
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	(void)args;
	if (n != 0)
		return -1;
	sgx_register_handler(nested_handler);
	nested_first_fault();
	*ret = 0;
	return 0;
}
