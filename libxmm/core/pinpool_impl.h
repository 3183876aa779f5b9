/* SPDX-License-Identifier: MIT */
/*
 * pinpool_impl.h - the pinned-buffer pool's shared internals (not installed):
 * the object, its invariants, geometry and lists, used by
 *   pinpool.c         layout, init, stats, release_chunks, fini
 *   pinpool_chunks.c  chunks: commit, carve, reclaim, release (under the host lock)
 *   pinpool_cache.c   caches, alloc and free (the fast paths)
 * The contract is xmm/pinpool.h.
 *
 * Layout (one block of caller memory, xmm_pinpool_size() bytes):
 *
 *   line 0   read-only after init: geometry, ops, array pointers
 *   line 1   drain_gen: read by every get/put, written by shrink and refill failures
 *   line 2   under the host lock: attached caches, bytes locked, slow-path counters
 *   line 3   atomics: counters of cacheless calls and detached caches
 *   arrays   list[class]     one Treiber-stack head per line
 *            chunk[c]        chunk kind and class, and whether its metadata is initialized
 *            scratch[c]      free pages per chunk, for reclaim (under the lock)
 *            page[i]         one line per arena page: state word, list link
 *
 * Invariants (see also the header):
 *   P1  page[i] is meaningful only once chunk_of(i) has CH_INIT set (release),
 *       and stays so: after that every state word is NONE, FREE(k) or ALLOC(k).
 *   P2  a buffer of class k starts at a page whose state is FREE(k) or ALLOC(k);
 *       every other page of a committed chunk is NONE.
 *   P3  chunk kinds change only under the host lock, and a chunk leaves SMALL or
 *       LARGE only when every one of its buffers was found on its list.
 *   P4  list heads and links hold page index + 1; 0 ends a list.
 */
#ifndef XMM_CORE_PINPOOL_IMPL_H
#define XMM_CORE_PINPOOL_IMPL_H

#include <xmm/errno.h>
#include <xmm/pinpool.h>
#include <xmm/platform.h>

#include "tagstack.h"
#include "utils.h"

/* State words: kind in bits 0-1, class above. */
#define ST_NONE 0u
#define ST_FREE 1u
#define ST_ALLOC 2u
#define ST_KIND(s) ((s) & 3u)
#define ST_CLASS(s) ((s) >> 2)
#define ST(kind, cls) ((uint32_t)(cls) << 2 | (kind))

/* Chunk words: kind in bits 0-2, CH_INIT, class above. */
#define CH_UNUSED 0u /* not committed */
#define CH_FREE 1u   /* committed, not carved */
#define CH_SMALL 2u  /* carved into buffers of one small class */
#define CH_LARGE 3u  /* first chunk of one large buffer */
#define CH_TAIL 4u   /* further chunk of a large buffer */
#define CH_INIT 8u   /* page metadata initialized (P1) */
#define CH_KIND(w) ((w) & 7u)
#define CH_CLASS(w) ((w) >> 4)
#define CH(kind, cls) ((uint32_t)(cls) << 4 | CH_INIT | (kind))

/* Lists: tagstack.h stacks of page indices, 28 bits of index + 1 and a 36-bit tag. */
#define IDX_BITS 28
#define IDX_MASK ((1ULL << IDX_BITS) - 1)

#define NO_PAGE UINT32_MAX

struct pin_list {
	uint64_t head;
} XMM_ALIGNED(XMM_CACHELINE);

/* One line per page, so buffers of different threads never share a written line. */
struct pin_page {
	uint32_t state;
	uint32_t next; /* page index + 1 of the next buffer on a list */
} XMM_ALIGNED(XMM_CACHELINE);

struct xmm_pinpool {
	/* line 0: read-only after init */
	char *base;
	uint64_t arena_bytes;
	uint32_t npages, nchunks;
	uint32_t chunk_shift; /* log2(pages per chunk) */
	uint32_t nsmall;      /* small classes 0..nsmall-1 (= chunk_shift) */
	uint32_t nclasses;    /* nsmall + nchunks */
	uint32_t ncached;     /* classes a cache holds */
	uint32_t flags;
	const struct xmm_pinpool_ops *ops;
	void *ctx;
	struct pin_list *list;
	uint32_t *chunk;
	uint32_t *scratch;
	struct pin_page *page;
	/*
	 * line 1: a request ("drain your caches"), read relaxed by every get/put.
	 * It publishes nothing: buffers move only through the lists, whose CAS
	 * orders them, so its fetch-adds pair with no access.
	 */
	uint32_t drain_gen XMM_ALIGNED(XMM_CACHELINE);
	/* line 2: under the host lock */
	struct xmm_pin_cache *caches XMM_ALIGNED(XMM_CACHELINE);
	uint64_t bytes_locked, commits, releases, misses, op_calls;
	/* line 3: statistics, fetch-added for atomicity only; nothing is ordered by them */
	uint64_t allocs XMM_ALIGNED(XMM_CACHELINE);
	uint64_t frees, bytes_out, bytes_back, bad_frees, failures;
	/* arrays follow */
	uint64_t tail[] XMM_ALIGNED(XMM_CACHELINE);
};


/* ---- geometry ---------------------------------------------------------------------- */

static inline uint64_t class_pages(const struct xmm_pinpool *p, uint32_t cls)
{
	if (cls < p->nsmall)
		return 1ULL << cls;
	return (uint64_t)(cls - p->nsmall + 1) << p->chunk_shift;
}

/* The class serving @pages (1 <= pages <= npages). */
static inline uint32_t class_of(const struct xmm_pinpool *p, uint64_t pages)
{
	if (pages <= (1ULL << p->chunk_shift) / 2)
		return xmm_ilog2_up(pages);
	return p->nsmall + (uint32_t)((pages - 1) >> p->chunk_shift);
}

static inline uint32_t chunk_of(const struct xmm_pinpool *p, uint32_t idx)
{
	return idx >> p->chunk_shift;
}

static inline char *page_addr(const struct xmm_pinpool *p, uint64_t idx)
{
	return p->base + (idx << XMM_PAGE_SHIFT);
}

/* ---- lists ------------------------------------------------------------------------- */

/* The lists' links: page[].next, a page index + 1 (fits: IDX_BITS < 32). */
static inline uint64_t page_next(void *pp, uint64_t idx)
{
	struct xmm_pinpool *p = pp;

	return xmm_pr_load_relaxed_32(&p->page[idx].next);
}

static inline void page_set_next(void *pp, uint64_t idx, uint64_t next1)
{
	struct xmm_pinpool *p = pp;

	xmm_pr_store_relaxed_32(&p->page[idx].next, (uint32_t)next1);
}

/*
 * Push the chain first..last (linked through page[].next) onto list @cls. Its
 * release CAS also publishes the freed buffers' contents to whoever pops them.
 */
static inline void list_push(struct xmm_pinpool *p, uint32_t cls, uint32_t first, uint32_t last)
{
	xmm_tagstack_push_chain(&p->list[cls].head, IDX_BITS, first, last, p, page_set_next);
}

static inline uint32_t list_pop(struct xmm_pinpool *p, uint32_t cls)
{
	uint64_t idx;

	return xmm_tagstack_pop(&p->list[cls].head, IDX_BITS, p, page_next, &idx) ? (uint32_t)idx
										   : NO_PAGE;
}

/* Take the whole list @cls: its first page + 1, 0 if empty. */
static inline uint32_t list_take(struct xmm_pinpool *p, uint32_t cls)
{
	return (uint32_t)xmm_tagstack_take_all(&p->list[cls].head, IDX_BITS);
}

/* ---- chunk words ------------------------------------------------------------------ */

static inline uint32_t chunk_load(const struct xmm_pinpool *p, uint32_t c)
{
	return xmm_pr_load_relaxed_32(&p->chunk[c]);
}

/* Release: a put that sees CH_INIT (acquire) sees the metadata written before (P1). */
static inline void chunk_set(struct xmm_pinpool *p, uint32_t c, uint32_t w)
{
	xmm_pr_store_release_32(&p->chunk[c], w);
}

/* pinpool_chunks.c, under the host lock. */
int xmm_pinpool_carve(struct xmm_pinpool *p, uint32_t cls, uint32_t *idx);
void xmm_pinpool_reclaim(struct xmm_pinpool *p);
size_t xmm_pinpool_release_unused(struct xmm_pinpool *p);
/* pinpool_cache.c, under the host lock. */
void xmm_pin_cache_unlink(struct xmm_pinpool *p, struct xmm_pin_cache *c);

#endif /* XMM_CORE_PINPOOL_IMPL_H */
