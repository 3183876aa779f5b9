/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the scrub queues (xmm/scrub.h) with real threads over real
 * memory: producers put pattern-filled extents (aligned blocks and arbitrary
 * ranges) on three nodes, workers run on two of them (the third is scrubbed
 * only by stealing), takers take blocks of every size. Every page carries a
 * state (free, being filled, queued) that only the library's hand-back may
 * move from queued to free, so a page handed back twice, handed back while
 * not queued, or handed back dirty is caught at once; at the end every page
 * put has come back exactly once and pending is zero everywhere.
 *
 * should_yield checks, per worker thread, that at most chunk_pages were
 * scrubbed since the previous check, and says yes now and then.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/scrub.h>

#include "common.h"

#define NPAGES 8192
#define NNODES 3
#define CHUNK 8
#define PRODUCERS 2
#define WORKERS 2
#define TAKERS 1

enum { FREE, FILLING, QUEUED };

struct rig {
	struct xmm_scrub *s;
	unsigned char *mem;
	struct xmm_scrub_link links[NPAGES];
	_Atomic uint8_t state[NPAGES];
	_Atomic uint8_t node_of[NPAGES];
	_Atomic uint32_t puts[NPAGES], backs[NPAGES];
	_Atomic unsigned long failures;
	_Atomic unsigned long cleaned, taken, put_pages, yields, enoent;
	_Atomic int stop;
};

static struct rig rig;
static _Thread_local uint64_t since_check;
static _Thread_local struct test_rng thread_rng;

static struct xmm_scrub_link *r_link(void *ctx, xmm_pfn_t pfn)
{
	(void)ctx;
	if (pfn >= NPAGES)
		abort();
	return &rig.links[pfn];
}

static void *r_map(void *ctx, xmm_pfn_t pfn, uint64_t n)
{
	unsigned long f = 0;

	(void)ctx;
	STRESS_CHECK(f, n <= CHUNK && pfn + n <= NPAGES, "map %llu+%llu", (unsigned long long)pfn,
		     (unsigned long long)n);
	if (f)
		atomic_fetch_add(&rig.failures, f);
	return rig.mem + pfn * XMM_PAGE_SIZE;
}

static unsigned char pattern(xmm_pfn_t pfn, uint32_t gen)
{
	return (unsigned char)(pfn * 13 + gen * 7) | 1;
}

/* Pages [pfn, pfn + n) come back from @node: they must be queued there and zero. */
static void hand_back(unsigned int node, xmm_pfn_t pfn, uint64_t n, const char *how)
{
	unsigned long f = 0;

	for (uint64_t i = 0; i < n; i++) {
		const uint64_t *w = (const uint64_t *)(const void *)(rig.mem + (pfn + i) * XMM_PAGE_SIZE);
		bool zero = true;

		for (size_t k = 0; k < XMM_PAGE_SIZE / 8 && zero; k++)
			zero = w[k] == 0;
		STRESS_CHECK(f, zero, "%s: page %llu handed back dirty", how,
			     (unsigned long long)(pfn + i));
		STRESS_CHECK(f, atomic_load(&rig.node_of[pfn + i]) == node,
			     "%s: page %llu of node %u handed back as node %u's", how,
			     (unsigned long long)(pfn + i), atomic_load(&rig.node_of[pfn + i]), node);
		atomic_fetch_add(&rig.backs[pfn + i], 1);
		/* Release: our zero check before a producer may fill the page again. */
		uint8_t old = atomic_exchange(&rig.state[pfn + i], FREE);

		STRESS_CHECK(f, old == QUEUED, "%s: page %llu handed back in state %u", how,
			     (unsigned long long)(pfn + i), old);
	}
	if (f)
		atomic_fetch_add(&rig.failures, f);
}

static void r_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	unsigned long f = 0;

	(void)ctx;
	STRESS_CHECK(f, n <= CHUNK && !(n & (n - 1)) && pfn % n == 0, "clean got %llu+%llu",
		     (unsigned long long)pfn, (unsigned long long)n);
	if (f)
		atomic_fetch_add(&rig.failures, f);
	since_check += n;
	hand_back(node, pfn, n, "clean");
	atomic_fetch_add(&rig.cleaned, n);
}

static bool r_should_yield(void *ctx)
{
	unsigned long f = 0;

	(void)ctx;
	STRESS_CHECK(f, since_check <= CHUNK, "%llu pages between two yield checks",
		     (unsigned long long)since_check);
	if (f)
		atomic_fetch_add(&rig.failures, f);
	since_check = 0;
	if (test_rng_below(&thread_rng, 8))
		return false;
	atomic_fetch_add(&rig.yields, 1);
	return true;
}

static const struct xmm_scrub_ops r_ops = {
	.link = r_link, .map = r_map, .clean = r_clean, .should_yield = r_should_yield,
};

/* Claim [pfn, pfn + n) if every page is free; fill it and mark it queued. */
static bool claim_and_fill(xmm_pfn_t pfn, uint64_t n, unsigned int node)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t want = FREE;

		if (!atomic_compare_exchange_strong(&rig.state[pfn + i], &want, FILLING)) {
			while (i--)
				atomic_store(&rig.state[pfn + i], FREE);
			return false;
		}
	}
	for (uint64_t i = 0; i < n; i++) {
		uint32_t gen = atomic_fetch_add(&rig.puts[pfn + i], 1) + 1;

		memset(rig.mem + (pfn + i) * XMM_PAGE_SIZE, pattern(pfn + i, gen), XMM_PAGE_SIZE);
		atomic_store(&rig.node_of[pfn + i], (uint8_t)node);
		atomic_store(&rig.state[pfn + i], QUEUED);
	}
	return true;
}

static void *producer(void *arg)
{
	test_rng_seed(&thread_rng, 100 + (uintptr_t)arg);
	while (!atomic_load(&rig.stop)) {
		unsigned int node = (unsigned int)test_rng_below(&thread_rng, NNODES);
		uint64_t n;
		xmm_pfn_t pfn;

		if (test_rng_below(&thread_rng, 2)) {
			n = 1ULL << test_rng_below(&thread_rng, 7);
			pfn = test_rng_below(&thread_rng, NPAGES / n) * n;
		} else {
			n = 1 + test_rng_below(&thread_rng, 40);
			pfn = test_rng_below(&thread_rng, NPAGES - n + 1);
		}
		if (!claim_and_fill(pfn, n, node))
			continue;
		if (xmm_scrub_put(rig.s, node, pfn, n) != 0) {
			atomic_fetch_add(&rig.failures, 1);
			fprintf(stderr, "put %llu+%llu failed\n", (unsigned long long)pfn,
				(unsigned long long)n);
		}
		atomic_fetch_add(&rig.put_pages, n);
	}
	return NULL;
}

static void *worker(void *arg)
{
	unsigned int node = (unsigned int)(uintptr_t)arg % (NNODES - 1); /* node 2: no workers */

	test_rng_seed(&thread_rng, 200 + (uintptr_t)arg);
	while (!atomic_load(&rig.stop))
		(void)xmm_scrub_run(rig.s, node,
				    test_rng_below(&thread_rng, 2) ? 1 + test_rng_below(&thread_rng, 64)
								   : UINT64_MAX);
	return NULL;
}

static void *taker(void *arg)
{
	test_rng_seed(&thread_rng, 300 + (uintptr_t)arg);
	while (!atomic_load(&rig.stop)) {
		unsigned int node = (unsigned int)test_rng_below(&thread_rng, NNODES);
		uint64_t n = test_rng_below(&thread_rng, 2) ? 1ULL << test_rng_below(&thread_rng, 7)
							    : 1 + test_rng_below(&thread_rng, 50);
		xmm_pfn_t pfn;
		int rc = xmm_scrub_take(rig.s, node, n, &pfn);

		if (rc == XMM_ENOENT) {
			atomic_fetch_add(&rig.enoent, 1);
			continue;
		}
		if (rc != 0 || (!(n & (n - 1)) && pfn % n)) {
			atomic_fetch_add(&rig.failures, 1);
			fprintf(stderr, "take %llu: rc %d pfn %llu\n", (unsigned long long)n, rc,
				(unsigned long long)pfn);
			continue;
		}
		hand_back(node, pfn, n, "take");
		atomic_fetch_add(&rig.taken, n);
	}
	return NULL;
}

int main(void)
{
	pthread_t p[PRODUCERS], w[WORKERS], t[TAKERS];
	double secs = stress_seconds(2.0);
	unsigned long f = 0;

	rig.mem = aligned_alloc(XMM_PAGE_SIZE, (size_t)NPAGES * XMM_PAGE_SIZE);
	if (!rig.mem || xmm_scrub_create(&rig.s, NNODES, NULL, CHUNK, &r_ops, NULL) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		pthread_create(&p[i], NULL, producer, (void *)i);
	for (uintptr_t i = 0; i < WORKERS; i++)
		pthread_create(&w[i], NULL, worker, (void *)i);
	for (uintptr_t i = 0; i < TAKERS; i++)
		pthread_create(&t[i], NULL, taker, (void *)i);
	double end = test_now() + secs;

	while (test_now() < end)
		sched_yield();
	atomic_store(&rig.stop, 1);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < TAKERS; i++)
		pthread_join(t[i], NULL);

	/* Quiescent: pending is exact; drain what is left from node 0 (stealing the rest). */
	uint64_t left = 0;

	for (unsigned int n = 0; n < NNODES; n++)
		left += xmm_scrub_pending(rig.s, n);
	test_rng_seed(&thread_rng, 400);
	while (xmm_scrub_run(rig.s, 0, UINT64_MAX))
		;
	STRESS_CHECK(f, atomic_load(&rig.cleaned) + atomic_load(&rig.taken) ==
				atomic_load(&rig.put_pages),
		     "pages put %lu, cleaned %lu, taken %lu", atomic_load(&rig.put_pages),
		     atomic_load(&rig.cleaned), atomic_load(&rig.taken));
	for (unsigned int n = 0; n < NNODES; n++)
		STRESS_CHECK(f, xmm_scrub_pending(rig.s, n) == 0, "node %u: %llu pending after drain", n,
			     (unsigned long long)xmm_scrub_pending(rig.s, n));
	for (xmm_pfn_t pg = 0; pg < NPAGES; pg++) {
		STRESS_CHECK(f, atomic_load(&rig.state[pg]) == FREE, "page %llu in state %u at the end",
			     (unsigned long long)pg, atomic_load(&rig.state[pg]));
		STRESS_CHECK(f, atomic_load(&rig.puts[pg]) == atomic_load(&rig.backs[pg]),
			     "page %llu put %u times, handed back %u times", (unsigned long long)pg,
			     atomic_load(&rig.puts[pg]), atomic_load(&rig.backs[pg]));
	}
	STRESS_CHECK(f, atomic_load(&rig.cleaned) > 0 && atomic_load(&rig.taken) > 0 &&
				atomic_load(&rig.yields) > 0,
		     "every path ran: cleaned %lu taken %lu yields %lu", atomic_load(&rig.cleaned),
		     atomic_load(&rig.taken), atomic_load(&rig.yields));
	f += atomic_load(&rig.failures);
	printf("stress_scrub: %.1f s, %lu pages put, %lu cleaned, %lu taken (%lu take misses), "
	       "%lu yields, %llu left at the stop: %s\n",
	       secs, atomic_load(&rig.put_pages), atomic_load(&rig.cleaned), atomic_load(&rig.taken),
	       atomic_load(&rig.enoent), atomic_load(&rig.yields), (unsigned long long)left,
	       f ? "FAILED" : "ok");
	xmm_scrub_destroy(rig.s);
	free(rig.mem);
	return f ? 1 : 0;
}
