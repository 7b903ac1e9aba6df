/*
 * sgxdbg_enclave.h - the C API the sample enclaves are written against:
 * ecalls, the exception handler, OCALLs, and the few freestanding helpers
 * the runtime provides (README "Runtime ABI").
 */
#ifndef SGXDBG_ENCLAVE_H
#define SGXDBG_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* GPRSGX: the last 184 bytes of an SSA frame (SDM Vol. 3D, SGX.md §1). */
struct ssa_gpr {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags, rip, ursp, urbp;
	uint32_t exitinfo;
	uint8_t reserved[3];
	uint8_t aexnotify;
	uint64_t fsbase, gsbase;
};
_Static_assert(sizeof(struct ssa_gpr) == 184, "GPRSGX is 184 bytes");

/* EXITINFO.EXIT_TYPE values. */
#define EXIT_TYPE_HARDWARE 3
#define EXIT_TYPE_SOFTWARE 6

/*
 * What the exception path hands a handler. gpr points into the SSA frame
 * itself: a handler that changes gpr->rip or a register changes what
 * ERESUME restores.
 */
struct exception_info {
	uint32_t vector;    /* EXITINFO.VECTOR */
	uint32_t exit_type; /* EXITINFO.EXIT_TYPE */
	uint32_t valid;     /* EXITINFO.VALID */
	uint32_t frame;     /* SSA frame index (CSSA - 1 at the exception path) */
	uint64_t maddr;     /* EXINFO.MADDR for #PF and #GP, else 0 */
	uint32_t errcd;     /* EXINFO.ERRCD for #PF and #GP, else 0 */
	uint32_t reserved;
	struct ssa_gpr *gpr;
};

/* Handler results. */
#define EXCEPTION_UNHANDLED 0
#define EXCEPTION_CONTINUE 1

/* The untrusted argument block the host passes in RSI (copied in). */
struct ecall_args {
	uint64_t count;
	uint64_t values[ARGS_MAX];
};

/* Implemented by each sample: run ecall n; return 0 and set *ret, or -1
 * when there is no ecall n. */
int enclave_ecall(uint64_t n, const struct ecall_args *args, uint64_t *ret);

/* Registers the enclave's one exception handler (NULL: none). */
void sgx_register_handler(int (*handler)(struct exception_info *));

/* Prints s on the host ("enclave: s"); returns the host's result (0), or -1
 * when called from an exception handler or the host stack is unusable. */
long ocall_print(const char *s);

/* The runtime's read-only page at RO_PAGE_OFF. */
extern const uint64_t readonly_page[PAGE_SIZE / 8];

/* The enclave base, this thread's TCS address and its TCS index. */
uintptr_t enclave_base(void);
uintptr_t enclave_tcs(void);
uint64_t enclave_tcs_index(void);

/* 1 if [p, p+len) lies entirely outside the enclave. */
int outside_enclave(uintptr_t p, size_t len);

/* A tiny string builder for messages: appends to buf (NUL-terminated). */
void str_append(char *buf, size_t size, const char *s);
void str_append_u64(char *buf, size_t size, uint64_t v, int hex);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

#endif
