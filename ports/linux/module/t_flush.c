// SPDX-License-Identifier: MIT
/*
 * Flush filter in the kernel: a random sequence checked against a brute-force
 * reference (per CPU, the newest token it completed), on both clock sources;
 * then one kthread per CPU flushing its real TLB while other kthreads stamp
 * and filter, checking that no CPU is ever dropped that had not flushed since
 * the stamp.
 */
#include "selftest.h"

#include <linux/cpumask.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <asm/tlbflush.h>

#include <xmm/flush.h>
#include <xmm/platform.h>

/* 130 CPUs in groups of 48: a partial last word and groups that straddle words. */
#define R_NCPUS 130
#define R_GROUP 48
#define R_PENDING 8
#define R_STAMPS 16

struct rstate {
	struct xmm_flush_clock *clk;
	u64 done[R_NCPUS];            /* reference: newest token each CPU completed */
	struct {
		xmm_epoch_t token;
		unsigned int cpu;
	} pending[R_PENDING];          /* begun, not ended */
	unsigned int npending;
	xmm_epoch_t stamps[R_STAMPS];
	u64 checks;
};

static bool ref_needed(const struct rstate *r, unsigned int cpu, xmm_epoch_t s)
{
	return !(r->done[cpu] > s);
}

/* One check of needed, filter and any_needed for stamp @s; false on a mismatch. */
static bool rcheck(struct rstate *r, xmm_epoch_t s, u64 *rng, char *detail, size_t len)
{
	xmm_cpumask_t in, out;
	bool any = false, quiet = r->npending == 0;
	unsigned int c;

	xmm_cpumask_zero(&in);
	for (c = 0; c < R_NCPUS; c++) {
		if (xt_rand(rng) & 1)
			xmm_cpumask_set(&in, c);
		if (xmm_flush_needed(r->clk, c, s) != ref_needed(r, c, s)) {
			snprintf(detail, len, "needed(cpu %u, stamp %llu) = %d, reference %d", c,
				 s, !ref_needed(r, c, s), ref_needed(r, c, s));
			return false;
		}
		any |= ref_needed(r, c, s);
	}
	out = in;
	xmm_flush_filter(r->clk, &out, s);
	for (c = 0; c < R_NCPUS; c++) {
		bool was = xmm_cpumask_test(&in, c), kept = xmm_cpumask_test(&out, c);

		if ((kept && !was) || (was && ref_needed(r, c, s) && !kept) ||
		    (quiet && kept && !ref_needed(r, c, s))) {
			snprintf(detail, len, "filter(stamp %llu): cpu %u in %d kept %d needed %d", s,
				 c, was, kept, ref_needed(r, c, s));
			return false;
		}
	}
	if ((any && !xmm_flush_any_needed(r->clk, s)) ||
	    (quiet && !any && xmm_flush_any_needed(r->clk, s))) {
		snprintf(detail, len, "any_needed(stamp %llu) = %d, reference %d", s,
			 xmm_flush_any_needed(r->clk, s), any);
		return false;
	}
	r->checks += R_NCPUS + 2;
	return true;
}

static int random_run(unsigned int flags, u64 seed, u64 *checks, char *detail, size_t len)
{
	uint16_t *group = kcalloc(R_NCPUS, sizeof(*group), GFP_KERNEL);
	struct rstate *r = kzalloc(sizeof(*r), GFP_KERNEL);
	size_t size = xmm_flush_clock_size(R_NCPUS);
	u64 rng = seed, op;
	unsigned int c, i;
	int rc = -ENOMEM;

	if (!group || !r)
		goto out;
	r->clk = xt_vzalloc(size);
	if (!r->clk)
		goto out;
	for (c = 0; c < R_NCPUS; c++) {
		group[c] = c / R_GROUP;
		r->done[c] = 1; /* every CPU counts as flushed at epoch 1 */
	}
	rc = xmm_flush_clock_init_flags(r->clk, R_NCPUS, group, flags);
	if (rc) {
		snprintf(detail, len, "clock init: %d", rc);
		goto out;
	}
	rc = -EINVAL;
	for (op = 0; op < xt_flush_ops; op++) {
		u64 x = xt_rand(&rng), k = x % 100;
		xmm_epoch_t t, s;

		if (k < 25) {
			r->stamps[(x >> 8) % R_STAMPS] = xmm_flush_stamp(r->clk);
		} else if (k < 45) {
			c = (x >> 8) % R_NCPUS;
			t = xmm_flush_begin(r->clk);
			if ((x >> 20) & 1 && r->npending < R_PENDING) {
				r->pending[r->npending].token = t;
				r->pending[r->npending++].cpu = c;
			} else {
				xmm_flush_end(r->clk, c, t);
				r->done[c] = max(r->done[c], t);
			}
		} else if (k < 55) {
			xmm_cpumask_t m;

			xmm_cpumask_zero(&m);
			for (c = 0; c < R_NCPUS; c++)
				if (xt_rand(&rng) % 4 == 0)
					xmm_cpumask_set(&m, c);
			t = xmm_flush_begin(r->clk);
			xmm_flush_end_mask(r->clk, &m, t);
			xmm_cpumask_for_each(c, &m)
				r->done[c] = max(r->done[c], t);
		} else if (k < 65) {
			if (r->npending) {
				i = (x >> 8) % r->npending;
				c = r->pending[i].cpu;
				xmm_flush_end(r->clk, c, r->pending[i].token);
				r->done[c] = max(r->done[c], r->pending[i].token);
				r->pending[i] = r->pending[--r->npending];
			}
		} else if (k < 70) {
			uint32_t s32;
			xmm_epoch_t e;

			s = xmm_flush_stamp(r->clk);
			s32 = xmm_flush_stamp32(r->clk);
			e = xmm_flush_expand32(r->clk, s32);
			if ((uint32_t)e != s32 || e < s || e > xmm_flush_now(r->clk)) {
				snprintf(detail, len, "expand32(%u) = %llu, stamp %llu", s32, e, s);
				goto out;
			}
			r->checks++;
		} else {
			s = (x >> 8) % 8 == 0 ? 0 : r->stamps[(x >> 12) % R_STAMPS];
			if (!rcheck(r, s, &rng, detail, len))
				goto out;
		}
		if ((op & 1023) == 0)
			cond_resched();
	}
	*checks += r->checks;
	rc = 0;
out:
	if (r)
		xt_vfree(r->clk, size);
	kfree(r);
	kfree(group);
	return rc;
}

int xt_flush_random(char *detail, size_t len)
{
	u64 checks = 0;
	int rc;

	rc = random_run(0, 0x9e3779b97f4a7c15ULL, &checks, detail, len);
	if (!rc)
		rc = random_run(XMM_FLUSH_PLATFORM_CLOCK, 0x243f6a8885a308d3ULL, &checks, detail,
				len);
	if (rc)
		return rc;
	if (xt_injected("flush-random")) {
		snprintf(detail, len, "injected failure");
		return -EIO;
	}
	snprintf(detail, len, "%u ops x 2 clocks, %llu answers checked against the reference",
		 xt_flush_ops, checks);
	return 0;
}

/* ---- concurrent --------------------------------------------------------------------- */

struct cstate {
	struct xmm_flush_clock *clk;
	unsigned int nflushers;
	int stop;
	u64 seq;              /* bumped by a stamper before each stamp: "a page was unmapped" */
	u64 seen[NR_CPUS];    /* per flusher: seq read after its latest completed begin */
	u64 flushes[NR_CPUS];
	u64 filters, drops, violations, waits;
	u64 stop_count;       /* stampers done */
};

static int flusher(void *arg, unsigned int i)
{
	struct cstate *cs = arg;
	u64 n = 0;

	while (!READ_ONCE(cs->stop)) {
		xmm_epoch_t t = xmm_flush_begin(cs->clk);
		/* begin's RMW is fully ordered: a stamp before it is seen with its seq. */
		u64 seen = READ_ONCE(cs->seq);

		preempt_disable();
		__flush_tlb_all(); /* a real flush of this CPU's TLB */
		preempt_enable();
		/* Before end, whose release publishes it to the filter's acquire. */
		WRITE_ONCE(cs->seen[i], seen);
		xmm_flush_end(cs->clk, i, t);
		if ((++n & 63) == 0)
			cond_resched();
	}
	cs->flushes[i] = n;
	return 0;
}

#define RING 8

static int stamper(void *arg, unsigned int i)
{
	struct cstate *cs = arg;
	u64 filters = 0, drops = 0, violations = 0, waits = 0, rng = 0x1234567 + i;
	u64 deadline = ktime_get_ns() + (u64)xt_flush_ms * 1000000;
	struct {
		u64 q;
		xmm_epoch_t s;
	} ring[RING] = { { 0, 0 } };
	unsigned int r = 0;

	while (ktime_get_ns() < deadline && !READ_ONCE(cs->stop)) {
		xmm_cpumask_t m;
		unsigned int c, k;
		u64 spins = 0;

		/* The "unmap": a full-barrier RMW, then the stamp (which fences too). */
		ring[r % RING].q = atomic64_inc_return((atomic64_t *)&cs->seq);
		ring[r % RING].s = xmm_flush_stamp(cs->clk);
		r++;
		/* Filter an older stamp: some CPUs have flushed since, some maybe not. */
		k = xt_rand(&rng) % RING;
		xmm_cpumask_fill(&m, cs->nflushers);
		xmm_flush_filter(cs->clk, &m, ring[k].s);
		filters++;
		for (c = 0; c < cs->nflushers; c++) {
			if (xmm_cpumask_test(&m, c))
				continue;
			drops++;
			/* Dropped: its latest completed flush must have begun after that unmap. */
			if (smp_load_acquire(&cs->seen[c]) < ring[k].q)
				violations++;
		}
		/* Liveness, now and then: the flushers keep flushing, so a stamp is soon covered. */
		if ((r & 15) == 0) {
			while (xmm_flush_any_needed(cs->clk, ring[(r - 1) % RING].s)) {
				if (++spins > 100000000ULL) {
					violations++;
					break;
				}
				cpu_relax();
				if ((spins & 255) == 0)
					cond_resched();
			}
			waits += spins;
		}
		cond_resched();
	}
	/* Atomics: the stampers add up their counts. */
	atomic64_add(filters, (atomic64_t *)&cs->filters);
	atomic64_add(drops, (atomic64_t *)&cs->drops);
	atomic64_add(violations, (atomic64_t *)&cs->violations);
	atomic64_add(waits, (atomic64_t *)&cs->waits);
	return 0;
}

#define NSTAMPERS 2

static int cthread(void *arg, unsigned int i)
{
	struct cstate *cs = arg;

	if (i < cs->nflushers)
		return flusher(arg, i);
	i -= cs->nflushers;
	stamper(arg, i);
	/* The last stamper to finish stops the flushers. */
	if (atomic64_inc_return((atomic64_t *)&cs->stop_count) == NSTAMPERS)
		WRITE_ONCE(cs->stop, 1);
	return 0;
}

int xt_flush_concurrent(char *detail, size_t len)
{
	unsigned int n = num_online_cpus(), c;
	struct cstate *cs = kzalloc(sizeof(*cs), GFP_KERNEL);
	size_t size = xmm_flush_clock_size(n);
	u64 flushes = 0;
	int rc = -ENOMEM;

	if (!cs)
		return -ENOMEM;
	cs->nflushers = n;
	cs->clk = xt_vzalloc(size);
	if (!cs->clk)
		goto out;
	rc = xmm_flush_clock_init(cs->clk, n, NULL);
	if (rc) {
		snprintf(detail, len, "clock init: %d", rc);
		goto out;
	}
	rc = xt_run_threads(n + NSTAMPERS, cthread, cs, true, &cs->stop);
	if (rc) {
		snprintf(detail, len, "threads: %d", rc);
		goto out;
	}
	for (c = 0; c < n; c++)
		flushes += cs->flushes[c];
	snprintf(detail, len,
		 "%u flusher kthreads (one per CPU, real TLB flushes) %llu flushes, %u stampers %llu filters, %llu CPUs dropped, %llu wrongly",
		 n, flushes, NSTAMPERS, cs->filters, cs->drops, cs->violations);
	rc = cs->violations || !cs->filters || !flushes || !cs->drops ? -EINVAL : 0;
	if (!rc && xt_injected("flush-concurrent"))
		rc = -EIO;
out:
	xt_vfree(cs->clk, size);
	kfree(cs);
	return rc;
}
