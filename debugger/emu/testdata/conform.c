/*
 * conform: a minimal SGX host for the emulator's conformance tests. It loads
 * an enclave described by a blob file (written by the Go tests), then runs
 * one scenario and prints what the driver and the CPU reported.
 *
 *   conform BLOB SIG SCENARIO [ARG]
 *
 * Blob: u64 size, u32 ssaframesize, u32 miscselect, u64 attributes,
 * u64 xfrm, u32 npages, u32 tcs_offset, then npages records of
 * { u64 offset, u64 secinfo flags, u64 measure, u8 data[4096] }.
 * Consecutive pages with the same perms form one mmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

struct create { uint64_t src; };
struct add { uint64_t src, offset, length, secinfo, flags, count; };
struct init { uint64_t sigstruct; };
#define IOC_CREATE 0x4008A400UL
#define IOC_ADD 0xC030A401UL
#define IOC_INIT 0x4008A402UL

struct page { uint64_t offset, flags, measure; uint8_t data[4096]; };
static uint64_t size, attributes, xfrm, base;
static uint32_t ssaframesize, miscselect, npages, tcs_offset;
static struct page *pages;
static int fd;

/* enclu.S */
extern void eenter_site(void);
extern void aep(void);
extern uint64_t do_eenter(uint64_t tcs, uint64_t rdi, uint64_t rsi);
extern uint64_t do_eresume(uint64_t tcs);

static void die(const char *what) { printf("%s: %s\n", what, strerror(errno)); fflush(stdout); _exit(1); }

static void load(const char *blob, const char *sigpath, int *init_errno)
{
	FILE *f = fopen(blob, "rb");
	if (!f) die("open blob");
	if (fread(&size, 8, 1, f) != 1 || fread(&ssaframesize, 4, 1, f) != 1 || fread(&miscselect, 4, 1, f) != 1 ||
	    fread(&attributes, 8, 1, f) != 1 || fread(&xfrm, 8, 1, f) != 1 || fread(&npages, 4, 1, f) != 1 ||
	    fread(&tcs_offset, 4, 1, f) != 1) die("read blob header");
	pages = aligned_alloc(4096, sizeof(struct page) * npages + 4096);
	for (uint32_t i = 0; i < npages; i++)
		if (fread(&pages[i], sizeof(struct page), 1, f) != 1) die("read blob page");
	fclose(f);
	static uint8_t sig[1808];
	f = fopen(sigpath, "rb");
	if (!f || fread(sig, 1, sizeof sig, f) != sizeof sig) die("read sigstruct");
	fclose(f);

	fd = open("/dev/sgx_enclave", O_RDWR);
	if (fd < 0) die("open /dev/sgx_enclave");
	uint8_t *area = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) die("reserve");
	base = ((uint64_t)area + size - 1) & ~(size - 1);
	static uint8_t secs[4096] __attribute__((aligned(4096)));
	memcpy(secs + 0, &size, 8);
	memcpy(secs + 8, &base, 8);
	memcpy(secs + 16, &ssaframesize, 4);
	memcpy(secs + 20, &miscselect, 4);
	memcpy(secs + 48, &attributes, 8);
	memcpy(secs + 56, &xfrm, 8);
	struct create c = { (uint64_t)secs };
	if (ioctl(fd, IOC_CREATE, &c)) die("ENCLAVE_CREATE");
	static uint8_t secinfo[64] __attribute__((aligned(64)));
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	for (uint32_t i = 0; i < npages; i++) {
		memset(secinfo, 0, sizeof secinfo);
		memcpy(secinfo, &pages[i].flags, 8);
		memcpy(buf, pages[i].data, 4096);
		struct add a = { (uint64_t)buf, pages[i].offset, 4096, (uint64_t)secinfo, pages[i].measure, 0 };
		if (ioctl(fd, IOC_ADD, &a)) die("ENCLAVE_ADD_PAGES");
		if (a.count != 4096) { printf("ADD_PAGES count %lu\n", (unsigned long)a.count); _exit(1); }
	}
	struct init in = { (uint64_t)sig };
	*init_errno = ioctl(fd, IOC_INIT, &in) ? errno : 0;
	if (*init_errno) return;
	for (uint32_t i = 0; i < npages; i++) {
		uint64_t t = (pages[i].flags >> 8) & 0xff;
		int prot = t == 1 ? PROT_READ | PROT_WRITE :
			((pages[i].flags & 1) ? PROT_READ : 0) | ((pages[i].flags & 2) ? PROT_WRITE : 0) | ((pages[i].flags & 4) ? PROT_EXEC : 0);
		if (mmap((void *)(base + pages[i].offset), 4096, prot, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			die("mmap enclave page");
	}
}

static volatile int scenario_nested;

static void handler(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	uint64_t rip = uc->uc_mcontext.gregs[REG_RIP], rax = uc->uc_mcontext.gregs[REG_RAX];
	const char *where = rip == (uint64_t)aep ? "aep" : rip == (uint64_t)eenter_site ? "eenter" : "other";
	printf("signal %d code %d addr %#lx at %s rax %lu\n", sig, si->si_code, (unsigned long)si->si_addr, where, (unsigned long)rax);
	fflush(stdout);
	if (scenario_nested && rip == (uint64_t)aep && rax == 3) {
		scenario_nested = 0;
		do_eenter(base + tcs_offset, 0, 0); /* CSSA == NSSA: #GP at the EENTER */
	}
	_exit(0);
}

static void *spinner(void *arg)
{
	(void)arg;
	do_eenter(base + tcs_offset, 1, 0); /* op 1 spins forever */
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 4) { fprintf(stderr, "usage: conform BLOB SIG SCENARIO [ARG]\n"); return 2; }
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	int init_errno;
	load(argv[1], argv[2], &init_errno);
	const char *s = argv[3];
	uint64_t arg = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
	if (!strcmp(s, "init")) {
		printf("init %s errno %d\n", init_errno ? "failed" : "ok", init_errno);
		return 0;
	}
	if (init_errno) { printf("init failed errno %d\n", init_errno); return 1; }
	printf("base %#lx\n", (unsigned long)base);
	if (!strcmp(s, "enter")) {
		/* op in ARG; the enclave returns RSI (op 0 echoes its argument + 1) */
		uint64_t r = do_eenter(base + tcs_offset, arg, 41);
		printf("returned %lu\n", (unsigned long)r);
	} else if (!strcmp(s, "fault")) {
		/* op in ARG faults; the handler prints the AEX as the host sees it */
		do_eenter(base + tcs_offset, arg, base);
		printf("no fault\n");
	} else if (!strcmp(s, "nested")) {
		scenario_nested = 1;
		do_eenter(base + tcs_offset, arg, base);
	} else if (!strcmp(s, "busy")) {
		pthread_t t;
		pthread_create(&t, NULL, spinner, NULL);
		usleep(200000);
		do_eenter(base + tcs_offset, 0, 0);
		printf("second EENTER did not fault\n");
	} else if (!strcmp(s, "fork")) {
		/* A child process (not an enclave user) runs a program while the
		 * parent's enclave lives; then the parent uses the enclave. */
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", "echo child ran; exit 7", (char *)NULL);
			_exit(127);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		uint64_t r = do_eenter(base + tcs_offset, 0, 41);
		printf("returned %lu\n", (unsigned long)r);
	} else if (!strcmp(s, "enclu")) {
		/* ENCLU with leaf ARG inside the enclave (op 12) */
		do_eenter(base + tcs_offset, 12, arg);
		printf("no fault\n");
	} else if (!strcmp(s, "enclu-outside")) {
		/* ENCLU with leaf ARG in host code */
		__asm__ volatile(".byte 0x0f, 0x01, 0xd7" : : "a"(arg) : "rbx", "rcx", "rdx", "memory");
		printf("no fault\n");
	} else if (!strcmp(s, "eresume0")) {
		do_eresume(base + tcs_offset);
		printf("ERESUME did not fault\n");
	} else {
		printf("unknown scenario %s\n", s);
		return 2;
	}
	return 0;
}
