/*
 * load.c - builds an enclave through the Linux driver (SGX.md §4): reserve
 * 2 x SIZE, ECREATE, EADD (+EEXTEND) run by run, EINIT, then map each run
 * at its address with its SECINFO permissions, leaving holes PROT_NONE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host.h"

static int load_error(const char *what)
{
	fprintf(stderr, "host: %s: %s\n", what, strerror(errno));
	return -1;
}

static int create(const struct image *img, struct enclave *e)
{
	uint8_t *secs = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	struct sgx_enclave_create ioc;
	int rc;

	if (secs == NULL)
		return load_error("allocate the SECS");
	memset(secs, 0, PAGE_SIZE);
	memcpy(secs + 0, &e->size, 8);
	memcpy(secs + 8, &e->base, 8);
	memcpy(secs + 16, &img->ssaframesize, 4);
	memcpy(secs + 20, &img->miscselect, 4);
	memcpy(secs + 48, &img->attributes, 8);
	memcpy(secs + 56, &img->xfrm, 8);
	ioc.src = (uint64_t)(uintptr_t)secs;
	rc = ioctl(e->fd, SGX_IOC_ENCLAVE_CREATE, &ioc);
	if (rc != 0)
		load_error("SGX_IOC_ENCLAVE_CREATE");
	free(secs);
	return rc == 0 ? 0 : -1;
}

/* EADD one run; the driver may stop early when a signal is pending and
 * report how far it got in count. */
static int add_run(const struct image *img, const struct image_run *r, struct enclave *e)
{
	uint64_t secinfo[8] __attribute__((aligned(64))) = {r->secinfo};
	uint64_t done = 0, len = r->npages * PAGE_SIZE;

	while (done < len) {
		struct sgx_enclave_add_pages ioc = {
			.src = (uint64_t)(uintptr_t)(img->pages + r->offset + done),
			.offset = r->offset + done,
			.length = len - done,
			.secinfo = (uint64_t)(uintptr_t)secinfo,
			.flags = r->measured ? SGX_PAGE_MEASURE : 0,
		};
		if (ioctl(e->fd, SGX_IOC_ENCLAVE_ADD_PAGES, &ioc) != 0) {
			if (errno == EINTR)
				continue;
			char what[96];
			snprintf(what, sizeof(what), "SGX_IOC_ENCLAVE_ADD_PAGES at %#lx",
				 (unsigned long)(r->offset + done));
			return load_error(what);
		}
		if (ioc.count % PAGE_SIZE != 0 || ioc.count > len - done) {
			fprintf(stderr, "host: SGX_IOC_ENCLAVE_ADD_PAGES at %#lx: count %#lx makes no sense\n",
				(unsigned long)(r->offset + done), (unsigned long)ioc.count);
			return -1;
		}
		done += ioc.count;
	}
	return 0;
}

static int init(const uint8_t *sigstruct, struct enclave *e)
{
	struct sgx_enclave_init ioc = {.sigstruct = (uint64_t)(uintptr_t)sigstruct};

	if (ioctl(e->fd, SGX_IOC_ENCLAVE_INIT, &ioc) == 0)
		return 0;
	if (errno == EPERM)
		fprintf(stderr, "host: EINIT failed: the SIGSTRUCT does not match the enclave (%s)\n",
			strerror(errno));
	else
		load_error("SGX_IOC_ENCLAVE_INIT");
	return -1;
}

static int map_runs(const struct image *img, struct enclave *e)
{
	for (size_t i = 0; i < img->nruns; i++) {
		const struct image_run *r = &img->runs[i];
		void *want = (void *)(uintptr_t)(e->base + r->offset);
		void *got = mmap(want, r->npages * PAGE_SIZE, r->prot, MAP_SHARED | MAP_FIXED, e->fd, 0);
		if (got == MAP_FAILED) {
			char what[96];
			snprintf(what, sizeof(what), "mmap enclave pages at %#lx", (unsigned long)r->offset);
			return load_error(what);
		}
	}
	return 0;
}

int enclave_load(const struct image *img, const uint8_t *sigstruct, struct enclave *e)
{
	uint8_t *area;

	memset(e, 0, sizeof(*e));
	e->img = img;
	e->size = img->size;
	e->fd = open("/dev/sgx_enclave", O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return load_error("open /dev/sgx_enclave");
	e->reservation_len = 2 * e->size;
	area = mmap(NULL, e->reservation_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return load_error("reserve the enclave range");
	e->reservation = area;
	e->base = ((uint64_t)(uintptr_t)area + e->size - 1) & ~(e->size - 1);
	if (create(img, e) != 0)
		return -1;
	for (size_t i = 0; i < img->nruns; i++)
		if (add_run(img, &img->runs[i], e) != 0)
			return -1;
	if (init(sigstruct, e) != 0)
		return -1;
	return map_runs(img, e);
}
