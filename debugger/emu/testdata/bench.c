/*
 * bench: the host the emulator's benchmarks (bench_test.go) run.
 *
 *   bench BLOB SIG ecalls N    N clean EENTER/EEXIT round trips (op 0)
 *   bench BLOB SIG aexloop N   EENTER op 2: INT3 → AEX → SIGTRAP handler at
 *                              the AEP → return → ERESUME → INT3 …; the
 *                              handler leaves after the Nth AEX
 *   bench load64 SIG MODE      create, add and initialize a 64 MiB enclave
 *                              of measured RW pages; MODE "one": one
 *                              ADD_PAGES for all 16384 pages, "perpage":
 *                              one ADD_PAGES per page; prints the
 *                              CLOCK_MONOTONIC time from before CREATE to
 *                              after INIT, as the host sees its load
 *
 * Each prints one line saying what it did, and exits 0.
 */
#include "emuhost.h"

#include <time.h>

#define LOAD_SIZE (64UL << 20)
#define LOAD_SECINFO 0x203UL /* PT_REG, R|W */
#define LOAD_ATTRIBUTES 0x6UL /* DEBUG|MODE64BIT */

static volatile unsigned long aex_count, aex_target;

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	if (uc->uc_mcontext.gregs[REG_RIP] != (greg_t)enclu_aep || uc->uc_mcontext.gregs[REG_RAX] != 3) {
		say("SIGTRAP not at the AEP\n");
		_exit(3);
	}
	if (++aex_count == aex_target) {
		say("aexloop done\n");
		_exit(0);
	}
	/* Returning goes back to the AEP: ERESUME. */
}

static unsigned long count_arg(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 0);

	if (*s == '\0' || *end != '\0' || n == 0) {
		fprintf(stderr, "bench: bad count %s\n", s);
		exit(2);
	}
	return n;
}

/* load64 fills 64 MiB with word i = i * 0x9E3779B97F4A7C15 (bench_test.go
 * measures the same bytes), then loads it as one enclave. */
static int load64(const char *sigpath, const char *mode)
{
	static uint8_t sig[SIGSTRUCT_SIZE] __attribute__((aligned(PAGE)));
	static uint8_t secs[PAGE] __attribute__((aligned(PAGE)));
	static uint8_t secinfo[64] __attribute__((aligned(64)));
	int perpage = strcmp(mode, "perpage") == 0;
	uint64_t *words = aligned_alloc(PAGE, LOAD_SIZE);

	if (!perpage && strcmp(mode, "one") != 0) {
		fprintf(stderr, "bench: load64 mode %s\n", mode);
		return 2;
	}
	if (!words)
		die("allocate 64 MiB");
	for (uint64_t i = 0; i < LOAD_SIZE / 8; i++)
		words[i] = i * 0x9E3779B97F4A7C15ULL;
	read_sig(sigpath, sig);
	memcpy(secinfo, &(uint64_t){LOAD_SECINFO}, 8);

	int fd = open("/dev/sgx_enclave", O_RDWR);
	if (fd < 0)
		die("open /dev/sgx_enclave");
	uint64_t base = reserve(LOAD_SIZE);
	make_secs(secs, LOAD_SIZE, base, 1, 0, LOAD_ATTRIBUTES, 3);
	struct sgx_create c = { (uint64_t)secs };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ioctl(fd, IOC_CREATE, &c) != 0)
		die("ENCLAVE_CREATE");
	uint64_t step = perpage ? PAGE : LOAD_SIZE, calls = 0;
	for (uint64_t off = 0; off < LOAD_SIZE; off += step, calls++) {
		struct sgx_add a = { (uint64_t)words + off, off, step, (uint64_t)secinfo, PAGE_MEASURE, 0 };
		if (ioctl(fd, IOC_ADD, &a) != 0)
			die("ENCLAVE_ADD_PAGES");
		if (a.count != step) {
			printf("ADD_PAGES at %#lx: count %#lx\n", (unsigned long)off, (unsigned long)a.count);
			return 1;
		}
	}
	struct sgx_init in = { (uint64_t)sig };
	if (ioctl(fd, IOC_INIT, &in) != 0)
		die("ENCLAVE_INIT");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("load64 %lu pages in %lu ADD_PAGES: %lld ns\n", (unsigned long)(LOAD_SIZE / PAGE), (unsigned long)calls, ns);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t sig[SIGSTRUCT_SIZE] __attribute__((aligned(PAGE)));
	struct blob b;
	struct encl e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "load64") == 0)
		return load64(argv[2], argv[3]);
	if (argc != 5) {
		fprintf(stderr, "usage: bench BLOB SIG ecalls|aexloop N | bench load64 SIG one|perpage\n");
		return 2;
	}
	unsigned long n = count_arg(argv[4]);
	read_blob(argv[1], &b);
	read_sig(argv[2], sig);
	load_blob(&b, sig, &e);
	if (strcmp(argv[3], "ecalls") == 0) {
		for (unsigned long i = 0; i < n; i++) {
			uint64_t r = enclu_eenter(e.tcs, OP_ECHO, i);
			if (r != i + 1) {
				printf("ecall %lu returned %lu\n", i, (unsigned long)r);
				return 1;
			}
		}
		printf("ecalls %lu done\n", n);
		return 0;
	}
	if (strcmp(argv[3], "aexloop") == 0) {
		struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTRAP, &sa, NULL);
		aex_target = n;
		enclu_eenter(e.tcs, OP_INT3, 0);
		printf("aexloop: the enclave left\n");
		return 1;
	}
	fprintf(stderr, "bench: unknown scenario %s\n", argv[3]);
	return 2;
}
