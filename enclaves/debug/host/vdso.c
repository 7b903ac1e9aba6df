/*
 * vdso.c - finds __vdso_sgx_enter_enclave (version LINUX_2.6) in the vDSO
 * the kernel mapped (AT_SYSINFO_EHDR) by reading its dynamic symbol table,
 * and the ENCLU inside it.
 */
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>

#include "host.h"

struct vdso {
	uintptr_t bias;
	const Elf64_Sym *sym;
	const char *str;
	const Elf64_Versym *versym;
	const Elf64_Verdef *verdef;
	size_t nsym;
};

/* The number of symbols a DT_GNU_HASH table covers. */
static size_t gnu_hash_count(const uint32_t *h)
{
	uint32_t nbuckets = h[0], symoffset = h[1], bloom = h[2];
	const uint32_t *buckets = h + 4 + bloom * 2; /* 64-bit bloom words */
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0;

	for (uint32_t b = 0; b < nbuckets; b++)
		if (buckets[b] > last)
			last = buckets[b];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

static int vdso_open(struct vdso *v)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	int have_load = 0;

	memset(v, 0, sizeof(*v));
	if (eh == NULL || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return -1;
	ph = (const Elf64_Phdr *)((const uint8_t *)eh + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			v->bias = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
			have_load = 1;
		}
	}
	for (int i = 0; i < eh->e_phnum && have_load; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(v->bias + ph[i].p_vaddr);
	if (dyn == NULL)
		return -1;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = v->bias + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			v->sym = (const Elf64_Sym *)p;
			break;
		case DT_STRTAB:
			v->str = (const char *)p;
			break;
		case DT_VERSYM:
			v->versym = (const Elf64_Versym *)p;
			break;
		case DT_VERDEF:
			v->verdef = (const Elf64_Verdef *)p;
			break;
		case DT_HASH:
			v->nsym = ((const uint32_t *)p)[1];
			break;
		case DT_GNU_HASH:
			if (v->nsym == 0)
				v->nsym = gnu_hash_count((const uint32_t *)p);
			break;
		}
	}
	return v->sym && v->str && v->nsym ? 0 : -1;
}

/* Does symbol i carry version name? (No version data: accept.) */
static int has_version(const struct vdso *v, size_t i, const char *version)
{
	const Elf64_Verdef *d = v->verdef;
	Elf64_Half want;

	if (v->versym == NULL || d == NULL)
		return 1;
	want = v->versym[i] & 0x7fff;
	for (;;) {
		if (!(d->vd_flags & VER_FLG_BASE) && d->vd_ndx == want) {
			const Elf64_Verdaux *a = (const Elf64_Verdaux *)((const uint8_t *)d + d->vd_aux);
			return strcmp(version, v->str + a->vda_name) == 0;
		}
		if (d->vd_next == 0)
			return 0;
		d = (const Elf64_Verdef *)((const uint8_t *)d + d->vd_next);
	}
}

static const Elf64_Sym *vdso_find(const struct vdso *v, const char *name, const char *version)
{
	for (size_t i = 0; i < v->nsym; i++) {
		const Elf64_Sym *s = &v->sym[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF)
			continue;
		if (strcmp(v->str + s->st_name, name) == 0 && has_version(v, i, version))
			return s;
	}
	return NULL;
}

void *vdso_lookup(const char *name, const char *version)
{
	struct vdso v;
	const Elf64_Sym *s;

	if (vdso_open(&v) != 0 || (s = vdso_find(&v, name, version)) == NULL)
		return NULL;
	return (void *)(v.bias + s->st_value);
}

size_t vdso_symbol_size(const char *name, const char *version)
{
	struct vdso v;
	const Elf64_Sym *s;

	if (vdso_open(&v) != 0 || (s = vdso_find(&v, name, version)) == NULL)
		return 0;
	return s->st_size;
}

uintptr_t find_enclu(const void *fn, size_t len)
{
	const uint8_t *p = fn;

	for (size_t i = 0; i + 3 <= len; i++)
		if (p[i] == 0x0f && p[i + 1] == 0x01 && p[i + 2] == 0xd7)
			return (uintptr_t)(p + i);
	return 0;
}
