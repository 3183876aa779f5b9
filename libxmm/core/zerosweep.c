/* SPDX-License-Identifier: MIT */
/*
 * Zero sweep for populate-on-demand reclaim: see xmm/zerosweep.h.
 *
 * Layout (one block of caller memory, xmm_zerosweep_size() bytes):
 *
 *   line 0   read-only after init (geometry), then the reclaim loop's own
 *            state (cursors, its statistics), written only under its lock
 *   line 1   what notes write: the pending count and the noted statistic
 *   tail     pending[words]   bit k: superpage k noted since it was last offered
 *            offered[words]   bit k: superpage k offered in this linear pass
 *
 * Invariants (checked by XMM_ASSERT where cheap):
 *   I1  only note sets pending bits and only next clears them; next clears a
 *       bit it saw set, so its atomic AND always finds it set.
 *   I2  npending >= the number of pending bits whose note has completed: a
 *       note adds 1 before it sets its bit (and takes it back if the bit was
 *       already set); next takes 1 only for a bit it cleared. So npending == 0
 *       proves that no completed note is waiting, and next may skip the search.
 *   I3  offered is touched by next only; lin_cursor <= nsp, and every
 *       superpage below lin_cursor has its offered bit set.
 */
#include <xmm/errno.h>
#include <xmm/platform.h>
#include <xmm/zerosweep.h>

#include "utils.h"

struct xmm_zerosweep {
	/* line 0: geometry (read-only after init), then the reclaim loop's state */
	uint64_t nsp;   /* superpages covered */
	uint64_t words; /* words of each bitmap */
	uint32_t order;
	uint32_t pad;
	uint64_t cand_cursor; /* where the search for pending superpages resumes */
	uint64_t lin_cursor;  /* next superpage of the linear pass */
	uint64_t offered_n, from_notes, checked, whole, zero_pages; /* statistics */
	/* line 1: written by notes */
	uint64_t npending XMM_ALIGNED(XMM_CACHELINE);
	uint64_t noted;
	/* pending[words], then offered[words] */
	uint64_t tail[] XMM_ALIGNED(XMM_CACHELINE);
};

static inline uint64_t *pending_bits(struct xmm_zerosweep *s)
{
	return s->tail;
}

static inline uint64_t *offered_bits(struct xmm_zerosweep *s)
{
	return s->tail + s->words;
}

size_t xmm_zerosweep_size(uint64_t npages, unsigned int order)
{
	uint64_t nsp, words;

	if (order == 0 || order > XMM_SUPERPAGE_MAX_ORDER)
		return 0;
	nsp = npages >> order;
	words = (nsp + 63) / 64;
	if (nsp == 0 || words > (SIZE_MAX - sizeof(struct xmm_zerosweep)) / (2 * sizeof(uint64_t)))
		return 0;
	return sizeof(struct xmm_zerosweep) + (size_t)words * 2 * sizeof(uint64_t);
}

int xmm_zerosweep_init(struct xmm_zerosweep *s, uint64_t npages, unsigned int order)
{
	size_t size = xmm_zerosweep_size(npages, order);

	if (!s || size == 0 || ((uintptr_t)s & (XMM_ZEROSWEEP_ALIGN - 1)))
		return XMM_EINVAL;
	__builtin_memset(s, 0, size);
	s->nsp = npages >> order;
	s->words = (s->nsp + 63) / 64;
	s->order = order;
	return 0;
}

uint64_t xmm_zerosweep_superpage_pages(const struct xmm_zerosweep *s)
{
	return 1ULL << s->order;
}

uint64_t xmm_zerosweep_superpages(const struct xmm_zerosweep *s)
{
	return s->nsp;
}

int xmm_zerosweep_note(struct xmm_zerosweep *s, xmm_pfn_t pfn)
{
	uint64_t k = pfn >> s->order, bit = 1ULL << (k % 64);

	if (k >= s->nsp)
		return XMM_ERANGE;
	/* I2: count first; the release pairs with next's acquire load of npending. */
	xmm_pr_faa_64(&s->npending, 1);
	/* Release: pairs with the atomic AND of next that claims the bit. */
	if (xmm_pr_for_64(&pending_bits(s)[k / 64], bit) & bit)
		xmm_pr_faa_64(&s->npending, (uint64_t)-1); /* already pending: give the count back */
	else
		xmm_pr_faa_64(&s->noted, 1);
	return 0;
}

/* Claim the first pending superpage from cand_cursor on, wrapping once. Under the loop's lock. */
static bool claim_pending(struct xmm_zerosweep *s, uint64_t *k)
{
	uint64_t *pend = pending_bits(s);
	uint64_t start = s->cand_cursor, w0 = start / 64;

	for (uint64_t i = 0; i <= s->words; i++) {
		uint64_t w = (w0 + i) % s->words;
		/* Relaxed: a bit seen set stays set until we clear it (I1); one missed is a racing note's. */
		uint64_t bits = xmm_pr_load_relaxed_64(&pend[w]);

		if (i == 0)
			bits &= ~0ULL << (start % 64);
		else if (i == s->words)
			bits &= (1ULL << (start % 64)) - 1; /* back in the first word: the bits before start */
		if (bits) {
			uint64_t b = (uint64_t)__builtin_ctzll(bits), old;

			/* Acquire: pairs with the release OR of the note that set the bit. */
			old = xmm_pr_fand_64(&pend[w], ~(1ULL << b));
			XMM_ASSERT(old & (1ULL << b)); /* I1 */
			(void)old;
			xmm_pr_faa_64(&s->npending, (uint64_t)-1);
			*k = w * 64 + b;
			s->cand_cursor = *k + 1 < s->nsp ? *k + 1 : 0;
			return true;
		}
	}
	return false;
}

int xmm_zerosweep_next(struct xmm_zerosweep *s, xmm_pfn_t *first)
{
	uint64_t *offered = offered_bits(s);
	uint64_t k;

	if (!first)
		return XMM_EINVAL;
	/* Acquire: pairs with the release add of note (I2: 0 means no completed note waits). */
	if ((int64_t)xmm_pr_load_acquire_64(&s->npending) > 0 && claim_pending(s, &k)) {
		xmm_counter_add(&s->from_notes, 1);
	} else {
		/* The linear pass: the next superpage not offered yet in this pass (I3). */
		k = s->lin_cursor;
		while (k < s->nsp) {
			uint64_t free_bits = ~offered[k / 64] & (~0ULL << (k % 64));

			if (free_bits) {
				k = (k & ~63ULL) + (uint64_t)__builtin_ctzll(free_bits);
				break;
			}
			k = (k | 63) + 1;
		}
		if (k >= s->nsp) {
			__builtin_memset(offered, 0, s->words * sizeof(uint64_t));
			s->lin_cursor = 0;
			return XMM_ENOENT;
		}
		s->lin_cursor = k + 1;
	}
	offered[k / 64] |= 1ULL << (k % 64);
	xmm_counter_add(&s->offered_n, 1);
	*first = k << s->order;
	return 0;
}

int64_t xmm_zerosweep_check(struct xmm_zerosweep *s, const void *sp, uint64_t *zero)
{
	uint64_t pages = 1ULL << s->order;
	size_t n;

	if (!sp || !zero)
		return XMM_EINVAL;
	n = xmm_zero_scan(sp, pages, zero);
	xmm_counter_add(&s->checked, 1);
	xmm_counter_add(&s->whole, n == pages);
	xmm_counter_add(&s->zero_pages, n);
	return (int64_t)n;
}

void xmm_zerosweep_stats(const struct xmm_zerosweep *s, struct xmm_zerosweep_stats *st)
{
	st->noted = xmm_pr_load_relaxed_64(&s->noted);
	st->offered = xmm_pr_load_relaxed_64(&s->offered_n);
	st->from_notes = xmm_pr_load_relaxed_64(&s->from_notes);
	st->checked = xmm_pr_load_relaxed_64(&s->checked);
	st->whole = xmm_pr_load_relaxed_64(&s->whole);
	st->zero_pages = xmm_pr_load_relaxed_64(&s->zero_pages);
}
