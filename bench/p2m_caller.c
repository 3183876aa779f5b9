/* SPDX-License-Identifier: MIT */
/*
 * bench_p2m's caller loops, compiled apart from the benchmark and through the
 * installed headers alone (<xmm/user/p2m.h>, which brings the inline fast
 * path of <xmm/static/p2m.h>), as a VMM's own code calls xmm_p2m_get: the
 * compiler sees only what those headers give it (no benchmark helpers, no
 * always_inline wrappers), so what it makes of the loop is what a user gets.
 * The raw array loop is the same loop over a plain array of the same
 * entries: no bounds check, no hole check, no atomics.
 *
 * Both draw @n random populated pfns, as bench_p2m's get/random does: a
 * random 2 MiB chunk of @chunk (@nchunks of them), a random pfn in it.
 */
#include <xmm/user/p2m.h>

#include "p2m_caller.h"

static inline uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#define PICK(r) (chunk[(((r) >> 32) * nchunks) >> 32] + ((r) & (XMM_P2M_LEAF_ENTRIES - 1)))

uint64_t p2m_caller_sum(const struct xmm_p2m *p, const xmm_pfn_t *chunk, uint64_t nchunks,
			uint64_t *seed, size_t n)
{
	uint64_t acc = 0, s = *seed;

	for (size_t i = 0; i < n; i++) {
		uint64_t r = next(&s);

		acc += xmm_p2m_get(p, PICK(r));
	}
	*seed = s;
	return acc;
}

uint64_t p2m_caller_sum_array(const uint64_t *a, const xmm_pfn_t *chunk, uint64_t nchunks,
			      uint64_t *seed, size_t n)
{
	uint64_t acc = 0, s = *seed;

	for (size_t i = 0; i < n; i++) {
		uint64_t r = next(&s);

		acc += a[PICK(r)];
	}
	*seed = s;
	return acc;
}
