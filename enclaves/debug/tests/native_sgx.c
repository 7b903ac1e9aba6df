/*
 * native_sgx.c - a test stand-in for the SGX driver and CPU, linked into
 * the unmodified host (main.c, call.c, enclu.S, image.c) with ld --wrap, so
 * that `make check-native` runs every sample on a machine without SGX.
 *
 * It is not the project's emulator (debugger/emu) and makes no claim of
 * fidelity beyond what the samples need: pages are mapped natively (TCS
 * pages PROT_NONE, standing in for the EPCM), ENCLU raises #UD here and its
 * SIGILL is turned into EENTER/ERESUME/EEXIT, and a fault taken in enclave
 * mode becomes an AEX (SSA frame, synthetic state at the AEP) that is handed
 * to the host's own signal handler. SYSCALL from ELRANGE is trapped with
 * seccomp (SIGSYS) and becomes #UD; CPUID cannot be trapped here. The
 * host's vDSO path runs against fake_vdso.S, with the kernel's exception
 * fixup played here (every vector but #DB and #BP).
 * Every AEX is logged to $SGXDBG_NATIVE_LOG when set. SGXDBG_NATIVE_TEARDOWN
 * = "enter" or "aex" removes the enclave's mappings before the first EENTER
 * or at the first AEX, as a debugger's teardown (or lost EPC) would.
 *
 * Signals taken in enclave mode arrive on the enclave's stack (the kernel
 * knows no URSP), so the handler uses a per-thread SS_AUTODISARM alternate
 * stack for the one case that cannot: the stack overflow into a guard page.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "host.h"

#define MAX_THREADS 64
#define ALTSTACK_SIZE (256 * 1024)
#define FLAGS_ARITH 0x8d5 /* CF PF AF ZF SF OF */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* linux/signal.h; glibc does not export it */
#endif

struct tcs_state {
	uint64_t addr, ossa, oentry, ofs, ogs, aep;
	uint32_t cssa, nssa;
	int busy;
};

struct thread_state {
	long tid;
	int in_enclave, has_altstack;
	struct tcs_state *tcs;
	uint64_t host_fs;
};

static struct tcs_state tcss[IMAGE_MAX_TCS];
static size_t ntcs;
static struct thread_state threads[MAX_THREADS];
static uint64_t base, frame_size;
static struct sigaction host_action[NSIG];
static int log_fd = -1;
static int teardown_at_aex; /* SGXDBG_NATIVE_TEARDOWN=aex */

int __real_calls_init(const struct call_config *cfg);

/* fake_vdso.S */
void fake_vdso_enter(void);
extern const char fake_vdso_enclu[], fake_vdso_fixup[];

/* Raw system calls: they run before FS holds the host's TLS again. */
static long raw2(long n, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static uint64_t get_fs(void)
{
	uint64_t v = 0;
	raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&v);
	return v;
}

static void set_fs(uint64_t v)
{
	raw2(SYS_arch_prctl, ARCH_SET_FS, (long)v);
}

static struct thread_state *self(void)
{
	long tid = raw2(SYS_gettid, 0, 0);

	for (int i = 0; i < MAX_THREADS; i++) {
		long cur = __atomic_load_n(&threads[i].tid, __ATOMIC_ACQUIRE);
		if (cur == tid)
			return &threads[i];
		if (cur == 0 && __atomic_compare_exchange_n(&threads[i].tid, &cur, tid, 0, __ATOMIC_ACQ_REL,
							    __ATOMIC_ACQUIRE))
			return &threads[i];
	}
	raw2(SYS_exit_group, 99, 0);
	return NULL;
}

static struct tcs_state *tcs_at(uint64_t addr)
{
	for (size_t i = 0; i < ntcs; i++)
		if (tcss[i].addr == addr)
			return &tcss[i];
	return NULL;
}

/* EENTER/ERESUME of a TCS that is no longer mapped take #PF, not #GP. */
static int tcs_gone(uint64_t tcs)
{
	unsigned char v;
	return mincore((void *)(uintptr_t)(tcs & ~(uint64_t)(PAGE_SIZE - 1)), PAGE_SIZE, &v) != 0;
}

static int is_enclu(uint64_t rip)
{
	const uint8_t *p = (const uint8_t *)rip;
	return p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xd7;
}

static uint8_t *frame_of(const struct tcs_state *t, uint32_t i)
{
	return (uint8_t *)(uintptr_t)(base + t->ossa + i * frame_size);
}

/* GPRSGX field offsets. */
enum { G_RAX = 0, G_RCX = 8, G_RDX = 16, G_RBX = 24, G_RSP = 32, G_RBP = 40, G_RSI = 48, G_RDI = 56,
       G_R8 = 64, G_RFLAGS = 128, G_RIP = 136, G_URSP = 144, G_URBP = 152, G_EXITINFO = 160,
       G_FSBASE = 168, G_GSBASE = 176 };

static const int gpr_order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
				  REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

static uint64_t *gpr(uint8_t *frame, int off)
{
	return (uint64_t *)(frame + frame_size - 184 + off);
}

static void deliver(int sig, siginfo_t *si, ucontext_t *uc)
{
	struct sigaction *a = &host_action[sig];

	if ((a->sa_flags & SA_SIGINFO) && a->sa_sigaction != NULL) {
		a->sa_sigaction(sig, si, uc);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void deliver_gp(ucontext_t *uc)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSEGV;
	si.si_code = SI_KERNEL;
	deliver(SIGSEGV, &si, uc);
}

static void ensure_altstack(struct thread_state *t)
{
	stack_t ss;

	if (t->has_altstack)
		return;
	ss.ss_sp = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = SS_AUTODISARM;
	if (ss.ss_sp != MAP_FAILED && sigaltstack(&ss, NULL) == 0)
		t->has_altstack = 1;
}

static int eenter(struct thread_state *t, greg_t *g)
{
	struct tcs_state *c = tcs_at((uint64_t)g[REG_RBX]);
	int idle = 0;

	if (c == NULL || tcs_gone(c->addr) || c->cssa >= c->nssa || !__atomic_compare_exchange_n(&c->busy, &idle, 1, 0,
									     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -1;
	ensure_altstack(t);
	uint8_t *f = frame_of(c, c->cssa);
	*gpr(f, G_URSP) = (uint64_t)g[REG_RSP];
	*gpr(f, G_URBP) = (uint64_t)g[REG_RBP];
	c->aep = (uint64_t)g[REG_RCX];
	g[REG_RAX] = c->cssa;
	g[REG_RCX] = g[REG_RIP] + 3;
	g[REG_RIP] = (greg_t)(base + c->oentry);
	t->tcs = c;
	t->host_fs = get_fs();
	t->in_enclave = 1;
	set_fs(base + c->ofs);
	return 0;
}

static int eresume(struct thread_state *t, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct tcs_state *c = tcs_at((uint64_t)g[REG_RBX]);
	int idle = 0;

	if (c == NULL || tcs_gone(c->addr) || c->cssa == 0 || !__atomic_compare_exchange_n(&c->busy, &idle, 1, 0, __ATOMIC_ACQ_REL,
								      __ATOMIC_ACQUIRE))
		return -1;
	uint8_t *f = frame_of(c, c->cssa - 1);
	for (int i = 0; i < 16; i++)
		g[gpr_order[i]] = (greg_t)*gpr(f, i * 8);
	g[REG_EFL] = (greg_t)(((uint64_t)g[REG_EFL] & ~0xcd5ull) | (*gpr(f, G_RFLAGS) & 0xcd5));
	g[REG_RIP] = (greg_t)*gpr(f, G_RIP);
	memcpy(uc->uc_mcontext.fpregs, f, 512);
	c->cssa--;
	t->tcs = c;
	t->host_fs = get_fs();
	t->in_enclave = 1;
	set_fs(*gpr(f, G_FSBASE));
	return 0;
}

/* Logs "leak" if EEXIT left enclave state in a register the runtime must
 * scrub: every GPR but RAX (leaf), RBX (target), RSP/RBP (the host's), RDI
 * and RSI (results), RDX and R8 (OCALL data); x87 and XMM registers. */
static void check_scrubbed(const ucontext_t *uc)
{
	const greg_t *g = uc->uc_mcontext.gregs;
	static const int scrubbed[] = {REG_RCX, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	int leak = 0;

	for (size_t i = 0; i < sizeof(scrubbed) / sizeof(scrubbed[0]); i++)
		leak |= g[scrubbed[i]] != 0;
	if (g[REG_RDI] != EXIT_OCALL)
		leak |= g[REG_RDX] != 0 || g[REG_R8] != 0;
	for (int i = 32; i < 416; i++) /* ST0-7 and XMM0-15 */
		leak |= fp[i] != 0;
	if (leak && log_fd >= 0 && write(log_fd, "leak at EEXIT\n", 14) < 0)
		log_fd = -1;
}

static void eexit(struct thread_state *t, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;

	check_scrubbed(uc);
	g[REG_RIP] = g[REG_RBX];
	g[REG_RCX] = (greg_t)t->tcs->aep;
	__atomic_store_n(&t->tcs->busy, 0, __ATOMIC_RELEASE);
	t->in_enclave = 0;
}

static int in_tcs_page(uint64_t a)
{
	for (size_t i = 0; i < ntcs; i++)
		if (a >= tcss[i].addr && a < tcss[i].addr + PAGE_SIZE)
			return 1;
	return 0;
}

/* A fault in enclave mode: write SSA[CSSA], load the synthetic state,
 * CSSA + 1, and let the host's handler see the signal at the AEP. */
static void aex(struct thread_state *t, int sig, siginfo_t *si, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct tcs_state *c = t->tcs;
	uint8_t *f = frame_of(c, c->cssa);
	uint64_t rip = (uint64_t)g[REG_RIP], maddr = 0;
	uint32_t vector, type = 3, errcd = 0;
	int host_sig = sig;

	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
		if (si->si_code == SI_KERNEL) {
			vector = 13;
		} else {
			vector = 14;
			maddr = (uint64_t)si->si_addr;
			errcd = (uint32_t)g[REG_ERR];
			if (in_tcs_page(maddr)) /* the EPCM, not the page tables, says no */
				errcd = (errcd & 2) | 0x8005;
		}
		break;
	case SIGFPE:
		vector = 0;
		break;
	case SIGTRAP:
		vector = 3;
		type = 6;
		rip -= 1; /* SSA RIP is the INT3 itself */
		break;
	case SIGSYS:
		rip -= 2; /* the SYSCALL itself: #UD */
		host_sig = SIGILL;
		/* fall through */
	default:
		vector = 6;
		break;
	}
	for (int i = 0; i < 16; i++)
		*gpr(f, i * 8) = (uint64_t)g[gpr_order[i]];
	*gpr(f, G_RFLAGS) = (uint64_t)g[REG_EFL];
	*gpr(f, G_RIP) = rip;
	*(uint32_t *)gpr(f, G_EXITINFO) = vector | type << 8 | 1u << 31;
	*gpr(f, G_FSBASE) = base + c->ofs;
	*gpr(f, G_GSBASE) = base + c->ogs;
	if (vector == 13 || vector == 14) {
		memcpy(f + frame_size - 200, &maddr, 8);
		memcpy(f + frame_size - 192, &errcd, 4);
	}
	memcpy(f, uc->uc_mcontext.fpregs, 512);
	memset(uc->uc_mcontext.fpregs->_st, 0, sizeof(uc->uc_mcontext.fpregs->_st));
	memset(uc->uc_mcontext.fpregs->_xmm, 0, sizeof(uc->uc_mcontext.fpregs->_xmm));
	uc->uc_mcontext.fpregs->cwd = 0x37f;
	uc->uc_mcontext.fpregs->swd = 0;
	uc->uc_mcontext.fpregs->ftw = 0;
	uc->uc_mcontext.fpregs->mxcsr = 0x1f80;
	for (int i = 0; i < 16; i++)
		g[gpr_order[i]] = 0;
	g[REG_RAX] = ENCLU_ERESUME;
	g[REG_RBX] = (greg_t)c->addr;
	g[REG_RCX] = (greg_t)c->aep;
	g[REG_RSP] = (greg_t)*gpr(f, G_URSP);
	g[REG_RBP] = (greg_t)*gpr(f, G_URBP);
	g[REG_RIP] = (greg_t)c->aep;
	g[REG_EFL] &= ~(greg_t)FLAGS_ARITH;
	if (log_fd >= 0) {
		char line[200];
		int n = snprintf(line, sizeof(line),
				 "aex tcs=%zu frame=%u vector=%u type=%u maddr=%#lx errcd=%#x rip=%#lx\n",
				 (size_t)(c - tcss), c->cssa, vector, type,
				 (unsigned long)(maddr >= base && maddr < base + ENCLAVE_SIZE ? maddr - base : maddr),
				 errcd, (unsigned long)(rip - base));
		if (write(log_fd, line, (size_t)n) < 0)
			log_fd = -1;
	}
	c->cssa++;
	__atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
	t->in_enclave = 0;
	if (teardown_at_aex)
		munmap((void *)(uintptr_t)base, ENCLAVE_SIZE);
	if (c->aep == (uint64_t)(uintptr_t)fake_vdso_enclu && vector != 1 && vector != 3) {
		/* The kernel's vDSO exception fixup instead of a signal; the
		 * address is what the OS sees, page-aligned for #PF. */
		g[REG_RIP] = (greg_t)(uintptr_t)fake_vdso_fixup;
		g[REG_RDI] = vector;
		g[REG_RSI] = errcd;
		g[REG_RDX] = (greg_t)(maddr & ~(uint64_t)(PAGE_SIZE - 1));
		return;
	}
	if (host_sig != sig) {
		si->si_signo = host_sig;
		si->si_code = ILL_ILLOPN;
	}
	if (vector == 14)
		si->si_addr = (void *)(maddr & ~(uint64_t)(PAGE_SIZE - 1));
	deliver(host_sig, si, uc);
}

static void emulate(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	struct thread_state *t = self();

	if (t->in_enclave) {
		set_fs(t->host_fs);
		if (sig == SIGILL && is_enclu((uint64_t)g[REG_RIP]) && g[REG_RAX] == ENCLU_EEXIT) {
			eexit(t, uc);
			return;
		}
		aex(t, sig, si, uc);
		return;
	}
	if (sig == SIGILL && is_enclu((uint64_t)g[REG_RIP])) {
		if ((g[REG_RAX] == ENCLU_EENTER && eenter(t, g) == 0) ||
		    (g[REG_RAX] == ENCLU_ERESUME && eresume(t, uc) == 0))
			return;
		int gone = tcs_gone((uint64_t)g[REG_RBX]);
		if (g[REG_RIP] == (greg_t)(uintptr_t)fake_vdso_enclu) {
			g[REG_RIP] = (greg_t)(uintptr_t)fake_vdso_fixup;
			g[REG_RDI] = gone ? 14 : 13;
			g[REG_RSI] = gone ? 4 : 0;
			g[REG_RDX] = gone ? g[REG_RBX] : 0;
			return;
		}
		if (gone) {
			si->si_signo = SIGSEGV;
			si->si_code = SEGV_MAPERR;
			si->si_addr = (void *)g[REG_RBX];
			deliver(SIGSEGV, si, uc);
			return;
		}
		deliver_gp(uc);
		return;
	}
	deliver(sig, si, uc);
}

/* SECCOMP_RET_TRAP for system calls made from inside ELRANGE. */
static int trap_enclave_syscalls(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(base >> 32), 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, (uint32_t)~(uint64_t)(ENCLAVE_SIZE - 1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)base, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("native: seccomp");
		return -1;
	}
	return 0;
}

int __wrap_enclave_load(const struct image *img, const uint8_t *sigstruct, struct enclave *e)
{
	uint8_t *area;
	int fd;

	(void)sigstruct; /* no EINIT here: the SIGSTRUCT is not checked */
	memset(e, 0, sizeof(*e));
	e->img = img;
	e->size = img->size;
	e->fd = -1;
	if (img->size != ENCLAVE_SIZE) {
		fprintf(stderr, "native: SIZE %#lx, this stand-in handles %#x only\n", (unsigned long)img->size,
			ENCLAVE_SIZE);
		return -1;
	}
	area = mmap(NULL, 2 * e->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("native-epc", MFD_CLOEXEC);
	if (area == MAP_FAILED || fd < 0 || ftruncate(fd, (off_t)img->end) != 0 ||
	    pwrite(fd, img->pages, img->end, 0) != (ssize_t)img->end) {
		perror("native: map the enclave");
		return -1;
	}
	e->reservation = area;
	e->reservation_len = 2 * e->size;
	base = e->base = ((uint64_t)(uintptr_t)area + e->size - 1) & ~(e->size - 1);
	frame_size = (uint64_t)img->ssaframesize * PAGE_SIZE;
	for (size_t i = 0; i < img->nruns; i++) {
		const struct image_run *r = &img->runs[i];
		int prot = (r->secinfo & 0xff00) == SECINFO_TCS ? PROT_NONE : r->prot;
		if (mmap((void *)(uintptr_t)(base + r->offset), r->npages * PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
			 fd, (off_t)r->offset) == MAP_FAILED) {
			perror("native: mmap");
			return -1;
		}
	}
	for (size_t i = 0; i < img->ntcs; i++) {
		const uint8_t *p = img->pages + img->tcs[i];
		struct tcs_state *c = &tcss[ntcs++];
		c->addr = base + img->tcs[i];
		memcpy(&c->ossa, p + 16, 8);
		memcpy(&c->nssa, p + 28, 4);
		memcpy(&c->oentry, p + 32, 8);
		memcpy(&c->ofs, p + 48, 8);
		memcpy(&c->ogs, p + 56, 8);
	}
	if (getenv("SGXDBG_NATIVE_TEARDOWN") != NULL) {
		teardown_at_aex = strcmp(getenv("SGXDBG_NATIVE_TEARDOWN"), "aex") == 0;
		if (strcmp(getenv("SGXDBG_NATIVE_TEARDOWN"), "enter") == 0)
			munmap((void *)(uintptr_t)base, ENCLAVE_SIZE);
	}
	if (getenv("SGXDBG_NATIVE_LOG") != NULL)
		log_fd = open(getenv("SGXDBG_NATIVE_LOG"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return 0;
}

/* The host finds fake_vdso.S where the kernel's vDSO function would be. */
void *__wrap_vdso_lookup(const char *name, const char *version)
{
	if (strcmp(name, "__vdso_sgx_enter_enclave") != 0 || strcmp(version, "LINUX_2.6") != 0)
		return NULL;
	return (void *)(uintptr_t)fake_vdso_enter;
}

size_t __wrap_vdso_symbol_size(const char *name, const char *version)
{
	if (__wrap_vdso_lookup(name, version) == NULL)
		return 0;
	return (size_t)(fake_vdso_fixup - (const char *)(uintptr_t)fake_vdso_enter);
}

int __wrap_calls_init(const struct call_config *cfg)
{
	static const int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGBUS, SIGSYS};
	struct sigaction sa;

	if (__real_calls_init(cfg) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = emulate;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, &host_action[sigs[i]]) != 0)
			return -1;
	return trap_enclave_syscalls();
}
