/* SPDX-License-Identifier: MIT */
/*
 * Baseline for seed 000: a Xen-style TLB-flush clock and filter, written for
 * libxmm from the seed's description and Xen's documented behaviour (not
 * copied from Xen):
 *
 *  - one global 32-bit clock, incremented by every flush; each CPU records the
 *    clock value of its last flush in its own per-CPU data (one cache line
 *    each, as per-CPU areas are);
 *  - a page remembers the clock when it was freed and whether it needs a flush;
 *  - a CPU needs a flush for a page unless it flushed after the page's stamp
 *    (wrap handling as Xen's: a clock of 0 means "in a wrap, flush").
 *
 * Two allocation paths use it:
 *  - per page (the seed's code, Xen before 4.x): for every page of the
 *    allocation, extra = online & ~mask; filter(extra, stamp); mask |= extra;
 *  - batched (Xen 4.17): keep the newest stamp over the pages, then one
 *    filter of every online CPU per allocation.
 */
#ifndef XMM_BENCH_FLUSH_XEN_H
#define XMM_BENCH_FLUSH_XEN_H

#include <stdint.h>

#include <xmm/cpumask.h>

struct xen_flush_percpu {
	uint32_t time;
	char pad[XMM_CACHELINE - sizeof(uint32_t)];
} XMM_ALIGNED(XMM_CACHELINE);

struct xen_flush {
	uint32_t clock XMM_ALIGNED(XMM_CACHELINE);
	unsigned int ncpus;
	struct xen_flush_percpu *percpu;
	xmm_cpumask_t online;
};

struct xen_page {
	uint32_t stamp;
	uint32_t need_flush;
};

int xen_flush_init(struct xen_flush *x, unsigned int ncpus);
void xen_flush_fini(struct xen_flush *x);

/* A CPU flushes: tick the clock, record it. */
void xen_flush_cpu(struct xen_flush *x, unsigned int cpu);
uint32_t xen_flush_now(const struct xen_flush *x);

/* Remove from @mask the CPUs that flushed after @stamp. */
void xen_flush_filter(const struct xen_flush *x, xmm_cpumask_t *mask, uint32_t stamp);

/* The two allocation paths for pages[0 .. n): the mask of CPUs to flush. */
void xen_alloc_mask_per_page(const struct xen_flush *x, const struct xen_page *pages, uint64_t n,
			     xmm_cpumask_t *mask);
void xen_alloc_mask_batched(const struct xen_flush *x, const struct xen_page *pages, uint64_t n,
			    xmm_cpumask_t *mask);

#endif /* XMM_BENCH_FLUSH_XEN_H */
