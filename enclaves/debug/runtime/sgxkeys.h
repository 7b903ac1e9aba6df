/*
 * sgxkeys.h - EREPORT and EGETKEY for the key samples (keys, verifier):
 * the SDM's REPORT, TARGETINFO and KEYREQUEST layouts, the two leaves, an
 * AES-128-CMAC to check REPORT MACs with, and the OCALLs that reach a peer
 * enclave through the host (README "Key samples").
 */
#ifndef SGXDBG_SGXKEYS_H
#define SGXDBG_SGXKEYS_H

#include "sgxdbg_enclave.h"

/* KEYREQUEST.KEYNAME (SDM Vol. 3D). */
#define KEYNAME_EINITTOKEN 0
#define KEYNAME_PROVISION 1
#define KEYNAME_PROVISION_SEAL 2
#define KEYNAME_REPORT 3
#define KEYNAME_SEAL 4

/* KEYREQUEST.KEYPOLICY bits. */
#define KEYPOLICY_MRENCLAVE 0x1
#define KEYPOLICY_MRSIGNER 0x2

/* SGX error codes EGETKEY returns in RAX. */
#define SGX_INVALID_ATTRIBUTE 2
#define SGX_INVALID_CPUSVN 32
#define SGX_INVALID_ISVSVN 64
#define SGX_INVALID_KEYNAME 256

/* REPORT (432 bytes, 512-aligned); the MAC covers bytes 0..383. */
struct report {
	uint8_t cpusvn[16];       /* 0 */
	uint32_t miscselect;      /* 16 */
	uint8_t reserved1[12];    /* 20 */
	uint8_t isvextprodid[16]; /* 32 */
	uint64_t attributes[2];   /* 48: FLAGS, XFRM */
	uint8_t mrenclave[32];    /* 64 */
	uint8_t reserved2[32];    /* 96 */
	uint8_t mrsigner[32];     /* 128 */
	uint8_t reserved3[32];    /* 160 */
	uint8_t configid[64];     /* 192 */
	uint16_t isvprodid;       /* 256 */
	uint16_t isvsvn;          /* 258 */
	uint16_t configsvn;       /* 260 */
	uint8_t reserved4[42];    /* 262 */
	uint8_t isvfamilyid[16];  /* 304 */
	uint8_t reportdata[64];   /* 320 */
	uint8_t keyid[32];        /* 384 */
	uint8_t mac[16];          /* 416 */
};
_Static_assert(sizeof(struct report) == 432, "REPORT is 432 bytes");
_Static_assert(__builtin_offsetof(struct report, reportdata) == 320, "REPORTDATA at 320");
#define REPORT_BODY_SIZE 384

/* TARGETINFO (512 bytes, 512-aligned). */
struct targetinfo {
	uint8_t mrenclave[32];  /* 0: MEASUREMENT */
	uint64_t attributes[2]; /* 32 */
	uint8_t reserved1[2];   /* 48 */
	uint16_t configsvn;     /* 50 */
	uint32_t miscselect;    /* 52 */
	uint8_t reserved2[8];   /* 56 */
	uint8_t configid[64];   /* 64 */
	uint8_t reserved3[384]; /* 128 */
};
_Static_assert(sizeof(struct targetinfo) == 512, "TARGETINFO is 512 bytes");

/* KEYREQUEST (512 bytes, 512-aligned). */
struct keyrequest {
	uint16_t keyname;          /* 0 */
	uint16_t keypolicy;        /* 2 */
	uint16_t isvsvn;           /* 4 */
	uint8_t reserved1[2];      /* 6 */
	uint8_t cpusvn[16];        /* 8 */
	uint64_t attributemask[2]; /* 24 */
	uint8_t keyid[32];         /* 40 */
	uint32_t miscmask;         /* 72 */
	uint16_t configsvn;        /* 76 */
	uint8_t reserved2[434];    /* 78 */
};
_Static_assert(sizeof(struct keyrequest) == 512, "KEYREQUEST is 512 bytes");
_Static_assert(__builtin_offsetof(struct keyrequest, miscmask) == 72, "MISCMASK at 72");

/* ENCLU[EREPORT]: ti 512-aligned, data 128-aligned, out 512-aligned. */
void sgx_ereport(const struct targetinfo *ti, const uint8_t *data, struct report *out);
/* ENCLU[EGETKEY]: returns RAX (0 or an SGX error code); *zf = ZF. */
uint64_t sgx_egetkey(const struct keyrequest *req, uint8_t key[16], int *zf);

/* AES-128-CMAC (RFC 4493). */
void aes128_cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16]);
/* 1 if a and b (n bytes) are equal. */
int bytes_equal(const void *a, const void *b, size_t n);

/* The TARGETINFO of the calling enclave, from a REPORT it makes for
 * target 0 (the usual way an enclave learns its own identity). */
void self_targetinfo(struct targetinfo *ti);
/* 1 if rep's MAC is right for the calling enclave (EGETKEY REPORT_KEY
 * with rep's KEYID, then AES-CMAC over the 384-byte body). */
int verify_report(const struct report *rep);

/* OCALLs of the key samples; never from an exception handler.
 * OCALL_PEER: the host runs ecall n on the peer enclave (--peer) and
 * returns its result. OCALL_MAILBOX: the address of the host's 4 KiB
 * untrusted mailbox page, or 0 without --peer. */
uint64_t ocall_peer(uint64_t n);
uint64_t ocall_mailbox(void);

/* The seal-key request both key samples make: SEAL_KEY with policy,
 * ATTRIBUTEMASK {0xFF0000000000000B, 0} and MISCMASK 0xF0000000 (the Intel
 * SDK's sealing defaults), ISVSVN, CPUSVN and KEYID zero. Returns RAX. */
uint64_t get_seal_key(uint16_t policy, uint8_t key[16], int *zf);
/* Prints "NAME: seal mrenclave HEX" and "NAME: seal mrsigner HEX" through
 * OCALLs; returns 2 (keys printed) or 0 when EGETKEY failed. */
uint64_t print_seal_keys(const char *name);

/* Appends the n bytes as lower-case hex. */
void str_append_hex(char *buf, size_t size, const uint8_t *b, size_t n);

#endif
