/* stackoverflow - recursion without end runs into the guard page below the
 * enclave stack: #PF 0x6 at the CALL that pushes into it. The handler runs
 * on the exception stack and declines. */
#include "sgxdbg_enclave.h"

static volatile uint64_t handler_ran;

static int stack_overflow_handler(struct exception_info *e)
{
	handler_ran = e->vector;
	return EXCEPTION_UNHANDLED;
}

/* Each frame is 16 bytes: the return address and an alignment slot. */
__attribute__((noinline)) uint64_t overflow_stack(uint64_t depth)
{
	uint64_t r;

	if (depth == 0) /* never: depth starts at 1 and only grows */
		return 0;
	r = overflow_stack(depth + 1);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	(void)args;
	if (n != 0)
		return -1;
	sgx_register_handler(stack_overflow_handler);
	*ret = overflow_stack(1);
	return 0;
}
