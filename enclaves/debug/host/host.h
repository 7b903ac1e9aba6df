/*
 * host.h - the sample host's parts: enclave images (image.c), loading
 * through /dev/sgx_enclave (load.c), the vDSO entry point (vdso.c), calling
 * into the enclave (call.c, enclu.S) and the command line (main.c).
 */
#ifndef SGXDBG_HOST_H
#define SGXDBG_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "sgx_uapi.h"

/* Exit statuses (README "Exit codes"). */
#define EXIT_OK 0
#define EXIT_LOAD 1      /* usage, image or load error */
#define EXIT_UNHANDLED_EXC 2
#define EXIT_EENTER_GP 3
#define EXIT_LOST 4

#define IMAGE_MAX_REGIONS 256
#define IMAGE_MAX_TCS 64

/* One NT_SGXDBG_REGIONS record. */
struct image_region {
	uint64_t offset, size;
	uint32_t kind, flags, tcs;
};

/* Consecutive pages with the same SECINFO and measure flag. */
struct image_run {
	uint64_t offset, npages;
	uint64_t secinfo; /* SECINFO.FLAGS */
	int measured;
	int prot; /* PROT_* to map the run with */
};

/* A parsed enclave image: SECS parameters, pages and regions. */
struct image {
	uint8_t *pages;   /* page-aligned bytes of [0, end); holes are zero */
	uint64_t end;     /* end of the last PT_LOAD page */
	uint64_t size;    /* SECS.SIZE */
	uint32_t ssaframesize, miscselect, miscmask;
	uint16_t isvprodid, isvsvn;
	uint64_t attributes, xfrm, attrmask_flags, attrmask_xfrm;
	struct image_run *runs;
	size_t nruns;
	struct image_region regions[IMAGE_MAX_REGIONS];
	size_t nregions;
	uint64_t tcs[IMAGE_MAX_TCS]; /* TCS offsets by index */
	size_t ntcs;
};

/* Parses an image from memory (len bytes); on failure returns -1 with a
 * message in err. */
int image_parse(const uint8_t *file, size_t len, struct image *img, char *err, size_t errlen);
/* Reads and parses the file at path. */
int image_load(const char *path, struct image *img, char *err, size_t errlen);
void image_free(struct image *img);

/* A created, initialized and mapped enclave. */
struct enclave {
	int fd;
	uint64_t base, size;
	void *reservation;
	size_t reservation_len;
	const struct image *img;
};

/* Builds the enclave from img and the 1808-byte SIGSTRUCT; on failure
 * prints the reason and returns -1. */
int enclave_load(const struct image *img, const uint8_t *sigstruct, struct enclave *e);

/* Finds an exported symbol with a version in the vDSO, or NULL. */
void *vdso_lookup(const char *name, const char *version);
/* The address of the first ENCLU (0F 01 D7) in [fn, fn+len), or 0. */
uintptr_t find_enclu(const void *fn, size_t len);
/* The size of vDSO function fn as its symbol says, or 0. */
size_t vdso_symbol_size(const char *name, const char *version);

/* Shared with enclu.S: one enclave call and what EEXIT left. */
struct enclu_ctx {
	uint64_t tcs;       /* 0 */
	uint64_t rdi;       /* 8 */
	uint64_t rsi;       /* 16 */
	uint64_t leaf;      /* 24: vDSO function, 2 or 3 */
	uint64_t exit_rdi;  /* 32 */
	uint64_t exit_rsi;  /* 40 */
	uint64_t exit_rdx;  /* 48 */
	uint64_t exit_r8;   /* 56 */
	uint64_t ocall_len; /* 64: bytes copied into ocall_buf */
	uint8_t ocall_buf[OCALL_MAX];
};

/* enclu.S */
void host_enclu_eenter(struct enclu_ctx *ctx);
int host_vdso_call(struct enclu_ctx *ctx, void *vdso_fn, struct sgx_enclave_run *run);
int host_vdso_handler(long rdi, long rsi, long rdx, long rsp, long r8, long r9,
		      struct sgx_enclave_run *run);
extern const char host_eenter_site[], host_aep[];

/* How ecalls reach the enclave. */
struct call_config {
	const struct enclave *enclave;
	const struct enclave *peer; /* --peer: the second enclave, or NULL */
	void *mailbox;              /* --peer: a page both enclaves may use, or NULL */
	void *vdso_fn;       /* __vdso_sgx_enter_enclave, or NULL: own ENCLU */
	uintptr_t vdso_enclu; /* its ENCLU (AEP for #BP/#DB signals) */
};

/* Installs the signal handlers (both modes need SIGTRAP). */
int calls_init(const struct call_config *cfg);
/* Runs ecall number n on TCS tcs with the argument block args; prints
 * "ecall N returned 0x..." and returns 0, or exits the process with one of
 * the EXIT_* statuses. */
int call_ecall(size_t tcs, uint64_t n, const void *args);

#endif
