/* SPDX-License-Identifier: MIT */
/*
 * Baseline for seed 004: a dense flat p2m array, one entry per pfn up to
 * max_pfn, holes stored as XMM_INVALID_MFN (so every page of it is written:
 * 2 GiB for a 1 TiB guest). The physical limit for lookups: one load, no
 * branch on the value. Mapped with 4 KiB pages (MADV_NOHUGEPAGE) like the
 * linear backend's range, so that the two differ in structure, not in page
 * size. One writer at a time; gets use the same atomic load as libxmm's.
 */
#ifndef XMM_BENCH_P2M_DENSE_H
#define XMM_BENCH_P2M_DENSE_H

#include <xmm/user/p2m.h>

struct p2m_dense {
	xmm_pfn_t max_pfn;
	uint64_t *a;
};

int p2m_dense_init(struct p2m_dense *d, xmm_pfn_t max_pfn);
void p2m_dense_fini(struct p2m_dense *d);
int p2m_dense_set_range(struct p2m_dense *d, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n);
int p2m_dense_set_identity(struct p2m_dense *d, xmm_pfn_t start, xmm_pfn_t end);

static inline int p2m_dense_set(struct p2m_dense *d, xmm_pfn_t pfn, xmm_mfn_t mfn)
{
	return p2m_dense_set_range(d, pfn, mfn, 1);
}

static inline xmm_mfn_t p2m_dense_get(const struct p2m_dense *d, xmm_pfn_t pfn)
{
	if (XMM_UNLIKELY(pfn >= d->max_pfn))
		return XMM_INVALID_MFN;
	return xmm_pr_load_relaxed_64(&d->a[pfn]);
}

#endif /* XMM_BENCH_P2M_DENSE_H */
