/* SPDX-License-Identifier: MIT */
/*
 * tagstack.h - the one lock-free stack of the core (internal): a Treiber
 * stack of indices over links the caller stores (scrub: the extent's
 * caller-owned struct xmm_scrub_link; pinpool: the page's metadata line).
 *
 * The head is one 64-bit word: the top element's index + 1 in the low @bits
 * (0: empty), a tag in the rest. A link holds the next element's index + 1.
 * @bits is a compile-time constant at every call, and the link accessors are
 * static functions: every call inlines to the bare loop.
 *
 * ABA. Every successful compare-and-swap of the head adds one to the tag.
 * A pop reads the head h, then the top's link, then CASes h -> (tag + 1,
 * link). If the top was popped meanwhile, its link may be stale (it may even
 * have been pushed back with another link), but then the head changed, and
 * it can equal h again only after 2^(64 - bits) successful changes: the tag
 * wrapped within one pop's window. scrub (40-bit pfns) leaves a 24-bit tag,
 * 16.7 M pushes and pops between one popper's load and CAS; pinpool (28-bit
 * pages) a 36-bit one. A push needs the tag only to keep that count honest:
 * its own CAS writes a link it just stored, stale or not.
 *
 * Ordering. The CAS of push_chain is a release: the links and everything
 * the pusher wrote to the elements before (e.g. freed buffers' contents, an
 * extent's length) are visible to the pop that takes them, whose load of the
 * head (and the reload on a failed CAS) is the acquire it pairs with. A
 * relaxed link store is enough: a stale pop may read it at any time, and
 * only a CAS that succeeds publishes it.
 */
#ifndef XMM_CORE_TAGSTACK_H
#define XMM_CORE_TAGSTACK_H

#include "utils.h"

/* The link of element @idx: its next element's index + 1 (0: none). */
typedef uint64_t (*xmm_tagstack_next_fn)(void *ctx, uint64_t idx);
typedef void (*xmm_tagstack_set_next_fn)(void *ctx, uint64_t idx, uint64_t next1);

static inline uint64_t xmm_tagstack_idx1(uint64_t head, unsigned int bits)
{
	return head & ((1ULL << bits) - 1);
}

/* @head with index + 1 @idx1 and the tag moved on by one. */
static inline uint64_t xmm_tagstack_next_head(uint64_t head, unsigned int bits, uint64_t idx1)
{
	return ((head >> bits) + 1) << bits | idx1;
}

/* Whether the stack is empty now (acquire: a non-empty answer sees the top's link). */
static inline bool xmm_tagstack_empty(const uint64_t *head, unsigned int bits)
{
	return xmm_tagstack_idx1(xmm_pr_load_acquire_64(head), bits) == 0;
}

/* Push the chain @first .. @last, already linked first -> ... -> last by the caller. */
static XMM_ALWAYS_INLINE void xmm_tagstack_push_chain(uint64_t *head, unsigned int bits,
						      uint64_t first, uint64_t last, void *ctx,
						      xmm_tagstack_set_next_fn set_next)
{
	uint64_t h = xmm_pr_load_relaxed_64(head);

	XMM_ASSERT(first + 1 < (1ULL << bits) && last + 1 < (1ULL << bits));
	do
		set_next(ctx, last, xmm_tagstack_idx1(h, bits));
	/* Release (acq_rel CAS): the links and the elements before the head; pairs with pop. */
	while (!xmm_pr_cas_64(head, &h, xmm_tagstack_next_head(h, bits, first + 1)));
}

static XMM_ALWAYS_INLINE void xmm_tagstack_push(uint64_t *head, unsigned int bits, uint64_t idx,
						void *ctx, xmm_tagstack_set_next_fn set_next)
{
	xmm_tagstack_push_chain(head, bits, idx, idx, ctx, set_next);
}

/* Pop the top into *@idx; false when the stack was empty. */
static XMM_ALWAYS_INLINE bool xmm_tagstack_pop(uint64_t *head, unsigned int bits, void *ctx,
					       xmm_tagstack_next_fn next, uint64_t *idx)
{
	/* Acquire pairs with push_chain's release CAS: the top's link is the pusher's or newer. */
	uint64_t h = xmm_pr_load_acquire_64(head);

	while (xmm_tagstack_idx1(h, bits)) {
		uint64_t top = xmm_tagstack_idx1(h, bits) - 1;
		/* May be stale if the top went meanwhile: then the tag fails the CAS (ABA above). */
		uint64_t n1 = next(ctx, top);

		/* On failure the CAS reloads h with acquire, as above. */
		if (xmm_pr_cas_64(head, &h, xmm_tagstack_next_head(h, bits, n1))) {
			*idx = top;
			return true;
		}
	}
	return false;
}

/* Take the whole stack: its top's index + 1 (follow the links from there), 0 if empty. */
static inline uint64_t xmm_tagstack_take_all(uint64_t *head, unsigned int bits)
{
	uint64_t h = xmm_pr_load_acquire_64(head);

	/* acq_rel: we see every push before ours (pairs with push_chain's release). */
	while (xmm_tagstack_idx1(h, bits) && !xmm_pr_cas_64(head, &h, xmm_tagstack_next_head(h, bits, 0)))
		;
	return xmm_tagstack_idx1(h, bits);
}

#endif /* XMM_CORE_TAGSTACK_H */
