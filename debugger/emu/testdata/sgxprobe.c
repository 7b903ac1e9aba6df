/*
 * sgxprobe.c: a host that behaves like an SGX runtime's loader on start-up
 * (the Intel SDK's urts, Gramine's and Open Enclave's loaders all do some
 * of this) rather than like the samples' host. It asks CPUID whether the
 * processor has SGX and what leaf 12H reports, stats and access()es the
 * device nodes before opening them, opens /dev/sgx_provision and hands it
 * to SGX_IOC_ENCLAVE_PROVISION, loads an enclave page by page from a page
 * list the Go test wrote (TestProbeHost), reads /proc/self/maps for its
 * mappings, and checks that the vDSO's clock functions work without
 * system calls. Every line it prints is compared exactly by the test.
 *
 * usage: sgxprobe PAGES SIGSTRUCT
 * PAGES: u64 size, u32 ssaframesize, u32 miscselect, u64 attributes,
 * u64 xfrm, u64 npages, then npages times {u64 offset, u64 secinfo,
 * u64 measured, 4096 bytes}.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <ucontext.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

/* arch/x86/include/uapi/asm/sgx.h, written out as a runtime would. */
#define SGX_MAGIC 0xA4
struct create_arg { uint64_t src; };
struct add_arg { uint64_t src, offset, length, secinfo, flags, count; };
struct init_arg { uint64_t sigstruct; };
struct provision_arg { uint64_t fd; };
struct remove_arg { uint64_t offset, length, count; };
#define CREATE _IOW(SGX_MAGIC, 0x00, struct create_arg)
#define ADD _IOWR(SGX_MAGIC, 0x01, struct add_arg)
#define INIT _IOW(SGX_MAGIC, 0x02, struct init_arg)
#define PROVISION _IOW(SGX_MAGIC, 0x03, struct provision_arg)
#define REMOVE _IOWR(SGX_MAGIC, 0x07, struct remove_arg)

struct page { uint64_t offset, secinfo, measured; uint8_t data[PAGE]; };

static struct {
	uint64_t size;
	uint32_t ssaframesize, miscselect;
	uint64_t attributes, xfrm, npages;
	struct page *pages;
} img;

static uint8_t sigstruct[1808];

static const char *err_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOTTY: return "ENOTTY";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	}
	return strerror(e);
}

static const char *result(long r) { return r < 0 ? err_name(errno) : "0"; }

static void fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	exit(1);
}

static void read_file(const char *path, void *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL || fread(buf, 1, n, f) != n)
		fail(path);
	fclose(f);
}

static void read_pages(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL || fread(&img.size, 8, 1, f) != 1 || fread(&img.ssaframesize, 4, 1, f) != 1 ||
	    fread(&img.miscselect, 4, 1, f) != 1 || fread(&img.attributes, 8, 1, f) != 1 ||
	    fread(&img.xfrm, 8, 1, f) != 1 || fread(&img.npages, 8, 1, f) != 1)
		fail(path);
	img.pages = calloc(img.npages, sizeof(struct page));
	if (img.pages == NULL || fread(img.pages, sizeof(struct page), img.npages, f) != img.npages)
		fail(path);
	fclose(f);
}

/* What the Intel SDK's is_sgx_available-style checks look at. */
static void probe_cpuid(void)
{
	unsigned a, b, c, d, max;

	__cpuid(0, max, b, c, d);
	printf("cpuid 0: max leaf >= 0x12 %d\n", max >= 0x12);
	__cpuid_count(7, 0, a, b, c, d);
	printf("cpuid 7: sgx %u sgx_lc %u\n", (b >> 2) & 1, (c >> 30) & 1);
	for (unsigned sub = 0; sub < 4; sub++) {
		__cpuid_count(0x12, sub, a, b, c, d);
		printf("cpuid 12.%u: %#x %#x %#x %#x\n", sub, a, b, c, d);
	}
	__cpuid_count(0x12, 2, a, b, c, d);
	printf("epc section: type %u base %#llx size %#llx\n", a & 0xf,
	       (unsigned long long)(a & ~0xfffu) | (unsigned long long)(b & 0xfffff) << 32,
	       (unsigned long long)(c & ~0xfffu) | (unsigned long long)(d & 0xfffff) << 32);
}

static volatile int segv_code = -1;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	segv_code = si->si_code;
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* past the CPUID */
}

/* A host that uses CPUID faulting itself (as a sandbox might) keeps its
 * own setting: ARCH_GET_CPUID reports it and its CPUID faults. */
static void probe_arch_prctl(void)
{
	struct sigaction sa;
	unsigned a, b, c, d;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	printf("arch_prctl get cpuid: %ld\n", syscall(SYS_arch_prctl, 0x1011, 0));
	printf("arch_prctl set cpuid 0: %s\n", result(syscall(SYS_arch_prctl, 0x1012, 0)));
	printf("arch_prctl get cpuid: %ld\n", syscall(SYS_arch_prctl, 0x1011, 0));
	__cpuid_count(7, 0, a, b, c, d);
	printf("cpuid while faulting: SIGSEGV si_code %d\n", segv_code);
	printf("arch_prctl set cpuid 1: %s\n", result(syscall(SYS_arch_prctl, 0x1012, 1)));
	printf("arch_prctl get cpuid: %ld\n", syscall(SYS_arch_prctl, 0x1011, 0));
	segv_code = -1;
	__cpuid_count(7, 0, a, b, c, d);
	printf("cpuid again: sgx %u, SIGSEGV si_code %d\n", (b >> 2) & 1, segv_code);
	signal(SIGSEGV, SIG_DFL);
}

static void show_stat(const char *what, int r, const struct stat *st)
{
	struct stat null;

	if (r != 0) {
		printf("%s: %s\n", what, err_name(errno));
		return;
	}
	stat("/dev/null", &null);
	printf("%s: chr %d rdev %u:%u mode %04o uid %u gid %u size %lld nlink %lu devtmpfs %d\n", what,
	       S_ISCHR(st->st_mode), major(st->st_rdev), minor(st->st_rdev), st->st_mode & 07777,
	       st->st_uid, st->st_gid, (long long)st->st_size, (unsigned long)st->st_nlink,
	       st->st_dev == null.st_dev);
}

static void probe_nodes(void)
{
	struct stat st;
	struct statx sx;
	int r;

	r = stat("/dev/sgx_enclave", &st);
	show_stat("stat /dev/sgx_enclave", r, &st);
	r = lstat("/dev/sgx_provision", &st);
	show_stat("lstat /dev/sgx_provision", r, &st);
	r = fstatat(AT_FDCWD, "/dev/../dev/sgx_enclave", &st, 0);
	show_stat("fstatat /dev/../dev/sgx_enclave", r, &st);
	if (chdir("/dev") == 0) {
		r = stat("sgx_enclave", &st);
		show_stat("stat sgx_enclave in /dev", r, &st);
	}
	r = stat("/dev/sgx_other", &st);
	show_stat("stat /dev/sgx_other", r, &st);
	r = statx(AT_FDCWD, "/dev/sgx_enclave", 0, STATX_BASIC_STATS, &sx);
	if (r == 0)
		printf("statx /dev/sgx_enclave: chr %d rdev %u:%u mode %04o uid %u type in mask %d\n",
		       S_ISCHR(sx.stx_mode), sx.stx_rdev_major, sx.stx_rdev_minor, sx.stx_mode & 07777,
		       sx.stx_uid, (sx.stx_mask & STATX_TYPE) != 0);
	else
		printf("statx /dev/sgx_enclave: %s\n", err_name(errno));
	printf("access /dev/sgx_enclave rw: %s\n", result(access("/dev/sgx_enclave", R_OK | W_OK)));
	printf("access /dev/sgx_enclave x: %s\n", result(access("/dev/sgx_enclave", X_OK)));
	printf("faccessat /dev/sgx_provision rw: %s\n",
	       result(faccessat(AT_FDCWD, "/dev/sgx_provision", R_OK | W_OK, AT_EACCESS)));
}

/* ELRANGE reserved at a SIZE-aligned address, as loaders do. */
static uint64_t reserve(void)
{
	uint8_t *p = mmap(NULL, 2 * img.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("reserve");
	return ((uint64_t)(uintptr_t)p + img.size - 1) & ~(img.size - 1);
}

static long create(int fd, uint64_t base, uint64_t attributes)
{
	static uint8_t secs[PAGE] __attribute__((aligned(PAGE)));
	struct create_arg c = {(uint64_t)(uintptr_t)secs};

	memset(secs, 0, sizeof(secs));
	memcpy(secs + 0, &img.size, 8);
	memcpy(secs + 8, &base, 8);
	memcpy(secs + 16, &img.ssaframesize, 4);
	memcpy(secs + 20, &img.miscselect, 4);
	memcpy(secs + 48, &attributes, 8);
	memcpy(secs + 56, &img.xfrm, 8);
	return ioctl(fd, CREATE, &c);
}

static long add_all(int fd)
{
	static uint64_t secinfo[8] __attribute__((aligned(64)));
	static uint8_t src[PAGE] __attribute__((aligned(PAGE)));

	for (uint64_t i = 0; i < img.npages; i++) {
		struct add_arg a = {(uint64_t)(uintptr_t)src, img.pages[i].offset, PAGE, 0,
				    img.pages[i].measured ? 1 : 0, 0};
		memcpy(src, img.pages[i].data, PAGE);
		memset(secinfo, 0, sizeof(secinfo));
		secinfo[0] = img.pages[i].secinfo;
		a.secinfo = (uint64_t)(uintptr_t)secinfo;
		if (ioctl(fd, ADD, &a) != 0)
			return -1;
	}
	return 0;
}

static long init(int fd)
{
	struct init_arg in = {(uint64_t)(uintptr_t)sigstruct};
	return ioctl(fd, INIT, &in);
}

static int prot_of(uint64_t secinfo)
{
	if (((secinfo >> 8) & 0xff) == 1) /* PT_TCS */
		return PROT_READ | PROT_WRITE;
	return (secinfo & 1 ? PROT_READ : 0) | (secinfo & 2 ? PROT_WRITE : 0) | (secinfo & 4 ? PROT_EXEC : 0);
}

/* /proc/self/maps lines of the enclave, addresses as offsets from base. */
static void show_maps(uint64_t base, const char *path)
{
	char line[512];
	struct stat node;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		fail(path);
	stat("/dev/sgx_enclave", &node);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long start, end, off, ino;
		unsigned maj, min;
		char perms[8], name[256] = "";
		struct stat null;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %255s", &start, &end, perms, &off, &maj, &min, &ino,
			   name) < 8 || start < base || start >= base + img.size || strcmp(name, "/dev/sgx_enclave") != 0)
			continue;
		stat("/dev/null", &null);
		printf("maps: +%#llx-+%#llx %s %08llx devtmpfs %d node %d %s\n", start - base, end - base, perms, off,
		       makedev(maj, min) == null.st_dev, ino == node.st_ino, name);
	}
	fclose(f);
}

/* The clock functions must not make a system call: a filter makes those
 * system calls fail, so only the vDSO's fast paths succeed. */
static void probe_vdso(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_time, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcpu, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	struct timespec ts;
	struct timeval tv;
	unsigned cpu = ~0u;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		fail("seccomp");
	printf("syscall clock_gettime: %s\n", result(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts)));
	printf("vdso clock_gettime: %s\n", result(clock_gettime(CLOCK_MONOTONIC, &ts)));
	printf("vdso gettimeofday: %s\n", result(gettimeofday(&tv, NULL)));
	printf("vdso time: %s\n", time(NULL) == (time_t)-1 ? err_name(errno) : "0");
	printf("vdso getcpu: %s\n", result(getcpu(&cpu, NULL)));
}

int main(int argc, char **argv)
{
	int fd, pfd, fd2;
	uint64_t base;
	struct stat st;
	struct provision_arg prov;
	struct remove_arg rm = {0, PAGE, 0};
	char maps[64];

	if (argc != 3) {
		fprintf(stderr, "usage: sgxprobe PAGES SIGSTRUCT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_pages(argv[1]);
	read_file(argv[2], sigstruct, sizeof(sigstruct));
	probe_cpuid();
	probe_arch_prctl();
	probe_nodes();

	fd = open("/dev/sgx_enclave", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open /dev/sgx_enclave");
	show_stat("fstat enclave fd", fstat(fd, &st), &st);
	pfd = openat(AT_FDCWD, "sgx_provision", O_RDONLY); /* the cwd is /dev */
	if (pfd < 0)
		fail("open /dev/sgx_provision");
	show_stat("fstat provision fd", fstat(pfd, &st), &st);
	show_stat("fstat system call, enclave fd", (int)syscall(SYS_fstat, fd, &st), &st);
	{
		struct statx sx;
		int r = statx(pfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
		printf("statx provision fd: %s chr %d rdev %u:%u\n", result(r), S_ISCHR(sx.stx_mode), sx.stx_rdev_major,
		       sx.stx_rdev_minor);
	}
	printf("mmap provision fd: %s\n",
	       mmap(NULL, PAGE, PROT_READ, MAP_SHARED, pfd, 0) == MAP_FAILED ? err_name(errno) : "mapped");

	/* PROVISIONKEY without SGX_IOC_ENCLAVE_PROVISION: EINIT refuses it. */
	base = reserve();
	printf("create with PROVISIONKEY: %s\n", result(create(fd, base, img.attributes | 0x10)));
	printf("add: %s\n", result(add_all(fd)));
	prov.fd = (uint64_t)fd;
	printf("provision with the enclave fd: %s\n", result(ioctl(fd, PROVISION, &prov)));
	printf("init without provision: %s\n", result(init(fd)));
	close(fd);

	/* With it, EINIT gets past the driver's check (and then compares the
	 * attributes with the SIGSTRUCT's). */
	fd = open("/dev/sgx_enclave", O_RDWR);
	base = reserve();
	printf("create with PROVISIONKEY: %s\n", result(create(fd, base, img.attributes | 0x10)));
	prov.fd = (uint64_t)pfd;
	printf("provision: %s\n", result(ioctl(fd, PROVISION, &prov)));
	printf("add: %s\n", result(add_all(fd)));
	printf("init with provision: %s\n", result(init(fd)));
	close(fd);

	/* The enclave as signed. */
	fd2 = open("/dev/sgx_enclave", O_RDWR);
	base = reserve();
	printf("create: %s\n", result(create(fd2, base, img.attributes)));
	printf("add: %s\n", result(add_all(fd2)));
	printf("init: %s\n", result(init(fd2)));
	printf("remove pages: %s\n", result(ioctl(fd2, REMOVE, &rm)));
	for (uint64_t i = 0; i < img.npages; i++)
		if (mmap((void *)(uintptr_t)(base + img.pages[i].offset), PAGE, prot_of(img.pages[i].secinfo),
			 MAP_SHARED | MAP_FIXED, fd2, 0) == MAP_FAILED)
			fail("mmap");
	show_maps(base, "/proc/self/maps");
	snprintf(maps, sizeof(maps), "/proc/%d/task/%d/maps", getpid(), getpid());
	show_maps(base, maps);
	probe_vdso();
	return 0;
}
