/* SPDX-License-Identifier: MIT */
/* Per-call locking baselines for seed 002 (see pinpool_percall.h). */
#include "pinpool_percall.h"

#include <errno.h>
#include <sys/mman.h>

void *percall_mmap_alloc(size_t bytes, uint64_t *calls)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);

	(*calls)++;
	return p == MAP_FAILED ? NULL : p;
}

void percall_mmap_free(void *p, size_t bytes, uint64_t *calls)
{
	(*calls)++;
	munmap(p, bytes);
}

int percall_mlock(void *p, size_t bytes, uint64_t *calls)
{
	(*calls)++;
	return mlock(p, bytes) == 0 ? 0 : -errno;
}

void percall_munlock(void *p, size_t bytes, uint64_t *calls)
{
	(*calls)++;
	munlock(p, bytes);
}
