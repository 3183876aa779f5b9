/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the p2m map (xmm/p2m.h) with real threads, both backends.
 *
 * Values say who wrote them: mfn = (seq << 27 | writer << 24) | pfn, so a
 * reader can check that every value it sees was written for that pfn at some
 * point (the pfn field matches and the writer had published that seq before
 * writing it), or is a hole, or identity.
 *
 *   setters (2)     set and set_range into interleaved 8-pfn stripes: both
 *                   write into the same leaves, so they race to install them.
 *   exclusive (1)   clear and set_identity over random spans (holding a
 *                   writer-preferring rwlock the setters hold for reading:
 *                   the caller-side exclusion the contract asks for). Before
 *                   each, it checks every pfn against the expected map: a
 *                   lost install race loses an entry, and shows here.
 *                   Every other round it also flips a region of whole leaves
 *                   (the last one partial) between holes and identity in one
 *                   call, and every third round it turns the solid region
 *                   back to identity.
 *   solid region    identity at the start; setters write into it (copying
 *                   identity leaves) and set_identity gives its leaves back,
 *                   but nothing ever makes a hole there: a get that returns
 *                   one caught a leaf changing kind in a bad order.
 *   readers (2)     random gets, checked as above. Portable readers hold an
 *                   RCU read-side section over each batch of gets (the
 *                   read-side rule); freed leaves are poisoned, so a get
 *                   reading one returns a value no one wrote.
 *   gen checker (1) reads the flipped region between xmm_p2m_generation and
 *                   xmm_p2m_generation_changed: when nothing changed, all its
 *                   leaves must agree (one update flips them all).
 *
 * Under ThreadSanitizer every access above is checked for races, including
 * reads of portable leaves against their poisoning after the grace period
 * (the user platform tells TSan about RCU, see libxmm/user/platform.c).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <xmm/errno.h>
#include <xmm/user/p2m.h>

#include "common.h"

#define LEAF XMM_P2M_LEAF_ENTRIES
#define MAX_PFN (64 * LEAF + 100)
#define SOLID0 (48 * LEAF)  /* [SOLID0, REGION0): never a hole: identity or set, see below */
#define REGION0 (56 * LEAF) /* [REGION0, MAX_PFN): flipped whole, nothing else writes there */
#define SETTERS 2
#define READERS 2
#define STRIPE 8
#define PFN_MASK ((1ULL << 24) - 1)

struct stress {
	struct xmm_p2m *p;
	unsigned int backend;
	pthread_rwlock_t excl;
	_Atomic uint64_t expect[MAX_PFN];
	_Atomic uint64_t published[SETTERS]; /* highest seq each setter may have written */
	_Atomic int stop;
	_Atomic unsigned long failures, gets, sets, fills, consistent, lost;
	double deadline;
};

static void fail(struct stress *s, const char *fmt, unsigned long long a, unsigned long long b)
{
	if (atomic_fetch_add(&s->failures, 1) < 20) {
		fprintf(stderr, "stress_p2m %s: ", s->backend ? "portable" : "linear");
		fprintf(stderr, fmt, a, b);
		fputc('\n', stderr);
	}
}

static xmm_mfn_t value(unsigned int w, uint64_t seq, xmm_pfn_t pfn)
{
	return (seq << 27) | ((uint64_t)w << 24) | pfn;
}

/* A value a get may return for pfn. */
static bool plausible(struct stress *s, xmm_pfn_t pfn, xmm_mfn_t v)
{
	unsigned int w;

	if (v == XMM_INVALID_MFN)
		return pfn < SOLID0 || pfn >= REGION0;
	if (v == XMM_IDENTITY_FRAME(pfn))
		return true;
	if (pfn >= REGION0 || (v & PFN_MASK) != pfn || (v >> 62))
		return false;
	w = (v >> 24) & 7;
	return w < SETTERS && (v >> 27) <= atomic_load(&s->published[w]);
}

static void read_lock(struct stress *s)
{
	if (s->backend == XMM_P2M_PORTABLE)
		xmm_rcu_read_lock();
}

static void read_unlock(struct stress *s)
{
	if (s->backend == XMM_P2M_PORTABLE)
		xmm_rcu_read_unlock();
}

static void *reader(void *arg)
{
	struct stress *s = arg;
	struct test_rng rng;
	unsigned long n = 0;

	test_rng_seed(&rng, (uint64_t)(uintptr_t)&rng);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		read_lock(s);
		for (int i = 0; i < 64; i++) {
			xmm_pfn_t pfn = test_rng_below(&rng, MAX_PFN);
			xmm_mfn_t v = xmm_p2m_get(s->p, pfn);

			if (!plausible(s, pfn, v))
				fail(s, "pfn %llu read %#llx, never written there", pfn, v);
		}
		read_unlock(s);
		n += 64;
	}
	atomic_fetch_add(&s->gets, n);
	return NULL;
}

static void *setter(void *arg)
{
	struct stress *s = ((void **)arg)[0];
	unsigned int w = (unsigned int)(uintptr_t)((void **)arg)[1];
	const uint64_t stripes = REGION0 / STRIPE / SETTERS; /* the open and the solid regions */
	struct test_rng rng;
	uint64_t seq = 0;
	unsigned long n = 0;

	test_rng_seed(&rng, w + 400);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		/* One of our stripes: pfns [STRIPE * (SETTERS * k + w), + STRIPE). */
		xmm_pfn_t first = STRIPE * (SETTERS * test_rng_below(&rng, stripes) + w);
		xmm_pfn_t pfn = first + test_rng_below(&rng, STRIPE);
		uint64_t len = 1 + test_rng_below(&rng, first + STRIPE - pfn);
		int rc;

		/* Publish before writing: a reader that sees the value sees the seq published. */
		atomic_store(&s->published[w], ++seq);
		pthread_rwlock_rdlock(&s->excl);
		if (len == 1 && test_rng_below(&rng, 2))
			rc = xmm_p2m_set(s->p, pfn, value(w, seq, pfn));
		else
			rc = xmm_p2m_set_range(s->p, pfn, value(w, seq, pfn), len);
		if (rc != 0)
			fail(s, "set_range at %llu failed: -%llu", pfn, (unsigned long long)-rc);
		for (uint64_t i = 0; i < len; i++)
			atomic_store_explicit(&s->expect[pfn + i], value(w, seq, pfn + i),
					      memory_order_relaxed);
		pthread_rwlock_unlock(&s->excl);
		n++;
	}
	atomic_fetch_add(&s->sets, n);
	return NULL;
}

static void check_all(struct stress *s)
{
	for (xmm_pfn_t x = 0; x < MAX_PFN; x++) {
		xmm_mfn_t want = atomic_load_explicit(&s->expect[x], memory_order_relaxed);
		xmm_mfn_t got = xmm_p2m_get(s->p, x);

		if (got != want) {
			atomic_fetch_add(&s->lost, 1);
			fail(s, "pfn %llu holds %#llx, not the last value written", x, got);
		}
	}
}

static void fill_expect(struct stress *s, xmm_pfn_t a, xmm_pfn_t b, bool identity)
{
	for (xmm_pfn_t x = a; x < b; x++)
		atomic_store_explicit(&s->expect[x], identity ? XMM_IDENTITY_FRAME(x) : XMM_INVALID_MFN,
				      memory_order_relaxed);
}

static void *exclusive(void *arg)
{
	struct stress *s = arg;
	struct test_rng rng;
	unsigned long round = 0;

	test_rng_seed(&rng, 4444);
	while (test_now() < s->deadline) {
		xmm_pfn_t a = test_rng_below(&rng, SOLID0);
		xmm_pfn_t b = a + test_rng_below(&rng, test_rng_below(&rng, 4) ? 3 * LEAF : SOLID0);
		bool identity = test_rng_below(&rng, 2);
		int rc;

		b = b > SOLID0 ? SOLID0 : b;
		pthread_rwlock_wrlock(&s->excl);
		check_all(s);
		rc = identity ? xmm_p2m_set_identity(s->p, a, b) : xmm_p2m_clear(s->p, a, b);
		if (rc != 0)
			fail(s, "fill from %llu failed: -%llu", a, (unsigned long long)-rc);
		fill_expect(s, a, b, identity);
		if (round % 2) {
			identity = round % 4 == 1;
			rc = identity ? xmm_p2m_set_identity(s->p, REGION0, MAX_PFN)
				      : xmm_p2m_clear(s->p, REGION0, MAX_PFN);
			if (rc != 0)
				fail(s, "region flip %llu failed: -%llu", identity, (unsigned long long)-rc);
			fill_expect(s, REGION0, MAX_PFN, identity);
		}
		if (round % 3 == 0) {
			rc = xmm_p2m_set_identity(s->p, SOLID0, REGION0);
			if (rc != 0)
				fail(s, "solid identity %llu failed: -%llu", round, (unsigned long long)-rc);
			fill_expect(s, SOLID0, REGION0, true);
		}
		pthread_rwlock_unlock(&s->excl);
		round++;
	}
	atomic_store(&s->fills, round);
	return NULL;
}

static void *gen_checker(void *arg)
{
	struct stress *s = arg;
	unsigned long ok = 0;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		uint64_t g = xmm_p2m_generation(s->p);
		xmm_mfn_t first, v;
		bool same = true;

		if (g & 1)
			continue;
		read_lock(s);
		first = xmm_p2m_get(s->p, REGION0);
		for (xmm_pfn_t x = REGION0 + LEAF; x < MAX_PFN; x += LEAF) {
			v = xmm_p2m_get(s->p, x + 1);
			same = same && (v == XMM_INVALID_MFN) == (first == XMM_INVALID_MFN) &&
			       (v == XMM_INVALID_MFN || v == XMM_IDENTITY_FRAME(x + 1));
		}
		read_unlock(s);
		if (xmm_p2m_generation_changed(s->p, g))
			continue;
		ok++;
		if (!same)
			fail(s, "generation %llu stable, yet the region was seen half flipped (%llu)",
			     g, first);
	}
	atomic_store(&s->consistent, ok);
	return NULL;
}

static unsigned long run(unsigned int backend, double seconds)
{
	static struct stress s;
	pthread_t rd[READERS], st[SETTERS], ex, gc;
	void *sargs[SETTERS][2];
	pthread_rwlockattr_t attr;
	struct xmm_p2m_stats stats;

	s.backend = backend;
	for (xmm_pfn_t x = 0; x < MAX_PFN; x++)
		atomic_store(&s.expect[x], XMM_INVALID_MFN);
	for (unsigned int w = 0; w < SETTERS; w++)
		atomic_store(&s.published[w], 0);
	atomic_store(&s.stop, 0);
	atomic_store(&s.failures, 0);
	atomic_store(&s.gets, 0);
	atomic_store(&s.sets, 0);
	atomic_store(&s.lost, 0);
	s.deadline = test_now() + seconds;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s.excl, &attr);
	if (xmm_p2m_create(&s.p, MAX_PFN, backend) != 0 ||
	    xmm_p2m_set_identity(s.p, SOLID0, REGION0) != 0) {
		fprintf(stderr, "cannot create the map\n");
		return 1;
	}
	fill_expect(&s, SOLID0, REGION0, true);
	for (unsigned int i = 0; i < READERS; i++)
		pthread_create(&rd[i], NULL, reader, &s);
	for (unsigned int i = 0; i < SETTERS; i++) {
		sargs[i][0] = &s;
		sargs[i][1] = (void *)(uintptr_t)i;
		pthread_create(&st[i], NULL, setter, sargs[i]);
	}
	pthread_create(&gc, NULL, gen_checker, &s);
	pthread_create(&ex, NULL, exclusive, &s);
	pthread_join(ex, NULL);
	atomic_store(&s.stop, 1);
	for (unsigned int i = 0; i < SETTERS; i++)
		pthread_join(st[i], NULL);
	for (unsigned int i = 0; i < READERS; i++)
		pthread_join(rd[i], NULL);
	pthread_join(gc, NULL);
	check_all(&s);
	xmm_p2m_stats(s.p, &stats);
	printf("%s: %lu gets, %lu sets, %lu clear/set_identity rounds, %lu stable generation "
	       "snapshots, %llu structural updates, %lu lost entries, %lu failures\n",
	       backend ? "portable" : "linear", atomic_load(&s.gets), atomic_load(&s.sets),
	       atomic_load(&s.fills), atomic_load(&s.consistent),
	       (unsigned long long)stats.generation / 2, atomic_load(&s.lost),
	       atomic_load(&s.failures));
	/* No xmm_rcu_barrier: queued leaves are freed on their own (and TSan reports the
	 * barrier's internals, see libxmm/user/platform.c). */
	xmm_p2m_destroy(s.p);
	pthread_rwlock_destroy(&s.excl);
	pthread_rwlockattr_destroy(&attr);
	/* A run that did nothing proves nothing. */
	return atomic_load(&s.failures) + (atomic_load(&s.gets) == 0) + (atomic_load(&s.sets) == 0) +
	       (atomic_load(&s.fills) < 2) + (atomic_load(&s.consistent) == 0);
}

int main(void)
{
	double seconds = stress_seconds(1.5);
	unsigned long failures = run(XMM_P2M_LINEAR, seconds) + run(XMM_P2M_PORTABLE, seconds);

	if (failures) {
		fprintf(stderr, "stress_p2m: FAILED\n");
		return 1;
	}
	printf("stress_p2m: ok\n");
	return 0;
}
