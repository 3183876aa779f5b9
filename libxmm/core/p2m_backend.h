/* SPDX-License-Identifier: MIT */
/*
 * p2m_backend.h - what p2m.c (the common part: locking, the generation,
 * set, clear, set_identity) shares with its two backends (internal):
 *
 *   p2m_linear.c     one virtual range of entries (the platform's xmm_vm_*),
 *                    identity and private bitmaps, discard to give back
 *   p2m_portable.c   a directory of leaf pointers, the two shared leaves,
 *                    retire pages and RCU to give back
 *
 * p2m.c picks the backend once per operation (P2M_BACKEND below); the small
 * accessors every operation needs (kind_of, leaf_words) are inline here.
 *
 * The entry encoding is written once, here: a stored word is mfn ^ p->flip,
 * with flip ~0 for the linear backend (so that an untouched page, all zero,
 * reads as "no entry": hole or identity, told apart by the identity bitmap)
 * and 0 for the portable one (whose shared hole leaf holds XMM_INVALID_MFN).
 * The inline get (xmm/static/p2m.h) decodes the linear words as ~e.
 */
#ifndef XMM_CORE_P2M_BACKEND_H
#define XMM_CORE_P2M_BACKEND_H

#include <xmm/errno.h>
#include <xmm/p2m.h>
#include <xmm/platform.h>
#include <xmm/static/p2m.h>

#include "utils.h"

#define LEAF_SHIFT XMM_P2M_LEAF_SHIFT
#define LEAF_ENTRIES ((uint64_t)XMM_P2M_LEAF_ENTRIES)
#define LEAF_BYTES (LEAF_ENTRIES * sizeof(uint64_t))

enum kind { HOLE, IDENTITY, PRIVATE };

struct xmm_p2m {
	struct xmm_p2m_head head; /* line 0 */
	/* line 1: written by writers only */
	uint64_t lock XMM_ALIGNED(XMM_CACHELINE); /* serializes structural updates */
	uint64_t generation;
	uint64_t leaves;          /* private leaves */
	uint64_t identity_leaves; /* shared identity leaves */
	uint64_t nleaves;
	uint64_t flip;            /* stored entry = mfn ^ flip: ~0 linear, 0 portable */
	uint64_t *identity_bits;  /* linear; head.identity_bits is the same words */
	uint64_t *private_bits;   /* linear */
	size_t size;
	/* the directory or the bitmaps follow, on their own cache line */
	uint64_t tail[] XMM_ALIGNED(XMM_CACHELINE);
};

/* The portable backend's two shared leaves, all XMM_INVALID_MFN, told apart by address. */
extern const uint64_t xmm_p2m_shared_leaves[2][XMM_P2M_LEAF_ENTRIES];
#define HOLE_LEAF (xmm_p2m_shared_leaves[HOLE])
#define IDENTITY_LEAF (xmm_p2m_shared_leaves[IDENTITY])

static inline bool linear(const struct xmm_p2m *p)
{
	return p->head.backend == XMM_P2M_LINEAR;
}

/* Call the backend's version of @fn: xmm_p2m_linear_fn or xmm_p2m_portable_fn. */
#define P2M_BACKEND(p, fn, ...)                                                   \
	(linear(p) ? xmm_p2m_linear_##fn(__VA_ARGS__) : xmm_p2m_portable_##fn(__VA_ARGS__))

static inline uint64_t nleaves_of(xmm_pfn_t max_pfn)
{
	return (max_pfn + LEAF_ENTRIES - 1) >> LEAF_SHIFT;
}

/* Entries of leaf l below max_pfn. */
static inline uint64_t leaf_len(const struct xmm_p2m *p, uint64_t l)
{
	uint64_t left = p->head.max_pfn - (l << LEAF_SHIFT);

	return left < LEAF_ENTRIES ? left : LEAF_ENTRIES;
}

static inline uint64_t entry_encode(const struct xmm_p2m *p, xmm_mfn_t mfn)
{
	return mfn ^ p->flip;
}

static inline xmm_mfn_t entry_decode(const struct xmm_p2m *p, uint64_t e)
{
	return e ^ p->flip;
}

static inline const uint64_t **slots(struct xmm_p2m *p)
{
	return (const uint64_t **)(void *)p->tail;
}

static inline const uint64_t *const *slots_c(const struct xmm_p2m *p)
{
	return (const uint64_t *const *)(const void *)p->tail;
}

static inline bool bit_test(const uint64_t *words, uint64_t i, bool acquire)
{
	uint64_t w = acquire ? xmm_pr_load_acquire_64(&words[i / 64])
			     : xmm_pr_load_relaxed_64(&words[i / 64]);

	return (w >> (i % 64)) & 1;
}

static inline enum kind kind_of(const struct xmm_p2m *p, uint64_t l)
{
	const uint64_t *leaf;

	if (linear(p)) {
		/* Acquire pairs with bit_assign in xmm_p2m_linear_publish: a setter that
		 * sees the leaf private stores after the installer's identity fill. */
		if (bit_test(p->private_bits, l, true))
			return PRIVATE;
		return bit_test(p->identity_bits, l, false) ? IDENTITY : HOLE;
	}
	/* Acquire pairs with the release store that published the leaf. */
	leaf = xmm_pr_load_acquire_ptr(&slots_c(p)[l]);
	return leaf == HOLE_LEAF ? HOLE : leaf == IDENTITY_LEAF ? IDENTITY : PRIVATE;
}

/* The stored words of a private leaf. */
static inline uint64_t *leaf_words(struct xmm_p2m *p, uint64_t l)
{
	if (linear(p))
		return &p->head.entries[l << LEAF_SHIFT];
	return (uint64_t *)(uintptr_t)xmm_pr_load_acquire_ptr(&slots(p)[l]);
}

/* Store the values of the shared leaf of @kind into words [from, to) of leaf l.
 * Single atomic stores: gets may be reading them. */
static inline void leaf_fill(const struct xmm_p2m *p, uint64_t *w, uint64_t l, enum kind kind,
			     uint64_t from, uint64_t to)
{
	xmm_pfn_t base = l << LEAF_SHIFT;

	for (uint64_t i = from; i < to; i++)
		xmm_pr_store_relaxed_64(&w[i], entry_encode(p, kind == IDENTITY
								  ? XMM_IDENTITY_FRAME(base + i)
								  : XMM_INVALID_MFN));
}

/* A run of consecutive shared leaves to install, prepared outside the lock. */
#define BATCH 32
struct batch {
	uint64_t first;
	unsigned int n;
	uint8_t kind[BATCH];     /* each leaf's shared kind when prepared */
	uint64_t *page[BATCH];   /* portable: the filled copies; NULL once published */
};

/*
 * What a give-back pass (clear, set_identity) accumulates. Linear: the run of
 * leaves, ending at the current one, that are shared after the update, and
 * whether one of them was private; every shared leaf reads all zero and no
 * other writer runs (the callers' exclusion), so one discard may span the
 * run: a whole clear costs one TLB shootdown, not one per leaf. Portable: the
 * retire pages reserved for the leaves given back.
 */
struct xmm_p2m_retire;
struct giveback {
	uint64_t discard_first, discard_n;
	bool discard_needed;
	struct xmm_p2m_retire *retire, *fill;
};

/* Under the lock (the only writer of the counters), with the generation odd. */
static inline void counter_add(uint64_t *c, int64_t d)
{
	/* Release pairs with the acquire loads in xmm_p2m_stats. */
	xmm_counter_add_release(c, (uint64_t)d);
}

/*
 * The backends. Each of p2m_linear.c and p2m_portable.c defines:
 *   tail_bytes(nleaves)        bytes of the tail (bitmaps, or the directory)
 *   init(p) / fini(p)          the tail and the backend's memory
 *   prepare(p, b)              outside the lock: back the batch's leaves with
 *                              memory holding the values they have now
 *   publish(p, l, k, b, i)     under the lock: shared leaf l of kind k (the
 *                              batch's i-th) becomes the prepared private one
 *   release(p, b)              after publish, or instead of it: free what was
 *                              prepared and not published
 *   unprepare(p, b)            give back a batch prepared but never published
 *   giveback_begin(p, l0, l1, kind, extra, g)   outside the lock: reserve what
 *                              making [l0, l1) shared leaves of @kind needs (and
 *                              @extra more leaves)
 *   unshare(p, l, k, kind, g)  under the lock: leaf l of kind k becomes the
 *                              shared leaf of @kind
 *   giveback_next(p, g, l, was_private)   under the lock, after leaf l
 *   giveback_locked_end(p, g)  under the lock, after the last leaf
 *   giveback_end(p, g)         after unlocking: the deferred frees
 */
#define XMM_P2M_BACKEND(b)                                                                 \
	size_t xmm_p2m_##b##_tail_bytes(uint64_t nleaves);                                  \
	int xmm_p2m_##b##_init(struct xmm_p2m *p);                                          \
	void xmm_p2m_##b##_fini(struct xmm_p2m *p);                                         \
	int xmm_p2m_##b##_prepare(struct xmm_p2m *p, struct batch *bt);                     \
	void xmm_p2m_##b##_publish(struct xmm_p2m *p, uint64_t l, enum kind k,              \
				   struct batch *bt, unsigned int i);                         \
	void xmm_p2m_##b##_release(struct xmm_p2m *p, struct batch *bt);                    \
	void xmm_p2m_##b##_unprepare(struct xmm_p2m *p, struct batch *bt);                  \
	int xmm_p2m_##b##_giveback_begin(struct xmm_p2m *p, uint64_t l0, uint64_t l1,       \
					 enum kind kind, uint64_t extra, struct giveback *g); \
	void xmm_p2m_##b##_unshare(struct xmm_p2m *p, uint64_t l, enum kind k,              \
				   enum kind kind, struct giveback *g);                       \
	void xmm_p2m_##b##_giveback_next(struct xmm_p2m *p, struct giveback *g, uint64_t l, \
					 bool was_private);                                   \
	void xmm_p2m_##b##_giveback_locked_end(struct xmm_p2m *p, struct giveback *g);      \
	void xmm_p2m_##b##_giveback_end(struct xmm_p2m *p, struct giveback *g);

XMM_P2M_BACKEND(linear)
XMM_P2M_BACKEND(portable)

#endif /* XMM_CORE_P2M_BACKEND_H */
