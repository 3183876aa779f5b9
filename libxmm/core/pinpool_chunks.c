/* SPDX-License-Identifier: MIT */
/*
 * Pinned-buffer pool: chunks (pinpool_impl.h). Everything here runs under
 * the host lock: committing, carving into buffers, reclaiming chunks whose
 * buffers are all on the lists, releasing them.
 */
#include "pinpool_impl.h"

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
size_t xmm_pinpool_release_unused(struct xmm_pinpool *p)
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
int xmm_pinpool_carve(struct xmm_pinpool *p, uint32_t cls, uint32_t *idx)
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
void xmm_pinpool_reclaim(struct xmm_pinpool *p)
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
