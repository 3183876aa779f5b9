/* SPDX-License-Identifier: MIT */
/*
 * xmm/zero.h - zeroing and zero detection (seeds 001 and 003).
 *
 * Kernels are chosen once, at the first call, from what the platform offers
 * for this CPU (xmm_pr_zero_ops(), e.g. AVX2 non-temporal stores in user
 * space); the portable C versions below are always there and always give
 * identical results. All functions are thread-safe and take any length and
 * alignment, including 0.
 */
#ifndef XMM_ZERO_H
#define XMM_ZERO_H

#include <xmm/types.h>

/*
 * Zero @len bytes at @p, the fastest way for the size: cached stores for
 * small ranges, non-temporal stores (which neither read the lines first nor
 * evict the caller's working set) for large ones. On return the zeroes are
 * ordered before any later store of the caller (non-temporal stores are
 * fenced), so the memory may be handed on at once.
 */
void xmm_clear(void *p, size_t len);

/* A set of kernels: one per operation, all with the semantics documented above. */
struct xmm_zero_ops {
	const char *name; /* "portable", "x86-gpr", "avx2", ... */
	void (*clear)(void *p, size_t len);
};

/* The portable C kernels (freestanding; what a host built without SIMD runs). */
extern const struct xmm_zero_ops xmm_zero_portable;

/* The kernels in use (chosen at the first call if none was set). */
const struct xmm_zero_ops *xmm_zero_ops_get(void);
/* Use @ops from now on (NULL: the platform's choice again). For tests and benchmarks. */
void xmm_zero_ops_set(const struct xmm_zero_ops *ops);

/* User space: every kernel set this CPU can run, fastest first, portable last. */
size_t xmm_zero_variants(const struct xmm_zero_ops **out, size_t max);

#endif /* XMM_ZERO_H */
