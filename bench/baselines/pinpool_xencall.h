/* SPDX-License-Identifier: MIT */
/*
 * Baseline for seed 002: a hypercall-buffer cache with the shape of Xen's
 * libxencall, written for libxmm from its documented behaviour (not copied):
 *
 *  - one process-wide mutex around the cache and its statistics;
 *  - at most 4 cached buffers, single pages only; a larger request, or a
 *    miss, maps fresh memory (MAP_LOCKED, MADV_DONTFORK, every page touched
 *    so no copy-on-write can be pending), and a buffer that does not fit the
 *    cache is unmapped (MADV_DOFORK, munmap);
 *  - libxencall also zeroes every buffer it hands out; this baseline does not,
 *    so that its figures are its management cost alone (the benchmark's fill
 *    variant writes every buffer, for every approach alike).
 */
#ifndef XMM_BENCH_PINPOOL_XENCALL_H
#define XMM_BENCH_PINPOOL_XENCALL_H

#include <stddef.h>
#include <stdint.h>

#define XENCALL_CACHE_ENTRIES 4

struct xencall_cache;

struct xencall_cache *xencall_cache_create(void);
void xencall_cache_destroy(struct xencall_cache *c); /* unmaps the cached buffers */
void *xencall_cache_alloc(struct xencall_cache *c, size_t pages); /* NULL on failure */
void xencall_cache_free(struct xencall_cache *c, void *p, size_t pages);
uint64_t xencall_cache_syscalls(struct xencall_cache *c);

#endif /* XMM_BENCH_PINPOOL_XENCALL_H */
