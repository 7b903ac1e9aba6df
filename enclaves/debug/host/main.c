/*
 * main.c - the sample host's command line:
 *   host [--no-vdso] [--threads N] [--tcs I] [--repeat N] [--peer NAME]
 *        ENCLAVE.elf ENCLAVE.elf.sig ECALL [ARG...]
 * loads the enclave, then runs ECALL (on TCS I, or on TCS I..I+N-1 from N
 * threads at once), each REPEAT times, with the ARGs as the argument block.
 * --peer NAME also loads NAME.elf (and NAME.elf.sig) from ENCLAVE.elf's
 * directory and a mailbox page for the two (OCALL_PEER, OCALL_MAILBOX).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host.h"

/* The untrusted argument block (runtime's struct ecall_args). */
struct args_block {
	uint64_t count;
	uint64_t values[ARGS_MAX];
};

struct options {
	int no_vdso;
	unsigned long threads, tcs, repeat;
	const char *elf, *sig, *peer;
	uint64_t ecall;
	struct args_block args;
};

struct worker {
	pthread_t thread;
	size_t tcs;
	const struct options *opt;
	struct args_block args;
};

static void usage(void)
{
	fprintf(stderr, "usage: host [--no-vdso] [--threads N] [--tcs I] [--repeat N] [--peer NAME] "
			"ENCLAVE.elf ENCLAVE.elf.sig ECALL [ARG...]\n");
	exit(EXIT_LOAD);
}

/* A decimal or 0x-hex unsigned 64-bit number. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static unsigned long option_number(const char *name, const char *s, unsigned long min)
{
	uint64_t v;

	if (s == NULL || parse_u64(s, &v) != 0 || v < min || v > 1u << 30) {
		fprintf(stderr, "host: %s needs a number >= %lu\n", name, min);
		usage();
	}
	return (unsigned long)v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	int i = 1;

	memset(o, 0, sizeof(*o));
	o->threads = 1;
	o->repeat = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--no-vdso") == 0)
			o->no_vdso = 1;
		else if (strcmp(argv[i], "--threads") == 0)
			o->threads = option_number("--threads", value, 1), i++;
		else if (strcmp(argv[i], "--tcs") == 0)
			o->tcs = option_number("--tcs", value, 0), i++;
		else if (strcmp(argv[i], "--repeat") == 0)
			o->repeat = option_number("--repeat", value, 1), i++;
		else if (strcmp(argv[i], "--peer") == 0) {
			if (value == NULL || *value == '\0' || strchr(value, '/') != NULL) {
				fprintf(stderr, "host: --peer needs a sample name (no slash)\n");
				usage();
			}
			o->peer = value, i++;
		}
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "host: unknown option %s\n", argv[i]);
			usage();
		}
	}
	if (argc - i < 3)
		usage();
	o->elf = argv[i];
	o->sig = argv[i + 1];
	if (parse_u64(argv[i + 2], &o->ecall) != 0) {
		fprintf(stderr, "host: ECALL %s is not a number\n", argv[i + 2]);
		usage();
	}
	for (i += 3; i < argc; i++) {
		if (o->args.count == ARGS_MAX) {
			fprintf(stderr, "host: at most %d arguments\n", ARGS_MAX);
			usage();
		}
		if (parse_u64(argv[i], &o->args.values[o->args.count]) != 0) {
			fprintf(stderr, "host: argument %s is not a number\n", argv[i]);
			usage();
		}
		o->args.count++;
	}
}

static int read_sigstruct(const char *path, uint8_t *sig)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	uint8_t extra;

	if (fd < 0) {
		fprintf(stderr, "host: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = read(fd, sig, SIGSTRUCT_SIZE);
	if (n == SIGSTRUCT_SIZE && read(fd, &extra, 1) == 0) {
		close(fd);
		return 0;
	}
	fprintf(stderr, "host: %s: not a SIGSTRUCT (want exactly %d bytes)\n", path, SIGSTRUCT_SIZE);
	close(fd);
	return -1;
}

/* The --peer enclave: NAME.elf and NAME.elf.sig from the directory of the
 * main image, parsed before anything is loaded. */
struct peer {
	struct image img;
	uint8_t sigstruct[SIGSTRUCT_SIZE] __attribute__((aligned(PAGE_SIZE)));
	struct enclave enclave;
};

static int read_peer(const struct options *o, struct peer *p)
{
	char elf[4096], sig[4096], err[512];
	const char *slash = strrchr(o->elf, '/');
	int dirlen = slash == NULL ? 0 : (int)(slash - o->elf + 1);

	if (snprintf(elf, sizeof(elf), "%.*s%s.elf", dirlen, o->elf, o->peer) >= (int)sizeof(elf) ||
	    snprintf(sig, sizeof(sig), "%s.sig", elf) >= (int)sizeof(sig)) {
		fprintf(stderr, "host: --peer %s: path too long\n", o->peer);
		return -1;
	}
	if (image_load(elf, &p->img, err, sizeof(err)) != 0) {
		fprintf(stderr, "host: %s\n", err);
		return -1;
	}
	return read_sigstruct(sig, p->sigstruct);
}

/* Loads the peer and maps the mailbox page; on failure prints why. */
static int load_peer(struct peer *p, struct call_config *cfg)
{
	if (enclave_load(&p->img, p->sigstruct, &p->enclave) != 0)
		return -1;
	cfg->peer = &p->enclave;
	cfg->mailbox = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cfg->mailbox == MAP_FAILED) {
		perror("host: mmap mailbox");
		return -1;
	}
	return 0;
}

static void *worker_main(void *p)
{
	struct worker *w = p;

	for (unsigned long r = 0; r < w->opt->repeat; r++)
		call_ecall(w->tcs, w->opt->ecall, &w->args);
	return NULL;
}

int main(int argc, char **argv)
{
	static uint8_t sigstruct[SIGSTRUCT_SIZE] __attribute__((aligned(PAGE_SIZE)));
	static struct image img;
	static struct peer peer;
	struct options opt;
	struct enclave enclave;
	struct call_config cfg = {0};
	struct worker *workers;
	char err[512];

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &opt);
	if (image_load(opt.elf, &img, err, sizeof(err)) != 0) {
		fprintf(stderr, "host: %s\n", err);
		return EXIT_LOAD;
	}
	if (opt.tcs >= img.ntcs || opt.threads > img.ntcs - opt.tcs) {
		fprintf(stderr, "host: TCS %lu..%lu requested, the enclave has %zu\n", opt.tcs,
			opt.tcs + opt.threads - 1, img.ntcs);
		return EXIT_LOAD;
	}
	if (read_sigstruct(opt.sig, sigstruct) != 0)
		return EXIT_LOAD;
	if (opt.peer != NULL && read_peer(&opt, &peer) != 0)
		return EXIT_LOAD;
	if (enclave_load(&img, sigstruct, &enclave) != 0)
		return EXIT_LOAD;
	cfg.enclave = &enclave;
	if (opt.peer != NULL && load_peer(&peer, &cfg) != 0)
		return EXIT_LOAD;
	if (!opt.no_vdso) {
		cfg.vdso_fn = vdso_lookup("__vdso_sgx_enter_enclave", "LINUX_2.6");
		if (cfg.vdso_fn != NULL)
			cfg.vdso_enclu = find_enclu(cfg.vdso_fn,
						    vdso_symbol_size("__vdso_sgx_enter_enclave", "LINUX_2.6"));
	}
	if (calls_init(&cfg) != 0)
		return EXIT_LOAD;
	workers = calloc(opt.threads, sizeof(*workers));
	if (workers == NULL) {
		perror("host: calloc");
		return EXIT_LOAD;
	}
	for (unsigned long t = 0; t < opt.threads; t++) {
		workers[t].tcs = opt.tcs + t;
		workers[t].opt = &opt;
		workers[t].args = opt.args;
	}
	if (opt.threads == 1) {
		worker_main(&workers[0]);
		return EXIT_OK;
	}
	for (unsigned long t = 0; t < opt.threads; t++) {
		int rc = pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]);
		if (rc != 0) {
			fprintf(stderr, "host: pthread_create: %s\n", strerror(rc));
			return EXIT_LOAD;
		}
	}
	for (unsigned long t = 0; t < opt.threads; t++)
		pthread_join(workers[t].thread, NULL);
	return EXIT_OK;
}
