/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the flush filter (xmm/flush.h) with real threads: a small
 * simulated machine whose TLBs are visible to the checker.
 *
 * CPU threads each own a few simulated CPUs. A CPU caches translations (copies
 * a page's current mapping generation into its TLB), flushes its own TLB now
 * and then (begin; clear; end), and answers shootdown requests from an
 * initiator thread (begin; request; wait for acks; end_mask). Mapper threads
 * replace a page's mapping (a new generation), stamp, and filter: every CPU
 * the filter drops, or needed() clears, must hold no entry of an older
 * generation for that page. That is the shadow record: a CPU may be dropped
 * only if it completed a flush begun after the stamp. Any stale entry seen is
 * a failure. Runs with the counter clock and with the platform clock, and
 * with interleaved groups so the slot permutation is exercised too.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <xmm/user/flush.h>
#include <xmm/platform.h>

#include "common.h"

#define NCPUS 48
#define NPAGES 24
#define CPU_THREADS 3
#define MAPPERS 2

struct sim {
	struct xmm_flush_clock *clk;
	_Atomic uint64_t pte[NPAGES];            /* current mapping generation of each page */
	_Atomic uint64_t tlb[NCPUS][NPAGES];     /* a CPU's cached generation, 0 = none */
	_Atomic uint64_t request[NCPUS];         /* shootdown token asked of a CPU */
	_Atomic uint64_t ack[NCPUS];             /* last token a CPU flushed for */
	_Atomic uint64_t next_gen;
	_Atomic int stop;
	_Atomic unsigned long failures;
	_Atomic unsigned long drops, checks, local_flushes, shootdowns;
	double deadline;
};

static void cpu_flush_tlb(struct sim *s, unsigned int cpu)
{
	for (unsigned int p = 0; p < NPAGES; p++)
		atomic_store_explicit(&s->tlb[cpu][p], 0, memory_order_relaxed);
}

static void *cpu_thread(void *arg)
{
	struct sim *s = ((void **)arg)[0];
	unsigned int first = (unsigned int)(uintptr_t)((void **)arg)[1];
	struct test_rng rng;

	test_rng_seed(&rng, first + 77);
	while (!atomic_load(&s->stop)) {
		for (unsigned int cpu = first; cpu < NCPUS; cpu += CPU_THREADS) {
			uint64_t req = atomic_load(&s->request[cpu]);

			if (req && req != atomic_load(&s->ack[cpu])) {
				/* The initiator began this flush before asking: clear, then ack. */
				cpu_flush_tlb(s, cpu);
				atomic_store(&s->ack[cpu], req);
			}
			for (int i = 0; i < 4; i++) {
				unsigned int p = (unsigned int)test_rng_below(&rng, NPAGES);
				uint64_t g = atomic_load(&s->pte[p]); /* a page walk */

				atomic_store_explicit(&s->tlb[cpu][p], g, memory_order_relaxed);
			}
			if (test_rng_below(&rng, 8) == 0) {
				xmm_epoch_t t = xmm_flush_begin(s->clk);

				cpu_flush_tlb(s, cpu);
				xmm_flush_end(s->clk, cpu, t);
				atomic_fetch_add(&s->local_flushes, 1);
			}
		}
	}
	return NULL;
}

static void *initiator_thread(void *arg)
{
	struct sim *s = arg;
	struct test_rng rng;

	test_rng_seed(&rng, 99);
	while (!atomic_load(&s->stop)) {
		xmm_cpumask_t mask;
		xmm_epoch_t t = xmm_flush_begin(s->clk);

		xmm_cpumask_zero(&mask);
		for (unsigned int cpu = 0; cpu < NCPUS; cpu++)
			if (test_rng_below(&rng, 3) == 0) {
				xmm_cpumask_set(&mask, cpu);
				atomic_store(&s->request[cpu], t);
			}
		unsigned int cpu;

		xmm_cpumask_for_each(cpu, &mask) {
			while (atomic_load(&s->ack[cpu]) < t && !atomic_load(&s->stop))
				sched_yield();
		}
		if (atomic_load(&s->stop))
			break;
		xmm_flush_end_mask(s->clk, &mask, t);
		atomic_fetch_add(&s->shootdowns, 1);
	}
	return NULL;
}

/* Every CPU not in @kept (or for which needed() said no) must hold no entry older than @gen. */
static void check_dropped(struct sim *s, unsigned int p, uint64_t gen, const xmm_cpumask_t *kept,
			  xmm_epoch_t stamp)
{
	for (unsigned int cpu = 0; cpu < NCPUS; cpu++) {
		if (xmm_cpumask_test(kept, cpu))
			continue;
		uint64_t v = atomic_load(&s->tlb[cpu][p]);
		unsigned long f = 0;

		atomic_fetch_add(&s->drops, 1);
		STRESS_CHECK(f, v == 0 || v >= gen,
			     "cpu %u dropped for stamp %llu but caches page %u generation %llu < %llu",
			     cpu, (unsigned long long)stamp, p, (unsigned long long)v,
			     (unsigned long long)gen);
		if (f)
			atomic_fetch_add(&s->failures, f);
	}
}

static void *mapper_thread(void *arg)
{
	struct sim *s = ((void **)arg)[0];
	unsigned int id = (unsigned int)(uintptr_t)((void **)arg)[1];
	struct test_rng rng;

	test_rng_seed(&rng, id + 1234);
	for (unsigned long round = 0; test_now() < s->deadline; round++) {
		/* Pages are partitioned between mappers: nobody else remaps ours meanwhile. */
		unsigned int p = id + MAPPERS * (unsigned int)test_rng_below(&rng, NPAGES / MAPPERS);
		uint64_t gen = atomic_fetch_add(&s->next_gen, 1);
		xmm_cpumask_t mask;
		xmm_epoch_t stamp;

		atomic_store(&s->pte[p], gen); /* remove the old mapping (seq_cst) */
		if (round % 3 == 0)
			stamp = xmm_flush_expand32(s->clk, xmm_flush_stamp32(s->clk));
		else
			stamp = xmm_flush_stamp(s->clk);
		for (unsigned int i = (unsigned int)test_rng_below(&rng, 4096); i; i--)
			xmm_pr_relax(); /* let some flushes happen */

		xmm_cpumask_fill(&mask, NCPUS);
		xmm_flush_filter(s->clk, &mask, stamp);
		check_dropped(s, p, gen, &mask, stamp);

		xmm_cpumask_zero(&mask);
		for (unsigned int cpu = 0; cpu < NCPUS; cpu++)
			if (xmm_flush_needed(s->clk, cpu, stamp))
				xmm_cpumask_set(&mask, cpu);
		check_dropped(s, p, gen, &mask, stamp);
		if (!xmm_flush_any_needed(s->clk, stamp)) {
			xmm_cpumask_zero(&mask);
			check_dropped(s, p, gen, &mask, stamp);
		}
		atomic_fetch_add(&s->checks, 1);
	}
	return NULL;
}

static unsigned long run(unsigned int flags, const uint16_t *groups, double seconds)
{
	static struct sim s;
	pthread_t cpus[CPU_THREADS], maps[MAPPERS], init;
	void *cargs[CPU_THREADS][2], *margs[MAPPERS][2];

	for (unsigned int p = 0; p < NPAGES; p++)
		atomic_store(&s.pte[p], 0);
	for (unsigned int c = 0; c < NCPUS; c++) {
		atomic_store(&s.request[c], 0);
		atomic_store(&s.ack[c], 0);
		for (unsigned int p = 0; p < NPAGES; p++)
			atomic_store(&s.tlb[c][p], 0);
	}
	atomic_store(&s.next_gen, 1);
	atomic_store(&s.stop, 0);
	atomic_store(&s.failures, 0);
	atomic_store(&s.drops, 0);
	atomic_store(&s.checks, 0);
	atomic_store(&s.local_flushes, 0);
	atomic_store(&s.shootdowns, 0);
	s.deadline = test_now() + seconds;
	if (xmm_flush_clock_create(&s.clk, NCPUS, groups, flags) != 0) {
		fprintf(stderr, "cannot create the clock\n");
		return 1;
	}
	for (unsigned int i = 0; i < CPU_THREADS; i++) {
		cargs[i][0] = &s;
		cargs[i][1] = (void *)(uintptr_t)i;
		pthread_create(&cpus[i], NULL, cpu_thread, cargs[i]);
	}
	pthread_create(&init, NULL, initiator_thread, &s);
	for (unsigned int i = 0; i < MAPPERS; i++) {
		margs[i][0] = &s;
		margs[i][1] = (void *)(uintptr_t)i;
		pthread_create(&maps[i], NULL, mapper_thread, margs[i]);
	}
	for (unsigned int i = 0; i < MAPPERS; i++)
		pthread_join(maps[i], NULL);
	atomic_store(&s.stop, 1);
	pthread_join(init, NULL);
	for (unsigned int i = 0; i < CPU_THREADS; i++)
		pthread_join(cpus[i], NULL);
	xmm_flush_clock_destroy(s.clk);
	printf("flags %#x groups %s: %lu checks, %lu CPUs dropped and verified, %lu local flushes, "
	       "%lu shootdowns, %lu failures\n",
	       flags, groups ? "interleaved" : "default", atomic_load(&s.checks),
	       atomic_load(&s.drops), atomic_load(&s.local_flushes), atomic_load(&s.shootdowns),
	       atomic_load(&s.failures));
	return atomic_load(&s.failures) + (atomic_load(&s.drops) == 0);
}

int main(void)
{
	uint16_t interleaved[NCPUS];
	double seconds = stress_seconds(2.0);
	unsigned long failures = 0;

	for (unsigned int c = 0; c < NCPUS; c++)
		interleaved[c] = (uint16_t)(c % 5);
	failures += run(0, NULL, seconds);
	failures += run(0, interleaved, seconds);
	failures += run(XMM_FLUSH_PLATFORM_CLOCK, interleaved, seconds);
	if (failures) {
		fprintf(stderr, "stress_flush: FAILED\n");
		return 1;
	}
	printf("stress_flush: ok\n");
	return 0;
}
