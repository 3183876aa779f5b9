/* SPDX-License-Identifier: MIT */
/*
 * Baseline for seed 004: a 3-level p2m tree as Linux kept it before 3.19,
 * written for libxmm from that design (not copied from Linux):
 *
 *  - top[pfn >> 18] -> mid[(pfn >> 9) & 511] -> leaf[pfn & 511], every mid and
 *    leaf one page; a lookup is three dependent loads;
 *  - holes are shared pages: a "missing" leaf of XMM_INVALID_MFN, a missing
 *    mid whose slots all point at it, and an identity leaf (all
 *    XMM_INVALID_MFN, told apart by address) with an identity mid for whole
 *    1 GiB identity ranges;
 *  - pages come from xmm_pages_alloc, as the portable backend's do; the top
 *    level covers max_pfn (Linux's one page reached 512 GiB).
 *
 * One writer at a time; gets use the same atomic loads as libxmm's, so that
 * the comparison is between structures, not between load primitives.
 */
#ifndef XMM_BENCH_P2M_TREE_H
#define XMM_BENCH_P2M_TREE_H

#include <xmm/user/p2m.h>

#define P2M_TREE_LEAF_SHIFT 9
#define P2M_TREE_MID_SHIFT 18 /* one mid: 512 leaves, 1 GiB */

struct p2m_tree {
	xmm_pfn_t max_pfn;
	uint64_t ntop;
	const uint64_t ***top; /* ntop mids */
	const uint64_t **missing_mid, **identity_mid;
	uint64_t *missing_leaf, *identity_leaf;
	uint64_t pages; /* private mids and leaves */
};

int p2m_tree_init(struct p2m_tree *t, xmm_pfn_t max_pfn);
void p2m_tree_fini(struct p2m_tree *t);
int p2m_tree_set(struct p2m_tree *t, xmm_pfn_t pfn, xmm_mfn_t mfn);
int p2m_tree_set_range(struct p2m_tree *t, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n);
int p2m_tree_set_identity(struct p2m_tree *t, xmm_pfn_t start, xmm_pfn_t end);
/* Bytes of memory the tree holds: its top level and its private pages. */
uint64_t p2m_tree_bytes(const struct p2m_tree *t);

static inline xmm_mfn_t p2m_tree_get(const struct p2m_tree *t, xmm_pfn_t pfn)
{
	const uint64_t *const *mid;
	const uint64_t *leaf;
	uint64_t e;

	if (XMM_UNLIKELY(pfn >= t->max_pfn))
		return XMM_INVALID_MFN;
	mid = (const uint64_t *const *)xmm_pr_load_acquire_ptr(&t->top[pfn >> P2M_TREE_MID_SHIFT]);
	leaf = (const uint64_t *)xmm_pr_load_acquire_ptr(&mid[(pfn >> P2M_TREE_LEAF_SHIFT) & 511]);
	e = xmm_pr_load_relaxed_64(&leaf[pfn & 511]);
	if (XMM_LIKELY(e != XMM_INVALID_MFN) || leaf != t->identity_leaf)
		return e;
	return XMM_IDENTITY_FRAME(pfn);
}

#endif /* XMM_BENCH_P2M_TREE_H */
