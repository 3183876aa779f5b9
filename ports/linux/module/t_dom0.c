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
#include <linux/timekeeping.h>
#include <xen/xen.h>
#include <asm/xen/page.h>

#include <xmm/errno.h>
#include <xmm/p2m.h>

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

static int scan(u64 n, struct run *runs, unsigned int *nruns, struct build_stats *bs)
{
	struct run *r = NULL;
	u64 pfn;

	*nruns = 0;
	for (pfn = 0; pfn < n; pfn++) {
		unsigned long e = __pfn_to_mfn(pfn);
		u64 kind = e == IDENTITY_FRAME(pfn) ? IDENTITY_FRAME_BIT : e;

		if (e == INVALID_P2M_ENTRY)
			bs->missing++;
		else if (kind == IDENTITY_FRAME_BIT)
			bs->identity++;
		else
			bs->mapped++;
		if (!r || run_value(r, pfn) != e) {
			if (*nruns == MAX_RUNS)
				return -ENOSPC;
			r = &runs[(*nruns)++];
			*r = (struct run){ pfn, 0, kind };
		}
		r->len++;
		if ((pfn & 0xffff) == 0)
			cond_resched();
	}
	return 0;
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
	/* Every pfn: both maps against the kernel's answer. */
	for (i = 0; i < nruns; i++) {
		const struct run *r = &runs[i];

		if (r->mfn != INVALID_P2M_ENTRY && r->mfn != IDENTITY_FRAME_BIT)
			hi = r->start + r->len;
		for (pfn = r->start; pfn < r->start + r->len; pfn++) {
			u64 e = run_value(r, pfn);

			for (b = 0; b < 2; b++) {
				if (xmm_p2m_get(p[b], pfn) == e)
					continue;
				if (!mism[0] && !mism[1])
					first_bad = pfn;
				mism[b]++;
			}
			if ((pfn & 0xffff) == 0)
				cond_resched();
		}
	}
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
	 * away: over every pfn (mostly the balloon's missing entries, the kernel's
	 * slow path) and over the part below the highest mapped pfn (RAM). */
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
		 "%llu pfns compared (%llu mapped, %llu identity, %llu missing, %u runs; kernel scan %llu ms): mismatches linear %llu, portable %llu",
		 n, bs.mapped, bs.identity, bs.missing, nruns, scan_ms, mism[0], mism[1]);
	for (r = 0; r < 2; r++)
		pr_info("dom0-p2m: %llu random lookups over %s (%llu pfns): __pfn_to_mfn %llu.%02llu ns, xmm_p2m_get linear %llu.%02llu ns (ratio %llu.%03llu), portable %llu.%02llu ns (ratio %llu.%03llu)\n",
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
	return rc;
}
