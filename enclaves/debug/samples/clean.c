/* clean - an ecall with no AEX: sums the untrusted argument values (copied
 * in by the runtime), prints through an OCALL and returns the sum. */
#include "sgxdbg_enclave.h"

__attribute__((noinline)) uint64_t sum_values(const uint64_t *v, uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	char msg[64] = "clean: summing ";

	if (n != 0)
		return -1;
	str_append_u64(msg, sizeof(msg), args->count, 0);
	str_append(msg, sizeof(msg), " values");
	ocall_print(msg);
	*ret = sum_values(args->values, args->count);
	return 0;
}
