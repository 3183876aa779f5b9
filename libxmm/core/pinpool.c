/* SPDX-License-Identifier: MIT */
/*
 * Pinned-buffer pool, the freestanding allocator (see xmm/pinpool.h; the
 * invariants and the object are in pinpool_impl.h): layout, init, stats,
 * release_chunks, fini.
 */
#include "pinpool_impl.h"

struct pin_layout {
	size_t list, chunk, scratch, page, total;
};

static bool geometry_ok(size_t arena_bytes, size_t chunk_bytes)
{
	if (chunk_bytes < XMM_PAGE_SIZE || (chunk_bytes & (chunk_bytes - 1)))
		return false;
	if (arena_bytes == 0 || arena_bytes % chunk_bytes)
		return false;
	return arena_bytes / XMM_PAGE_SIZE <= XMM_PINPOOL_MAX_PAGES;
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

/* ---- shrink, stats, fini ---------------------------------------------------------- */

size_t xmm_pinpool_release_chunks(struct xmm_pinpool *p)
{
	size_t bytes;

	/* Ask every cache to drain at its owner's next call. */
	xmm_pr_faa_32(&p->drain_gen, 1);
	p->ops->lock(p->ctx);
	xmm_pinpool_reclaim(p);
	bytes = xmm_pinpool_release_unused(p);
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

		xmm_pin_cache_unlink(p, c);
		if (free_cache)
			free_cache(c, arg);
	}
	for (uint32_t c = 0; c < p->nchunks; c++)
		if (CH_KIND(chunk_load(p, c)) != CH_UNUSED)
			chunk_set(p, c, CH(CH_FREE, 0));
	xmm_pinpool_release_unused(p);
}
