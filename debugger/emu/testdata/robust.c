/*
 * robust: a host that misuses the SGX driver ABI, or leaves in awkward
 * moments, for robust_test.go.
 *
 *   robust BLOB SIG errnos
 *       one line "NAME ERRNO" per request (0 when it succeeded), in order;
 *       then an ecall proves the enclave still works: "ecall returned 42"
 *   robust BLOB SIG exit-inside thread|main
 *       one thread spins inside the enclave (op 1) while the other prints
 *       "inside" and calls exit(3): with "thread" the spinning thread is a
 *       second thread, with "main" it is the main thread
 */
#include "emuhost.h"

#include <pthread.h>
#include <sched.h>

static void report(const char *name, long rc)
{
	printf("%s %d\n", name, rc == -1 ? errno : 0);
}

#define TRY(name, call) \
	do { \
		errno = 0; \
		report(name, (long)(call)); \
	} while (0)

static int errnos(const struct blob *b, const uint8_t *sig)
{
	static uint8_t secs[PAGE] __attribute__((aligned(PAGE)));
	static uint8_t page[2 * PAGE] __attribute__((aligned(PAGE)));
	static uint8_t secinfo[64] __attribute__((aligned(64)));
	static uint8_t bad_secinfo[64] __attribute__((aligned(64)));
	uint64_t rw = 0x203, w_only = 0x202;
	int fd = open("/dev/sgx_enclave", O_RDWR);

	if (fd < 0)
		die("open /dev/sgx_enclave");
	/* An address nothing is mapped at. */
	uint8_t *hole = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, PAGE) != 0)
		die("make a hole");
	uint64_t base = reserve(b->size);
	make_secs(secs, b->size, base, b->ssaframesize, b->miscselect, b->attributes, b->xfrm);
	memcpy(secinfo, &rw, 8);
	memcpy(bad_secinfo, &w_only, 8);

	struct sgx_add add = { (uint64_t)page, 0, PAGE, (uint64_t)secinfo, PAGE_MEASURE, 0 };
	struct sgx_init in = { (uint64_t)sig };
	struct sgx_create create = { (uint64_t)secs }, create_hole = { (uint64_t)hole };

	TRY("unknown-ioctl", ioctl(fd, 0xC008A41FUL, &add));
	TRY("tcgets", ioctl(fd, 0x5401UL, page));
	TRY("add-before-create", ioctl(fd, IOC_ADD, &add));
	TRY("init-before-create", ioctl(fd, IOC_INIT, &in));
	TRY("create-unmapped-arg", ioctl(fd, IOC_CREATE, hole));
	TRY("create-unmapped-src", ioctl(fd, IOC_CREATE, &create_hole));
	TRY("create", ioctl(fd, IOC_CREATE, &create));
	TRY("create-again", ioctl(fd, IOC_CREATE, &create));

	struct sgx_add a = add;
	a.src = (uint64_t)page + 8;
	TRY("add-unaligned-src", ioctl(fd, IOC_ADD, &a));
	a = add;
	a.offset = 0x10;
	TRY("add-unaligned-offset", ioctl(fd, IOC_ADD, &a));
	a = add;
	a.length = 0;
	TRY("add-zero-length", ioctl(fd, IOC_ADD, &a));
	a = add;
	a.length = PAGE + 1;
	TRY("add-unaligned-length", ioctl(fd, IOC_ADD, &a));
	a = add;
	a.offset = b->size;
	TRY("add-beyond-elrange", ioctl(fd, IOC_ADD, &a));
	a = add;
	a.secinfo = (uint64_t)hole;
	TRY("add-unmapped-secinfo", ioctl(fd, IOC_ADD, &a));
	a = add;
	a.secinfo = (uint64_t)bad_secinfo;
	TRY("add-write-only-secinfo", ioctl(fd, IOC_ADD, &a));
	TRY("add-unmapped-arg", ioctl(fd, IOC_ADD, hole));

	long rc = 0;
	for (uint32_t i = 0; i < b->npages && rc == 0; i++)
		rc = add_page(fd, &b->pages[i]);
	report("add-pages", rc);
	TRY("add-same-offset", add_page(fd, &b->pages[0]));

	struct sgx_restrict rp = { 0, PAGE, 1, 0, 0 };
	struct sgx_modtypes mt = { 0, PAGE, 4, 0, 0 };
	struct sgx_remove rm = { 0, PAGE, 0 };
	struct sgx_provision pv = { 0 };
	TRY("restrict-permissions", ioctl(fd, IOC_RESTRICT, &rp));
	TRY("modify-types", ioctl(fd, IOC_MODTYPES, &mt));
	TRY("remove-pages", ioctl(fd, IOC_REMOVE, &rm));
	TRY("provision-not-provision-fd", ioctl(fd, IOC_PROVISION, &pv));

	TRY("init", ioctl(fd, IOC_INIT, &in));
	TRY("init-again", ioctl(fd, IOC_INIT, &in));
	TRY("add-after-init", ioctl(fd, IOC_ADD, &add));
	TRY("create-after-init", ioctl(fd, IOC_CREATE, &create));

	/* Page 0x2000 is R, 0x3000 the TCS (at most RW), 0x1000 RW. */
	uint8_t *ro = (uint8_t *)(base + 0x2000), *tcs = (uint8_t *)(base + 0x3000);
	TRY("mmap-private", mmap(ro, PAGE, PROT_READ, MAP_PRIVATE, fd, 0));
	TRY("mmap-readonly-page-writable", mmap(ro, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0));
	TRY("mmap-tcs-executable", mmap(tcs, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0));
	TRY("mmap-outside-elrange", mmap((void *)(base + b->size), PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0));
	TRY("mmap-readonly-page", mmap(ro, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == ro ? 0 : -1);
	TRY("mprotect-readonly-page-writable", mprotect(ro, PAGE, PROT_READ | PROT_WRITE));
	TRY("mprotect-readonly-page-executable", mprotect(ro, PAGE, PROT_READ | PROT_EXEC));
	TRY("mprotect-readonly-page-none", mprotect(ro, PAGE, PROT_NONE));

	for (uint32_t i = 0; i < b->npages; i++) {
		void *at = (void *)(base + b->pages[i].offset);
		if (at != ro && mmap(at, PAGE, page_prot(b->pages[i].flags), MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			die("mmap enclave page");
	}
	printf("ecall returned %lu\n", (unsigned long)enclu_eenter(base + b->tcs_offset, OP_ECHO, 41));
	return 0;
}

static struct encl encl;
static volatile uint64_t inside;

static void *spin_inside(void *arg)
{
	(void)arg;
	enclu_eenter(encl.tcs, OP_SPIN, (uint64_t)&inside);
	return NULL;
}

static void *exit_when_inside(void *arg)
{
	(void)arg;
	while (!inside)
		sched_yield();
	say("inside\n");
	exit(3);
}

int main(int argc, char **argv)
{
	static uint8_t sig[SIGSTRUCT_SIZE] __attribute__((aligned(PAGE)));
	struct blob b;
	pthread_t t;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: robust BLOB SIG errnos | robust BLOB SIG exit-inside thread|main\n");
		return 2;
	}
	read_blob(argv[1], &b);
	read_sig(argv[2], sig);
	if (strcmp(argv[3], "errnos") == 0)
		return errnos(&b, sig);
	if (strcmp(argv[3], "exit-inside") != 0 || argc != 5) {
		fprintf(stderr, "robust: unknown scenario\n");
		return 2;
	}
	load_blob(&b, sig, &encl);
	if (strcmp(argv[4], "thread") == 0) {
		if (pthread_create(&t, NULL, spin_inside, NULL) != 0)
			die("pthread_create");
		exit_when_inside(NULL);
	}
	if (pthread_create(&t, NULL, exit_when_inside, NULL) != 0)
		die("pthread_create");
	spin_inside(NULL);
	return 1;
}
