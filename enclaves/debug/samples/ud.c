/* ud - CPUID (ecall 0) and SYSCALL (ecall 1) are #UD in an enclave; the
 * handler emulates them from the SSA frame and skips their two bytes. */
#include "sgxdbg_enclave.h"

/* What the emulated CPUID returns, whatever the leaf. */
#define CPUID_EAX 0x5347
#define CPUID_EBX 0x5844
#define CPUID_ECX 0x4247
#define CPUID_EDX 0x0001
#define ENOSYS 38

static int ud_handler(struct exception_info *e)
{
	const uint8_t *ip = (const uint8_t *)e->gpr->rip;

	if (e->vector != 6 || outside_enclave((uintptr_t)ip, 2))
		return EXCEPTION_UNHANDLED;
	if (ip[0] == 0x0f && ip[1] == 0xa2) { /* CPUID */
		e->gpr->rax = CPUID_EAX;
		e->gpr->rbx = CPUID_EBX;
		e->gpr->rcx = CPUID_ECX;
		e->gpr->rdx = CPUID_EDX;
	} else if (ip[0] == 0x0f && ip[1] == 0x05) { /* SYSCALL */
		e->gpr->rax = (uint64_t)-ENOSYS;
	} else {
		return EXCEPTION_UNHANDLED;
	}
	e->gpr->rip += 2;
	return EXCEPTION_CONTINUE;
}

/* Returns EAX:EBX:ECX:EDX packed 16 bits each. */
__attribute__((noinline)) uint64_t emulated_cpuid(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	return ((uint64_t)(a & 0xffff) << 48) | ((uint64_t)(b & 0xffff) << 32) |
	       ((uint64_t)(c & 0xffff) << 16) | (d & 0xffff);
}

/* getpid(2) by SYSCALL: returns RAX after it. */
__attribute__((noinline)) uint64_t emulated_syscall(void)
{
	uint64_t r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(39ull) : "rcx", "r11", "memory");
	return r;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	(void)args;
	sgx_register_handler(ud_handler);
	switch (n) {
	case 0:
		*ret = emulated_cpuid();
		return 0;
	case 1:
		*ret = emulated_syscall();
		return 0;
	}
	return -1;
}
