/* de - signed 64-bit division by the host's divisor (arguments: dividend,
 * divisor; defaults 42 and 0): #DE. Ecall 0 has no handler; ecall 1's
 * handler decodes the DIV/IDIV, skips it and puts a marker in RAX. */
#include "sgxdbg_enclave.h"

#define DIV_SKIPPED 0xd15ab1ed /* the quotient the handler substitutes */

/* Length of a DIV/IDIV (F6/F7 /6 or /7) at ip, or 0 if it is none. */
static unsigned div_length(const uint8_t *ip)
{
	unsigned n = 0, mod, rm;

	while (n < 4 && (ip[n] == 0x66 || ip[n] == 0x67 || ip[n] == 0xf2 || ip[n] == 0xf3 ||
			 ip[n] == 0x2e || ip[n] == 0x3e || ip[n] == 0x26 || ip[n] == 0x36 ||
			 ip[n] == 0x64 || ip[n] == 0x65))
		n++;
	if ((ip[n] & 0xf0) == 0x40) /* REX */
		n++;
	if (ip[n] != 0xf6 && ip[n] != 0xf7)
		return 0;
	n++;
	if (((ip[n] >> 3) & 7) < 6) /* /6 DIV, /7 IDIV */
		return 0;
	mod = ip[n] >> 6;
	rm = ip[n] & 7;
	n++;
	if (mod == 3)
		return n;
	if (rm == 4) { /* SIB */
		if (mod == 0 && (ip[n] & 7) == 5)
			n += 4;
		n++;
	} else if (mod == 0 && rm == 5) { /* RIP-relative */
		n += 4;
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

static int skip_div_handler(struct exception_info *e)
{
	const uint8_t *ip = (const uint8_t *)e->gpr->rip;
	unsigned len;

	if (e->vector != 0 || outside_enclave((uintptr_t)ip, 16))
		return EXCEPTION_UNHANDLED;
	len = div_length(ip);
	if (len == 0)
		return EXCEPTION_UNHANDLED;
	e->gpr->rax = DIV_SKIPPED;
	e->gpr->rdx = 0;
	e->gpr->rip += len;
	return EXCEPTION_CONTINUE;
}

__attribute__((noinline)) int64_t fault_divide(int64_t dividend, int64_t divisor)
{
	int64_t q, r;
	__asm__ volatile("idivq %%rcx"
			 : "=a"(q), "=d"(r)
			 : "a"(dividend), "d"(dividend >> 63), "c"(divisor));
	return q;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	int64_t dividend = args->count > 0 ? (int64_t)args->values[0] : 42;
	int64_t divisor = args->count > 1 ? (int64_t)args->values[1] : 0;

	switch (n) {
	case 0:
		sgx_register_handler(NULL);
		break;
	case 1:
		sgx_register_handler(skip_div_handler);
		break;
	default:
		return -1;
	}
	*ret = (uint64_t)fault_divide(dividend, divisor);
	return 0;
}
