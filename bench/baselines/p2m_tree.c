/* SPDX-License-Identifier: MIT */
/* The 3-level p2m tree baseline (see p2m_tree.h). */
#include "p2m_tree.h"

#include <stdlib.h>

#include <xmm/errno.h>

#define PER_PAGE 512

static void *page(void)
{
	return xmm_pages_alloc(1);
}

int p2m_tree_init(struct p2m_tree *t, xmm_pfn_t max_pfn)
{
	t->max_pfn = max_pfn;
	t->ntop = (max_pfn + (1ULL << P2M_TREE_MID_SHIFT) - 1) >> P2M_TREE_MID_SHIFT;
	t->pages = 0;
	t->top = calloc(t->ntop, sizeof(*t->top));
	t->missing_leaf = page();
	t->identity_leaf = page();
	t->missing_mid = page();
	t->identity_mid = page();
	if (!t->top || !t->missing_leaf || !t->identity_leaf || !t->missing_mid || !t->identity_mid) {
		p2m_tree_fini(t);
		return XMM_ENOMEM;
	}
	for (int i = 0; i < PER_PAGE; i++) {
		t->missing_leaf[i] = XMM_INVALID_MFN;
		t->identity_leaf[i] = XMM_INVALID_MFN;
		t->missing_mid[i] = t->missing_leaf;
		t->identity_mid[i] = t->identity_leaf;
	}
	for (uint64_t i = 0; i < t->ntop; i++)
		t->top[i] = t->missing_mid;
	return 0;
}

static bool shared_leaf(const struct p2m_tree *t, const uint64_t *leaf)
{
	return leaf == t->missing_leaf || leaf == t->identity_leaf;
}

void p2m_tree_fini(struct p2m_tree *t)
{
	for (uint64_t i = 0; t->top && i < t->ntop; i++) {
		const uint64_t **mid = t->top[i];

		if (!mid || mid == t->missing_mid || mid == t->identity_mid)
			continue;
		for (int j = 0; j < PER_PAGE; j++)
			if (!shared_leaf(t, mid[j]))
				xmm_pages_free((void *)mid[j], 1);
		xmm_pages_free(mid, 1);
	}
	free(t->top);
	xmm_pages_free(t->missing_leaf, 1);
	xmm_pages_free(t->identity_leaf, 1);
	xmm_pages_free(t->missing_mid, 1);
	xmm_pages_free(t->identity_mid, 1);
	t->top = NULL;
}

uint64_t p2m_tree_bytes(const struct p2m_tree *t)
{
	return t->ntop * sizeof(*t->top) + (t->pages + 4) * XMM_PAGE_SIZE;
}

/* The private mid of top slot i, copied from the shared one it was. */
static const uint64_t **own_mid(struct p2m_tree *t, uint64_t i)
{
	const uint64_t **mid = t->top[i], **copy;

	if (mid != t->missing_mid && mid != t->identity_mid)
		return mid;
	copy = page();
	if (!copy)
		return NULL;
	for (int j = 0; j < PER_PAGE; j++)
		copy[j] = mid[j];
	t->pages++;
	xmm_pr_store_release_ptr(&t->top[i], copy);
	return copy;
}

/* The private leaf of pfn's slot, copied from the shared one it was. */
static uint64_t *own_leaf(struct p2m_tree *t, xmm_pfn_t pfn)
{
	const uint64_t **mid = own_mid(t, pfn >> P2M_TREE_MID_SHIFT);
	const uint64_t *leaf;
	uint64_t *copy, base = pfn & ~(uint64_t)(PER_PAGE - 1);

	if (!mid)
		return NULL;
	leaf = mid[(pfn >> P2M_TREE_LEAF_SHIFT) & 511];
	if (!shared_leaf(t, leaf))
		return (uint64_t *)leaf;
	copy = page();
	if (!copy)
		return NULL;
	for (int j = 0; j < PER_PAGE; j++)
		copy[j] = leaf == t->identity_leaf ? XMM_IDENTITY_FRAME(base + j) : XMM_INVALID_MFN;
	t->pages++;
	xmm_pr_store_release_ptr(&mid[(pfn >> P2M_TREE_LEAF_SHIFT) & 511], copy);
	return copy;
}

int p2m_tree_set_range(struct p2m_tree *t, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n)
{
	if (pfn >= t->max_pfn || n > t->max_pfn - pfn)
		return XMM_ERANGE;
	for (uint64_t i = 0; i < n;) {
		uint64_t *leaf = own_leaf(t, pfn + i);

		if (!leaf)
			return XMM_ENOMEM;
		do {
			xmm_pr_store_relaxed_64(&leaf[(pfn + i) & 511], mfn + i);
			i++;
		} while (i < n && (pfn + i) & 511);
	}
	return 0;
}

int p2m_tree_set(struct p2m_tree *t, xmm_pfn_t pfn, xmm_mfn_t mfn)
{
	return p2m_tree_set_range(t, pfn, mfn, 1);
}

/* Identity ranges of a fresh tree: whole mids and leaves become shared pages. */
int p2m_tree_set_identity(struct p2m_tree *t, xmm_pfn_t start, xmm_pfn_t end)
{
	if (start > end || end > t->max_pfn)
		return XMM_ERANGE;
	while (start < end) {
		uint64_t mid_span = 1ULL << P2M_TREE_MID_SHIFT;
		const uint64_t **mid;

		if (!(start & (mid_span - 1)) && end - start >= mid_span &&
		    t->top[start >> P2M_TREE_MID_SHIFT] == t->missing_mid) {
			xmm_pr_store_release_ptr(&t->top[start >> P2M_TREE_MID_SHIFT], t->identity_mid);
			start += mid_span;
		} else if (!(start & 511) && end - start >= 512 &&
			   (mid = own_mid(t, start >> P2M_TREE_MID_SHIFT)) &&
			   mid[(start >> P2M_TREE_LEAF_SHIFT) & 511] == t->missing_leaf) {
			xmm_pr_store_release_ptr(&mid[(start >> P2M_TREE_LEAF_SHIFT) & 511],
						 t->identity_leaf);
			start += 512;
		} else {
			if (p2m_tree_set(t, start, XMM_IDENTITY_FRAME(start)) != 0)
				return XMM_ENOMEM;
			start++;
		}
	}
	return 0;
}
