/* SPDX-License-Identifier: MIT */
/*
 * xmm/static/p2m.h - the inline fast path of xmm/p2m.h (as liburcu keeps its
 * inline code in urcu/static/): it needs the platform's atomics, so only code
 * that has <xmm_platform.h> includes it. With it, calls of xmm_p2m_get(p, pfn)
 * compile to xmm_p2m_get_inline; without it they call the exported function,
 * which runs the same code.
 *
 * ABI: struct xmm_p2m_head is what inlined code reads from a map; its layout
 * is part of the library's ABI (changing it changes the soname).
 */
#ifndef XMM_STATIC_P2M_H
#define XMM_STATIC_P2M_H

#include <xmm/p2m.h>
#include <xmm/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The first cache line of struct xmm_p2m, written only by init: everything a
 * get reads. Not part of the API; it is here so that get can be inline.
 */
struct xmm_p2m_head {
	xmm_pfn_t linear_max;           /* linear: max_pfn; portable: 0 (one compare picks the path) */
	xmm_pfn_t max_pfn;
	uint64_t *entries;              /* linear: entry of pfn i, ~mfn, 0 a hole; portable: NULL */
	const uint64_t *const *dir;     /* portable: leaf of pfns [512 i, 512 i + 512) */
	const uint64_t *identity_leaf;  /* portable: the shared identity leaf */
	const uint64_t *identity_bits;  /* linear: bit i set when leaf i is identity */
	unsigned int backend;
};

/* Linear backend, an entry that reads zero: hole or identity. Internal. */
xmm_mfn_t xmm_p2m_get_hole(const struct xmm_p2m *p, xmm_pfn_t pfn);

static inline xmm_mfn_t xmm_p2m_get_inline(const struct xmm_p2m *p, xmm_pfn_t pfn)
{
	const struct xmm_p2m_head *h = (const struct xmm_p2m_head *)(const void *)p;
	const uint64_t *leaf;
	uint64_t e;

	/*
	 * Linear backend in range: a compare and one load. A caller's loop reloads
	 * the head's fields on every get (compilers keep no load across an atomic
	 * one), so the path tests one field, not a bound and a backend.
	 */
	if (XMM_LIKELY(pfn < h->linear_max)) {
		/* Relaxed: one untorn 64-bit load; a zero goes to the hole path, which orders itself. */
		e = xmm_pr_load_relaxed_64(&h->entries[pfn]);
		return XMM_LIKELY(e != 0) ? ~e : xmm_p2m_get_hole(p, pfn);
	}
	if (pfn >= h->max_pfn || h->entries != NULL)
		return XMM_INVALID_MFN;
	/* Acquire pairs with the release store that published the leaf. */
	leaf = (const uint64_t *)xmm_pr_load_acquire_ptr(&h->dir[pfn >> XMM_P2M_LEAF_SHIFT]);
	e = xmm_pr_load_relaxed_64(&leaf[pfn & (XMM_P2M_LEAF_ENTRIES - 1)]);
	if (XMM_LIKELY(e != XMM_INVALID_MFN) || leaf != h->identity_leaf)
		return e;
	return XMM_IDENTITY_FRAME(pfn);
}

#define xmm_p2m_get(p, pfn) xmm_p2m_get_inline((p), (pfn))

#ifdef __cplusplus
}
#endif

#endif /* XMM_STATIC_P2M_H */
