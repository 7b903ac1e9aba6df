/*
 * runtime.c - the C half of the samples' runtime: ecall dispatch with the
 * argument block copied in, the exception path that reads the SSA frame and
 * runs the registered handler, the print OCALL, and freestanding helpers.
 */
#include "sgxdbg_enclave.h"

/* The THREAD page of a TCS (FS/GS base); the first words come from the
 * linker script, the host slots are written by entry.S. */
struct host_slot {
	uint64_t rsp, rbp, ret;
	uint32_t mxcsr;
	uint16_t fcw, pad;
};

struct thread_data {
	uint64_t self, index, stack_top, exc_top, tcs, ssa, nssa;
	uint64_t ocall_rsp, in_exception;
	uint64_t reserved[7];
	struct host_slot slots[MAX_SSA];
};

_Static_assert(__builtin_offsetof(struct thread_data, ocall_rsp) == TD_OCALL_RSP, "TD_OCALL_RSP");
_Static_assert(__builtin_offsetof(struct thread_data, in_exception) == TD_IN_EXCEPTION, "TD_IN_EXCEPTION");
_Static_assert(__builtin_offsetof(struct thread_data, slots) == TD_SLOTS, "TD_SLOTS");
_Static_assert(sizeof(struct host_slot) == TD_SLOT_SIZE, "TD_SLOT_SIZE");
_Static_assert(sizeof(struct thread_data) <= PAGE_SIZE, "THREAD page");

struct exit_pair {
	uint64_t reason, value;
};

/* The enclave's offset-0 symbol (linker script): its runtime address is
 * the enclave base, reached RIP-relative, so no relocation is needed. */
extern char __enclave_base[] __attribute__((visibility("hidden")));

uint64_t runtime_ocall_exit(uint64_t number, const void *data, uint64_t len);
struct exit_pair runtime_ecall(uint64_t n, const void *uargs, struct thread_data *td);
struct exit_pair runtime_exception(uint64_t cssa, struct thread_data *td);

static int (*registered_handler)(struct exception_info *);

/* A read-only data page of its own at RO_PAGE_OFF: nothing but the
 * pf_readonly sample touches it, so its PTE starts out not present. */
__attribute__((section(".ropage"), aligned(PAGE_SIZE), used))
const uint64_t readonly_page[PAGE_SIZE / 8] = {0x65676170206f72 /* "ro page" */};

uintptr_t enclave_base(void)
{
	return (uintptr_t)__enclave_base;
}

static struct thread_data *thread_data(void)
{
	uint64_t self;
	__asm__("mov %%fs:%c1, %0" : "=r"(self) : "i"(TD_SELF));
	return (struct thread_data *)(enclave_base() + self);
}

uintptr_t enclave_tcs(void)
{
	return enclave_base() + thread_data()->tcs;
}

uint64_t enclave_tcs_index(void)
{
	return thread_data()->index;
}

int outside_enclave(uintptr_t p, size_t len)
{
	uintptr_t base = enclave_base();
	if (p + len < p)
		return 0;
	return p + len <= base || p >= base + ENCLAVE_SIZE;
}

void sgx_register_handler(int (*handler)(struct exception_info *))
{
	__atomic_store_n(&registered_handler, handler, __ATOMIC_RELEASE);
}

/* Called by entry.S for an ecall at CSSA 0 on this TCS's stack. */
struct exit_pair runtime_ecall(uint64_t n, const void *uargs, struct thread_data *td)
{
	struct ecall_args args;
	uint64_t ret = 0;

	(void)td;
	memset(&args, 0, sizeof(args));
	if (uargs != NULL) {
		if (!outside_enclave((uintptr_t)uargs, sizeof(args)))
			return (struct exit_pair){EXIT_BADCALL, n};
		memcpy(&args, uargs, sizeof(args));
		__asm__ volatile("" ::: "memory"); /* read the host's block once */
		if (args.count > ARGS_MAX)
			return (struct exit_pair){EXIT_BADCALL, n};
	}
	if (enclave_ecall(n, &args, &ret) != 0)
		return (struct exit_pair){EXIT_BADCALL, n};
	return (struct exit_pair){EXIT_RETURN, ret};
}

/*
 * Called by entry.S when EENTER finds CSSA > 0: decodes SSA frame CSSA-1
 * (GPRSGX at frame end - 184, EXINFO at frame end - 200) and runs the
 * handler on the exception stack. Returns EXIT_HANDLED or EXIT_UNHANDLED
 * and the vector (-1 when EXITINFO.VALID is clear).
 */
struct exit_pair runtime_exception(uint64_t cssa, struct thread_data *td)
{
	uintptr_t end = enclave_base() + td->ssa + cssa * SSA_FRAME_PAGES * PAGE_SIZE;
	struct ssa_gpr *gpr = (struct ssa_gpr *)(end - 184);
	const volatile uint64_t *exinfo = (const volatile uint64_t *)(end - 200);
	struct exception_info info;
	int (*handler)(struct exception_info *);
	int handled = 0;

	memset(&info, 0, sizeof(info));
	info.vector = gpr->exitinfo & 0xff;
	info.exit_type = (gpr->exitinfo >> 8) & 7;
	info.valid = gpr->exitinfo >> 31;
	info.frame = (uint32_t)(cssa - 1);
	info.gpr = gpr;
	if (info.valid && (info.vector == 13 || info.vector == 14)) {
		info.maddr = exinfo[0];
		info.errcd = (uint32_t)exinfo[1];
	}
	handler = __atomic_load_n(&registered_handler, __ATOMIC_ACQUIRE);
	td->in_exception = 1;
	if (handler != NULL && info.valid)
		handled = handler(&info) == EXCEPTION_CONTINUE;
	td->in_exception = 0;
	return (struct exit_pair){handled ? EXIT_HANDLED : EXIT_UNHANDLED,
				  info.valid ? info.vector : (uint64_t)-1};
}

/*
 * Copies s (NUL included) below the host's RSP, past its 128-byte red
 * zone, 16-byte aligned, and leaves with EXIT_OCALL.
 */
long ocall_print(const char *s)
{
	struct thread_data *td = thread_data();
	size_t len = 0;
	uintptr_t rsp, dst;

	if (td->in_exception)
		return -1;
	while (len < OCALL_MAX - 1 && s[len] != '\0')
		len++;
	len++;
	rsp = td->slots[0].rsp;
	if (rsp < 128 + len + 16)
		return -1;
	dst = (rsp - 128 - len) & ~(uintptr_t)15;
	if (!outside_enclave(dst, rsp - dst))
		return -1;
	memcpy((void *)dst, s, len - 1);
	((char *)dst)[len - 1] = '\0';
	return (long)runtime_ocall_exit(OCALL_PRINT, (const void *)dst, len);
}

void str_append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);
	while (*s != '\0' && n + 1 < size)
		buf[n++] = *s++;
	buf[n] = '\0';
}

void str_append_u64(char *buf, size_t size, uint64_t v, int hex)
{
	char digits[24];
	unsigned base = hex ? 16 : 10;
	int i = (int)sizeof(digits) - 1;

	digits[i] = '\0';
	do {
		digits[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	if (hex) {
		digits[--i] = 'x';
		digits[--i] = '0';
	}
	str_append(buf, size, &digits[i]);
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}
