/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/scrub_arena.h - a guest-memory arena for the scrub queues (seed
 * 001) in user space (libxmm/user/scrub_arena.c): it owns real memory and its
 * frame table, so a program can put and take memory without writing scrub
 * ops of its own.
 *
 * Guest memory of @npages pages in one anonymous mapping (2 MiB
 * aligned, transparent huge pages requested), split in equal 2 MiB-aligned
 * ranges, one per node of @topo, each bound to its NUMA node where the
 * machine has NUMA. Frame pfn is the page at byte pfn * 4096 of the
 * mapping. The arena's frame table holds one xmm_scrub_link per page, and
 * its scrub object's ops map frames to the mapping, pass clean on to
 * cfg->clean and should_yield to cfg->should_yield.
 */
#ifndef XMM_USER_SCRUB_ARENA_H
#define XMM_USER_SCRUB_ARENA_H

#include <xmm/user/scrub.h>
#include <xmm/user/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_scrub_arena_cfg {
	uint64_t npages;             /* guest memory in 4 KiB pages, > 0 */
	const struct xmm_topo *topo; /* NULL: one node; else its nodes and distances */
	uint64_t chunk_pages;        /* 0: XMM_SCRUB_CHUNK_DEFAULT */
	/* Called for every zeroed piece (see xmm_scrub_ops.clean); may be NULL. */
	void (*clean)(void *arg, unsigned int node, xmm_pfn_t pfn, uint64_t npages);
	bool (*should_yield)(void *arg); /* may be NULL */
	void *arg;
};

struct xmm_scrub_arena;

/* Returns 0 and *out, XMM_EINVAL (*out untouched) or XMM_ENOMEM. */
int xmm_scrub_arena_create(struct xmm_scrub_arena **out, const struct xmm_scrub_arena_cfg *cfg);
/* Unmap the memory and free everything. No daemon or call may still use it. */
void xmm_scrub_arena_destroy(struct xmm_scrub_arena *a);

/* The arena's scrub object (for run, take, pending and the daemon), and its pages. */
struct xmm_scrub *xmm_scrub_arena_scrub(const struct xmm_scrub_arena *a);
uint64_t xmm_scrub_arena_npages(const struct xmm_scrub_arena *a);
/* The address of frame @pfn, NULL beyond the arena. */
void *xmm_scrub_arena_va(const struct xmm_scrub_arena *a, xmm_pfn_t pfn);
/* The node frame @pfn belongs to (pfn below npages). */
unsigned int xmm_scrub_arena_node(const struct xmm_scrub_arena *a, xmm_pfn_t pfn);
/*
 * Put [pfn, pfn + npages) on the nodes it belongs to, one xmm_scrub_put per
 * node's part. 0, XMM_EINVAL (nothing put), or XMM_EBUSY when a part is
 * already queued (xmm_scrub_put's double-put check): the parts before it,
 * on lower nodes, stay queued.
 */
int xmm_scrub_arena_put(struct xmm_scrub_arena *a, xmm_pfn_t pfn, uint64_t npages);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_SCRUB_ARENA_H */
