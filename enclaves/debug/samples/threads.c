/* threads - two TCS. Ecall 0 takes one INT3 (handled), then waits at a
 * spin barrier in enclave memory for all parties (argument 0, default 2):
 * it returns the number of parties that met there, so a result of 2 shows
 * that both threads were inside the enclave together (0: gave up). */
#include "sgxdbg_enclave.h"

#define SPIN_LIMIT (1ull << 28)

static uint64_t barrier_count, barrier_generation;

static int threads_handler(struct exception_info *e)
{
	const uint8_t *ip = (const uint8_t *)e->gpr->rip;

	if (e->vector != 3 || outside_enclave((uintptr_t)ip, 1) || *ip != 0xcc)
		return EXCEPTION_UNHANDLED;
	e->gpr->rip += 1;
	return EXCEPTION_CONTINUE;
}

__attribute__((noinline)) void threads_breakpoint(void)
{
	__asm__ volatile("int3" ::: "memory");
}

/* A sense-reversing barrier: the last arrival resets the count and starts
 * the next generation. */
__attribute__((noinline)) uint64_t threads_barrier(uint64_t parties)
{
	uint64_t gen = __atomic_load_n(&barrier_generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&barrier_count, 1, __ATOMIC_ACQ_REL) == parties) {
		__atomic_store_n(&barrier_count, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&barrier_generation, 1, __ATOMIC_RELEASE);
		return parties;
	}
	for (uint64_t spins = 0; spins < SPIN_LIMIT; spins++) {
		if (__atomic_load_n(&barrier_generation, __ATOMIC_ACQUIRE) != gen)
			return parties;
		__asm__ volatile("pause");
	}
	return 0;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	uint64_t parties = args->count > 0 ? args->values[0] : NTCS;

	if (n != 0 || parties == 0 || parties > NTCS)
		return -1;
	sgx_register_handler(threads_handler);
	threads_breakpoint();
	*ret = threads_barrier(parties);
	return 0;
}
