/* SPDX-License-Identifier: MIT */
/*
 * Guest-memory arena for the scrub queues (xmm/scrubd.h): real memory, its
 * frame table of links, and the scrub ops over them.
 */
#define _GNU_SOURCE
#include <xmm/errno.h>
#include <xmm/platform.h>
#include <xmm/user/scrub_arena.h>

#include <stdlib.h>
#include <sys/mman.h>

#include <hwloc.h>

#define SUPERPAGE (2UL << 20)
#define SUPERPAGE_PAGES (SUPERPAGE >> XMM_PAGE_SHIFT)

struct xmm_scrub_arena {
	struct xmm_scrub *s;
	char *base;                   /* 2 MiB aligned */
	void *map;                    /* the mapping as mmap returned it */
	size_t map_bytes;
	uint64_t npages;
	uint64_t node_pages;          /* pages per node, a multiple of 512 */
	unsigned int nnodes;
	struct xmm_scrub_link *links; /* the frame table: one link per page */
	size_t links_bytes;
	struct xmm_scrub_arena_cfg cfg;
};

static struct xmm_scrub_link *arena_link(void *ctx, xmm_pfn_t pfn)
{
	struct xmm_scrub_arena *a = ctx;

	XMM_ASSERT(pfn < a->npages);
	return &a->links[pfn];
}

static void *arena_map(void *ctx, xmm_pfn_t pfn, uint64_t npages)
{
	struct xmm_scrub_arena *a = ctx;

	return pfn < a->npages && npages <= a->npages - pfn ? a->base + (pfn << XMM_PAGE_SHIFT)
							    : NULL;
}

static void arena_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t npages)
{
	struct xmm_scrub_arena *a = ctx;

	if (a->cfg.clean)
		a->cfg.clean(a->cfg.arg, node, pfn, npages);
}

static bool arena_should_yield(void *ctx)
{
	struct xmm_scrub_arena *a = ctx;

	return a->cfg.should_yield(a->cfg.arg);
}

/* Bind each node's range to its NUMA node; best effort (the memory works unbound too). */
static void bind_nodes(struct xmm_scrub_arena *a, const struct xmm_topo *t)
{
	hwloc_topology_t h;

	if (!t || !t->this_machine || t->nnodes < 2)
		return;
	h = (hwloc_topology_t)t->hwloc;
	for (unsigned int n = 0; n < a->nnodes; n++) {
		hwloc_obj_t obj = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, n);
		uint64_t first = (uint64_t)n * a->node_pages;

		if (!obj || first >= a->npages)
			continue;
		uint64_t len = a->npages - first < a->node_pages ? a->npages - first : a->node_pages;

		(void)hwloc_set_area_membind(h, a->base + (first << XMM_PAGE_SHIFT),
					     len << XMM_PAGE_SHIFT, obj->nodeset, HWLOC_MEMBIND_BIND,
					     HWLOC_MEMBIND_BYNODESET);
	}
}

/*
 * The frame table stays resident, as a hypervisor's page_info array is: its
 * pages are faulted in here, not on the first destroy (which would then pay a
 * page fault per 256 frames).
 */
static int map_frame_table(struct xmm_scrub_arena *a)
{
	size_t bytes = a->npages * sizeof(*a->links);

	a->links_bytes = (bytes + SUPERPAGE - 1) & ~(SUPERPAGE - 1);
	a->links = mmap(NULL, a->links_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (a->links == MAP_FAILED) {
		a->links = NULL;
		return -1;
	}
	(void)madvise(a->links, a->links_bytes, MADV_HUGEPAGE);
	for (size_t off = 0; off < a->links_bytes; off += XMM_PAGE_SIZE)
		((volatile char *)a->links)[off] = 0;
	return 0;
}

int xmm_scrub_arena_create(struct xmm_scrub_arena **out, const struct xmm_scrub_arena_cfg *cfg)
{
	struct xmm_scrub_ops ops = { .link = arena_link, .map = arena_map, .clean = arena_clean };
	struct xmm_scrub_arena *a;
	size_t bytes;
	int rc;

	if (!out || !cfg || cfg->npages == 0 || cfg->npages > XMM_SCRUB_MAX_PFN ||
	    cfg->npages > (SIZE_MAX - SUPERPAGE) >> XMM_PAGE_SHIFT)
		return XMM_EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return XMM_ENOMEM;
	a->cfg = *cfg;
	a->npages = cfg->npages;
	a->nnodes = cfg->topo ? cfg->topo->nnodes : 1;
	a->node_pages = (a->npages + a->nnodes - 1) / a->nnodes;
	a->node_pages = (a->node_pages + SUPERPAGE_PAGES - 1) & ~(uint64_t)(SUPERPAGE_PAGES - 1);
	if (cfg->should_yield)
		ops.should_yield = arena_should_yield;
	rc = xmm_scrub_create(&a->s, a->nnodes, cfg->topo ? cfg->topo->distance : NULL,
			      cfg->chunk_pages ? cfg->chunk_pages : XMM_SCRUB_CHUNK_DEFAULT, &ops, a);
	if (rc)
		goto fail;
	rc = XMM_ENOMEM;
	if (map_frame_table(a) != 0)
		goto fail;
	bytes = a->npages << XMM_PAGE_SHIFT;
	a->map_bytes = bytes + SUPERPAGE;
	a->map = mmap(NULL, a->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->map == MAP_FAILED) {
		a->map = NULL;
		goto fail;
	}
	a->base = (char *)(((uintptr_t)a->map + SUPERPAGE - 1) & ~(uintptr_t)(SUPERPAGE - 1));
	(void)madvise(a->base, bytes, MADV_HUGEPAGE); /* best effort: fewer faults and TLB misses */
	bind_nodes(a, cfg->topo);
	*out = a;
	return 0;
fail:
	xmm_scrub_arena_destroy(a);
	return rc;
}

void xmm_scrub_arena_destroy(struct xmm_scrub_arena *a)
{
	if (!a)
		return;
	if (a->map)
		munmap(a->map, a->map_bytes);
	if (a->links)
		munmap(a->links, a->links_bytes);
	xmm_scrub_destroy(a->s);
	free(a);
}

struct xmm_scrub *xmm_scrub_arena_scrub(const struct xmm_scrub_arena *a)
{
	return a->s;
}

uint64_t xmm_scrub_arena_npages(const struct xmm_scrub_arena *a)
{
	return a->npages;
}

void *xmm_scrub_arena_va(const struct xmm_scrub_arena *a, xmm_pfn_t pfn)
{
	return pfn < a->npages ? a->base + (pfn << XMM_PAGE_SHIFT) : NULL;
}

unsigned int xmm_scrub_arena_node(const struct xmm_scrub_arena *a, xmm_pfn_t pfn)
{
	uint64_t n = pfn / a->node_pages;

	return n < a->nnodes ? (unsigned int)n : a->nnodes - 1;
}

int xmm_scrub_arena_put(struct xmm_scrub_arena *a, xmm_pfn_t pfn, uint64_t npages)
{
	if (!a || npages == 0 || pfn >= a->npages || npages > a->npages - pfn)
		return XMM_EINVAL;
	while (npages) {
		unsigned int node = xmm_scrub_arena_node(a, pfn);
		uint64_t end = (uint64_t)(node + 1) * a->node_pages;
		uint64_t n = node + 1 == a->nnodes || end - pfn > npages ? npages : end - pfn;
		int rc = xmm_scrub_put(a->s, node, pfn, n);

		/* The range was checked above: only a double put (XMM_EBUSY) can fail. */
		if (rc)
			return rc;
		pfn += n;
		npages -= n;
	}
	return 0;
}
