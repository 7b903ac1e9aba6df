/*
 * big: the host of coredump's benchmark (bench_test.go). It loads a debug
 * enclave of 128 MiB ELRANGE through /dev/sgx_enclave:
 *
 *   0x0000       TCS (OSSA 0x1000, NSSA 1, OENTRY 0x2000), measured
 *   0x1000       SSA frame, RW
 *   0x2000       code, RX, measured: ud2
 *   0x100000     64 MiB of RW pages, not measured, word i = i * 0x9E3779B97F4A7C15
 *
 * then EENTERs it with its own ENCLU: the UD2 is a #UD AEX, delivered as
 * SIGILL at the AEP, which kills the host (the benchmark dumps at that
 * AEX's stop and kills the host there).
 *
 *   big SIGSTRUCT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL
#define SIZE (128UL << 20)
#define DATA_OFF 0x100000UL
#define DATA_SIZE (64UL << 20)

struct sgx_create { uint64_t src; };
struct sgx_add { uint64_t src, offset, length, secinfo, flags, count; };
struct sgx_init { uint64_t sigstruct; };
#define IOC_CREATE 0x4008A400UL
#define IOC_ADD 0xC030A401UL
#define IOC_INIT 0x4008A402UL

static void die(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(1);
}

static void add(int fd, const void *src, uint64_t off, uint64_t len, uint64_t secinfo, int measure)
{
	static uint8_t si[64] __attribute__((aligned(64)));
	struct sgx_add a = { (uint64_t)src, off, len, (uint64_t)si, measure ? 1 : 0, 0 };

	memset(si, 0, sizeof si);
	memcpy(si, &secinfo, 8);
	if (ioctl(fd, IOC_ADD, &a) != 0 || a.count != len)
		die("ENCLAVE_ADD_PAGES");
}

int main(int argc, char **argv)
{
	static uint8_t sig[1808] __attribute__((aligned(PAGE)));
	static uint8_t secs[PAGE] __attribute__((aligned(PAGE)));
	static uint8_t tcs[PAGE] __attribute__((aligned(PAGE)));
	static uint8_t ssa[PAGE] __attribute__((aligned(PAGE)));
	static uint8_t code[PAGE] __attribute__((aligned(PAGE)));
	uint64_t *data;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: big SIGSTRUCT\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fread(sig, 1, sizeof sig, f) != sizeof sig)
		die("read sigstruct");
	fclose(f);
	data = aligned_alloc(PAGE, DATA_SIZE);
	if (!data)
		die("allocate");
	for (uint64_t i = 0; i < DATA_SIZE / 8; i++)
		data[i] = i * 0x9E3779B97F4A7C15ULL;

	int fd = open("/dev/sgx_enclave", O_RDWR);
	if (fd < 0)
		die("open /dev/sgx_enclave");
	uint8_t *area = mmap(NULL, 2 * SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("reserve");
	uint64_t base = ((uint64_t)area + SIZE - 1) & ~(SIZE - 1);
	uint64_t v;
	memcpy(secs + 0, &(uint64_t){SIZE}, 8);
	memcpy(secs + 8, &base, 8);
	memcpy(secs + 16, &(uint32_t){1}, 4);      /* SSAFRAMESIZE */
	memcpy(secs + 20, &(uint32_t){1}, 4);      /* MISCSELECT: EXINFO */
	memcpy(secs + 48, &(uint64_t){0x6}, 8);    /* DEBUG | MODE64BIT */
	memcpy(secs + 56, &(uint64_t){0x3}, 8);    /* XFRM */
	struct sgx_create c = { (uint64_t)secs };
	if (ioctl(fd, IOC_CREATE, &c) != 0)
		die("ENCLAVE_CREATE");
	v = 0x1000; memcpy(tcs + 16, &v, 8);       /* OSSA */
	memcpy(tcs + 28, &(uint32_t){1}, 4);       /* NSSA */
	v = 0x2000; memcpy(tcs + 32, &v, 8);       /* OENTRY */
	code[0] = 0x0f; code[1] = 0x0b;            /* ud2 */
	add(fd, tcs, 0, PAGE, 0x100, 1);
	add(fd, ssa, 0x1000, PAGE, 0x203, 0);
	add(fd, code, 0x2000, PAGE, 0x205, 1);
	add(fd, data, DATA_OFF, DATA_SIZE, 0x203, 0);
	struct sgx_init in = { (uint64_t)sig };
	if (ioctl(fd, IOC_INIT, &in) != 0)
		die("ENCLAVE_INIT");
	if (mmap((void *)base, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap((void *)(base + 0x2000), PAGE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap((void *)(base + DATA_OFF), DATA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		die("mmap enclave");
	printf("loaded %#lx\n", (unsigned long)base);
	fflush(stdout);
	/* EENTER; the AEP is the same ENCLU. */
	__asm__ volatile("lea 1f(%%rip), %%rcx\n"
			 "1: .byte 0x0f, 0x01, 0xd7\n"
			 : : "a"(2), "b"(base) : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	printf("the enclave returned\n");
	return 1;
}
