/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the scrub daemon over an arena (xmm/scrubd.h), plain so it
 * runs under ThreadSanitizer: three nodes, CPUs on nodes 0 and 2 only (node
 * 1's memory is scrubbed by stealing), two workers per node. Rounds of: two
 * putter threads destroy "guests" (pattern-filled extents of every size) in
 * bursts with pauses, so workers keep going to sleep and being woken by put;
 * a taker allocates meanwhile; then drain, and every page must have come back
 * exactly once, zeroed. The daemon is stopped and restarted between rounds,
 * with memory put while it is down. A lost wakeup would hang drain: an alarm
 * turns that into a failure.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xmm/errno.h>
#include <xmm/user/scrubd.h>
#include <xmm/user/scrub_arena.h>

#include "common.h"

#define NPAGES 6144 /* 3 nodes of 2048 pages */
#define PUTTERS 2

enum { FREE, QUEUED };

static const uint16_t cpu_node[2] = { 0, 2 };
static const uint8_t dist[9] = { 10, 20, 30, 20, 10, 20, 30, 20, 10 };
static const struct xmm_topo topo = { .ncpus = 2, .nnodes = 3, .node_of_cpu = cpu_node,
				      .distance = dist };

static struct xmm_scrub_arena *arena;
static _Atomic uint8_t state[NPAGES];
static _Atomic unsigned long failures, put_pages, back_pages;
static _Atomic int stop_takers;

static void back(unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	unsigned long f = 0;

	for (uint64_t i = 0; i < n; i++) {
		const uint64_t *w = xmm_scrub_arena_va(arena, pfn + i);
		bool zero = true;

		for (size_t k = 0; k < XMM_PAGE_SIZE / 8 && zero; k++)
			zero = w[k] == 0;
		STRESS_CHECK(f, zero, "page %llu came back dirty", (unsigned long long)(pfn + i));
		STRESS_CHECK(f, xmm_scrub_arena_node(arena, pfn + i) == node,
			     "page %llu came back as node %u's", (unsigned long long)(pfn + i), node);
		uint8_t old = atomic_exchange(&state[pfn + i], FREE);

		STRESS_CHECK(f, old == QUEUED, "page %llu came back in state %u",
			     (unsigned long long)(pfn + i), old);
	}
	atomic_fetch_add(&back_pages, n);
	if (f)
		atomic_fetch_add(&failures, f);
}

static void on_clean(void *arg, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	(void)arg;
	back(node, pfn, n);
}

/* Destroy a guest: fill and put the free pages of [lo, hi) in extents of random size. */
static void put_range(struct test_rng *rng, xmm_pfn_t lo, xmm_pfn_t hi)
{
	xmm_pfn_t p = lo;

	while (p < hi) {
		uint64_t n = test_rng_below(rng, 2) ? 1ULL << test_rng_below(rng, 8)
						    : 1 + test_rng_below(rng, 100);
		uint64_t k = 0;

		if (n > hi - p)
			n = hi - p;
		while (k < n && atomic_load(&state[p + k]) == FREE)
			k++;
		if (k == 0) { /* taken and not yet given back, or still queued */
			p++;
			continue;
		}
		memset(xmm_scrub_arena_va(arena, p), 0x6b, k * XMM_PAGE_SIZE);
		for (uint64_t i = 0; i < k; i++)
			atomic_store(&state[p + i], QUEUED);
		if (xmm_scrub_arena_put(arena, p, k) != 0)
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&put_pages, k);
		p += k;
		if (test_rng_below(rng, 16) == 0)
			usleep(200); /* a pause: workers run dry and sleep */
	}
}

struct putter {
	pthread_t t;
	unsigned int id, round;
};

static void *putter_main(void *arg)
{
	struct putter *pt = arg;
	struct test_rng rng;
	xmm_pfn_t half = NPAGES / PUTTERS;

	test_rng_seed(&rng, pt->id * 1000 + pt->round);
	put_range(&rng, pt->id * half, (pt->id + 1) * half);
	return NULL;
}

static void *taker_main(void *arg)
{
	struct xmm_scrub *s = xmm_scrub_arena_scrub(arena);
	struct test_rng rng;

	test_rng_seed(&rng, (uintptr_t)arg);
	while (!atomic_load(&stop_takers)) {
		unsigned int node = (unsigned int)test_rng_below(&rng, 3);
		uint64_t n = 1ULL << test_rng_below(&rng, 6);
		xmm_pfn_t p;

		if (xmm_scrub_take(s, node, n, &p) == 0) {
			if (p % n)
				atomic_fetch_add(&failures, 1);
			back(node, p, n);
		} else {
			sched_yield();
		}
	}
	return NULL;
}

int main(void)
{
	struct xmm_scrub_arena_cfg cfg = { .npages = NPAGES, .topo = &topo, .chunk_pages = 16,
					   .clean = on_clean };
	double end = test_now() + stress_seconds(2.0);
	struct xmm_scrubd *d = NULL;
	struct xmm_scrub *s;
	unsigned int round = 0;
	unsigned long f = 0;
	pthread_t taker;

	if (xmm_scrub_arena_create(&arena, &cfg) != 0) {
		fprintf(stderr, "arena: setup failed\n");
		return 1;
	}
	s = xmm_scrub_arena_scrub(arena);
	alarm(120); /* a lost wakeup hangs drain: die instead of passing */
	while (round < 3 || test_now() < end) {
		struct putter pt[PUTTERS];

		if (!d && xmm_scrubd_start(&d, s, &topo, 1 + round % 2) != 0) {
			fprintf(stderr, "daemon: start failed\n");
			return 1;
		}
		atomic_store(&stop_takers, 0);
		pthread_create(&taker, NULL, taker_main, (void *)(uintptr_t)round);
		for (unsigned int i = 0; i < PUTTERS; i++) {
			pt[i].id = i;
			pt[i].round = round;
			pthread_create(&pt[i].t, NULL, putter_main, &pt[i]);
		}
		for (unsigned int i = 0; i < PUTTERS; i++)
			pthread_join(pt[i].t, NULL);
		atomic_store(&stop_takers, 1);
		pthread_join(taker, NULL);
		if (xmm_scrubd_drain(d) != 0)
			f++;
		for (unsigned int n = 0; n < 3; n++)
			STRESS_CHECK(f, xmm_scrub_pending(s, n) == 0, "round %u: node %u has %llu pending",
				     round, n, (unsigned long long)xmm_scrub_pending(s, n));
		STRESS_CHECK(f, atomic_load(&put_pages) == atomic_load(&back_pages),
			     "round %u: %lu pages put, %lu came back", round, atomic_load(&put_pages),
			     atomic_load(&back_pages));
		if (round % 2 == 0) {
			/* Stop, put while nobody scrubs, restart at the next round. */
			struct test_rng rng;

			xmm_scrubd_stop(d);
			d = NULL;
			test_rng_seed(&rng, round);
			put_range(&rng, 0, 512);
		}
		round++;
	}
	if (d)
		xmm_scrubd_stop(d);
	/* What the last stop left queued: scrub it here. */
	while (xmm_scrub_run(s, 0, UINT64_MAX))
		;
	for (xmm_pfn_t p = 0; p < NPAGES; p++)
		STRESS_CHECK(f, atomic_load(&state[p]) == FREE, "page %llu still queued",
			     (unsigned long long)p);
	STRESS_CHECK(f, atomic_load(&put_pages) == atomic_load(&back_pages), "%lu put, %lu back",
		     atomic_load(&put_pages), atomic_load(&back_pages));
	f += atomic_load(&failures);
	printf("stress_scrubd: %u rounds, %lu pages put and back: %s\n", round,
	       atomic_load(&put_pages), f ? "FAILED" : "ok");
	xmm_scrub_arena_destroy(arena);
	return f ? 1 : 0;
}
