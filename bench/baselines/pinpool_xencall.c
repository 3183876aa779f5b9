/* SPDX-License-Identifier: MIT */
/* The libxencall-shaped mutex cache, seed 002's cache baseline (see pinpool_xencall.h). */
#include "pinpool_xencall.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

struct xencall_cache {
	pthread_mutex_t lock;
	void *entry[XENCALL_CACHE_ENTRIES];
	unsigned int n;
	/* statistics kept under the lock, as the library keeps them */
	uint64_t total, current, max, hits, misses, toobig;
	atomic_uint_fast64_t syscalls;
};

struct xencall_cache *xencall_cache_create(void)
{
	struct xencall_cache *c = calloc(1, sizeof(*c));

	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void *map_pages(struct xencall_cache *c, size_t pages)
{
	size_t bytes = pages * PAGE;
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);

	atomic_fetch_add_explicit(&c->syscalls, 1, memory_order_relaxed);
	if (p == MAP_FAILED)
		return NULL;
	atomic_fetch_add_explicit(&c->syscalls, 1, memory_order_relaxed);
	if (madvise(p, bytes, MADV_DONTFORK) != 0) {
		atomic_fetch_add_explicit(&c->syscalls, 1, memory_order_relaxed);
		munmap(p, bytes);
		return NULL;
	}
	for (size_t i = 0; i < pages; i++) /* break any copy-on-write a racing fork left */
		((volatile char *)p)[i * PAGE] = 0;
	return p;
}

static void unmap_pages(struct xencall_cache *c, void *p, size_t pages)
{
	atomic_fetch_add_explicit(&c->syscalls, 2, memory_order_relaxed);
	madvise(p, pages * PAGE, MADV_DOFORK);
	munmap(p, pages * PAGE);
}

void *xencall_cache_alloc(struct xencall_cache *c, size_t pages)
{
	void *p = NULL;

	pthread_mutex_lock(&c->lock);
	c->total++;
	if (++c->current > c->max)
		c->max = c->current;
	if (pages > 1) {
		c->toobig++;
	} else if (c->n > 0) {
		p = c->entry[--c->n];
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->lock);
	return p ? p : map_pages(c, pages);
}

void xencall_cache_free(struct xencall_cache *c, void *p, size_t pages)
{
	int cached = 0;

	pthread_mutex_lock(&c->lock);
	c->current--;
	if (pages == 1 && c->n < XENCALL_CACHE_ENTRIES) {
		c->entry[c->n++] = p;
		cached = 1;
	}
	pthread_mutex_unlock(&c->lock);
	if (!cached)
		unmap_pages(c, p, pages);
}

uint64_t xencall_cache_syscalls(struct xencall_cache *c)
{
	return atomic_load_explicit(&c->syscalls, memory_order_relaxed);
}

void xencall_cache_destroy(struct xencall_cache *c)
{
	while (c->n)
		unmap_pages(c, c->entry[--c->n], 1);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
