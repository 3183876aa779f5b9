/* SPDX-License-Identifier: MIT */
/*
 * Pinned-buffer pool: the fast paths (pinpool_impl.h). Caches, and alloc and
 * free through them; the lists when a cache is empty, full or absent.
 */
#include "pinpool_impl.h"

/* Slots of each cached class, and where they start in xmm_pin_cache.slot. */
static const uint8_t cache_cap[XMM_PIN_CACHE_CLASSES] = { 16, 8, 4, 2, 2, 2, 2 };
static const uint8_t cache_off[XMM_PIN_CACHE_CLASSES] = { 0, 16, 24, 28, 30, 32, 34 };
_Static_assert(34 + 2 == XMM_PIN_CACHE_SLOTS, "cache slots");

/* ---- caches ----------------------------------------------------------------------- */

/* Push slots [from, to) of cached class @cls onto its list as one chain. */
static void cache_spill(struct xmm_pinpool *p, struct xmm_pin_cache *c, uint32_t cls,
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
		cache_spill(p, c, cls, 0, c->count[cls]);
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
void xmm_pin_cache_unlink(struct xmm_pinpool *p, struct xmm_pin_cache *c)
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
	xmm_pin_cache_unlink(p, c);
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
	if ((rc = xmm_pinpool_carve(p, cls, idx)) == 0)
		return 0;
	if (c)
		xmm_pin_cache_drain(p, c);
	xmm_pr_faa_32(&p->drain_gen, 1);
	if (c)
		c->gen = xmm_pr_load_relaxed_32(&p->drain_gen);
	xmm_pinpool_reclaim(p);
	if ((*idx = list_pop(p, cls)) != NO_PAGE)
		return 0;
	return xmm_pinpool_carve(p, cls, idx);
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

				cache_spill(p, c, cls, 0, half);
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
