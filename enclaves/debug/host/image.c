/*
 * image.c - reads an enclave image per the README's "Image convention":
 * ELF64 x86-64 ET_DYN at 0, PT_LOAD pages, the SGXDBG notes, and the EADD
 * runs they imply. Every field is checked; the file is untrusted input.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

#define MAX_LOADS 64
#define MAX_IMAGE_END (1ull << 28) /* 256 MiB of pages: larger images are rejected */

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
}

/* [off, off+len) lies inside a file of flen bytes. */
static int in_file(uint64_t off, uint64_t len, size_t flen)
{
	return off <= flen && len <= flen - off;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static int check_header(const uint8_t *f, size_t len, Elf64_Ehdr *eh, char *err, size_t errlen)
{
	if (len < sizeof(*eh))
		return fail(err, errlen, "truncated ELF header: the file has %zu bytes", len);
	memcpy(eh, f, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return fail(err, errlen, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(err, errlen, "ELF class %u, want ELFCLASS64", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "ELF data encoding %u, want little-endian", eh->e_ident[EI_DATA]);
	if (eh->e_machine != EM_X86_64)
		return fail(err, errlen, "ELF e_machine %u, want EM_X86_64 (62)", eh->e_machine);
	if (eh->e_type != ET_DYN)
		return fail(err, errlen, "ELF e_type %u, want ET_DYN (a static-pie linked at 0)", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(err, errlen, "ELF e_phentsize %u, want %zu", eh->e_phentsize, sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0 || !in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len))
		return fail(err, errlen, "program headers [%#lx, +%u entries) outside the file (%zu bytes)",
			    (unsigned long)eh->e_phoff, eh->e_phnum, len);
	return 0;
}

static int check_dynamic(const uint8_t *f, size_t len, const Elf64_Phdr *p, char *err, size_t errlen)
{
	if (!in_file(p->p_offset, p->p_filesz, len))
		return fail(err, errlen, "PT_DYNAMIC outside the file");
	for (uint64_t o = 0; o + 16 <= p->p_filesz; o += 16) {
		int64_t tag = (int64_t)rd64(f + p->p_offset + o);
		uint64_t val = rd64(f + p->p_offset + o + 8);
		if (tag == DT_NULL)
			break;
		if ((tag == DT_RELASZ || tag == DT_RELSZ || tag == DT_PLTRELSZ || tag == DT_RELRSZ) && val != 0)
			return fail(err, errlen, "dynamic relocations (tag %ld, %lu bytes): the image must have none",
				    (long)tag, (unsigned long)val);
	}
	return 0;
}

static int check_load(const Elf64_Phdr *p, int i, size_t len, char *err, size_t errlen)
{
	if (p->p_vaddr % PAGE_SIZE != 0)
		return fail(err, errlen, "PT_LOAD %d: p_vaddr %#lx not page aligned", i, (unsigned long)p->p_vaddr);
	if (p->p_filesz > p->p_memsz)
		return fail(err, errlen, "PT_LOAD %d: p_filesz %#lx larger than p_memsz %#lx", i,
			    (unsigned long)p->p_filesz, (unsigned long)p->p_memsz);
	if (p->p_filesz > 0 && !in_file(p->p_offset, p->p_filesz, len))
		return fail(err, errlen, "PT_LOAD %d: file bytes [%#lx, +%#lx) past the end of the file (%zu bytes)",
			    i, (unsigned long)p->p_offset, (unsigned long)p->p_filesz, len);
	if (p->p_vaddr >= MAX_IMAGE_END || p->p_memsz > MAX_IMAGE_END - p->p_vaddr)
		return fail(err, errlen, "PT_LOAD %d: [%#lx, +%#lx) beyond any enclave this host loads", i,
			    (unsigned long)p->p_vaddr, (unsigned long)p->p_memsz);
	if (p->p_flags & ~(uint32_t)(PF_R | PF_W | PF_X))
		return fail(err, errlen, "PT_LOAD %d: p_flags %#x has bits other than R, W, X", i, p->p_flags);
	if ((p->p_flags & PF_W) && !(p->p_flags & PF_R))
		return fail(err, errlen, "PT_LOAD %d: writable but not readable (SECINFO W without R)", i);
	return 0;
}

/* The SGXDBG notes of one PT_NOTE segment. */
static int read_notes(const uint8_t *f, size_t len, const Elf64_Phdr *p, struct image *img,
		      int *have_enclave, int *have_regions, char *err, size_t errlen)
{
	uint64_t o = 0;

	if (!in_file(p->p_offset, p->p_filesz, len))
		return fail(err, errlen, "PT_NOTE [%#lx, +%#lx) outside the file", (unsigned long)p->p_offset,
			    (unsigned long)p->p_filesz);
	while (o < p->p_filesz) {
		const uint8_t *n = f + p->p_offset + o;
		uint64_t left = p->p_filesz - o, namesz, descsz, type, namepad, descpad;

		if (left < 12)
			return fail(err, errlen, "truncated note header at file offset %#lx",
				    (unsigned long)(p->p_offset + o));
		namesz = rd32(n);
		descsz = rd32(n + 4);
		type = rd32(n + 8);
		namepad = (namesz + 3) & ~3ull;
		descpad = (descsz + 3) & ~3ull;
		if (namepad > left - 12 || descpad > left - 12 - namepad)
			return fail(err, errlen, "note at file offset %#lx overruns its PT_NOTE",
				    (unsigned long)(p->p_offset + o));
		const uint8_t *desc = n + 12 + namepad;
		o += 12 + namepad + descpad;
		if (namesz != 7 || memcmp(n + 12, "SGXDBG", 7) != 0)
			continue;
		if (type == NOTE_ENCLAVE) {
			if (*have_enclave)
				return fail(err, errlen, "more than one NT_SGXDBG_ENCLAVE note");
			if (descsz != 64)
				return fail(err, errlen, "NT_SGXDBG_ENCLAVE descriptor of %lu bytes, want 64",
					    (unsigned long)descsz);
			*have_enclave = 1;
			img->size = rd64(desc);
			img->ssaframesize = rd32(desc + 8);
			img->miscselect = rd32(desc + 12);
			img->attributes = rd64(desc + 16);
			img->xfrm = rd64(desc + 24);
			img->miscmask = rd32(desc + 32);
			memcpy(&img->isvprodid, desc + 36, 2);
			memcpy(&img->isvsvn, desc + 38, 2);
			img->attrmask_flags = rd64(desc + 40);
			img->attrmask_xfrm = rd64(desc + 48);
			if (rd64(desc + 56) != 0)
				return fail(err, errlen, "NT_SGXDBG_ENCLAVE reserved field is not 0");
		} else if (type == NOTE_REGIONS) {
			if (*have_regions)
				return fail(err, errlen, "more than one NT_SGXDBG_REGIONS note");
			if (descsz % 32 != 0)
				return fail(err, errlen, "NT_SGXDBG_REGIONS descriptor of %lu bytes, not a multiple of 32",
					    (unsigned long)descsz);
			if (descsz / 32 > IMAGE_MAX_REGIONS)
				return fail(err, errlen, "more than %d regions", IMAGE_MAX_REGIONS);
			*have_regions = 1;
			for (uint64_t r = 0; r < descsz / 32; r++) {
				const uint8_t *d = desc + r * 32;
				struct image_region *g = &img->regions[img->nregions++];
				g->offset = rd64(d);
				g->size = rd64(d + 8);
				g->kind = rd32(d + 16);
				g->flags = rd32(d + 20);
				g->tcs = rd32(d + 24);
				if (rd32(d + 28) != 0)
					return fail(err, errlen, "region %lu: reserved field is not 0", (unsigned long)r);
			}
		}
	}
	return 0;
}

static int check_secs(struct image *img, char *err, size_t errlen)
{
	if (img->size == 0) {
		img->size = 2 * PAGE_SIZE;
		while (img->size < img->end)
			img->size <<= 1;
	} else if (img->size & (img->size - 1)) {
		return fail(err, errlen, "SIZE %#lx is not a power of two", (unsigned long)img->size);
	} else if (img->size < 2 * PAGE_SIZE) {
		return fail(err, errlen, "SIZE %#lx is smaller than two pages", (unsigned long)img->size);
	} else if (img->size < img->end) {
		return fail(err, errlen, "SIZE %#lx is smaller than the image, whose pages end at %#lx",
			    (unsigned long)img->size, (unsigned long)img->end);
	}
	if (img->ssaframesize == 0)
		return fail(err, errlen, "SSAFRAMESIZE is 0");
	if (img->attributes & 1)
		return fail(err, errlen, "ATTRIBUTES %#lx has INIT set (EINIT sets it)", (unsigned long)img->attributes);
	if (!(img->attributes & ATTR_MODE64BIT))
		return fail(err, errlen, "ATTRIBUTES %#lx lacks MODE64BIT", (unsigned long)img->attributes);
	if ((img->xfrm & 3) != 3)
		return fail(err, errlen, "XFRM %#lx: bits 1:0 must be set", (unsigned long)img->xfrm);
	return 0;
}

/* The index of the PT_LOAD covering page off, or -1. */
static int load_at(const Elf64_Phdr *loads, int nloads, uint64_t off)
{
	for (int i = 0; i < nloads; i++)
		if (off >= loads[i].p_vaddr && off < page_up(loads[i].p_vaddr + loads[i].p_memsz))
			return i;
	return -1;
}

static int check_regions(struct image *img, const Elf64_Phdr *loads, int nloads, char *err, size_t errlen)
{
	for (size_t r = 0; r < img->nregions; r++) {
		const struct image_region *g = &img->regions[r];
		if (g->offset % PAGE_SIZE || g->size == 0 || g->size % PAGE_SIZE)
			return fail(err, errlen, "region %zu: [%#lx, +%#lx) not whole pages", r,
				    (unsigned long)g->offset, (unsigned long)g->size);
		if (g->offset > img->size || g->size > img->size - g->offset)
			return fail(err, errlen, "region %zu: [%#lx, +%#lx) outside the enclave (SIZE %#lx)", r,
				    (unsigned long)g->offset, (unsigned long)g->size, (unsigned long)img->size);
		if (g->kind < REGION_TCS || g->kind > REGION_THREAD)
			return fail(err, errlen, "region %zu: unknown kind %u", r, g->kind);
		if (g->flags & ~(uint32_t)REGION_UNMEASURED)
			return fail(err, errlen, "region %zu: unknown flags %#x", r, g->flags);
		if (g->kind != REGION_GUARD && g->offset + g->size > img->end)
			return fail(err, errlen, "region %zu: [%#lx, +%#lx) is not inside any PT_LOAD (they end at %#lx)",
				    r, (unsigned long)g->offset, (unsigned long)g->size, (unsigned long)img->end);
		for (uint64_t o = g->offset; o < g->offset + g->size && o < img->end; o += PAGE_SIZE) {
			int covered = load_at(loads, nloads, o) >= 0;
			if (g->kind == REGION_GUARD && covered)
				return fail(err, errlen, "region %zu: GUARD page %#lx is inside a PT_LOAD", r,
					    (unsigned long)o);
			if (g->kind != REGION_GUARD && !covered)
				return fail(err, errlen, "region %zu: page %#lx is not inside any PT_LOAD", r,
					    (unsigned long)o);
		}
		if (g->kind == REGION_TCS) {
			if (g->size != PAGE_SIZE)
				return fail(err, errlen, "region %zu: a TCS region is one page, not %#lx", r,
					    (unsigned long)g->size);
			if (img->ntcs == IMAGE_MAX_TCS)
				return fail(err, errlen, "more than %d TCS", IMAGE_MAX_TCS);
			if (g->tcs != img->ntcs)
				return fail(err, errlen, "region %zu: TCS record number %zu says index %u", r,
					    img->ntcs, g->tcs);
			img->tcs[img->ntcs++] = g->offset;
		}
	}
	if (img->ntcs == 0)
		return fail(err, errlen, "no TCS region: nothing to enter");
	return 0;
}

static uint64_t page_secinfo(const struct image *img, uint64_t off, uint32_t pflags, int *measured)
{
	uint64_t perm = 0;

	*measured = 1;
	for (size_t r = 0; r < img->nregions; r++) {
		const struct image_region *g = &img->regions[r];
		if (off >= g->offset && off < g->offset + g->size && (g->flags & REGION_UNMEASURED))
			*measured = 0;
	}
	for (size_t t = 0; t < img->ntcs; t++)
		if (img->tcs[t] == off)
			return SECINFO_TCS;
	perm |= (pflags & PF_R) ? SECINFO_R : 0;
	perm |= (pflags & PF_W) ? SECINFO_W : 0;
	perm |= (pflags & PF_X) ? SECINFO_X : 0;
	return SECINFO_REG | perm;
}

static int secinfo_prot(uint64_t secinfo)
{
	if ((secinfo & 0xff00) == SECINFO_TCS)
		return 3; /* PROT_READ | PROT_WRITE */
	return (int)(secinfo & 7); /* R, W, X have PROT_*'s values */
}

static int build_runs(struct image *img, const uint8_t *f, const Elf64_Phdr *loads, int nloads,
		      char *err, size_t errlen)
{
	size_t cap = 0;

	img->pages = mmap(NULL, img->end, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (img->pages == MAP_FAILED) {
		img->pages = NULL;
		return fail(err, errlen, "allocate %#lx bytes for the pages: %s", (unsigned long)img->end,
			    strerror(errno));
	}
	for (int i = 0; i < nloads; i++)
		if (loads[i].p_filesz)
			memcpy(img->pages + loads[i].p_vaddr, f + loads[i].p_offset, loads[i].p_filesz);
	for (uint64_t off = 0; off < img->end; off += PAGE_SIZE) {
		int li = load_at(loads, nloads, off), measured;
		if (li < 0)
			continue;
		uint64_t si = page_secinfo(img, off, loads[li].p_flags, &measured);
		struct image_run *last = img->nruns ? &img->runs[img->nruns - 1] : NULL;
		if (last && last->offset + last->npages * PAGE_SIZE == off && last->secinfo == si &&
		    last->measured == measured) {
			last->npages++;
			continue;
		}
		if (img->nruns == cap) {
			cap = cap ? 2 * cap : 16;
			struct image_run *n = realloc(img->runs, cap * sizeof(*n));
			if (n == NULL)
				return fail(err, errlen, "out of memory");
			img->runs = n;
		}
		img->runs[img->nruns++] = (struct image_run){off, 1, si, measured, secinfo_prot(si)};
	}
	return 0;
}

int image_parse(const uint8_t *f, size_t len, struct image *img, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	Elf64_Phdr loads[MAX_LOADS];
	int nloads = 0, have_enclave = 0, have_regions = 0;

	memset(img, 0, sizeof(*img));
	if (check_header(f, len, &eh, err, errlen))
		return -1;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr p;
		memcpy(&p, f + eh.e_phoff + (uint64_t)i * sizeof(p), sizeof(p));
		switch (p.p_type) {
		case PT_INTERP:
			return fail(err, errlen, "PT_INTERP present: an enclave image has no dynamic linker");
		case PT_DYNAMIC:
			if (check_dynamic(f, len, &p, err, errlen))
				return -1;
			break;
		case PT_NOTE:
			if (read_notes(f, len, &p, img, &have_enclave, &have_regions, err, errlen))
				return -1;
			break;
		case PT_LOAD:
			if (check_load(&p, i, len, err, errlen))
				return -1;
			if (p.p_memsz == 0) /* no pages */
				break;
			if (nloads == MAX_LOADS)
				return fail(err, errlen, "more than %d PT_LOAD segments", MAX_LOADS);
			for (int j = 0; j < nloads; j++)
				if (p.p_vaddr < page_up(loads[j].p_vaddr + loads[j].p_memsz) &&
				    loads[j].p_vaddr < page_up(p.p_vaddr + p.p_memsz))
					return fail(err, errlen, "PT_LOAD %d [%#lx, +%#lx) overlaps another segment", i,
						    (unsigned long)p.p_vaddr, (unsigned long)p.p_memsz);
			loads[nloads++] = p;
			if (page_up(p.p_vaddr + p.p_memsz) > img->end)
				img->end = page_up(p.p_vaddr + p.p_memsz);
			break;
		}
	}
	if (nloads == 0)
		return fail(err, errlen, "no PT_LOAD segment");
	if (!have_enclave)
		return fail(err, errlen, "no NT_SGXDBG_ENCLAVE note (owner \"SGXDBG\", type 1)");
	if (!have_regions)
		return fail(err, errlen, "no NT_SGXDBG_REGIONS note: the image names no TCS");
	if (check_secs(img, err, errlen) || check_regions(img, loads, nloads, err, errlen) ||
	    build_runs(img, f, loads, nloads, err, errlen)) {
		image_free(img);
		return -1;
	}
	return 0;
}

int image_load(const char *path, struct image *img, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *f;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = errno;
		close(fd);
		return fail(err, errlen, "stat %s: %s", path, strerror(rc));
	}
	if (st.st_size == 0) {
		close(fd);
		return fail(err, errlen, "%s: empty file", path);
	}
	f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	rc = errno;
	close(fd);
	if (f == MAP_FAILED)
		return fail(err, errlen, "mmap %s: %s", path, strerror(rc));
	rc = image_parse(f, (size_t)st.st_size, img, err, errlen);
	munmap(f, (size_t)st.st_size);
	if (rc != 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, errlen, "%s", msg);
	}
	return rc;
}

void image_free(struct image *img)
{
	if (img->pages)
		munmap(img->pages, img->end);
	free(img->runs);
	img->pages = NULL;
	img->runs = NULL;
	img->nruns = 0;
}
