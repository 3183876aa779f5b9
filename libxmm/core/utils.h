/* SPDX-License-Identifier: MIT */
/*
 * utils.h - what every core file shares (internal; not installed).
 *
 * Names carry the xmm_ prefix although nothing here is public, and
 * attributes are spelled __x__: the core is compiled inside kernels whose own
 * headers define ilog2, always_inline and friends as macros.
 */
#ifndef XMM_CORE_UTILS_H
#define XMM_CORE_UTILS_H

#include <xmm/platform.h>
#include <xmm/types.h>

#if defined(__GNUC__)
#define XMM_ALWAYS_INLINE inline __attribute__((__always_inline__))
#else
#define XMM_ALWAYS_INLINE inline
#endif

/*
 * Checks that cost more than O(1) (e.g. scrub's overlap check, linear in an
 * extent's length) run only where the platform asks for them: in debug
 * builds by default. A platform may define XMM_DEBUG_CHECKS itself.
 */
#ifndef XMM_DEBUG_CHECKS
#if defined(XMM_DEBUG)
#define XMM_DEBUG_CHECKS 1
#else
#define XMM_DEBUG_CHECKS 0
#endif
#endif

/* @x rounded up to whole cache lines. */
static inline size_t xmm_line_up(size_t x)
{
	return (x + XMM_CACHELINE - 1) & ~(size_t)(XMM_CACHELINE - 1);
}

/* floor(log2(x)), x > 0. */
static inline unsigned int xmm_ilog2(uint64_t x)
{
	return 63u - (unsigned int)__builtin_clzll(x);
}

/* log2(x) for x a power of two. */
static inline unsigned int xmm_log2_exact(uint64_t x)
{
	return (unsigned int)__builtin_ctzll(x);
}

/* ceil(log2(x)), x > 0. */
static inline unsigned int xmm_ilog2_up(uint64_t x)
{
	return x == 1 ? 0 : 64u - (unsigned int)__builtin_clzll(x - 1);
}

/*
 * A counter with one writer at a time (its owner, or whoever holds the lock
 * that serializes its writers) and readers anywhere: a relaxed load and store
 * rather than an atomic add, which would cost a locked instruction for
 * nothing. Readers see an untorn value, never a lost update.
 */
static inline void xmm_counter_add(uint64_t *c, uint64_t v)
{
	xmm_pr_store_relaxed_64(c, xmm_pr_load_relaxed_64(c) + v);
}

/* The same, and what the writer did before is visible to a reader that acquires the value. */
static inline void xmm_counter_add_release(uint64_t *c, uint64_t v)
{
	xmm_pr_store_release_64(c, xmm_pr_load_relaxed_64(c) + v);
}

#endif /* XMM_CORE_UTILS_H */
