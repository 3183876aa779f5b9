// SPDX-License-Identifier: MIT
/*
 * p2m, both backends (the linear one on the platform's vmap'd range of the
 * shared zero page): one writer kthread applies random set, set_range,
 * set_identity and clear operations and keeps a reference array in step,
 * comparing windows of it as it goes and the whole map at the end, while one
 * reader kthread per CPU does random gets and checks every answer is one the
 * writer could have stored for that pfn (a hole, identity, or a value tagged
 * with that pfn; never the poison of a freed leaf, never another pfn's value).
 */
#include "selftest.h"

#include <linux/atomic.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <xmm/errno.h>
#include <xmm/p2m.h>
#include <xmm/static/p2m.h> /* the inline get, as a kernel caller would use it */
#include <xmm/platform.h>

#include <xmm_linux.h>

#define TAG_SHIFT 41
#define PFN_MASK ((1ULL << TAG_SHIFT) - 1)

struct pstate {
	struct xmm_p2m *p;
	u64 max;
	u64 *ref;
	int stop;
	int rc;
	char *detail;
	size_t len;
	u64 ops, compared;
	atomic64_t reads, bad;
};

/* A value the writer stores for @pfn in round @r: the pfn in the low bits, a tag above. */
static inline u64 mk(u64 pfn, u64 r)
{
	return (((r & 0xfffff) + 1) << TAG_SHIFT) | pfn;
}

static inline bool plausible(u64 pfn, u64 v)
{
	return v == XMM_INVALID_MFN || v == XMM_IDENTITY_FRAME(pfn) ||
	       ((v & PFN_MASK) == pfn && (v >> TAG_SHIFT) >= 1 && (v >> TAG_SHIFT) <= 0x100000);
}

static bool compare(struct pstate *ps, u64 lo, u64 hi)
{
	u64 pfn;

	for (pfn = lo; pfn < hi; pfn++) {
		u64 v = xmm_p2m_get(ps->p, pfn);

		if (v != ps->ref[pfn]) {
			snprintf(ps->detail, ps->len, "get(%llu) = %#llx, reference %#llx", pfn, v,
				 ps->ref[pfn]);
			return false;
		}
	}
	ps->compared += hi - lo;
	return true;
}

static int writer(struct pstate *ps)
{
	u64 rng = 0xda942042e4dd58b5ULL, op, i;
	int rc;

	for (op = 0; op < xt_p2m_ops; op++) {
		u64 x = xt_rand(&rng), k = x % 100, y = xt_rand(&rng);
		u64 pfn = y % ps->max, n, end;

		/* Ranges: mostly short, sometimes whole leaves, sometimes long. */
		n = (x >> 8) % 4 == 0 ? XMM_P2M_LEAF_ENTRIES * (1 + (x >> 16) % 8)
				      : 1 + (x >> 16) % 1500;
		if ((x >> 24) % 2 == 0)
			pfn &= ~(u64)(XMM_P2M_LEAF_ENTRIES - 1);
		end = min(pfn + n, ps->max);
		if (k < 40) {
			u64 v = k < 4 ? XMM_INVALID_MFN : k < 8 ? XMM_IDENTITY_FRAME(pfn) : mk(pfn, op);

			rc = xmm_p2m_set(ps->p, pfn, v);
			if (!rc)
				ps->ref[pfn] = v;
		} else if (k < 60) {
			rc = xmm_p2m_set_range(ps->p, pfn, mk(pfn, op), end - pfn);
			if (!rc)
				for (i = pfn; i < end; i++)
					ps->ref[i] = mk(i, op);
		} else if (k < 75) {
			rc = xmm_p2m_set_identity(ps->p, pfn, end);
			if (!rc)
				for (i = pfn; i < end; i++)
					ps->ref[i] = XMM_IDENTITY_FRAME(i);
		} else if (k < 90) {
			rc = xmm_p2m_clear(ps->p, pfn, end);
			if (!rc)
				for (i = pfn; i < end; i++)
					ps->ref[i] = XMM_INVALID_MFN;
		} else {
			rc = compare(ps, pfn, end) ? 0 : -EINVAL;
			if (rc)
				return rc;
		}
		if (rc) {
			snprintf(ps->detail, ps->len, "op %llu (kind %llu, pfn %llu, n %llu): %d", op,
				 k, pfn, end - pfn, rc);
			return rc;
		}
		ps->ops++;
		if ((op & 63) == 0)
			cond_resched();
	}
	/* Bad input: clear errors, no change. */
	if (xmm_p2m_get(ps->p, ps->max) != XMM_INVALID_MFN ||
	    xmm_p2m_set(ps->p, ps->max, 1) != XMM_ERANGE ||
	    xmm_p2m_set_identity(ps->p, 5, 3) != XMM_EINVAL ||
	    xmm_p2m_clear(ps->p, 0, ps->max + 1) != XMM_ERANGE ||
	    xmm_p2m_set_range(ps->p, 0, XMM_INVALID_MFN - 1, 4) != XMM_EOVERFLOW) {
		snprintf(ps->detail, ps->len, "an out-of-range call did not fail as documented");
		return -EINVAL;
	}
	return compare(ps, 0, ps->max) ? 0 : -EINVAL;
}

static int pthread_fn(void *arg, unsigned int i)
{
	struct pstate *ps = arg;
	u64 rng = 0x9e3779b97f4a7c15ULL * (i + 1), reads = 0, bad = 0;
	unsigned int j;

	if (i == 0) {
		ps->rc = writer(ps);
		WRITE_ONCE(ps->stop, 1);
		return 0;
	}
	while (!READ_ONCE(ps->stop)) {
		/* The portable backend's gets may meet clear/set_identity: RCU read side. */
		xmm_rcu_read_lock();
		for (j = 0; j < 256; j++) {
			u64 pfn = xt_rand(&rng) % ps->max;

			bad += !plausible(pfn, xmm_p2m_get(ps->p, pfn));
		}
		xmm_rcu_read_unlock();
		reads += 256;
		cond_resched();
	}
	atomic64_add(reads, &ps->reads);
	atomic64_add(bad, &ps->bad);
	return 0;
}

static int p2m_run(unsigned int flags, const char *name, char *detail, size_t len)
{
	struct pstate *ps = kzalloc(sizeof(*ps), GFP_KERNEL);
	size_t size = xmm_p2m_size(xt_p2m_pfns, flags);
	long held_before = xmm_linux_pages_held();
	struct xmm_p2m_stats stats = { 0 };
	bool inited = false;
	u64 i;
	int rc = -ENOMEM;

	if (!ps)
		return -ENOMEM;
	ps->max = xt_p2m_pfns;
	ps->detail = detail;
	ps->len = len;
	ps->p = xt_vzalloc(size);
	ps->ref = xt_vzalloc(ps->max * sizeof(u64));
	if (!ps->p || !ps->ref)
		goto out;
	for (i = 0; i < ps->max; i++)
		ps->ref[i] = XMM_INVALID_MFN;
	rc = xmm_p2m_init(ps->p, ps->max, flags);
	if (rc) {
		snprintf(detail, len, "init: %d", rc);
		goto out;
	}
	inited = true;
	rc = xt_run_threads(1 + num_online_cpus(), pthread_fn, ps, true, &ps->stop);
	if (!rc)
		rc = ps->rc;
	if (rc)
		goto out;
	xmm_p2m_stats(ps->p, &stats);
	if (atomic64_read(&ps->bad)) {
		snprintf(detail, len, "%lld of %lld concurrent gets returned impossible values",
			 atomic64_read(&ps->bad), atomic64_read(&ps->reads));
		rc = -EINVAL;
		goto out;
	}
	snprintf(detail, len,
		 "max_pfn %llu, %llu mutations, %llu entries compared with the reference, %lld concurrent gets by %u readers all plausible; %llu private + %llu identity leaves at the end",
		 ps->max, ps->ops, ps->compared, atomic64_read(&ps->reads), num_online_cpus(),
		 stats.leaves, stats.identity_leaves);
	rc = xt_injected(name) ? -EIO : 0;
out:
	if (inited) {
		xmm_p2m_fini(ps->p);
		xmm_rcu_barrier(); /* leaves given back by clear wait for a grace period */
		if (xmm_linux_pages_held() != held_before && !rc) {
			snprintf(detail, len, "fini left %ld pages held",
				 xmm_linux_pages_held() - held_before);
			rc = -EINVAL;
		}
	}
	xt_vfree(ps->ref, ps->max * sizeof(u64));
	xt_vfree(ps->p, size);
	kfree(ps);
	return rc;
}

int xt_p2m_linear(char *detail, size_t len)
{
	return p2m_run(XMM_P2M_LINEAR, "p2m-linear", detail, len);
}

int xt_p2m_portable(char *detail, size_t len)
{
	return p2m_run(XMM_P2M_PORTABLE, "p2m-portable", detail, len);
}
