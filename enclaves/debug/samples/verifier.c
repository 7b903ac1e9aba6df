/* verifier - the other enclave of local attestation (README "Key
 * samples"): publishes its TARGETINFO in the host's mailbox (ecall 0),
 * verifies the REPORT there with its REPORT key (1), prints its seal keys
 * (2), and challenges the keys sample for a report (3). */
#include "sgxkeys.h"

#define MB_TARGETINFO 0
#define MB_REPORT 512

static struct targetinfo ti __attribute__((aligned(512)));
static struct report rep __attribute__((aligned(512)));

static uint8_t *mailbox(void)
{
	uint64_t mb = ocall_mailbox();
	if (mb == 0 || !outside_enclave(mb, PAGE_SIZE))
		return 0;
	return (uint8_t *)mb;
}

static uint64_t publish(uint8_t *mb)
{
	self_targetinfo(&ti);
	memcpy(mb + MB_TARGETINFO, &ti, sizeof(ti));
	return 1;
}

/* 1 if the REPORT in the mailbox is for this enclave and its MAC is right. */
__attribute__((noinline)) uint64_t verify_mailbox_report(uint8_t *mb)
{
	memcpy(&rep, mb + MB_REPORT, sizeof(rep));
	return verify_report(&rep) ? 1 : 0;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	uint8_t *mb;

	(void)args;
	sgx_register_handler(0);
	if (n == 2) {
		*ret = print_seal_keys("verifier");
		return 0;
	}
	if (n > 3)
		return -1;
	mb = mailbox();
	if (mb == 0) {
		*ret = 0;
		return 0;
	}
	switch (n) {
	case 0:
		*ret = publish(mb);
		break;
	case 1:
		*ret = verify_mailbox_report(mb);
		break;
	case 3:
		publish(mb);
		*ret = ocall_peer(5) == 1 ? verify_mailbox_report(mb) : 0;
		break;
	}
	return 0;
}
