/*
 * sgx_uapi.h - the Linux SGX driver ABI the host uses (arch/x86/include/
 * uapi/asm/sgx.h, SGX.md §4), declared here so the host builds on systems
 * whose headers lack it.
 */
#ifndef SGXDBG_SGX_UAPI_H
#define SGXDBG_SGX_UAPI_H

#include <stdint.h>
#include <linux/ioctl.h>

#define SGX_MAGIC 0xA4

struct sgx_enclave_create {
	uint64_t src; /* the SECS page */
};

struct sgx_enclave_add_pages {
	uint64_t src;     /* page-aligned source */
	uint64_t offset;  /* enclave offset */
	uint64_t length;  /* bytes, a multiple of 4096 */
	uint64_t secinfo; /* a 64-byte aligned SECINFO */
	uint64_t flags;   /* SGX_PAGE_MEASURE */
	uint64_t count;   /* out: bytes added */
};

struct sgx_enclave_init {
	uint64_t sigstruct;
};

#define SGX_IOC_ENCLAVE_CREATE _IOW(SGX_MAGIC, 0x00, struct sgx_enclave_create)
#define SGX_IOC_ENCLAVE_ADD_PAGES _IOWR(SGX_MAGIC, 0x01, struct sgx_enclave_add_pages)
#define SGX_IOC_ENCLAVE_INIT _IOW(SGX_MAGIC, 0x02, struct sgx_enclave_init)
#define SGX_PAGE_MEASURE 0x01

_Static_assert(SGX_IOC_ENCLAVE_CREATE == 0x4008A400, "ENCLAVE_CREATE");
_Static_assert(SGX_IOC_ENCLAVE_ADD_PAGES == 0xC030A401, "ENCLAVE_ADD_PAGES");
_Static_assert(SGX_IOC_ENCLAVE_INIT == 0x4008A402, "ENCLAVE_INIT");

/* struct sgx_enclave_run: the 7th argument of __vdso_sgx_enter_enclave. */
struct sgx_enclave_run {
	uint64_t tcs;
	uint32_t function;
	uint16_t exception_vector;
	uint16_t exception_error_code;
	uint64_t exception_addr;
	uint64_t user_handler;
	uint64_t user_data;
	uint8_t reserved[216];
};
_Static_assert(sizeof(struct sgx_enclave_run) == 256, "sgx_enclave_run");

/* SECINFO.FLAGS */
#define SECINFO_R 0x1
#define SECINFO_W 0x2
#define SECINFO_X 0x4
#define SECINFO_TCS (1u << 8)
#define SECINFO_REG (2u << 8)

#define SIGSTRUCT_SIZE 1808

#endif
