/*
 * check_cmac.c - the key samples' AES-128-CMAC (runtime/sgxkeys.c), built
 * for the host, against the four examples of RFC 4493 section 4.
 */
#include <stdio.h>
#include <string.h>

#include "sgxkeys.h"

/* sgxkeys.c's OCALLs are not called here. */
uint64_t runtime_ocall_exit(uint64_t number, const void *data, uint64_t len)
{
	(void)number, (void)data, (void)len;
	return 0;
}

long ocall_print(const char *s)
{
	(void)s;
	return -1;
}

void str_append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);
	while (*s != '\0' && n + 1 < size)
		buf[n++] = *s++;
	buf[n] = '\0';
}

int main(void)
{
	static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
					0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
	static const uint8_t msg[64] = {
		0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
		0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
		0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
		0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10};
	static const struct {
		size_t len;
		const char *mac;
	} cases[] = {
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t mac[16];
		char hex[40] = "";
		aes128_cmac(key, msg, cases[i].len, mac);
		str_append_hex(hex, sizeof(hex), mac, 16);
		if (strcmp(hex, cases[i].mac) != 0) {
			fprintf(stderr, "FAIL AES-CMAC of %zu bytes = %s, want %s\n", cases[i].len, hex, cases[i].mac);
			failed = 1;
		}
	}
	if (!failed)
		printf("check_cmac: AES-128-CMAC matches RFC 4493's examples\n");
	return failed;
}
