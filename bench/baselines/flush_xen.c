/* SPDX-License-Identifier: MIT */
/* Baseline for seed 000 (see flush_xen.h). */
#include "flush_xen.h"

#include <stdlib.h>
#include <string.h>

int xen_flush_init(struct xen_flush *x, unsigned int ncpus)
{
	memset(x, 0, sizeof(*x));
	x->percpu = aligned_alloc(XMM_CACHELINE, ncpus * sizeof(*x->percpu));
	if (!x->percpu)
		return -1;
	memset(x->percpu, 0, ncpus * sizeof(*x->percpu));
	x->ncpus = ncpus;
	x->clock = 1;
	xmm_cpumask_fill(&x->online, ncpus);
	return 0;
}

void xen_flush_fini(struct xen_flush *x)
{
	free(x->percpu);
}

uint32_t xen_flush_now(const struct xen_flush *x)
{
	return __atomic_load_n(&x->clock, __ATOMIC_ACQUIRE);
}

void xen_flush_cpu(struct xen_flush *x, unsigned int cpu)
{
	uint32_t t = __atomic_add_fetch(&x->clock, 1, __ATOMIC_ACQ_REL);

	__atomic_store_n(&x->percpu[cpu].time, t, __ATOMIC_RELEASE);
}

/* Xen's rule: flush unless the CPU's last flush is after the stamp, wraps counted as "flush". */
static inline int need_flush(uint32_t now, uint32_t cpu_time, uint32_t stamp)
{
	return now == 0 || (cpu_time <= stamp && stamp <= now);
}

/*
 * The clock is read once per call, not once per CPU: a compiler may hoist
 * Xen's plain read out of the loop, and the baseline gets the benefit of
 * the doubt.
 */
void xen_flush_filter(const struct xen_flush *x, xmm_cpumask_t *mask, uint32_t stamp)
{
	uint32_t now = xen_flush_now(x);
	unsigned int cpu;

	if (!stamp)
		return;
	xmm_cpumask_for_each(cpu, mask) {
		if (cpu >= x->ncpus)
			break;
		if (!need_flush(now, __atomic_load_n(&x->percpu[cpu].time, __ATOMIC_ACQUIRE), stamp))
			xmm_cpumask_clear(mask, cpu);
	}
}

/* Mask operations over the online CPUs' words only, as Xen's nr_cpumask_bits. */
static void andnot_words(xmm_cpumask_t *d, const xmm_cpumask_t *a, const xmm_cpumask_t *b,
			 unsigned int words)
{
	for (unsigned int w = 0; w < words; w++)
		d->bits[w] = a->bits[w] & ~b->bits[w];
}

static void or_words(xmm_cpumask_t *d, const xmm_cpumask_t *a, unsigned int words)
{
	for (unsigned int w = 0; w < words; w++)
		d->bits[w] |= a->bits[w];
}

void xen_alloc_mask_per_page(const struct xen_flush *x, const struct xen_page *pages, uint64_t n,
			     xmm_cpumask_t *mask)
{
	unsigned int words = (x->ncpus + 63) / 64;
	xmm_cpumask_t extra;

	memset(mask->bits, 0, words * sizeof(uint64_t));
	for (uint64_t i = 0; i < n; i++) {
		if (!pages[i].need_flush)
			continue;
		andnot_words(&extra, &x->online, mask, words);
		xen_flush_filter(x, &extra, pages[i].stamp);
		or_words(mask, &extra, words);
	}
}

void xen_alloc_mask_batched(const struct xen_flush *x, const struct xen_page *pages, uint64_t n,
			    xmm_cpumask_t *mask)
{
	unsigned int words = (x->ncpus + 63) / 64;
	uint32_t acc = 0, now = xen_flush_now(x); /* once per allocation: generous, as above */
	int need = 0;

	for (uint64_t i = 0; i < n; i++) {
		/* Keep the newest stamp not after now (a stamp ahead of now predates a wrap). */
		if (pages[i].need_flush && pages[i].stamp <= now &&
		    (!need || pages[i].stamp > acc)) {
			need = 1;
			acc = pages[i].stamp;
		}
	}
	memset(mask->bits, 0, words * sizeof(uint64_t));
	if (!need)
		return;
	memcpy(mask->bits, x->online.bits, words * sizeof(uint64_t));
	xen_flush_filter(x, mask, acc);
}
