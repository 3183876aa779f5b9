/* SPDX-License-Identifier: MIT */
/*
 * Epoch-based TLB-flush filter: see xmm/flush.h for the contract.
 *
 * Layout (one block of caller memory, xmm_flush_clock_size(ncpus) bytes):
 *
 *   line 0   read-only after init: sizes, flags, array pointers
 *   line 1   now: the shared counter, written by every begin
 *   line 2   all_wm: global watermark, written only when a filter advances it
 *   arrays   epoch[slot]      per-CPU flush epochs, packed 8 per line, CPUs of one
 *                             group in consecutive slots
 *            group_wm[group]  per-group watermarks, packed
 *            slot_of_cpu[cpu], cpu_of_slot[slot], group_start[group + 1]
 *
 * Invariants (checked by XMM_ASSERT where cheap):
 *   I1  epoch[s] only grows, and every value it takes is the token of a flush
 *       that CPU cpu_of_slot[s] has completed (or 1, the init epoch).
 *   I2  group_wm[g] <= min(epoch[s] : s in group g); all_wm <= min over all CPUs.
 *       Both only grow: they are advanced by CAS-max to the minimum a scan saw,
 *       and by I1 a minimum seen earlier is never above the current one.
 *   I3  every token handed out is <= now, and now only grows.
 *
 * So "stamp < watermark" proves that every CPU covered has completed a flush
 * with a token greater than the stamp, which is what needed/filter must know.
 */
#include <xmm/errno.h>
#include <xmm/flush.h>
#include <xmm/platform.h>

#include "utils.h"

struct xmm_flush_clock {
	/* line 0: read-only after init */
	uint32_t ncpus;
	uint32_t ngroups;
	uint32_t flags;
	uint32_t identity; /* slot == cpu for every CPU: groups are contiguous CPU ranges */
	uint64_t *epoch;
	uint64_t *group_wm;
	uint32_t *slot_of_cpu;
	uint32_t *cpu_of_slot;
	uint32_t *group_start;
	/* line 1: written by every begin (counter clock only) */
	uint64_t now XMM_ALIGNED(XMM_CACHELINE);
	/* line 2: written only when a filter advances the global watermark */
	uint64_t all_wm XMM_ALIGNED(XMM_CACHELINE);
	/* arrays follow, each starting on its own cache line */
	uint64_t tail[] XMM_ALIGNED(XMM_CACHELINE);
};


/* Byte offsets of the arrays behind the header; the worst case is one group per CPU. */
struct flush_layout {
	size_t epoch, group_wm, slot_of_cpu, cpu_of_slot, group_start, total;
};

static struct flush_layout flush_layout(unsigned int ncpus)
{
	struct flush_layout l;
	size_t off = sizeof(struct xmm_flush_clock);

	l.epoch = off;
	off = xmm_line_up(off + ncpus * sizeof(uint64_t));
	l.group_wm = off;
	off = xmm_line_up(off + ncpus * sizeof(uint64_t));
	l.slot_of_cpu = off;
	off += ncpus * sizeof(uint32_t);
	l.cpu_of_slot = off;
	off += ncpus * sizeof(uint32_t);
	l.group_start = off;
	off += (ncpus + 1) * sizeof(uint32_t);
	l.total = xmm_line_up(off);
	return l;
}

size_t xmm_flush_clock_size(unsigned int ncpus)
{
	if (ncpus == 0 || ncpus > XMM_MAX_CPUS)
		return 0;
	return flush_layout(ncpus).total;
}

int xmm_flush_clock_init(struct xmm_flush_clock *clk, unsigned int ncpus,
			 const uint16_t *group_of_cpu)
{
	return xmm_flush_clock_init_flags(clk, ncpus, group_of_cpu, 0);
}

static inline uint32_t group_of(const uint16_t *group_of_cpu, unsigned int cpu)
{
	return group_of_cpu ? group_of_cpu[cpu] : cpu / 64;
}

int xmm_flush_clock_init_flags(struct xmm_flush_clock *clk, unsigned int ncpus,
			       const uint16_t *group_of_cpu, unsigned int flags)
{
	struct flush_layout l;
	char *base = (char *)clk;
	uint32_t ngroups = 0;
	xmm_epoch_t start;

	if (!clk || ncpus == 0 || ncpus > XMM_MAX_CPUS ||
	    ((uintptr_t)clk & (XMM_FLUSH_CLOCK_ALIGN - 1)) || (flags & ~XMM_FLUSH_PLATFORM_CLOCK))
		return XMM_EINVAL;
	for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
		uint32_t g = group_of(group_of_cpu, cpu);

		if (g >= ncpus)
			return XMM_EINVAL;
		if (g + 1 > ngroups)
			ngroups = g + 1;
	}

	l = flush_layout(ncpus);
	__builtin_memset(clk, 0, l.total);
	clk->ncpus = ncpus;
	clk->ngroups = ngroups;
	clk->flags = flags;
	clk->epoch = (uint64_t *)(void *)(base + l.epoch);
	clk->group_wm = (uint64_t *)(void *)(base + l.group_wm);
	clk->slot_of_cpu = (uint32_t *)(void *)(base + l.slot_of_cpu);
	clk->cpu_of_slot = (uint32_t *)(void *)(base + l.cpu_of_slot);
	clk->group_start = (uint32_t *)(void *)(base + l.group_start);

	/* Counting sort by group: each group's CPUs get consecutive slots, in CPU order. */
	for (unsigned int cpu = 0; cpu < ncpus; cpu++)
		clk->group_start[group_of(group_of_cpu, cpu) + 1]++;
	for (uint32_t g = 0; g < ngroups; g++)
		clk->group_start[g + 1] += clk->group_start[g];
	clk->identity = 1;
	for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
		uint32_t g = group_of(group_of_cpu, cpu);
		/* group_wm doubles as the fill cursor here; it is reset below. */
		uint32_t slot = clk->group_start[g] + (uint32_t)clk->group_wm[g]++;

		clk->slot_of_cpu[cpu] = slot;
		clk->cpu_of_slot[slot] = cpu;
		if (slot != cpu)
			clk->identity = 0;
	}

	/* Every CPU counts as flushed at the starting epoch, so older stamps need nothing. */
	start = (flags & XMM_FLUSH_PLATFORM_CLOCK) ? xmm_pr_clock() : 1;
	for (unsigned int s = 0; s < ncpus; s++)
		clk->epoch[s] = start;
	for (uint32_t g = 0; g < ngroups; g++)
		clk->group_wm[g] = start;
	clk->all_wm = start;
	clk->now = start;
	return 0;
}

unsigned int xmm_flush_clock_ncpus(const struct xmm_flush_clock *clk)
{
	return clk->ncpus;
}

unsigned int xmm_flush_clock_ngroups(const struct xmm_flush_clock *clk)
{
	return clk->ngroups;
}

xmm_epoch_t xmm_flush_now(const struct xmm_flush_clock *clk)
{
	if (clk->flags & XMM_FLUSH_PLATFORM_CLOCK)
		return xmm_pr_clock();
	/* Acquire pairs with the acq_rel fetch-add in begin. */
	return xmm_pr_load_acquire_64(&clk->now);
}

xmm_epoch_t xmm_flush_stamp(const struct xmm_flush_clock *clk)
{
	/*
	 * Full fence: the caller's unmapping store must be visible before we read
	 * the clock (store->load order, which acquire alone does not give). Pairs
	 * with the fetch-add in begin: a begin ordered after our read returns a
	 * larger token and its CPU's page walks see the unmapping.
	 */
	xmm_pr_fence_full();
	return xmm_flush_now(clk);
}

xmm_epoch_t xmm_flush_begin(struct xmm_flush_clock *clk)
{
	if (clk->flags & XMM_FLUSH_PLATFORM_CLOCK) {
		/* Order the clock read after everything before it, as the fetch-add would. */
		xmm_pr_fence_full();
		return xmm_pr_clock();
	}
	/* acq_rel: the flush that follows cannot be hoisted above the tick (pairs with stamp). */
	return xmm_pr_faa_64(&clk->now, 1) + 1;
}

/* epoch = max(epoch, token), with release: pairs with the acquire loads in needed/filter. */
static inline void epoch_raise(uint64_t *epoch, xmm_epoch_t token)
{
	uint64_t cur = xmm_pr_load_relaxed_64(epoch);

	while (cur < token && !xmm_pr_cas_64(epoch, &cur, token))
		;
}

/*
 * A token from the future (above now) would raise the CPU's epoch past
 * flushes that have not happened, and later filters would drop it while it
 * still needs one: refused in every build, before anything is written. The
 * check is one load of the clock, which the begin of this flush just wrote.
 */
int xmm_flush_end(struct xmm_flush_clock *clk, unsigned int cpu, xmm_epoch_t token)
{
	XMM_ASSERT(cpu < clk->ncpus);
	if (cpu >= clk->ncpus)
		return XMM_ERANGE;
	if (token > xmm_flush_now(clk)) /* I3: no token from the future */
		return XMM_EINVAL;
	epoch_raise(&clk->epoch[clk->slot_of_cpu[cpu]], token);
	return 0;
}

int xmm_flush_end_mask(struct xmm_flush_clock *clk, const xmm_cpumask_t *cpus,
		       xmm_epoch_t token)
{
	unsigned int cpu;

	if (token > xmm_flush_now(clk)) /* I3, as in end */
		return XMM_EINVAL;
	xmm_cpumask_for_each(cpu, cpus) {
		if (cpu >= clk->ncpus)
			break;
		epoch_raise(&clk->epoch[clk->slot_of_cpu[cpu]], token);
	}
	return 0;
}

bool xmm_flush_needed(const struct xmm_flush_clock *clk, unsigned int cpu, xmm_epoch_t stamp)
{
	XMM_ASSERT(cpu < clk->ncpus);
	if (cpu >= clk->ncpus)
		return true;
	/* Acquire pairs with the release CAS in epoch_raise (via wm_raise for the watermark). */
	if (stamp < xmm_pr_load_acquire_64(&clk->all_wm))
		return false;
	return xmm_pr_load_acquire_64(&clk->epoch[clk->slot_of_cpu[cpu]]) <= stamp;
}

/* Clear mask bits [lo, hi). */
static void mask_clear_range(xmm_cpumask_t *mask, unsigned int lo, unsigned int hi)
{
	unsigned int wlo = (lo + 63) / 64, whi = hi / 64; /* whole words: [wlo, whi) */

	if (lo >= hi)
		return;
	if (wlo > whi) { /* inside one word */
		mask->bits[lo / 64] &= ~(((1ULL << (hi - lo)) - 1) << (lo % 64));
		return;
	}
	if (lo % 64)
		mask->bits[lo / 64] &= (1ULL << (lo % 64)) - 1;
	/* A few words inline; more (up to 512 bytes at 4096 CPUs) through the host's memset. */
	if (whi - wlo <= 4)
		for (unsigned int w = wlo; w < whi; w++)
			mask->bits[w] = 0;
	else
		__builtin_memset(&mask->bits[wlo], 0, (whi - wlo) * sizeof(uint64_t));
	if (hi % 64)
		mask->bits[whi] &= ~0ULL << (hi % 64);
}

static bool mask_any_range(const xmm_cpumask_t *mask, unsigned int lo, unsigned int hi)
{
	unsigned int w;

	if (lo >= hi)
		return false;
	if (lo / 64 == (hi - 1) / 64)
		return (mask->bits[lo / 64] >> (lo % 64)) & ((2ULL << ((hi - 1 - lo) % 64)) - 1);
	if (mask->bits[lo / 64] >> (lo % 64))
		return true;
	for (w = lo / 64 + 1; w < (hi - 1) / 64; w++)
		if (mask->bits[w])
			return true;
	return mask->bits[(hi - 1) / 64] & ((2ULL << ((hi - 1) % 64)) - 1);
}

/* wm = max(wm, seen), with release: pairs with the acquire loads of the watermarks. */
static void wm_raise(uint64_t *wm, uint64_t seen)
{
	uint64_t cur = xmm_pr_load_relaxed_64(wm);

	while (cur < seen && !xmm_pr_cas_64(wm, &cur, seen))
		;
}

/*
 * The per-group path: skip groups whose watermark is past the stamp, scan the
 * others, and raise the watermarks to what the scans saw so that the next
 * filter for an old stamp is answered in O(1).
 */
static void filter_groups(struct xmm_flush_clock *clk, xmm_cpumask_t *mask,
			  xmm_epoch_t stamp, uint64_t all_wm)
{
	uint64_t all_min = ~0ULL;

	for (uint32_t g = 0; g < clk->ngroups; g++) {
		uint32_t lo = clk->group_start[g], hi = clk->group_start[g + 1];
		/* Acquire pairs with the release CAS in wm_raise. */
		uint64_t gwm = xmm_pr_load_acquire_64(&clk->group_wm[g]);
		uint64_t gmin = ~0ULL;

		if (lo == hi)
			continue;
		if (stamp < gwm) {
			if (clk->identity)
				mask_clear_range(mask, lo, hi);
			else
				for (uint32_t s = lo; s < hi; s++)
					xmm_cpumask_clear(mask, clk->cpu_of_slot[s]);
			gmin = gwm;
		} else if (clk->identity && !mask_any_range(mask, lo, hi)) {
			gmin = gwm; /* nothing asked here: its watermark is the bound we know */
		} else {
			for (uint32_t s = lo; s < hi; s++) {
				/* Acquire pairs with the release CAS in epoch_raise (I1). */
				uint64_t e = xmm_pr_load_acquire_64(&clk->epoch[s]);

				if (e < gmin)
					gmin = e;
				if (e > stamp)
					xmm_cpumask_clear(mask, clk->cpu_of_slot[s]);
			}
			if (gmin > gwm)
				wm_raise(&clk->group_wm[g], gmin);
		}
		if (gmin < all_min)
			all_min = gmin;
	}
	if (all_min != ~0ULL && all_min > all_wm)
		wm_raise(&clk->all_wm, all_min);
}

void xmm_flush_filter(struct xmm_flush_clock *clk, xmm_cpumask_t *mask, xmm_epoch_t stamp)
{
	/* Acquire pairs with the release CAS in wm_raise; with I2 it covers every CPU's end. */
	uint64_t all_wm = xmm_pr_load_acquire_64(&clk->all_wm);

	if (XMM_LIKELY(stamp < all_wm)) {
		mask_clear_range(mask, 0, clk->ncpus);
		return;
	}
	/* The watermarks are written only here, and only upward (filters raise them, flushes never). */
	filter_groups(clk, mask, stamp, all_wm);
}

bool xmm_flush_any_needed(struct xmm_flush_clock *clk, xmm_epoch_t stamp)
{
	xmm_cpumask_t mask;

	/* Acquire pairs with the release CAS in wm_raise. */
	if (XMM_LIKELY(stamp < xmm_pr_load_acquire_64(&clk->all_wm)))
		return false;
	xmm_cpumask_fill(&mask, clk->ncpus);
	filter_groups(clk, &mask, stamp, xmm_pr_load_relaxed_64(&clk->all_wm));
	return !xmm_cpumask_empty(&mask);
}

uint32_t xmm_flush_stamp32(const struct xmm_flush_clock *clk)
{
	return (uint32_t)xmm_flush_stamp(clk);
}

xmm_epoch_t xmm_flush_expand32(const struct xmm_flush_clock *clk, uint32_t s32)
{
	return xmm_epoch_expand32(xmm_flush_now(clk), s32);
}
