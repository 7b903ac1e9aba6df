/* keys - EGETKEY and EREPORT (README "Key samples"): seal keys under two
 * policies (ecall 0), a report to itself checked with its REPORT key
 * (1), EGETKEY's error codes (2), a misaligned KEYREQUEST (3, #GP), and
 * local attestation with the verifier sample through the host's mailbox,
 * as the reporting side (4: A reports to B; 5: answers B's challenge);
 * its report printed in hex (6); operands the processor refuses (7); an
 * INT3 right before an EGETKEY, for a debugger to step over it (8). */
#include "sgxkeys.h"

/* Mailbox layout (host page): TARGETINFO at 0, REPORT at 512. */
#define MB_TARGETINFO 0
#define MB_REPORT 512

static struct targetinfo ti __attribute__((aligned(512)));
static uint8_t data[64] __attribute__((aligned(128)));
static struct report rep __attribute__((aligned(512)));
static struct keyrequest req __attribute__((aligned(512)));
static uint8_t key[16] __attribute__((aligned(16)));
static uint8_t misaligned[1024] __attribute__((aligned(512)));

static void fill_data(uint8_t tag)
{
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(tag + i);
}

/* Bits: 1 the report to itself verifies; 2 a modified copy does not; 4 a
 * report for another target (MRENCLAVE 0) does not; 8 the report holds
 * the REPORTDATA, INIT and its own MRENCLAVE. */
static uint64_t self_report(void)
{
	static struct report other __attribute__((aligned(512)));
	static struct targetinfo zero __attribute__((aligned(512)));
	uint64_t bits = 0;

	self_targetinfo(&ti);
	fill_data(0x40);
	sgx_ereport(&ti, data, &rep);
	if (verify_report(&rep))
		bits |= 1;
	rep.reportdata[0] ^= 1;
	if (!verify_report(&rep))
		bits |= 2;
	rep.reportdata[0] ^= 1;
	sgx_ereport(&zero, data, &other);
	if (!verify_report(&other))
		bits |= 4;
	if (bytes_equal(rep.reportdata, data, 64) && (rep.attributes[0] & 1) &&
	    bytes_equal(rep.mrenclave, ti.mrenclave, 32))
		bits |= 8;
	return bits;
}

/* EGETKEY's result for a bad (or, case 6, good) request: ZF << 32 | RAX. */
static uint64_t key_error(uint64_t which)
{
	int zf;
	uint64_t rax;

	memset(&req, 0, sizeof(req));
	req.keyname = KEYNAME_SEAL;
	switch (which) {
	case 0:
		req.keyname = KEYNAME_PROVISION; /* without ATTRIBUTES.PROVISIONKEY */
		break;
	case 1:
		req.keyname = KEYNAME_PROVISION_SEAL;
		break;
	case 2:
		req.keyname = KEYNAME_EINITTOKEN; /* without EINITTOKENKEY */
		break;
	case 3:
		req.isvsvn = 1; /* above the enclave's ISVSVN 0 */
		break;
	case 4:
		memset(req.cpusvn, 0xff, 16); /* beyond the processor's */
		break;
	case 5:
		req.keyname = 5; /* no such key */
		break;
	case 6:
		req.keypolicy = KEYPOLICY_MRSIGNER;
		break;
	default:
		return (uint64_t)-1;
	}
	rax = sgx_egetkey(&req, key, &zf);
	memset(key, 0, sizeof(key));
	return (uint64_t)zf << 32 | rax;
}

/* EGETKEY with RBX 64 bytes past a 512-byte boundary: #GP(0). */
__attribute__((noinline)) uint64_t egetkey_misaligned(void)
{
	uint64_t rax = 1;
	__asm__ volatile(".byte 0x0f, 0x01, 0xd7" : "+a"(rax) : "b"(misaligned + 64), "c"(key) : "memory", "cc");
	return rax;
}

/* Prints the REPORT made for the TARGETINFO of this enclave with
 * REPORTDATA 0x20, 0x21, ... as one hex line. */
static uint64_t print_report(void)
{
	char msg[16 + 2 * sizeof(struct report)] = "keys: report ";

	self_targetinfo(&ti);
	fill_data(0x20);
	sgx_ereport(&ti, data, &rep);
	str_append_hex(msg, sizeof(msg), (const uint8_t *)&rep, sizeof(rep));
	ocall_print(msg);
	return sizeof(rep);
}

/* EGETKEY with the KEYREQUEST outside the enclave (the host page at
 * 0x10000, unmapped): #GP(0), not #PF. */
__attribute__((noinline)) uint64_t egetkey_outside(void)
{
	uint64_t rax = 1;
	__asm__ volatile(".byte 0x0f, 0x01, 0xd7" : "+a"(rax) : "b"(0x10000ull), "c"(key) : "memory", "cc");
	return rax;
}

/* EGETKEY writing the key into this thread's TCS page: a #PF with the
 * EPCM bit, at the TCS address. */
__attribute__((noinline)) uint64_t egetkey_into_tcs(uint64_t tcs)
{
	uint64_t rax = 1;
	__asm__ volatile(".byte 0x0f, 0x01, 0xd7" : "+a"(rax) : "b"(&req), "c"(tcs) : "memory", "cc");
	return rax;
}

/* EREPORT reading REPORTDATA from the guard page below the stack (a hole
 * in ELRANGE: no EPC page, and the host's reservation is PROT_NONE). */
__attribute__((noinline)) void ereport_from_guard(uint64_t guard)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xd7" : : "a"(0ull), "b"(&ti), "c"(guard), "d"(&rep) : "memory");
}

static uint64_t bad_operand(uint64_t which)
{
	memset(&req, 0, sizeof(req));
	req.keyname = KEYNAME_SEAL;
	switch (which) {
	case 0:
		return egetkey_outside();
	case 1:
		return egetkey_into_tcs(enclave_tcs());
	case 2:
		memset(&ti, 0, sizeof(ti));
		ereport_from_guard(enclave_base() + GUARD_OFF(0));
		return 0;
	}
	return (uint64_t)-1;
}

/* INT3, then EGETKEY(SEAL_KEY, MRENCLAVE), then a NOP: a debugger stops
 * at the INT3 and single-steps the EGETKEY. Returns EGETKEY's RAX. */
__attribute__((noinline)) uint64_t step_over_egetkey(void)
{
	uint64_t rax = 1;

	memset(&req, 0, sizeof(req));
	req.keyname = KEYNAME_SEAL;
	req.keypolicy = KEYPOLICY_MRENCLAVE;
	__asm__ volatile("int3\n\t.byte 0x0f, 0x01, 0xd7\n\tnop" : "+a"(rax) : "b"(&req), "c"(key) : "memory", "cc");
	return rax;
}

static uint8_t *mailbox(void)
{
	uint64_t mb = ocall_mailbox();
	if (mb == 0 || !outside_enclave(mb, PAGE_SIZE))
		return 0;
	return (uint8_t *)mb;
}

/* Report for the TARGETINFO in the mailbox, into the mailbox. */
static uint64_t report_for_mailbox(uint8_t *mb, uint8_t tag)
{
	memcpy(&ti, mb + MB_TARGETINFO, sizeof(ti));
	fill_data(tag);
	sgx_ereport(&ti, data, &rep);
	memcpy(mb + MB_REPORT, &rep, sizeof(rep));
	return 1;
}

/* Local attestation, A's side. Bits: 1 B verifies A's report for B; 2 B
 * rejects it with one REPORTDATA bit changed; 4 B rejects a report A made
 * for itself. */
static uint64_t attest_to_peer(void)
{
	uint8_t *mb = mailbox();
	uint64_t bits = 0;

	if (mb == 0 || ocall_peer(0) != 1) /* B publishes its TARGETINFO */
		return 0;
	report_for_mailbox(mb, 0x80);
	if (ocall_peer(1) == 1)
		bits |= 1;
	mb[MB_REPORT + 320] ^= 1;
	if (ocall_peer(1) == 0)
		bits |= 2;
	self_targetinfo(&ti);
	sgx_ereport(&ti, data, &rep);
	memcpy(mb + MB_REPORT, &rep, sizeof(rep));
	if (ocall_peer(1) == 0)
		bits |= 4;
	return bits;
}

int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret)
{
	uint8_t *mb;

	sgx_register_handler(0);
	switch (n) {
	case 0:
		*ret = print_seal_keys("keys");
		return 0;
	case 1:
		*ret = self_report();
		return 0;
	case 2:
		*ret = key_error(args->count > 0 ? args->values[0] : 0);
		return 0;
	case 3:
		*ret = egetkey_misaligned();
		return 0;
	case 4:
		*ret = attest_to_peer();
		return 0;
	case 5:
		mb = mailbox();
		*ret = mb == 0 ? 0 : report_for_mailbox(mb, 0xc0);
		return 0;
	case 6:
		*ret = print_report();
		return 0;
	case 7:
		*ret = bad_operand(args->count > 0 ? args->values[0] : 0);
		return 0;
	case 8:
		*ret = step_over_egetkey();
		return 0;
	}
	return -1;
}
