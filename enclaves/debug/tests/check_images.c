/*
 * check_images.c - checks built sample images against the README's image
 * convention and the runtime's layout, with the host's own parser
 * (host/image.c), and checks that the parser rejects malformed images.
 *   check_images IMAGE.elf...
 * Prints one line per failure and exits 1 if there was any.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static int failures;

static int failf(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
	return 1;
}

#define EXPECT_EQ(name, what, got, want)                                                    \
	do {                                                                                \
		unsigned long long g_ = (got), w_ = (want);                                 \
		if (g_ != w_)                                                               \
			failf(name, "%s = %#llx, want %#llx", what, g_, w_);                \
	} while (0)

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static const struct image_region *find_region(const struct image *img, uint32_t kind, uint32_t tcs, int nth)
{
	for (size_t r = 0; r < img->nregions; r++)
		if (img->regions[r].kind == kind && img->regions[r].tcs == tcs && nth-- == 0)
			return &img->regions[r];
	return NULL;
}

static const struct image_run *run_at(const struct image *img, uint64_t off)
{
	for (size_t i = 0; i < img->nruns; i++)
		if (off >= img->runs[i].offset && off < img->runs[i].offset + img->runs[i].npages * PAGE_SIZE)
			return &img->runs[i];
	return NULL;
}

static void check_tcs(const char *name, const struct image *img, size_t t, uint64_t entry)
{
	const uint8_t *tcs = img->pages + img->tcs[t];
	const struct image_region *ssa = find_region(img, REGION_SSA, (uint32_t)t, 0);
	const struct image_region *thr = find_region(img, REGION_THREAD, (uint32_t)t, 0);
	const struct image_region *stk = find_region(img, REGION_STACK, (uint32_t)t, 0);
	const struct image_region *exc = find_region(img, REGION_STACK, (uint32_t)t, 1);
	const struct image_region *g0 = find_region(img, REGION_GUARD, (uint32_t)t, 0);
	const struct image_region *g1 = find_region(img, REGION_GUARD, (uint32_t)t, 1);
	const struct image_run *r;

	if (!ssa || !thr || !stk || !exc || !g0 || !g1) {
		failf(name, "TCS %zu lacks an SSA, THREAD, two STACK or two GUARD regions", t);
		return;
	}
	EXPECT_EQ(name, "TCS.STATE", rd64(tcs + 0), 0);
	EXPECT_EQ(name, "TCS.FLAGS", rd64(tcs + 8), 0);
	EXPECT_EQ(name, "TCS.OSSA", rd64(tcs + 16), ssa->offset);
	EXPECT_EQ(name, "TCS.CSSA", rd32(tcs + 24), 0);
	EXPECT_EQ(name, "TCS.NSSA", rd32(tcs + 28), ssa->size / (img->ssaframesize * PAGE_SIZE));
	EXPECT_EQ(name, "TCS.NSSA", rd32(tcs + 28), NSSA);
	EXPECT_EQ(name, "TCS.OENTRY", rd64(tcs + 32), entry);
	EXPECT_EQ(name, "TCS.AEP", rd64(tcs + 40), 0);
	EXPECT_EQ(name, "TCS.OFSBASGX", rd64(tcs + 48), thr->offset);
	EXPECT_EQ(name, "TCS.OGSBASGX", rd64(tcs + 56), thr->offset);
	for (size_t i = 72; i < PAGE_SIZE; i++)
		if (tcs[i] != 0) {
			failf(name, "TCS %zu reserved byte %zu is %#x", t, i, tcs[i]);
			break;
		}
	/* The THREAD page's descriptor words (layout.h TD_*). */
	const uint8_t *td = img->pages + thr->offset;
	EXPECT_EQ(name, "THREAD self", rd64(td + TD_SELF), thr->offset);
	EXPECT_EQ(name, "THREAD index", rd64(td + TD_INDEX), t);
	EXPECT_EQ(name, "THREAD stack top", rd64(td + TD_STACK_TOP), stk->offset + stk->size);
	EXPECT_EQ(name, "THREAD exception stack top", rd64(td + TD_EXC_TOP), exc->offset + exc->size);
	EXPECT_EQ(name, "THREAD tcs", rd64(td + TD_TCS), img->tcs[t]);
	EXPECT_EQ(name, "THREAD ssa", rd64(td + TD_SSA), ssa->offset);
	EXPECT_EQ(name, "THREAD nssa", rd64(td + TD_NSSA), NSSA);
	/* Guards directly below each stack; stacks unmeasured or measured. */
	EXPECT_EQ(name, "guard below the stack", g0->offset + PAGE_SIZE, stk->offset);
	EXPECT_EQ(name, "guard below the exception stack", g1->offset + PAGE_SIZE, exc->offset);
	EXPECT_EQ(name, "stack flags", stk->flags, REGION_UNMEASURED);
	EXPECT_EQ(name, "exception stack flags", exc->flags, 0);
	if (run_at(img, g0->offset) || run_at(img, g1->offset))
		failf(name, "TCS %zu: a guard page is added", t);
	r = run_at(img, img->tcs[t]);
	if (!r || r->secinfo != SECINFO_TCS || r->prot != 3 || !r->measured)
		failf(name, "TCS %zu page is not a measured PT_TCS page mapped RW", t);
	for (uint64_t o = ssa->offset; o < ssa->offset + ssa->size; o += PAGE_SIZE)
		if (!(r = run_at(img, o)) || r->secinfo != (SECINFO_REG | SECINFO_R | SECINFO_W))
			failf(name, "SSA page %#lx is not RW REG", (unsigned long)o);
	if (!(r = run_at(img, stk->offset)) || r->measured)
		failf(name, "stack page %#lx is measured", (unsigned long)stk->offset);
}

static void check_image(const char *path)
{
	struct image img;
	char err[512];
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, &eh, sizeof(eh)) != sizeof(eh)) {
		failf(path, "cannot read the ELF header");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (image_load(path, &img, err, sizeof(err)) != 0) {
		failf(path, "%s", err);
		return;
	}
	EXPECT_EQ(path, "SIZE", img.size, ENCLAVE_SIZE);
	EXPECT_EQ(path, "SSAFRAMESIZE", img.ssaframesize, SSA_FRAME_PAGES);
	EXPECT_EQ(path, "MISCSELECT", img.miscselect, 1);
	/* The _nodebug images are the production variants: DEBUG clear. */
	EXPECT_EQ(path, "ATTRIBUTES", img.attributes, strstr(path, "_nodebug.elf") ? 0x4 : 0x6);
	EXPECT_EQ(path, "XFRM", img.xfrm, 3);
	EXPECT_EQ(path, "MISCMASK", img.miscmask, 0xffffffff);
	EXPECT_EQ(path, "ATTRIBUTEMASK.FLAGS", img.attrmask_flags, 0xfffffffffffffffdull);
	EXPECT_EQ(path, "ATTRIBUTEMASK.XFRM", img.attrmask_xfrm, 3);
	EXPECT_EQ(path, "regions", img.nregions, 7 * img.ntcs);
	/* XSAVE legacy area + header (576 for XFRM 3) + GPRSGX + EXINFO. */
	if (576 + 184 + 16 > img.ssaframesize * PAGE_SIZE)
		failf(path, "SSA frame too small");
	for (size_t t = 0; t < img.ntcs; t++) {
		EXPECT_EQ(path, "TCS offset", img.tcs[t], t * PAGE_SIZE);
		check_tcs(path, &img, t, eh.e_entry);
	}
	const struct image_run *ro = run_at(&img, RO_PAGE_OFF_FOR(img.ntcs));
	if (!ro || ro->secinfo != (SECINFO_REG | SECINFO_R))
		failf(path, "the read-only page is not R-only REG");
	for (size_t i = 0; i < img.nruns; i++)
		if ((img.runs[i].secinfo & (SECINFO_W | SECINFO_X)) == (SECINFO_W | SECINFO_X))
			failf(path, "run at %#lx is writable and executable", (unsigned long)img.runs[i].offset);
	image_free(&img);
}

/* A copy of the file with one mutation must be rejected with want in the
 * message. */
static void expect_reject(const char *what, const uint8_t *f, size_t len, const char *want)
{
	struct image img;
	char err[512] = "";

	if (image_parse(f, len, &img, err, sizeof(err)) == 0) {
		failf(what, "accepted");
		image_free(&img);
		return;
	}
	if (strstr(err, want) == NULL)
		failf(what, "message \"%s\" lacks \"%s\"", err, want);
}

/* The file offset of the first SGXDBG note of the given type. */
static size_t note_offset(const uint8_t *f, uint32_t type)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = (const Elf64_Phdr *)(f + eh->e_phoff + i * sizeof(*p));
		if (p->p_type != PT_NOTE)
			continue;
		for (size_t o = p->p_offset; o + 20 <= p->p_offset + p->p_filesz;) {
			uint32_t namesz = rd32(f + o), descsz = rd32(f + o + 4);
			if (rd32(f + o + 8) == type && namesz == 7)
				return o;
			o += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
		}
	}
	return 0;
}

static void check_rejects(const char *path)
{
	struct stat st;
	uint8_t *f, *m;
	int fd = open(path, O_RDONLY);
	size_t len, en, rn;

	if (fd < 0 || fstat(fd, &st) != 0) {
		failf(path, "cannot open");
		return;
	}
	len = (size_t)st.st_size;
	f = malloc(len);
	m = malloc(len);
	if (!f || !m || read(fd, f, len) != (ssize_t)len) {
		failf(path, "cannot read");
		close(fd);
		return;
	}
	close(fd);
	en = note_offset(f, NOTE_ENCLAVE);
	rn = note_offset(f, NOTE_REGIONS);
	if (!en || !rn) {
		failf(path, "notes not found");
		return;
	}
	expect_reject("truncated to 40 bytes", f, 40, "truncated ELF header");
	expect_reject("truncated to 0x3000 bytes", f, 0x3000, "past the end of the file");
#define MUTATE(what, off, type, val, want)                       \
	do {                                                     \
		type v_ = (val);                                 \
		memcpy(m, f, len);                               \
		memcpy(m + (off), &v_, sizeof(v_));              \
		expect_reject(what, m, len, want);               \
	} while (0)
	MUTATE("e_machine 3", 18, uint16_t, 3, "e_machine 3");
	MUTATE("ELF magic", 0, uint8_t, 0x7e, "not an ELF file");
	MUTATE("ELFCLASS32", EI_CLASS, uint8_t, ELFCLASS32, "ELF class");
	MUTATE("ET_EXEC", 16, uint16_t, ET_EXEC, "e_type");
	MUTATE("first PT_LOAD p_vaddr 0x10", 64 + 16, uint64_t, 0x10, "not page aligned");
	MUTATE("first PT_LOAD becomes PT_INTERP", 64, uint32_t, PT_INTERP, "PT_INTERP");
	MUTATE("SIZE not a power of two", en + 20, uint64_t, 0x100001, "not a power of two");
	MUTATE("SIZE too small", en + 20, uint64_t, 0x4000, "smaller than the image");
	MUTATE("ATTRIBUTES with INIT", en + 20 + 16, uint64_t, 0x7, "INIT");
	MUTATE("ATTRIBUTES without MODE64BIT", en + 20 + 16, uint64_t, 0x2, "MODE64BIT");
	MUTATE("XFRM 1", en + 20 + 24, uint64_t, 1, "XFRM");
	MUTATE("SSAFRAMESIZE 0", en + 20 + 8, uint32_t, 0, "SSAFRAMESIZE");
	MUTATE("enclave note descsz 60", en + 4, uint32_t, 60, "want 64");
	MUTATE("enclave note owner", en + 12, uint8_t, 'X', "no NT_SGXDBG_ENCLAVE");
	MUTATE("regions note descsz 33", rn + 4, uint32_t, 33, "not a multiple of 32");
	MUTATE("regions note descsz huge", rn + 4, uint32_t, 0x10000, "overruns");
	MUTATE("first region kind 9", rn + 20 + 16, uint32_t, 9, "unknown kind");
	MUTATE("first region offset unaligned", rn + 20, uint64_t, 0x10, "not whole pages");
	MUTATE("first region flags 2", rn + 20 + 20, uint32_t, 2, "unknown flags");
	MUTATE("TCS region index 5", rn + 20 + 24, uint32_t, 5, "says index 5");
	MUTATE("TCS region becomes GUARD", rn + 20 + 16, uint32_t, REGION_GUARD, "inside a PT_LOAD");
	MUTATE("TCS region two pages", rn + 20 + 8, uint64_t, 0x2000, "region 0: ");
	MUTATE("note namesz huge", en, uint32_t, 0xfffffff0, "overruns");
	free(f);
	free(m);
}

/* xorshift64*: a fixed sequence, so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dull) % (n ? n : 1);
}

/* Interesting values for a mutated field. */
static const uint64_t edge[] = {0, 1, 7, 0x1000, 0xfff, 0x100000, 0xffffffff, 0x7fffffffffffffff,
				0xffffffffffffffff, 0x8000000000000000, 32, 64};

/*
 * Parses iters mutants of the images (random bytes or edge values at
 * random offsets, mostly in the ELF and program headers and the notes;
 * truncations) with the host's parser. It must never crash; built with
 * -fsanitize=address,undefined, an out-of-bounds read fails the run.
 */
static int fuzz(long iters, int n, char **paths)
{
	uint8_t *files[64], *m;
	size_t lens[64], maxlen = 0;
	long accepted = 0;

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		FILE *f = fopen(paths[i], "rb");
		if (f == NULL || fseek(f, 0, SEEK_END) != 0)
			return failf(paths[i], "cannot read"), 1;
		lens[i] = (size_t)ftell(f);
		rewind(f);
		files[i] = malloc(lens[i]);
		if (files[i] == NULL || fread(files[i], 1, lens[i], f) != lens[i])
			return failf(paths[i], "cannot read"), 1;
		fclose(f);
		if (lens[i] > maxlen)
			maxlen = lens[i];
	}
	m = malloc(maxlen);
	for (long it = 0; it < iters; it++) {
		int k = (int)rnd((uint64_t)n);
		size_t len = lens[k], en = note_offset(files[k], NOTE_ENCLAVE);
		struct image img;
		char err[512];

		memcpy(m, files[k], len);
		for (int j = 0, muts = 1 + (int)rnd(6); j < muts; j++) {
			size_t off, hot = 64 + 56 * 16;
			switch (rnd(4)) {
			case 0: off = rnd(hot); break;
			case 1: off = en + rnd(64 + 32 * 16); break;
			default: off = rnd(len); break;
			}
			if (off + 8 > len)
				continue;
			if (rnd(2)) {
				m[off] = (uint8_t)rnd(256);
			} else {
				uint64_t v = edge[rnd(sizeof(edge) / sizeof(edge[0]))];
				memcpy(m + off, &v, rnd(2) ? 4 : 8);
			}
		}
		if (rnd(8) == 0)
			len = rnd(len + 1);
		if (image_parse(m, len, &img, err, sizeof(err)) == 0) {
			accepted++;
			image_free(&img);
		}
	}
	free(m);
	for (int i = 0; i < n; i++)
		free(files[i]);
	printf("check_images: %ld mutated images parsed without a crash (%ld accepted)\n", iters, accepted);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--fuzz") == 0)
		return fuzz(strtol(argv[2], NULL, 10), argc - 3, argv + 3);
	if (argc < 2) {
		fprintf(stderr, "usage: check_images IMAGE.elf... | check_images --fuzz N IMAGE.elf...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		check_image(argv[i]);
	check_rejects(argv[1]);
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("check_images: %d images follow the convention; malformed variants rejected\n", argc - 1);
	return 0;
}
