/*
 * edmm: an SGX2 host for the emulator's tests, written like the kernel's
 * selftests and the SDK's EDMM code rather than like the samples' host:
 * every enclave call goes through __vdso_sgx_enter_enclave with a struct
 * sgx_enclave_run and no signal handler (except in "pte-signal"), pages
 * are added after EINIT by touching or EACCEPTing them, and trimmed with
 * MODIFY_TYPES, EACCEPT and REMOVE_PAGES. Each step prints one line; the
 * Go test (edmm_test.go) compares the output with what the SDM and the
 * driver say.
 *
 *   edmm BLOB SIG SCENARIO
 *
 * The enclave (testdata/edmm_encl.S and edmmLayout in edmm_test.go): code
 * at 0, data at 0x1000, TCS at 0x2000 and 0x3000, SSA frames from 0x4000,
 * a RW page at 0x8000, a R page at 0x9000; SIZE 0x20000, and nothing added
 * at 0x10000 and above.
 */
#include "emuhost.h" /* first: it defines _GNU_SOURCE */

#include <elf.h>
#include <sys/auxv.h>

#define TCS0 0x2000UL
#define TCS1 0x3000UL
#define DATA 0x1000UL
#define DATA2 0x8000UL
#define RO 0x9000UL
#define DYN 0x10000UL

#define SECINFO_R 0x1UL
#define SECINFO_W 0x2UL
#define SECINFO_PENDING 0x8UL
#define SECINFO_MODIFIED 0x10UL
#define SECINFO_PR 0x20UL
#define SECINFO_TCS 0x100UL
#define SECINFO_REG 0x200UL
#define SECINFO_TRIM 0x400UL

#define MAGIC 0x1122334455667788UL
#define MAGIC2 0x8877665544332211UL

/* arch/x86/include/uapi/asm/sgx.h */
struct sgx_enclave_run {
	uint64_t tcs;
	uint32_t function;
	uint16_t exception_vector;
	uint16_t exception_error_code;
	uint64_t exception_addr;
	uint64_t user_handler;
	uint64_t user_data;
	uint8_t reserved[216];
};
typedef int (*vdso_enter_t)(unsigned long rdi, unsigned long rsi, unsigned long rdx, unsigned int function,
			    unsigned long r8, unsigned long r9, struct sgx_enclave_run *run);

/* The enclave's operation block (edmm_encl.S). */
enum { PUT, GET, EACCEPT, EMODPE, EACCEPTCOPY, ACCEPT_RANGE, EDECCSSA };
struct op {
	uint64_t op, addr, value, flags, ret, back, cssa;
};

static struct encl encl;
static vdso_enter_t enter;

/* vdso_find looks __vdso_sgx_enter_enclave up through DT_HASH. */
static vdso_enter_t vdso_find(void)
{
	uint8_t *base = (uint8_t *)getauxval(AT_SYSINFO_EHDR);
	if (!base)
		return NULL;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
	Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
	Elf64_Dyn *dyn = NULL;
	uint64_t load = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load)
			load = ph[i].p_vaddr - ph[i].p_offset;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(base + ph[i].p_offset);
	}
	if (!dyn)
		return NULL;
	Elf64_Sym *sym = NULL;
	const char *str = NULL;
	uint32_t *hash = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uint8_t *p = base + dyn->d_un.d_ptr - load;
		if (dyn->d_tag == DT_SYMTAB)
			sym = (Elf64_Sym *)p;
		else if (dyn->d_tag == DT_STRTAB)
			str = (const char *)p;
		else if (dyn->d_tag == DT_HASH)
			hash = (uint32_t *)p;
	}
	if (!sym || !str || !hash)
		return NULL;
	for (uint32_t i = 0; i < hash[1]; i++)
		if (!strcmp(str + sym[i].st_name, "__vdso_sgx_enter_enclave"))
			return (vdso_enter_t)(base + sym[i].st_value - load);
	return NULL;
}

static uint64_t off(uint64_t addr) { return addr ? addr - encl.base : 0; }

/* call enters the enclave on tcs with leaf (2 EENTER, 3 ERESUME) and
 * prints what the vDSO reported. */
static void call(const char *step, uint64_t tcs, struct op *op, unsigned int leaf)
{
	struct sgx_enclave_run run;
	memset(&run, 0, sizeof(run));
	run.tcs = encl.base + tcs;
	int ret = enter((unsigned long)op, 0, 0, leaf, 0, 0, &run);
	printf("%s: ret %d function %u", step, ret, run.function);
	if (run.function != 4)
		printf(" vector %u errcd %#x addr +%#lx", run.exception_vector, run.exception_error_code,
		       (unsigned long)off(run.exception_addr));
	if (op->value >= encl.base && op->value - encl.base < encl.size)
		printf(" value +%#lx", (unsigned long)off(op->value));
	else
		printf(" value %#lx", (unsigned long)op->value);
	printf(" ret %lu cssa %lu\n", (unsigned long)op->ret, (unsigned long)op->cssa);
}

static void do_op(const char *step, uint64_t tcs, uint64_t kind, uint64_t addr, uint64_t value, uint64_t flags)
{
	struct op op = { kind, encl.base + addr, value, flags, 0, 0, 0 };
	call(step, tcs, &op, 2);
}

/* The last op of each TCS that took an AEX, for ERESUME. */
static struct op pending_op[2];

static void do_op_aex(const char *step, int t, uint64_t kind, uint64_t addr, uint64_t value, uint64_t flags)
{
	pending_op[t] = (struct op){ kind, encl.base + addr, value, flags, 0, 0, 0 };
	call(step, t ? TCS1 : TCS0, &pending_op[t], 2);
}

static void eresume(const char *step, int t)
{
	call(step, t ? TCS1 : TCS0, &pending_op[t], 3);
}

static void show(const char *step, long ret, uint64_t result, uint64_t count, int has_result)
{
	printf("%s: ret %ld errno %d", step, ret, ret ? errno : 0);
	if (has_result)
		printf(" result %lu", (unsigned long)result);
	printf(" count %#lx\n", (unsigned long)count);
}

static void restrict_perm(const char *step, uint64_t offset, uint64_t length, uint64_t perm, uint64_t count)
{
	struct sgx_restrict a = { offset, length, perm, 0, count };
	long ret = ioctl(encl.fd, IOC_RESTRICT, &a);
	show(step, ret, a.result, a.count, 1);
}

static void modify_types(const char *step, uint64_t offset, uint64_t length, uint64_t type)
{
	struct sgx_modtypes a = { offset, length, type, 0, 0 };
	long ret = ioctl(encl.fd, IOC_MODTYPES, &a);
	show(step, ret, a.result, a.count, 1);
}

static void remove_pages(const char *step, uint64_t offset, uint64_t length, uint64_t count)
{
	struct sgx_remove a = { offset, length, count };
	long ret = ioctl(encl.fd, IOC_REMOVE, &a);
	show(step, ret, 0, a.count, 0);
}

static void protect(const char *step, uint64_t offset, uint64_t length, int prot)
{
	int ret = mprotect((void *)(encl.base + offset), length, prot);
	printf("%s: ret %d errno %d\n", step, ret, ret ? errno : 0);
}

static void map_dyn(uint64_t offset, uint64_t length, int prot)
{
	void *p = mmap((void *)(encl.base + offset), length, prot, MAP_SHARED | MAP_FIXED, encl.fd, 0);
	printf("mmap +%#lx: %s\n", (unsigned long)offset, p == MAP_FAILED ? strerror(errno) : "ok");
}

/* maps prints the permissions and name /proc/self/maps gives the page at
 * offset. */
static void maps(uint64_t offset)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uint64_t a = encl.base + offset;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[8], path[256] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &start, &end, perms, path) >= 3 && a >= start && a < end) {
			printf("maps +%#lx: %s %s\n", (unsigned long)offset, perms, path);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* Item: PTE rights after EINIT, through the vDSO. */
static void scenario_pte(void)
{
	do_op("put", TCS0, PUT, DATA2, MAGIC, 0);
	protect("mprotect R", DATA2, PAGE, PROT_READ);
	protect("mprotect RWX", DATA2, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	protect("mprotect code RW", 0, PAGE, PROT_READ | PROT_WRITE);
	do_op_aex("put read-only", 0, PUT, DATA2, MAGIC2, 0);
	protect("mprotect RW", DATA2, PAGE, PROT_READ | PROT_WRITE);
	eresume("eresume", 0);
	do_op("get", TCS0, GET, DATA2, 0, 0);
	/* One mprotect over two mappings (each TCS is its own): the kernel
	 * applies it, the EPCM still keeps enclave code off the TCS. */
	protect("mprotect both TCS RW", TCS0, 2 * PAGE, PROT_READ | PROT_WRITE);
	do_op_aex("put tcs", 0, PUT, TCS1 + 0x10, MAGIC, 0);
}

/* The same through the host's own ENCLU and a SIGSEGV handler that gives
 * the rights back and returns to the AEP, which ERESUMEs. */
static void on_segv(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	char line[160];
	snprintf(line, sizeof(line), "signal %d code %d addr +%#lx at %s rax %ld\n", sig, si->si_code,
		 (unsigned long)off((uint64_t)si->si_addr),
		 uc->uc_mcontext.gregs[REG_RIP] == (greg_t)enclu_aep ? "aep" : "other",
		 (long)uc->uc_mcontext.gregs[REG_RAX]);
	say(line);
	if (mprotect((void *)(encl.base + DATA2), PAGE, PROT_READ | PROT_WRITE) != 0)
		_exit(3);
}

static void scenario_pte_signal(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigaction(SIGSEGV, &sa, NULL);
	protect("mprotect R", DATA2, PAGE, PROT_READ);
	struct op op = { PUT, encl.base + DATA2, MAGIC2, 0, 0, 0, 0 };
	enclu_eenter(encl.base + TCS0, (uint64_t)&op, 0);
	printf("put returned\n");
	do_op("get", TCS0, GET, DATA2, 0, 0);
}

/* A page EAUGed by a write, accepted from the other TCS. */
static void scenario_augment(void)
{
	map_dyn(DYN, PAGE, PROT_READ | PROT_WRITE);
	maps(DYN);
	do_op_aex("put", 0, PUT, DYN, MAGIC, 0);
	do_op("eaccept", TCS1, EACCEPT, DYN, 0, SECINFO_R | SECINFO_W | SECINFO_REG | SECINFO_PENDING);
	eresume("eresume", 0);
	do_op("get", TCS0, GET, DYN, 0, 0);
}

/* EMODPR from the host, EACCEPT, the EPCM #PF, EMODPE from the other TCS. */
static void scenario_restrict(void)
{
	do_op("put", TCS0, PUT, DATA2, MAGIC, 0);
	restrict_perm("restrict R", DATA2, PAGE, SECINFO_R, 0);
	do_op("eaccept", TCS0, EACCEPT, DATA2, 0, SECINFO_R | SECINFO_REG | SECINFO_PR);
	do_op("get", TCS0, GET, DATA2, 0, 0);
	do_op_aex("put", 0, PUT, DATA2, MAGIC2, 0);
	do_op("emodpe", TCS1, EMODPE, DATA2, 0, SECINFO_R | SECINFO_W);
	eresume("eresume", 0);
	do_op("get", TCS0, GET, DATA2, 0, 0);
	do_op("eaccept again", TCS0, EACCEPT, DATA2, 0, SECINFO_R | SECINFO_REG | SECINFO_PR);
}

/* The SDK's way: commit pages by EACCEPTing them (the #PF that EACCEPT
 * takes makes the driver EAUG the page), EACCEPTCOPY code-like pages,
 * then trim with MODIFY_TYPES, EACCEPT and REMOVE_PAGES. */
static void scenario_sdk(void)
{
	map_dyn(DYN, 8 * PAGE, PROT_READ | PROT_WRITE);
	do_op("commit", TCS0, ACCEPT_RANGE, DYN, 4, SECINFO_R | SECINFO_W | SECINFO_REG | SECINFO_PENDING);
	do_op("put", TCS0, PUT, DYN + 3 * PAGE + 8, MAGIC, 0);
	do_op("get", TCS0, GET, DYN + 3 * PAGE + 8, 0, 0);
	do_op("eacceptcopy", TCS0, EACCEPTCOPY, DYN + 4 * PAGE, encl.base + DATA, SECINFO_R | SECINFO_REG);
	do_op("get copy", TCS0, GET, DYN + 4 * PAGE + 0x40, 0, 0);
	do_op_aex("put copy", 0, PUT, DYN + 4 * PAGE, MAGIC, 0);
	do_op("emodpe", TCS1, EMODPE, DYN + 4 * PAGE, 0, SECINFO_W);
	eresume("eresume", 0);
	modify_types("trim", DYN, 5 * PAGE, 4);
	remove_pages("remove unaccepted", DYN, 5 * PAGE, 0);
	do_op("accept trim", TCS0, ACCEPT_RANGE, DYN, 5, SECINFO_TRIM | SECINFO_MODIFIED);
	remove_pages("remove", DYN, 5 * PAGE, 0);
	do_op("commit again", TCS0, ACCEPT_RANGE, DYN, 1, SECINFO_R | SECINFO_W | SECINFO_REG | SECINFO_PENDING);
	do_op("get new", TCS0, GET, DYN + 8, 0, 0);
}

/* The ioctls' argument and page checks. */
static void scenario_errors(void)
{
	restrict_perm("restrict zero", 0, 0, 0, 0);
	restrict_perm("restrict tcs", TCS0, PAGE, SECINFO_R, 0);
	restrict_perm("restrict W", DATA2, PAGE, SECINFO_W, 0);
	restrict_perm("restrict pending bit", DATA2, PAGE, SECINFO_PENDING, 0);
	restrict_perm("restrict count", DATA2, PAGE, SECINFO_R, 1);
	restrict_perm("restrict past end", 0x20000, PAGE, SECINFO_R, 0);
	restrict_perm("restrict hole", RO, 2 * PAGE, SECINFO_R, 0);
	modify_types("modt reg", DATA2, PAGE, 2);
	modify_types("modt wide", DATA2, PAGE, 0x104);
	modify_types("modt ro to tcs", RO, PAGE, 1);
	modify_types("modt tcs to tcs", TCS0, PAGE, 1);
	remove_pages("remove reg", DATA2, PAGE, 0);
	remove_pages("remove count", DATA2, PAGE, PAGE);
	modify_types("modt trim", DATA2, PAGE, 4);
	modify_types("modt trim again", DATA2, PAGE, 4);
	restrict_perm("restrict trimmed", DATA2, PAGE, SECINFO_R, 0);
	do_op_aex("get trimmed", 0, GET, DATA2, 0, 0);
	map_dyn(DYN, PAGE, PROT_READ | PROT_WRITE);
	do_op_aex("put pending", 1, PUT, DYN, MAGIC, 0);
	restrict_perm("restrict pending", DYN, PAGE, SECINFO_R, 0);
	modify_types("modt pending", DYN, PAGE, 4);
	long ret = ioctl(encl.fd, IOC_RESTRICT, (void *)8);
	printf("restrict bad pointer: ret %ld errno %d\n", ret, ret ? errno : 0);
}

/* A thread added after EINIT (the kernel selftest tcs_create): three pages
 * committed, one filled as a TCS while it is a regular page, then made a
 * TCS with MODIFY_TYPES and EACCEPT, entered, and trimmed again. */
static void scenario_tcs_create(void)
{
	const uint64_t tcs = DYN + PAGE, ssa = DYN + 2 * PAGE;
	map_dyn(DYN, 4 * PAGE, PROT_READ | PROT_WRITE);
	do_op("commit", TCS0, ACCEPT_RANGE, tcs, 3, SECINFO_R | SECINFO_W | SECINFO_REG | SECINFO_PENDING);
	do_op("ossa", TCS0, PUT, tcs + 16, ssa, 0);
	do_op("nssa", TCS0, PUT, tcs + 24, 2UL << 32, 0);
	do_op("ofsbasgx", TCS0, PUT, tcs + 48, DATA, 0);
	do_op("ogsbasgx", TCS0, PUT, tcs + 56, DATA, 0);
	modify_types("modt tcs", tcs, PAGE, 1);
	do_op("eaccept tcs", TCS0, EACCEPT, tcs, 0, SECINFO_TCS | SECINFO_MODIFIED);
	do_op("enter new tcs", tcs, PUT, DATA2, MAGIC, 0);
	do_op("get", TCS0, GET, DATA2, 0, 0);
	do_op_aex("write new tcs", 0, PUT, tcs + 16, 0, 0);
	modify_types("trim", tcs, 3 * PAGE, 4);
	do_op("accept trim", TCS1, ACCEPT_RANGE, tcs, 3, SECINFO_TRIM | SECINFO_MODIFIED);
	remove_pages("remove", tcs, 3 * PAGE, 0);
}

/* AEX-Notify (the enclave and its TCS opted in): after an AEX, ERESUME
 * enters the enclave at OENTRY with CSSA 1 instead of resuming; the
 * enclave pops the frame with EDECCSSA and leaves; a second EDECCSSA at
 * CSSA 0 is #GP. */
static void scenario_aexnotify(void)
{
	do_op_aex("get unmapped", 0, GET, DYN, 0, 0);
	pending_op[0].op = EDECCSSA;
	eresume("eresume", 0);
	do_op("get", TCS0, GET, DATA2, 0, 0);
	do_op("edeccssa", TCS0, EDECCSSA, 0, 0, 0);
}

/* What an SGX1 machine answers. */
static void scenario_sgx1(void)
{
	restrict_perm("restrict", DATA2, PAGE, SECINFO_R, 0);
	modify_types("modt", DATA2, PAGE, 4);
	remove_pages("remove", DATA2, PAGE, 0);
	map_dyn(DYN, PAGE, PROT_READ | PROT_WRITE);
	do_op("put", TCS0, PUT, DYN, MAGIC, 0);
}

int main(int argc, char **argv)
{
	static struct blob b;
	static uint8_t sig[SIGSTRUCT_SIZE];

	if (argc != 4) {
		fprintf(stderr, "usage: edmm BLOB SIG SCENARIO\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	enter = vdso_find();
	if (!enter) {
		printf("no __vdso_sgx_enter_enclave\n");
		return 1;
	}
	read_blob(argv[1], &b);
	read_sig(argv[2], sig);
	load_blob(&b, sig, &encl);
	const char *s = argv[3];
	if (!strcmp(s, "pte"))
		scenario_pte();
	else if (!strcmp(s, "pte-signal"))
		scenario_pte_signal();
	else if (!strcmp(s, "augment"))
		scenario_augment();
	else if (!strcmp(s, "restrict"))
		scenario_restrict();
	else if (!strcmp(s, "sdk"))
		scenario_sdk();
	else if (!strcmp(s, "errors"))
		scenario_errors();
	else if (!strcmp(s, "tcs-create"))
		scenario_tcs_create();
	else if (!strcmp(s, "aexnotify"))
		scenario_aexnotify();
	else if (!strcmp(s, "sgx1"))
		scenario_sgx1();
	else {
		printf("unknown scenario %s\n", s);
		return 2;
	}
	return 0;
}
