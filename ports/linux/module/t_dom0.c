// SPDX-License-Identifier: MIT
/*
 * In a Xen PV dom0 only: an xmm_p2m built from the running kernel's own p2m
 * (every pfn below xen_p2m_size through __pfn_to_mfn, which goes through
 * get_phys_to_machine for missing and identity entries) must answer exactly
 * as the kernel does for every pfn, on both backends; then random lookups of
 * both are timed. Uses the kernel's GPL-only p2m exports (hence the module's
 * Dual MIT/GPL licence; the core itself stays MIT).
 */
#include "selftest.h"

#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <xen/xen.h>
#include <asm/xen/page.h>

#include <xmm/errno.h>
#include <xmm/p2m.h>
#include <xmm/static/p2m.h> /* the inline get, as a kernel caller would use it */

#define NRAND 65536

struct build_stats {
	u64 mapped, identity, missing;
};

/*
 * The kernel's answers, read once (a pass over 2^27 pfns through
 * get_phys_to_machine is the slow part under emulation), as runs: missing,
 * identity, or mapped to consecutive mfns.
 */
struct run {
	u64 start, len;
	u64 mfn; /* the first mfn; INVALID_P2M_ENTRY: missing; IDENTITY_FRAME_BIT: identity */
};

#define MAX_RUNS (1u << 18)

static inline u64 run_value(const struct run *r, u64 pfn)
{
	if (r->mfn == INVALID_P2M_ENTRY)
		return INVALID_P2M_ENTRY;
	if (r->mfn == IDENTITY_FRAME_BIT)
		return IDENTITY_FRAME(pfn);
	return r->mfn + (pfn - r->start);
}

/* One kthread's share of the scan: pfns [lo, hi) into its own slice of runs. */
struct scan_part {
	u64 lo, hi;
	struct run *runs;
	unsigned int nruns, max;
	struct build_stats bs;
	int rc;
};

struct scan_job {
	struct scan_part part[NR_CPUS];
	int stop;
};

static int scan_part(void *arg, unsigned int i)
{
	struct scan_part *sp = &((struct scan_job *)arg)->part[i];
	struct run *r = NULL;
	u64 pfn;

	for (pfn = sp->lo; pfn < sp->hi; pfn++) {
		unsigned long e = __pfn_to_mfn(pfn);
		u64 kind = e == IDENTITY_FRAME(pfn) ? IDENTITY_FRAME_BIT : e;

		if (e == INVALID_P2M_ENTRY)
			sp->bs.missing++;
		else if (kind == IDENTITY_FRAME_BIT)
			sp->bs.identity++;
		else
			sp->bs.mapped++;
		if (!r || run_value(r, pfn) != e) {
			if (sp->nruns == sp->max)
				return -ENOSPC;
			r = &sp->runs[sp->nruns++];
			*r = (struct run){ pfn, 0, kind };
		}
		r->len++;
		if ((pfn & 0xffff) == 0)
			cond_resched();
	}
	return 0;
}

/* Every pfn through __pfn_to_mfn, one slice per online CPU in parallel; the
 * runs end up in pfn order, split at the slices' borders. */
static int scan(u64 n, struct run *runs, unsigned int *nruns, struct build_stats *bs)
{
	unsigned int nt = num_online_cpus(), i, per = MAX_RUNS / nt;
	struct scan_job *job = kzalloc(sizeof(*job), GFP_KERNEL);
	int rc;

	if (!job)
		return -ENOMEM;
	for (i = 0; i < nt; i++)
		job->part[i] = (struct scan_part){ .lo = n * i / nt, .hi = n * (i + 1) / nt,
						   .runs = runs + (size_t)i * per, .max = per };
	rc = xt_run_threads(nt, scan_part, job, true, &job->stop);
	*nruns = 0;
	for (i = 0; i < nt && !rc; i++) {
		memmove(runs + *nruns, job->part[i].runs, job->part[i].nruns * sizeof(*runs));
		*nruns += job->part[i].nruns;
		bs->mapped += job->part[i].bs.mapped;
		bs->identity += job->part[i].bs.identity;
		bs->missing += job->part[i].bs.missing;
	}
	kfree(job);
	return rc;
}

static int build(struct xmm_p2m *p, const struct run *runs, unsigned int nruns)
{
	unsigned int i;
	int rc = 0;

	for (i = 0; i < nruns && !rc; i++) {
		const struct run *r = &runs[i];

		if (r->mfn == IDENTITY_FRAME_BIT)
			rc = xmm_p2m_set_identity(p, r->start, r->start + r->len);
		else if (r->mfn != INVALID_P2M_ENTRY)
			rc = xmm_p2m_set_range(p, r->start, r->mfn, r->len);
	}
	return rc;
}

/* The comparison, one share of the runs per kthread. */
struct compare_job {
	const struct run *runs;
	unsigned int nruns, nt;
	struct xmm_p2m *p[2];
	int stop;
	struct {
		u64 mism[2], first_bad;
	} part[NR_CPUS];
};

static int compare_part(void *arg, unsigned int t)
{
	struct compare_job *cj = arg;
	unsigned int i, b;
	u64 pfn;

	for (i = t; i < cj->nruns; i += cj->nt) {
		const struct run *r = &cj->runs[i];

		for (pfn = r->start; pfn < r->start + r->len; pfn++) {
			u64 e = run_value(r, pfn);

			for (b = 0; b < 2; b++) {
				if (xmm_p2m_get(cj->p[b], pfn) == e)
					continue;
				if (!cj->part[t].mism[0] && !cj->part[t].mism[1])
					cj->part[t].first_bad = pfn;
				cj->part[t].mism[b]++;
			}
			if ((pfn & 0xffff) == 0)
				cond_resched();
		}
	}
	return 0;
}

static volatile u64 sink;

int xt_dom0_p2m(char *detail, size_t len)
{
	static const unsigned int backends[2] = { XMM_P2M_LINEAR, XMM_P2M_PORTABLE };
	u64 n = xen_p2m_size, mism[2] = { 0, 0 }, first_bad = 0, ns[2][3] = { { 0 } }, hi = 0;
	u64 rng = 0xbb67ae8584caa73bULL, pfn, *rnd = NULL, t0, sum, done;
	struct build_stats bs = { 0 };
	struct xmm_p2m *p[2] = { NULL, NULL };
	size_t size[2] = { 0, 0 };
	unsigned int b, j, r, i, nruns = 0;
	struct run *runs = NULL;
	struct compare_job *cj = NULL;
	u64 scan_ms;
	int rc = -ENOMEM;

	if (!xen_pv_domain() || !xen_initial_domain()) {
		snprintf(detail, len, "not a Xen PV dom0");
		return XT_SKIP;
	}
	if (n == 0 || n > XMM_P2M_MAX_PFN) {
		snprintf(detail, len, "xen_p2m_size %llu out of range", n);
		return -EINVAL;
	}
	rnd = xt_vzalloc(NRAND * sizeof(u64));
	if (!rnd)
		goto out;
	runs = xt_vzalloc(MAX_RUNS * sizeof(*runs));
	if (!runs)
		goto out;
	t0 = ktime_get_ns();
	rc = scan(n, runs, &nruns, &bs);
	scan_ms = (ktime_get_ns() - t0) / 1000000;
	if (rc) {
		snprintf(detail, len, "the kernel's p2m has more than %u runs", MAX_RUNS);
		goto out;
	}
	for (b = 0; b < 2; b++) {
		size[b] = xmm_p2m_size(n, backends[b]);
		p[b] = xt_vzalloc(size[b]);
		rc = -ENOMEM;
		if (!p[b])
			goto out;
		rc = xmm_p2m_init(p[b], n, backends[b]);
		if (rc) {
			xt_vfree(p[b], size[b]);
			p[b] = NULL;
			snprintf(detail, len, "init(max_pfn %llu, %s): %d", n,
				 b ? "portable" : "linear", rc);
			goto out;
		}
		rc = build(p[b], runs, nruns);
		if (rc) {
			snprintf(detail, len, "building from the kernel's p2m: %d", rc);
			goto out;
		}
	}
	/* Every pfn: both maps against the kernel's answer, the runs split over the CPUs. */
	cj = kzalloc(sizeof(*cj), GFP_KERNEL);
	rc = -ENOMEM;
	if (!cj)
		goto out;
	cj->runs = runs;
	cj->nruns = nruns;
	cj->p[0] = p[0];
	cj->p[1] = p[1];
	cj->nt = num_online_cpus();
	rc = xt_run_threads(cj->nt, compare_part, cj, true, &cj->stop);
	if (rc)
		goto out;
	for (i = 0; i < cj->nt; i++) {
		mism[0] += cj->part[i].mism[0];
		mism[1] += cj->part[i].mism[1];
		if (cj->part[i].mism[0] + cj->part[i].mism[1] && !(mism[0] + mism[1] -
		    cj->part[i].mism[0] - cj->part[i].mism[1]))
			first_bad = cj->part[i].first_bad;
	}
	for (i = 0; i < nruns; i++)
		if (runs[i].mfn != INVALID_P2M_ENTRY && runs[i].mfn != IDENTITY_FRAME_BIT)
			hi = runs[i].start + runs[i].len;
	/* And a sample straight from the kernel again: nothing changed meanwhile. */
	for (j = 0; j < NRAND; j++) {
		pfn = xt_rand(&rng) % n;
		if (__pfn_to_mfn(pfn) != xmm_p2m_get(p[0], pfn)) {
			if (!mism[0] && !mism[1])
				first_bad = pfn;
			mism[0]++;
		}
	}
	/* Timed random lookups, the same pfns for both, summed so that none is optimized
	 * away: over every pfn (mostly the identity entries above RAM, which take the
	 * kernel's slow path) and over the part below the highest mapped pfn (RAM). */
	for (r = 0; r < 2; r++) {
		for (j = 0; j < NRAND; j++)
			rnd[j] = xt_rand(&rng) % (r ? max(hi, 1ULL) : n);
		for (b = 0; b < 3; b++) {
			sum = 0;
			t0 = ktime_get_ns();
			for (done = 0; done < xt_lookups; done += NRAND) {
				if (b == 0)
					for (j = 0; j < NRAND; j++)
						sum += __pfn_to_mfn(rnd[j]);
				else
					for (j = 0; j < NRAND; j++)
						sum += xmm_p2m_get(p[b - 1], rnd[j]);
				cond_resched();
			}
			ns[r][b] = ktime_get_ns() - t0;
			sink += sum;
		}
	}
	done = round_up((u64)xt_lookups, NRAND);
#define NS(x) (x) * 100 / done / 100, (x) * 100 / done % 100
#define RATIO(x, y) (x) * 1000 / max((y), 1ULL) / 1000, (x) * 1000 / max((y), 1ULL) % 1000
	snprintf(detail, len,
		 "%llu pfns compared (%llu mapped, %llu identity, %llu missing, %u runs; kernel scan on %u CPUs %llu ms): mismatches linear %llu, portable %llu",
		 n, bs.mapped, bs.identity, bs.missing, nruns, num_online_cpus(), scan_ms, mism[0], mism[1]);
	for (r = 0; r < 2; r++)
		pr_info("dom0-p2m: %llu random lookups over %s (%llu pfns): __pfn_to_mfn %llu.%02llu ns, xmm_p2m_get linear %llu.%02llu ns (xmm/kernel %llu.%03llu), portable %llu.%02llu ns (xmm/kernel %llu.%03llu)\n",
			done, r ? "the RAM part" : "every pfn", r ? hi : n, NS(ns[r][0]),
			NS(ns[r][1]), RATIO(ns[r][1], ns[r][0]), NS(ns[r][2]),
			RATIO(ns[r][2], ns[r][0]));
	rc = 0;
	if (mism[0] || mism[1]) {
		pr_err("dom0-p2m: first mismatch at pfn %llu: kernel %#lx, linear %#llx, portable %#llx\n",
		       first_bad, __pfn_to_mfn(first_bad), xmm_p2m_get(p[0], first_bad),
		       xmm_p2m_get(p[1], first_bad));
		rc = -EINVAL;
	}
	if (!rc && xt_injected("dom0-p2m"))
		rc = -EIO;
out:
	for (b = 0; b < 2; b++) {
		if (!p[b])
			continue;
		xmm_p2m_fini(p[b]);
		xt_vfree(p[b], size[b]);
	}
	xt_vfree(rnd, NRAND * sizeof(u64));
	xt_vfree(runs, MAX_RUNS * sizeof(*runs));
	kfree(cj);
	return rc;
}
