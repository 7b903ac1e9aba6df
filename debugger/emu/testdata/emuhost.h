/*
 * emuhost.h: what bench.c and robust.c share — the SGX driver ABI, a
 * loader for the blob files the Go tests write (conform_test.go's format,
 * described in conform.c), and two ENCLU sites: an EENTER and the AEP.
 * Included once per program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* linux/arch/x86/include/uapi/asm/sgx.h */
struct sgx_create { uint64_t src; };
struct sgx_add { uint64_t src, offset, length, secinfo, flags, count; };
struct sgx_init { uint64_t sigstruct; };
struct sgx_provision { uint64_t fd; };
struct sgx_restrict { uint64_t offset, length, permissions, result, count; };
struct sgx_modtypes { uint64_t offset, length, page_type, result, count; };
struct sgx_remove { uint64_t offset, length, count; };
#define IOC_CREATE 0x4008A400UL
#define IOC_ADD 0xC030A401UL
#define IOC_INIT 0x4008A402UL
#define IOC_PROVISION 0x4008A403UL
#define IOC_RESTRICT 0xC028A405UL
#define IOC_MODTYPES 0xC028A406UL
#define IOC_REMOVE 0xC018A407UL
#define PAGE_MEASURE 1
#define SIGSTRUCT_SIZE 1808
#define PAGE 4096UL

struct blob_page { uint64_t offset, flags, measure; uint8_t data[PAGE]; };

struct blob {
	uint64_t size, attributes, xfrm;
	uint32_t ssaframesize, miscselect, npages, tcs_offset;
	struct blob_page *pages;
};

struct encl {
	int fd;
	uint64_t base, size, tcs;
};

static void die(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(1);
}

static void read_blob(const char *path, struct blob *b)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		die("open blob");
	if (fread(&b->size, 8, 1, f) != 1 || fread(&b->ssaframesize, 4, 1, f) != 1 ||
	    fread(&b->miscselect, 4, 1, f) != 1 || fread(&b->attributes, 8, 1, f) != 1 ||
	    fread(&b->xfrm, 8, 1, f) != 1 || fread(&b->npages, 4, 1, f) != 1 ||
	    fread(&b->tcs_offset, 4, 1, f) != 1)
		die("read blob header");
	b->pages = aligned_alloc(PAGE, sizeof(struct blob_page) * b->npages + PAGE);
	if (!b->pages)
		die("allocate blob pages");
	for (uint32_t i = 0; i < b->npages; i++)
		if (fread(&b->pages[i], sizeof(struct blob_page), 1, f) != 1)
			die("read blob page");
	fclose(f);
}

static void read_sig(const char *path, uint8_t *sig)
{
	FILE *f = fopen(path, "rb");

	if (!f || fread(sig, 1, SIGSTRUCT_SIZE, f) != SIGSTRUCT_SIZE)
		die("read sigstruct");
	fclose(f);
}

/* reserve returns a size-aligned base inside a PROT_NONE reservation of
 * twice size, as SDK loaders do. */
static uint64_t reserve(uint64_t size)
{
	void *area = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (area == MAP_FAILED)
		die("reserve address space");
	return ((uint64_t)area + size - 1) & ~(size - 1);
}

static void make_secs(uint8_t *secs, uint64_t size, uint64_t base, uint32_t ssaframesize,
		      uint32_t miscselect, uint64_t attributes, uint64_t xfrm)
{
	memset(secs, 0, PAGE);
	memcpy(secs + 0, &size, 8);
	memcpy(secs + 8, &base, 8);
	memcpy(secs + 16, &ssaframesize, 4);
	memcpy(secs + 20, &miscselect, 4);
	memcpy(secs + 48, &attributes, 8);
	memcpy(secs + 56, &xfrm, 8);
}

/* The protection a loader maps a page with: its SECINFO R/W/X, RW for a TCS. */
static int page_prot(uint64_t flags)
{
	if (((flags >> 8) & 0xff) == 1)
		return PROT_READ | PROT_WRITE;
	return ((flags & 1) ? PROT_READ : 0) | ((flags & 2) ? PROT_WRITE : 0) | ((flags & 4) ? PROT_EXEC : 0);
}

static long add_page(int fd, const struct blob_page *p)
{
	static uint8_t secinfo[64] __attribute__((aligned(64)));
	static uint8_t buf[PAGE] __attribute__((aligned(PAGE)));
	struct sgx_add a = { (uint64_t)buf, p->offset, PAGE, (uint64_t)secinfo, p->measure ? PAGE_MEASURE : 0, 0 };

	memset(secinfo, 0, sizeof(secinfo));
	memcpy(secinfo, &p->flags, 8);
	memcpy(buf, p->data, PAGE);
	if (ioctl(fd, IOC_ADD, &a) != 0)
		return -1;
	if (a.count != PAGE) {
		printf("ADD_PAGES count %lu\n", (unsigned long)a.count);
		_exit(1);
	}
	return 0;
}

/* load_blob creates, adds, initializes and maps the enclave, or dies. */
static void load_blob(const struct blob *b, const uint8_t *sig, struct encl *e)
{
	static uint8_t secs[PAGE] __attribute__((aligned(PAGE)));

	e->fd = open("/dev/sgx_enclave", O_RDWR);
	if (e->fd < 0)
		die("open /dev/sgx_enclave");
	e->size = b->size;
	e->base = reserve(b->size);
	e->tcs = e->base + b->tcs_offset;
	make_secs(secs, b->size, e->base, b->ssaframesize, b->miscselect, b->attributes, b->xfrm);
	struct sgx_create c = { (uint64_t)secs };
	if (ioctl(e->fd, IOC_CREATE, &c) != 0)
		die("ENCLAVE_CREATE");
	for (uint32_t i = 0; i < b->npages; i++)
		if (add_page(e->fd, &b->pages[i]) != 0)
			die("ENCLAVE_ADD_PAGES");
	struct sgx_init in = { (uint64_t)sig };
	if (ioctl(e->fd, IOC_INIT, &in) != 0)
		die("ENCLAVE_INIT");
	for (uint32_t i = 0; i < b->npages; i++)
		if (mmap((void *)(e->base + b->pages[i].offset), PAGE, page_prot(b->pages[i].flags),
			 MAP_SHARED | MAP_FIXED, e->fd, 0) == MAP_FAILED)
			die("mmap enclave page");
}

/*
 * enclu_eenter(tcs, rdi, rsi) runs EENTER with RDI and RSI as given and the
 * AEP below, and returns the enclave's RSI at its EEXIT (which goes to the
 * instruction after the EENTER: EENTER leaves that address in RCX).
 * enclu_aep is a bare ENCLU: after an AEX, RAX = 3 (ERESUME), RBX = TCS.
 */
uint64_t enclu_eenter(uint64_t tcs, uint64_t rdi, uint64_t rsi);
extern char enclu_aep[];
__asm__(
	".text\n"
	".globl enclu_eenter, enclu_aep\n"
	"enclu_eenter:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	mov %rdi, %rbx\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	lea enclu_aep(%rip), %rcx\n"
	"	mov $2, %eax\n"
	"	.byte 0x0f, 0x01, 0xd7\n"
	"	mov %rsi, %rax\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"
	"enclu_aep:\n"
	"	.byte 0x0f, 0x01, 0xd7\n"
	"	ud2\n");

/* Enclave operations of loop_encl.S (RDI at EENTER). */
enum { OP_ECHO = 0, OP_SPIN = 1, OP_INT3 = 2 };

/* say writes a line with write(2): usable in signal handlers. */
static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(1);
}
