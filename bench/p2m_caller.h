/* SPDX-License-Identifier: MIT */
/* bench_p2m's caller loops (p2m_caller.c): the sum of the mfns of @n random populated pfns. */
#ifndef XMM_BENCH_P2M_CALLER_H
#define XMM_BENCH_P2M_CALLER_H

#include <xmm/user/p2m.h>

uint64_t p2m_caller_sum(const struct xmm_p2m *p, const xmm_pfn_t *chunk, uint64_t nchunks,
			uint64_t *seed, size_t n);
uint64_t p2m_caller_sum_array(const uint64_t *a, const xmm_pfn_t *chunk, uint64_t nchunks,
			      uint64_t *seed, size_t n);

#endif /* XMM_BENCH_P2M_CALLER_H */
