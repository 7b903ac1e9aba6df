/* int3 - executes INT3: #BP, exit type software, SSA RIP = the INT3
 * itself; the handler steps over it (RIP + 1). Ecall 0 returns how many
 * breakpoints the handler saw during the call (1). */
#include "sgxdbg_enclave.h"

static volatile uint64_t breakpoints_seen;

static int int3_handler(struct exception_info *e)
{
	const uint8_t *ip = (const uint8_t *)e->gpr->rip;

	if (e->vector != 3 || e->exit_type != EXIT_TYPE_SOFTWARE ||
	    outside_enclave((uintptr_t)ip, 1) || *ip != 0xcc)
		return EXCEPTION_UNHANDLED;
	e->gpr->rip += 1;
	breakpoints_seen++;
	return EXCEPTION_CONTINUE;
}

__attribute__((noinline)) void trap_int3(void)
{
	__asm__ volatile("int3" ::: "memory");
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	uint64_t before = breakpoints_seen;

	(void)args;
	if (n != 0)
		return -1;
	sgx_register_handler(int3_handler);
	trap_int3();
	*ret = breakpoints_seen - before;
	return 0;
}
