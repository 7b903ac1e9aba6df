/*
 * call.c - runs ecalls: EENTER, OCALLs, and what happens after an AEX.
 *
 * Through the vDSO, an in-enclave exception comes back as run->function = 3
 * (ERESUME) and the exception path is entered from the same loop; #BP/#DB
 * are never fixed up by the kernel and arrive as SIGTRAP at the vDSO's
 * ENCLU. Through the host's own ENCLU, every AEX arrives as a signal at
 * host_aep with RAX = 3. Either way the exception path is an EENTER of the
 * same TCS with RDI = ECMD_EXCEPT; its EEXIT says handled (ERESUME) or not.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host.h"

static struct call_config cfg;

/* Vector mnemonics as sgx.Vector names them. */
static const char *vector_name(uint64_t v)
{
	static const char *names[] = {
		[0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR",
		[6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS",
		[13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
		[20] = "#VE", [21] = "#CP",
	};
	if (v < sizeof(names) / sizeof(names[0]) && names[v] != NULL)
		return names[v];
	return "unknown vector";
}

/* The signal Linux sends for an enclave exception delivered at the AEP
 * (SGX.md §4); used to name the exception when the vDSO reported it. */
static int vector_signal(uint64_t v)
{
	switch (v) {
	case 0: case 16: case 19:
		return SIGFPE;
	case 1: case 3:
		return SIGTRAP;
	case 6:
		return SIGILL;
	case 17:
		return SIGBUS;
	default:
		return SIGSEGV;
	}
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return " (SIGSEGV)";
	case SIGILL: return " (SIGILL)";
	case SIGFPE: return " (SIGFPE)";
	case SIGTRAP: return " (SIGTRAP)";
	case SIGBUS: return " (SIGBUS)";
	default: return " (signal)";
	}
}

/* Writes a line to stderr and leaves with status: async-signal-safe, as
 * it runs inside signal handlers. */
static void die(int status, const char *a, const char *b, const char *c)
{
	char line[256] = "";
	size_t n = 0;
	const char *parts[] = {a, b, c, "\n"};

	for (size_t i = 0; i < 4; i++)
		for (const char *p = parts[i]; p != NULL && *p != '\0' && n + 1 < sizeof(line); p++)
			line[n++] = *p;
	if (write(STDERR_FILENO, line, n) < 0)
		_exit(status);
	_exit(status);
}

static int is_tcs_of(const struct enclave *e, uint64_t addr)
{
	for (size_t i = 0; e != NULL && i < e->img->ntcs; i++)
		if (addr == e->base + e->img->tcs[i])
			return 1;
	return 0;
}

static int is_tcs(uint64_t addr)
{
	return is_tcs_of(cfg.enclave, addr) || is_tcs_of(cfg.peer, addr);
}

/* Is the enclave gone? Its TCS page is no longer mapped (mincore: ENOMEM). */
static int enclave_lost(uint64_t tcs)
{
	unsigned char v;
	return mincore((void *)(uintptr_t)tcs, PAGE_SIZE, &v) != 0 && errno == ENOMEM;
}

static void report_lost(void)
{
	die(EXIT_LOST, "enclave lost", NULL, NULL);
}

static void report_eenter_gp(void)
{
	die(EXIT_EENTER_GP, "EENTER failed: #GP (TCS busy or no free SSA frame)", NULL, NULL);
}

static void enclave_call(struct enclu_ctx *c);

/* Runs the enclave's exception path on tcs after an AEX; returns when the
 * handler fixed things (the caller then ERESUMEs). sig: the signal that
 * reported the AEX, or 0 when it came through the vDSO. */
static void run_exception_path(uint64_t tcs, int sig)
{
	struct enclu_ctx x;

	memset(&x, 0, offsetof(struct enclu_ctx, ocall_buf));
	x.tcs = tcs;
	x.rdi = (uint64_t)ECMD_EXCEPT;
	enclave_call(&x);
	switch (x.exit_rdi) {
	case EXIT_HANDLED:
		return;
	case EXIT_UNHANDLED:
		if (sig == 0)
			sig = vector_signal(x.exit_rsi);
		die(EXIT_UNHANDLED_EXC, "unhandled enclave exception: ", vector_name(x.exit_rsi),
		    signal_name(sig));
		return;
	default:
		die(EXIT_LOAD, "host: the enclave's exception path exited with an unexpected reason", NULL, NULL);
	}
}

/* One EENTER with c->rdi, c->rsi, until the enclave EEXITs; AEXs in
 * between are handled (or end the process). */
static void enclave_call(struct enclu_ctx *c)
{
	struct sgx_enclave_run run;
	int rc;

	if (cfg.vdso_fn == NULL) {
		host_enclu_eenter(c);
		return;
	}
	memset(&run, 0, sizeof(run));
	run.tcs = c->tcs;
	run.user_handler = (uint64_t)(uintptr_t)host_vdso_handler;
	run.user_data = (uint64_t)(uintptr_t)c;
	c->leaf = ENCLU_EENTER;
	for (;;) {
		rc = host_vdso_call(c, cfg.vdso_fn, &run);
		if (rc != 0)
			die(EXIT_LOAD, "host: __vdso_sgx_enter_enclave failed: ", strerror(-rc), NULL);
		switch (run.function) {
		case ENCLU_EEXIT:
			return;
		case ENCLU_ERESUME: /* an exception inside, or ERESUME faulted */
			if (enclave_lost(c->tcs))
				report_lost();
			run_exception_path(c->tcs, 0);
			c->leaf = ENCLU_ERESUME;
			break;
		case ENCLU_EENTER: /* EENTER itself faulted */
			if (run.exception_vector == 13)
				report_eenter_gp();
			report_lost();
			break;
		default:
			die(EXIT_LOAD, "host: __vdso_sgx_enter_enclave reported an unknown leaf", NULL, NULL);
		}
	}
}

/* SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGBUS. */
static void on_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uint64_t rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
	uint64_t rbx = (uint64_t)uc->uc_mcontext.gregs[REG_RBX];
	int at_aep = rip == (uintptr_t)host_aep || (cfg.vdso_enclu != 0 && rip == cfg.vdso_enclu);
	struct sigaction dfl;

	if (at_aep && rax == ENCLU_ERESUME && is_tcs(rbx)) {
		if (sig == SIGBUS && si->si_code != BUS_ADRALN)
			report_lost();
		if ((sig == SIGSEGV || sig == SIGBUS) && enclave_lost(rbx))
			report_lost();
		run_exception_path(rbx, sig);
		return; /* back to the AEP: ERESUME */
	}
	if (rip == (uintptr_t)host_eenter_site && rax == ENCLU_EENTER && is_tcs(rbx)) {
		if (sig == SIGSEGV && si->si_code == SI_KERNEL)
			report_eenter_gp();
		if (sig == SIGSEGV || sig == SIGBUS)
			report_lost();
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

int calls_init(const struct call_config *c)
{
	static const int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGBUS};
	struct sigaction sa;

	cfg = *c;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	/* SA_NODEFER: the exception path may fault again inside the handler
	 * (nested AEX, EENTER #GP), and a blocked synchronous signal would
	 * kill the process. No SA_ONSTACK: the host stack is never the one
	 * that overflowed, the enclave's is. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			perror("host: sigaction");
			return -1;
		}
	return 0;
}

static uint64_t run_ecall(const struct enclave *e, size_t tcs, uint64_t n, const void *args,
			  const char *label);

static uint64_t handle_ocall(const struct enclu_ctx *c)
{
	if (c->exit_rsi == OCALL_PRINT && c->ocall_len > 0) {
		size_t n = strnlen((const char *)c->ocall_buf, c->ocall_len);
		printf("enclave: %.*s\n", (int)n, (const char *)c->ocall_buf);
		return 0;
	}
	if (c->exit_rsi == OCALL_MAILBOX && c->exit_r8 == 0)
		return (uint64_t)(uintptr_t)cfg.mailbox;
	if (c->exit_rsi == OCALL_PEER && c->exit_r8 == 0) {
		if (cfg.peer == NULL) {
			fprintf(stderr, "host: OCALL peer ecall %lu without --peer\n", (unsigned long)c->exit_rdx);
			return (uint64_t)-ENOSYS;
		}
		return run_ecall(cfg.peer, 0, c->exit_rdx, NULL, "peer ");
	}
	fprintf(stderr, "host: unknown OCALL %lu (%lu bytes)\n", (unsigned long)c->exit_rsi,
		(unsigned long)c->exit_r8);
	return (uint64_t)-ENOSYS;
}

int call_ecall(size_t tcs, uint64_t n, const void *args)
{
	run_ecall(cfg.enclave, tcs, n, args, "");
	return 0;
}

/* Runs ecall n on TCS tcs of e until it returns, serving its OCALLs;
 * prints "LABELecall N returned 0x..." and returns the value. */
static uint64_t run_ecall(const struct enclave *e, size_t tcs, uint64_t n, const void *args,
			  const char *label)
{
	struct enclu_ctx *c = calloc(1, sizeof(*c));
	uint64_t value;

	if (c == NULL) {
		perror("host: calloc");
		exit(EXIT_LOAD);
	}
	c->tcs = e->base + e->img->tcs[tcs];
	c->rdi = n;
	c->rsi = (uint64_t)(uintptr_t)args;
	for (;;) {
		enclave_call(c);
		switch (c->exit_rdi) {
		case EXIT_RETURN:
			printf("%secall %lu returned 0x%lx\n", label, (unsigned long)n, (unsigned long)c->exit_rsi);
			value = c->exit_rsi;
			free(c);
			return value;
		case EXIT_OCALL:
			c->rsi = handle_ocall(c);
			c->rdi = (uint64_t)ECMD_ORET;
			break;
		case EXIT_BADCALL:
			fprintf(stderr, "host: the %senclave refused call %lu (no such ecall, or bad arguments)\n",
				label, (unsigned long)c->exit_rsi);
			exit(EXIT_LOAD);
		default:
			fprintf(stderr, "host: ecall %lu: unexpected EEXIT reason %lu\n", (unsigned long)n,
				(unsigned long)c->exit_rdi);
			exit(EXIT_LOAD);
		}
	}
}
