/* SPDX-License-Identifier: MIT */
/*
 * Pinned-buffer pool, the freestanding allocator: see xmm/pinpool.h.
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

/* Slots of each cached class, and where they start in xmm_pin_cache.slot. */
static const uint8_t cache_cap[XMM_PIN_CACHE_CLASSES] = { 16, 8, 4, 2, 2, 2, 2 };
static const uint8_t cache_off[XMM_PIN_CACHE_CLASSES] = { 0, 16, 24, 28, 30, 32, 34 };
_Static_assert(34 + 2 == XMM_PIN_CACHE_SLOTS, "cache slots");

struct pin_layout {
	size_t list, chunk, scratch, page, total;
};

static bool geometry_ok(size_t arena_bytes, size_t chunk_bytes)
{
	if (chunk_bytes < XMM_PAGE_SIZE || (chunk_bytes & (chunk_bytes - 1)))
		return false;
	if (arena_bytes == 0 || arena_bytes % chunk_bytes)
		return false;
	return arena_bytes / XMM_PAGE_SIZE <= IDX_MASK - 1;
}

static struct pin_layout pin_layout(size_t arena_bytes, size_t chunk_bytes)
{
	struct pin_layout l;
	size_t nchunks = arena_bytes / chunk_bytes;
	size_t nclasses = xmm_log2_exact(chunk_bytes / XMM_PAGE_SIZE) + nchunks;
	size_t off = sizeof(struct xmm_pinpool);

	l.list = off;
	off += nclasses * sizeof(struct pin_list);
	l.chunk = off;
	off += nchunks * sizeof(uint32_t);
	l.scratch = off;
	off = xmm_line_up(off + nchunks * sizeof(uint32_t));
	l.page = off;
	off += arena_bytes / XMM_PAGE_SIZE * sizeof(struct pin_page);
	l.total = off;
	return l;
}

size_t xmm_pinpool_size(size_t arena_bytes, size_t chunk_bytes)
{
	if (!geometry_ok(arena_bytes, chunk_bytes))
		return 0;
	return pin_layout(arena_bytes, chunk_bytes).total;
}

int xmm_pinpool_init(struct xmm_pinpool *p, void *arena, size_t arena_bytes,
		     size_t chunk_bytes, unsigned int flags, const struct xmm_pinpool_ops *ops,
		     void *ctx)
{
	struct pin_layout l;
	char *mem = (char *)p;

	if (!p || !arena || !ops || !ops->commit || !ops->release || !ops->lock || !ops->unlock)
		return XMM_EINVAL;
	if (((uintptr_t)p & (XMM_PINPOOL_ALIGN - 1)) || ((uintptr_t)arena & (XMM_PAGE_SIZE - 1)))
		return XMM_EINVAL;
	if (!geometry_ok(arena_bytes, chunk_bytes) || (flags & ~XMM_PINPOOL_ZERO))
		return XMM_EINVAL;

	l = pin_layout(arena_bytes, chunk_bytes);
	/* Everything but the page metadata, which each chunk initializes when first committed. */
	__builtin_memset(p, 0, l.page);
	p->base = arena;
	p->arena_bytes = arena_bytes;
	p->npages = (uint32_t)(arena_bytes / XMM_PAGE_SIZE);
	p->nchunks = (uint32_t)(arena_bytes / chunk_bytes);
	p->chunk_shift = xmm_log2_exact(chunk_bytes / XMM_PAGE_SIZE);
	p->nsmall = p->chunk_shift;
	p->nclasses = p->nsmall + p->nchunks;
	p->ncached = p->nsmall < XMM_PIN_CACHE_CLASSES ? p->nsmall : XMM_PIN_CACHE_CLASSES;
	p->flags = flags;
	p->ops = ops;
	p->ctx = ctx;
	p->list = (struct pin_list *)(void *)(mem + l.list);
	p->chunk = (uint32_t *)(void *)(mem + l.chunk);
	p->scratch = (uint32_t *)(void *)(mem + l.scratch);
	p->page = (struct pin_page *)(void *)(mem + l.page);
	return 0;
}

void *xmm_pinpool_ctx(const struct xmm_pinpool *p)
{
	return p->ctx;
}

void *xmm_pinpool_arena(const struct xmm_pinpool *p, size_t *bytes)
{
	if (bytes)
		*bytes = p->arena_bytes;
	return p->base;
}

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
static uint64_t page_next(void *pp, uint64_t idx)
{
	struct xmm_pinpool *p = pp;

	return xmm_pr_load_relaxed_32(&p->page[idx].next);
}

static void page_set_next(void *pp, uint64_t idx, uint64_t next1)
{
	struct xmm_pinpool *p = pp;

	xmm_pr_store_relaxed_32(&p->page[idx].next, (uint32_t)next1);
}

/*
 * Push the chain first..last (linked through page[].next) onto list @cls. Its
 * release CAS also publishes the freed buffers' contents to whoever pops them.
 */
static void list_push(struct xmm_pinpool *p, uint32_t cls, uint32_t first, uint32_t last)
{
	xmm_tagstack_push_chain(&p->list[cls].head, IDX_BITS, first, last, p, page_set_next);
}

static uint32_t list_pop(struct xmm_pinpool *p, uint32_t cls)
{
	uint64_t idx;

	return xmm_tagstack_pop(&p->list[cls].head, IDX_BITS, p, page_next, &idx) ? (uint32_t)idx
										   : NO_PAGE;
}

/* Take the whole list @cls: its first page + 1, 0 if empty. */
static uint32_t list_take(struct xmm_pinpool *p, uint32_t cls)
{
	return (uint32_t)xmm_tagstack_take_all(&p->list[cls].head, IDX_BITS);
}

/* ---- chunks (under the host lock) ------------------------------------------------- */

static inline uint32_t chunk_load(const struct xmm_pinpool *p, uint32_t c)
{
	return xmm_pr_load_relaxed_32(&p->chunk[c]);
}

/* Release: a put that sees CH_INIT (acquire) sees the metadata written before (P1). */
static inline void chunk_set(struct xmm_pinpool *p, uint32_t c, uint32_t w)
{
	xmm_pr_store_release_32(&p->chunk[c], w);
}

static void note_op(struct xmm_pinpool *p)
{
	xmm_counter_add(&p->op_calls, 1);
}

/* Commit chunks [c, c + n), all CH_UNUSED; they become CH_FREE. */
static int chunks_commit(struct xmm_pinpool *p, uint32_t c, uint32_t n)
{
	size_t bytes = (size_t)n << (p->chunk_shift + XMM_PAGE_SHIFT);
	int rc;

	note_op(p);
	rc = p->ops->commit(p->ctx, page_addr(p, (uint64_t)c << p->chunk_shift), bytes);
	if (rc)
		return rc < 0 ? rc : XMM_ENOMEM;
	for (uint32_t i = c; i < c + n; i++) {
		if (!(chunk_load(p, i) & CH_INIT))
			__builtin_memset(&p->page[(uint64_t)i << p->chunk_shift], 0,
					 sizeof(struct pin_page) << p->chunk_shift);
		chunk_set(p, i, CH(CH_FREE, 0));
	}
	xmm_counter_add(&p->bytes_locked, bytes);
	xmm_counter_add(&p->commits, n);
	return 0;
}

/* Release chunks [c, c + n), all CH_FREE; they become CH_UNUSED (metadata stays valid). */
static void chunks_release(struct xmm_pinpool *p, uint32_t c, uint32_t n)
{
	size_t bytes = (size_t)n << (p->chunk_shift + XMM_PAGE_SHIFT);

	for (uint32_t i = c; i < c + n; i++)
		chunk_set(p, i, CH(CH_UNUSED, 0));
	note_op(p);
	p->ops->release(p->ctx, page_addr(p, (uint64_t)c << p->chunk_shift), bytes);
	xmm_counter_add(&p->bytes_locked, -(uint64_t)bytes);
	xmm_counter_add(&p->releases, n);
}

/* Release every CH_FREE chunk, one ops call per run: bytes released. */
static size_t release_free_chunks(struct xmm_pinpool *p)
{
	size_t bytes = 0;

	for (uint32_t c = 0; c < p->nchunks;) {
		uint32_t n = 0;

		while (c + n < p->nchunks && CH_KIND(chunk_load(p, c + n)) == CH_FREE)
			n++;
		if (n) {
			chunks_release(p, c, n);
			bytes += (size_t)n << (p->chunk_shift + XMM_PAGE_SHIFT);
		}
		c += n + 1;
	}
	return bytes;
}

/*
 * Find @n contiguous chunks that are free or unused, commit the unused ones
 * (one ops call per run of them) and return the first in *@first. Prefers
 * committed chunks: a run of CH_FREE chunks costs no system call.
 */
static int chunks_get(struct xmm_pinpool *p, uint32_t n, uint32_t *first)
{
	uint32_t best = NO_PAGE, best_unused = UINT32_MAX;

	for (uint32_t c = 0; c + n <= p->nchunks; c++) {
		uint32_t unused = 0, k;

		for (k = 0; k < n; k++) {
			uint32_t kind = CH_KIND(chunk_load(p, c + k));

			if (kind != CH_FREE && kind != CH_UNUSED)
				break;
			unused += kind == CH_UNUSED;
		}
		if (k < n) {
			c += k; /* no run can contain chunk c + k */
			continue;
		}
		if (unused < best_unused) {
			best = c;
			best_unused = unused;
			if (!unused)
				break;
		}
	}
	if (best == NO_PAGE)
		return XMM_ENOMEM; /* the arena is full: the cap */
	for (uint32_t c = best; c < best + n;) {
		uint32_t m = 0;
		int rc;

		while (c + m < best + n && CH_KIND(chunk_load(p, c + m)) == CH_UNUSED)
			m++;
		if (m && (rc = chunks_commit(p, c, m)) != 0)
			return rc; /* chunks committed so far stay CH_FREE for later */
		c += m ? m : 1;
	}
	*first = best;
	return 0;
}

/* Carve a buffer of class @cls out of fresh chunks; the rest of a small chunk
 * goes onto the list. Returns its first page in *@idx, state FREE. */
static int carve(struct xmm_pinpool *p, uint32_t cls, uint32_t *idx)
{
	uint32_t c, first;
	int rc;

	if (cls >= p->nsmall) {
		uint32_t n = cls - p->nsmall + 1;

		if ((rc = chunks_get(p, n, &c)) != 0)
			return rc;
		first = c << p->chunk_shift;
		xmm_pr_store_relaxed_32(&p->page[first].state, ST(ST_FREE, cls));
		chunk_set(p, c, CH(CH_LARGE, cls));
		for (uint32_t k = 1; k < n; k++)
			chunk_set(p, c + k, CH(CH_TAIL, cls));
	} else {
		uint32_t step = 1u << cls, nbuf = 1u << (p->chunk_shift - cls);

		if ((rc = chunks_get(p, 1, &c)) != 0)
			return rc;
		first = c << p->chunk_shift;
		for (uint32_t b = 0; b < nbuf; b++) {
			uint32_t i = first + b * step;

			xmm_pr_store_relaxed_32(&p->page[i].state, ST(ST_FREE, cls));
			xmm_pr_store_relaxed_32(&p->page[i].next, b + 1 < nbuf ? i + step + 1 : 0);
		}
		chunk_set(p, c, CH(CH_SMALL, cls));
		if (nbuf > 1)
			list_push(p, cls, first + step, first + (nbuf - 1) * step);
	}
	xmm_counter_add(&p->misses, 1);
	*idx = first;
	return 0;
}

/*
 * Take every list and give chunks whose buffers were all on it back to
 * CH_FREE (P3), their buffers' state words to NONE; push the rest back.
 * Buffers in caches or allocated keep their chunks; a put racing with us
 * pushes onto the emptied list and only makes us keep a chunk.
 */
static void reclaim(struct xmm_pinpool *p)
{
	for (uint32_t cls = 0; cls < p->nclasses; cls++) {
		uint32_t all = list_take(p, cls), keep_first = 0, keep_last = 0;
		uint32_t whole = cls < p->nsmall ? 1u << p->chunk_shift : 0;

		if (!all)
			continue;
		for (uint32_t i1 = all; i1; i1 = xmm_pr_load_relaxed_32(&p->page[i1 - 1].next))
			p->scratch[chunk_of(p, i1 - 1)] = 0;
		for (uint32_t i1 = all; i1; i1 = xmm_pr_load_relaxed_32(&p->page[i1 - 1].next))
			p->scratch[chunk_of(p, i1 - 1)] += (uint32_t)class_pages(p, cls);
		for (uint32_t i1 = all, next; i1; i1 = next) {
			uint32_t idx = i1 - 1, c = chunk_of(p, idx);

			next = xmm_pr_load_relaxed_32(&p->page[idx].next);
			XMM_ASSERT(xmm_pr_load_relaxed_32(&p->page[idx].state) == ST(ST_FREE, cls));
			if (!whole || p->scratch[c] == whole) {
				/* The whole chunk (or large buffer) is free: un-carve it. */
				uint32_t n = whole ? 1 : cls - p->nsmall + 1;

				xmm_pr_store_relaxed_32(&p->page[idx].state, ST_NONE);
				for (uint32_t k = 0; k < n; k++)
					chunk_set(p, c + k, CH(CH_FREE, 0));
				continue;
			}
			xmm_pr_store_relaxed_32(&p->page[idx].next, keep_first);
			if (!keep_first)
				keep_last = idx;
			keep_first = i1;
		}
		if (keep_first)
			list_push(p, cls, keep_first - 1, keep_last);
	}
}

/* ---- caches ----------------------------------------------------------------------- */

/* Push slots [from, to) of cached class @cls onto its list as one chain. */
static void cache_flush(struct xmm_pinpool *p, struct xmm_pin_cache *c, uint32_t cls,
			uint32_t from, uint32_t to)
{
	uint32_t *s = &c->slot[cache_off[cls]];

	if (from == to)
		return;
	for (uint32_t i = from; i + 1 < to; i++)
		xmm_pr_store_relaxed_32(&p->page[s[i]].next, s[i + 1] + 1);
	list_push(p, cls, s[from], s[to - 1]);
}

void xmm_pin_cache_drain(struct xmm_pinpool *p, struct xmm_pin_cache *c)
{
	for (uint32_t cls = 0; cls < p->ncached; cls++) {
		cache_flush(p, c, cls, 0, c->count[cls]);
		c->count[cls] = 0;
	}
}

/* Drain if shrink asked every cache to since we last looked. */
static inline void cache_sync(struct xmm_pinpool *p, struct xmm_pin_cache *c)
{
	/* Relaxed: a request, not a hand-over; the lists order what drain pushes. */
	uint32_t g = xmm_pr_load_relaxed_32(&p->drain_gen);

	if (XMM_UNLIKELY(g != c->gen)) {
		xmm_pin_cache_drain(p, c);
		c->gen = g;
	}
}

void xmm_pin_cache_attach(struct xmm_pinpool *p, struct xmm_pin_cache *c)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->gen = xmm_pr_load_relaxed_32(&p->drain_gen);
	p->ops->lock(p->ctx);
	c->next = p->caches;
	if (c->next)
		c->next->prev = c;
	p->caches = c;
	p->ops->unlock(p->ctx);
}

/* Unlink @c (lock held) and keep its counts in the pool's. */
static void cache_unlink(struct xmm_pinpool *p, struct xmm_pin_cache *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		p->caches = c->next;
	if (c->next)
		c->next->prev = c->prev;
	xmm_pr_faa_64(&p->allocs, c->allocs);
	xmm_pr_faa_64(&p->frees, c->frees);
	xmm_pr_faa_64(&p->bytes_out, c->bytes_out);
	xmm_pr_faa_64(&p->bytes_back, c->bytes_back);
}

void xmm_pin_cache_detach(struct xmm_pinpool *p, struct xmm_pin_cache *c)
{
	xmm_pin_cache_drain(p, c);
	p->ops->lock(p->ctx);
	cache_unlink(p, c);
	p->ops->unlock(p->ctx);
}

/* ---- get and put ------------------------------------------------------------------- */

/*
 * Slow path, lock held: another thread may have refilled the list; else carve.
 * When the arena is full or the host refuses to lock more, drain our cache,
 * ask the others to drain theirs, reclaim fully free chunks and try again.
 */
static int refill(struct xmm_pinpool *p, struct xmm_pin_cache *c, uint32_t cls, uint32_t *idx)
{
	int rc;

	if ((*idx = list_pop(p, cls)) != NO_PAGE)
		return 0;
	if ((rc = carve(p, cls, idx)) == 0)
		return 0;
	if (c)
		xmm_pin_cache_drain(p, c);
	xmm_pr_faa_32(&p->drain_gen, 1);
	if (c)
		c->gen = xmm_pr_load_relaxed_32(&p->drain_gen);
	reclaim(p);
	if ((*idx = list_pop(p, cls)) != NO_PAGE)
		return 0;
	return carve(p, cls, idx);
}

int xmm_pin_cache_alloc(struct xmm_pinpool *p, struct xmm_pin_cache *c, size_t bytes, void **out)
{
	uint64_t pages;
	uint32_t cls, idx = NO_PAGE;
	char *buf;

	if (XMM_UNLIKELY(!out || bytes == 0))
		return XMM_EINVAL;
	if (XMM_UNLIKELY(bytes > p->arena_bytes)) {
		xmm_pr_faa_64(&p->failures, 1);
		return XMM_ENOMEM;
	}
	pages = (bytes + XMM_PAGE_SIZE - 1) >> XMM_PAGE_SHIFT;
	cls = class_of(p, pages);
	if (c) {
		cache_sync(p, c);
		if (cls < p->ncached && c->count[cls])
			idx = c->slot[cache_off[cls] + --c->count[cls]];
	}
	if (idx == NO_PAGE)
		idx = list_pop(p, cls);
	if (XMM_UNLIKELY(idx == NO_PAGE)) {
		int rc;

		p->ops->lock(p->ctx);
		rc = refill(p, c, cls, &idx);
		p->ops->unlock(p->ctx);
		if (rc) {
			xmm_pr_faa_64(&p->failures, 1);
			return rc;
		}
	}
	XMM_ASSERT(xmm_pr_load_relaxed_32(&p->page[idx].state) == ST(ST_FREE, cls));
	/* Relaxed: the buffer is ours (popped); whoever frees it learns of it
	 * through the caller's own hand-over, which orders this store. */
	xmm_pr_store_relaxed_32(&p->page[idx].state, ST(ST_ALLOC, cls));
	if (c) {
		xmm_counter_add(&c->allocs, 1);
		xmm_counter_add(&c->bytes_out, class_pages(p, cls) << XMM_PAGE_SHIFT);
	} else {
		xmm_pr_faa_64(&p->allocs, 1);
		xmm_pr_faa_64(&p->bytes_out, class_pages(p, cls) << XMM_PAGE_SHIFT);
	}
	buf = page_addr(p, idx);
	if (p->flags & XMM_PINPOOL_ZERO)
		__builtin_memset(buf, 0, pages << XMM_PAGE_SHIFT);
	*out = buf;
	return 0;
}

/* The first page of the buffer at @buf if it could be one (in the arena, page
 * aligned, in a chunk whose metadata is initialized), else NO_PAGE. */
static inline uint32_t buf_page(const struct xmm_pinpool *p, const void *buf)
{
	uintptr_t off = (uintptr_t)buf - (uintptr_t)p->base;
	uint32_t idx;

	if (off >= p->arena_bytes || (off & (XMM_PAGE_SIZE - 1)))
		return NO_PAGE;
	idx = (uint32_t)(off >> XMM_PAGE_SHIFT);
	/* Acquire pairs with chunk_set's release after the metadata was written (P1). */
	if (!(xmm_pr_load_acquire_32(&p->chunk[chunk_of(p, idx)]) & CH_INIT))
		return NO_PAGE;
	return idx;
}

int xmm_pin_cache_free(struct xmm_pinpool *p, struct xmm_pin_cache *c, void *buf)
{
	uint32_t idx = buf_page(p, buf), st, cls;

	if (XMM_UNLIKELY(idx == NO_PAGE))
		goto bad;
	st = xmm_pr_load_relaxed_32(&p->page[idx].state);
	/* The one transition out of ALLOC: of two racing frees, one CAS wins.
	 * acq_rel orders the caller's writes to the buffer before the push. */
	if (XMM_UNLIKELY(ST_KIND(st) != ST_ALLOC) ||
	    !xmm_pr_cas_32(&p->page[idx].state, &st, ST(ST_FREE, ST_CLASS(st))))
		goto bad;
	cls = ST_CLASS(st);
	if (c) {
		cache_sync(p, c);
		if (cls < p->ncached) {
			uint32_t n = c->count[cls];

			if (XMM_UNLIKELY(n == cache_cap[cls])) {
				/* Full: the older half goes to the list in one CAS. */
				uint32_t half = n / 2, *s = &c->slot[cache_off[cls]];

				cache_flush(p, c, cls, 0, half);
				for (uint32_t i = half; i < n; i++)
					s[i - half] = s[i];
				n -= half;
			}
			c->slot[cache_off[cls] + n] = idx;
			c->count[cls] = n + 1;
		} else {
			list_push(p, cls, idx, idx);
		}
		xmm_counter_add(&c->frees, 1);
		xmm_counter_add(&c->bytes_back, class_pages(p, cls) << XMM_PAGE_SHIFT);
	} else {
		list_push(p, cls, idx, idx);
		xmm_pr_faa_64(&p->frees, 1);
		xmm_pr_faa_64(&p->bytes_back, class_pages(p, cls) << XMM_PAGE_SHIFT);
	}
	return 0;
bad:
	xmm_pr_faa_64(&p->bad_frees, 1);
	return XMM_EINVAL;
}

size_t xmm_pinpool_buf_bytes(const struct xmm_pinpool *p, const void *buf)
{
	uint32_t idx = buf_page(p, buf), st;

	if (idx == NO_PAGE)
		return 0;
	st = xmm_pr_load_relaxed_32(&p->page[idx].state);
	if (ST_KIND(st) != ST_ALLOC)
		return 0;
	return class_pages(p, ST_CLASS(st)) << XMM_PAGE_SHIFT;
}

/* ---- shrink, stats, fini ---------------------------------------------------------- */

size_t xmm_pinpool_release_chunks(struct xmm_pinpool *p)
{
	size_t bytes;

	/* Ask every cache to drain at its owner's next call. */
	xmm_pr_faa_32(&p->drain_gen, 1);
	p->ops->lock(p->ctx);
	reclaim(p);
	bytes = release_free_chunks(p);
	p->ops->unlock(p->ctx);
	return bytes;
}

void xmm_pinpool_stats(const struct xmm_pinpool *p, struct xmm_pinpool_stats *st)
{
	uint64_t allocs, frees, out, back;

	p->ops->lock(p->ctx);
	allocs = xmm_pr_load_relaxed_64(&p->allocs);
	frees = xmm_pr_load_relaxed_64(&p->frees);
	out = xmm_pr_load_relaxed_64(&p->bytes_out);
	back = xmm_pr_load_relaxed_64(&p->bytes_back);
	for (const struct xmm_pin_cache *c = p->caches; c; c = c->next) {
		allocs += xmm_pr_load_relaxed_64(&c->allocs);
		frees += xmm_pr_load_relaxed_64(&c->frees);
		out += xmm_pr_load_relaxed_64(&c->bytes_out);
		back += xmm_pr_load_relaxed_64(&c->bytes_back);
	}
	st->os_calls = p->ops->os_calls ? p->ops->os_calls(p->ctx) : p->op_calls;
	st->bytes_locked = p->bytes_locked;
	/* Counters of running threads are read one after the other: a free may be
	 * seen before its allocation, a carve before its count. Exact when quiescent. */
	st->bytes_in_use = out > back ? out - back : 0;
	st->misses = p->misses;
	st->allocs = allocs;
	st->hits = allocs > p->misses ? allocs - p->misses : 0;
	st->frees = frees;
	st->bad_frees = xmm_pr_load_relaxed_64(&p->bad_frees);
	st->failures = xmm_pr_load_relaxed_64(&p->failures);
	st->commits = p->commits;
	st->releases = p->releases;
	st->cap_bytes = p->arena_bytes;
	st->chunk_bytes = (uint64_t)1 << (p->chunk_shift + XMM_PAGE_SHIFT);
	p->ops->unlock(p->ctx);
}

void xmm_pinpool_fini(struct xmm_pinpool *p,
		      void (*free_cache)(struct xmm_pin_cache *c, void *arg), void *arg)
{
	while (p->caches) {
		struct xmm_pin_cache *c = p->caches;

		cache_unlink(p, c);
		if (free_cache)
			free_cache(c, arg);
	}
	for (uint32_t c = 0; c < p->nchunks; c++)
		if (CH_KIND(chunk_load(p, c)) != CH_UNUSED)
			chunk_set(p, c, CH(CH_FREE, 0));
	release_free_chunks(p);
}
