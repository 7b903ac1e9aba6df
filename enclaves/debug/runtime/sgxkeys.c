/*
 * sgxkeys.c - EREPORT/EGETKEY wrappers, AES-128 and AES-CMAC (FIPS 197,
 * SP 800-38B) in portable C, and the peer OCALLs of the key samples.
 */
#include "sgxkeys.h"

uint64_t runtime_ocall_exit(uint64_t number, const void *data, uint64_t len);

void sgx_ereport(const struct targetinfo *ti, const uint8_t *data, struct report *out)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xd7" /* ENCLU */
			 : : "a"(0ull), "b"(ti), "c"(data), "d"(out) : "memory");
}

uint64_t sgx_egetkey(const struct keyrequest *req, uint8_t key[16], int *zf)
{
	uint64_t rax = 1;
	uint8_t z;

	__asm__ volatile(".byte 0x0f, 0x01, 0xd7\n\tsetz %1" /* ENCLU */
			 : "+a"(rax), "=r"(z) : "b"(req), "c"(key) : "memory", "cc");
	*zf = z;
	return rax;
}

static const uint8_t sbox[256] = {
	0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
	0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
	0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
	0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
	0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
	0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
	0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
	0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
	0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
	0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
	0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
	0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
	0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
	0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
	0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
	0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

static uint8_t xtime(uint8_t x)
{
	return (uint8_t)((x << 1) ^ ((x >> 7) * 0x1b));
}

/* AES-128 key expansion: 11 round keys of 16 bytes. */
static void aes128_expand(const uint8_t key[16], uint8_t rk[176])
{
	uint8_t rcon = 1;

	memcpy(rk, key, 16);
	for (int i = 16; i < 176; i += 4) {
		uint8_t t[4] = {rk[i - 4], rk[i - 3], rk[i - 2], rk[i - 1]};
		if (i % 16 == 0) {
			uint8_t u = t[0];
			t[0] = sbox[t[1]] ^ rcon;
			t[1] = sbox[t[2]];
			t[2] = sbox[t[3]];
			t[3] = sbox[u];
			rcon = xtime(rcon);
		}
		for (int j = 0; j < 4; j++)
			rk[i + j] = rk[i - 16 + j] ^ t[j];
	}
}

/* One block, in place (state in column order, as the bytes come). */
static void aes128_encrypt(const uint8_t rk[176], uint8_t s[16])
{
	for (int i = 0; i < 16; i++)
		s[i] ^= rk[i];
	for (int round = 1; round <= 10; round++) {
		uint8_t t[16];
		for (int i = 0; i < 16; i++) /* SubBytes + ShiftRows */
			t[i] = sbox[s[(i + 4 * (i % 4)) % 16]];
		if (round < 10) {
			for (int c = 0; c < 4; c++) { /* MixColumns */
				uint8_t *col = &t[4 * c];
				uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
				uint8_t all = a0 ^ a1 ^ a2 ^ a3;
				col[0] ^= all ^ xtime(a0 ^ a1);
				col[1] ^= all ^ xtime(a1 ^ a2);
				col[2] ^= all ^ xtime(a2 ^ a3);
				col[3] ^= all ^ xtime(a3 ^ a0);
			}
		}
		for (int i = 0; i < 16; i++)
			s[i] = t[i] ^ rk[16 * round + i];
	}
}

/* Multiplication by x in GF(2^128), big-endian (CMAC subkeys). */
static void dbl(uint8_t v[16])
{
	uint8_t carry = v[0] >> 7;
	for (int i = 0; i < 15; i++)
		v[i] = (uint8_t)(v[i] << 1 | v[i + 1] >> 7);
	v[15] = (uint8_t)(v[15] << 1) ^ (uint8_t)(0x87 * carry);
}

void aes128_cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16])
{
	uint8_t rk[176], k[16] = {0}, x[16] = {0}, last[16] = {0};
	size_t n = len == 0 ? 1 : (len + 15) / 16;
	size_t rest = len - (n - 1) * 16;

	aes128_expand(key, rk);
	aes128_encrypt(rk, k);
	dbl(k); /* K1 */
	for (size_t b = 0; b + 1 < n; b++) {
		for (int i = 0; i < 16; i++)
			x[i] ^= msg[16 * b + (size_t)i];
		aes128_encrypt(rk, x);
	}
	memcpy(last, msg + 16 * (n - 1), rest);
	if (len == 0 || rest < 16) {
		last[rest] = 0x80;
		dbl(k); /* K2 */
	}
	for (int i = 0; i < 16; i++)
		x[i] ^= last[i] ^ k[i];
	aes128_encrypt(rk, x);
	memcpy(mac, x, 16);
}

int bytes_equal(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= p[i] ^ q[i];
	return d == 0;
}

void self_targetinfo(struct targetinfo *ti)
{
	static struct targetinfo zero __attribute__((aligned(512)));
	static uint8_t data[64] __attribute__((aligned(128)));
	static struct report rep __attribute__((aligned(512)));

	sgx_ereport(&zero, data, &rep);
	memset(ti, 0, sizeof(*ti));
	memcpy(ti->mrenclave, rep.mrenclave, 32);
	ti->attributes[0] = rep.attributes[0];
	ti->attributes[1] = rep.attributes[1];
	ti->configsvn = rep.configsvn;
	ti->miscselect = rep.miscselect;
	memcpy(ti->configid, rep.configid, 64);
}

int verify_report(const struct report *rep)
{
	static struct keyrequest req __attribute__((aligned(512)));
	static uint8_t key[16] __attribute__((aligned(16)));
	uint8_t mac[16];
	int zf;

	memset(&req, 0, sizeof(req));
	req.keyname = KEYNAME_REPORT;
	memcpy(req.keyid, rep->keyid, 32);
	if (sgx_egetkey(&req, key, &zf) != 0 || zf)
		return 0;
	aes128_cmac(key, (const uint8_t *)rep, REPORT_BODY_SIZE, mac);
	memset(key, 0, sizeof(key));
	return bytes_equal(mac, rep->mac, 16);
}

uint64_t ocall_peer(uint64_t n)
{
	return runtime_ocall_exit(OCALL_PEER, (const void *)n, 0);
}

uint64_t ocall_mailbox(void)
{
	return runtime_ocall_exit(OCALL_MAILBOX, 0, 0);
}

void str_append_hex(char *buf, size_t size, const uint8_t *b, size_t n)
{
	size_t len = strlen(buf);
	for (size_t i = 0; i < n && len + 2 < size; i++) {
		buf[len++] = "0123456789abcdef"[b[i] >> 4];
		buf[len++] = "0123456789abcdef"[b[i] & 15];
	}
	buf[len] = '\0';
}

uint64_t get_seal_key(uint16_t policy, uint8_t key[16], int *zf)
{
	static struct keyrequest req __attribute__((aligned(512)));

	memset(&req, 0, sizeof(req));
	req.keyname = KEYNAME_SEAL;
	req.keypolicy = policy;
	req.attributemask[0] = 0xFF0000000000000Bull;
	req.miscmask = 0xF0000000u;
	return sgx_egetkey(&req, key, zf);
}

uint64_t print_seal_keys(const char *name)
{
	static uint8_t key[16] __attribute__((aligned(16)));
	char msg[96];
	int zf;

	/* No table of string pointers: the image must not need relocations. */
	for (int i = 0; i < 2; i++) {
		if (get_seal_key(i == 0 ? KEYPOLICY_MRENCLAVE : KEYPOLICY_MRSIGNER, key, &zf) != 0 || zf)
			return 0;
		msg[0] = '\0';
		str_append(msg, sizeof(msg), name);
		str_append(msg, sizeof(msg), i == 0 ? ": seal mrenclave " : ": seal mrsigner ");
		str_append_hex(msg, sizeof(msg), key, 16);
		ocall_print(msg);
	}
	memset(key, 0, sizeof(key));
	return 2;
}
