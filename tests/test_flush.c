/* SPDX-License-Identifier: MIT */
/* Unit tests and the model-based test of the flush filter (xmm/flush.h). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>

#include <xmm/errno.h>
#include <xmm/user/flush.h>

#include "common.h"

static struct xmm_flush_clock *new_clock(unsigned int ncpus, const uint16_t *groups)
{
	struct xmm_flush_clock *clk = NULL;

	cr_assert_eq(xmm_flush_clock_create(&clk, ncpus, groups, 0), 0);
	return clk;
}

Test(flush, size_rejects_bad_ncpus)
{
	cr_expect_eq(xmm_flush_clock_size(0), 0);
	cr_expect_eq(xmm_flush_clock_size(XMM_MAX_CPUS + 1), 0);
	cr_expect_gt(xmm_flush_clock_size(1), 0);
	cr_expect_geq(xmm_flush_clock_size(XMM_MAX_CPUS), XMM_MAX_CPUS * sizeof(uint64_t));
	cr_expect_leq(xmm_flush_clock_size(64), xmm_flush_clock_size(65));
	cr_expect_eq(xmm_flush_clock_size(64) % XMM_CACHELINE, 0);
}

Test(flush, init_rejects_bad_arguments)
{
	size_t sz = xmm_flush_clock_size(XMM_MAX_CPUS);
	char *mem = aligned_alloc(XMM_FLUSH_CLOCK_ALIGN, sz + XMM_FLUSH_CLOCK_ALIGN);
	struct xmm_flush_clock *clk = (struct xmm_flush_clock *)mem;
	uint16_t groups[4] = { 0, 1, 4, 1 };

	cr_assert_not_null(mem);
	cr_expect_eq(xmm_flush_clock_init(clk, 0, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_flush_clock_init(clk, XMM_MAX_CPUS + 1, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_flush_clock_init(NULL, 4, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_flush_clock_init((struct xmm_flush_clock *)(mem + 8), 4, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_flush_clock_init(clk, 4, groups), XMM_EINVAL, "group id 4 >= ncpus");
	cr_expect_eq(xmm_flush_clock_init_flags(clk, 4, NULL, 0x80), XMM_EINVAL);
	groups[2] = 3;
	cr_expect_eq(xmm_flush_clock_init(clk, 4, groups), 0);
	cr_expect_eq(xmm_flush_clock_ngroups(clk), 4, "ids 0..3 used as given");
	cr_expect_eq(xmm_flush_clock_init(clk, XMM_MAX_CPUS, NULL), 0);
	cr_expect_eq(xmm_flush_clock_ngroups(clk), XMM_MAX_CPUS / 64);
	cr_expect_eq(xmm_flush_clock_ncpus(clk), XMM_MAX_CPUS);

	struct xmm_flush_clock *out = (struct xmm_flush_clock *)0x1;

	cr_expect_eq(xmm_flush_clock_create(&out, 0, NULL, 0), XMM_EINVAL);
	cr_expect_eq(out, (struct xmm_flush_clock *)0x1, "untouched on error");
	cr_expect_eq(xmm_flush_clock_create(NULL, 4, NULL, 0), XMM_EINVAL);
	free(mem);
}

Test(flush, init_semantics)
{
	struct xmm_flush_clock *clk = new_clock(100, NULL);
	xmm_cpumask_t m;

	cr_expect_eq(xmm_flush_now(clk), 1);
	cr_expect_eq(xmm_flush_stamp(clk), 1);
	for (unsigned int cpu = 0; cpu < 100; cpu++) {
		cr_expect_not(xmm_flush_needed(clk, cpu, 0), "stamp 0 never needs a flush");
		cr_expect(xmm_flush_needed(clk, cpu, 1));
	}
	xmm_cpumask_fill(&m, 100);
	xmm_flush_filter(clk, &m, 0);
	cr_expect(xmm_cpumask_empty(&m));
	xmm_cpumask_fill(&m, 100);
	xmm_flush_filter(clk, &m, 1);
	cr_expect_eq(xmm_cpumask_weight(&m), 100);
	cr_expect_not(xmm_flush_any_needed(clk, 0));
	cr_expect(xmm_flush_any_needed(clk, 1));
	xmm_flush_clock_destroy(clk);
}

Test(flush, begin_end_needed)
{
	struct xmm_flush_clock *clk = new_clock(8, NULL);
	xmm_epoch_t s1 = xmm_flush_stamp(clk);
	xmm_epoch_t t1 = xmm_flush_begin(clk);

	cr_expect_eq(t1, 2);
	cr_expect_gt(t1, s1);
	cr_expect_eq(xmm_flush_now(clk), 2);
	xmm_epoch_t s2 = xmm_flush_stamp(clk); /* taken after t1 began: t1 does not cover it */

	xmm_flush_end(clk, 5, t1);
	cr_expect_not(xmm_flush_needed(clk, 5, s1));
	cr_expect(xmm_flush_needed(clk, 5, s2));
	cr_expect(xmm_flush_needed(clk, 4, s1));
	/* An older token never moves a CPU back. */
	xmm_flush_end(clk, 5, 1);
	cr_expect_not(xmm_flush_needed(clk, 5, s1));

	xmm_cpumask_t m;

	xmm_cpumask_fill(&m, 8);
	xmm_flush_filter(clk, &m, s1);
	cr_expect_eq(xmm_cpumask_weight(&m), 7);
	cr_expect_not(xmm_cpumask_test(&m, 5));
	xmm_flush_clock_destroy(clk);
}

Test(flush, end_mask_and_watermark)
{
	struct xmm_flush_clock *clk = new_clock(300, NULL);
	xmm_cpumask_t all, m;
	xmm_epoch_t s = xmm_flush_stamp(clk);
	xmm_epoch_t t = xmm_flush_begin(clk);

	xmm_cpumask_fill(&all, 300);
	xmm_cpumask_zero(&m);
	for (unsigned int cpu = 0; cpu < 300; cpu += 2)
		xmm_cpumask_set(&m, cpu);
	xmm_flush_end_mask(clk, &m, t);
	m = all;
	xmm_flush_filter(clk, &m, s);
	cr_expect_eq(xmm_cpumask_weight(&m), 150);
	cr_expect(xmm_flush_any_needed(clk, s));

	xmm_flush_end_mask(clk, &all, t);
	cr_expect_not(xmm_flush_any_needed(clk, s));
	for (int i = 0; i < 3; i++) { /* the second filter is answered by the raised watermark */
		m = all;
		xmm_flush_filter(clk, &m, s);
		cr_expect(xmm_cpumask_empty(&m));
	}
	m = all;
	xmm_flush_filter(clk, &m, t);
	cr_expect_eq(xmm_cpumask_weight(&m), 300, "a stamp taken at t is not covered by t");
	xmm_flush_clock_destroy(clk);
}

Test(flush, filter_keeps_out_of_range_cpus)
{
	struct xmm_flush_clock *clk = new_clock(70, NULL);
	xmm_cpumask_t m;

	xmm_cpumask_fill(&m, XMM_MAX_CPUS);
	xmm_flush_filter(clk, &m, 0); /* watermark path */
	cr_expect_eq(xmm_cpumask_weight(&m), XMM_MAX_CPUS - 70);
	cr_expect_eq(xmm_cpumask_first(&m), 70);

	xmm_epoch_t t = xmm_flush_begin(clk);
	xmm_epoch_t s = xmm_flush_stamp(clk);

	xmm_flush_end(clk, 3, xmm_flush_begin(clk));
	(void)t;
	xmm_cpumask_fill(&m, XMM_MAX_CPUS);
	xmm_flush_filter(clk, &m, s); /* group path */
	cr_expect_eq(xmm_cpumask_weight(&m), XMM_MAX_CPUS - 1);
	cr_expect_not(xmm_cpumask_test(&m, 3));

	/* end_mask ignores CPUs out of range instead of writing past the clock. */
	xmm_cpumask_fill(&m, XMM_MAX_CPUS);
	xmm_flush_end_mask(clk, &m, xmm_flush_begin(clk));
	xmm_flush_clock_destroy(clk);
}

#ifdef XMM_DEBUG
/* Debug builds assert on a CPU out of range. */
Test(flush, needed_out_of_range_asserts, .signal = SIGABRT)
{
	struct xmm_flush_clock *clk = new_clock(4, NULL);

	(void)xmm_flush_needed(clk, 4, 0);
}
#else
Test(flush, needed_out_of_range_needs_a_flush)
{
	struct xmm_flush_clock *clk = new_clock(4, NULL);

	cr_expect(xmm_flush_needed(clk, 4, 0));
	cr_expect(xmm_flush_needed(clk, ~0u, 0));
	xmm_flush_end(clk, 9, xmm_flush_begin(clk)); /* ignored, not written */
	cr_expect(xmm_flush_needed(clk, 9, 0));
	xmm_flush_clock_destroy(clk);
}
#endif

Test(flush, stamp_max)
{
	xmm_epoch_t acc = 0;

	xmm_flush_stamp_max(&acc, 5);
	xmm_flush_stamp_max(&acc, 3);
	cr_expect_eq(acc, 5);
	xmm_flush_stamp_max(&acc, 9);
	cr_expect_eq(acc, 9);
}

Test(flush, expand32_arithmetic)
{
	const xmm_epoch_t W = 1ULL << 32;

	/* Before the first wrap: the stamp itself, or now when no such epoch exists yet. */
	cr_expect_eq(xmm_epoch_expand32(100, 40), 40);
	cr_expect_eq(xmm_epoch_expand32(100, 100), 100);
	cr_expect_eq(xmm_epoch_expand32(100, 101), 100);
	/* After wraps: the most recent epoch <= now with those low bits. */
	cr_expect_eq(xmm_epoch_expand32(5 * W + 100, 40), 5 * W + 40);
	cr_expect_eq(xmm_epoch_expand32(5 * W + 100, 100), 5 * W + 100);
	cr_expect_eq(xmm_epoch_expand32(5 * W + 100, 101), 4 * W + 101);
	cr_expect_eq(xmm_epoch_expand32(5 * W, 0xffffffffu), 4 * W + 0xffffffffu);
	cr_expect_eq(xmm_epoch_expand32(~0ULL, 0xffffffffu), ~0ULL);

	/* Never older than the true stamp, for true stamps within 2^32 of now. */
	struct test_rng rng;

	test_rng_seed(&rng, test_seed(3));
	for (int i = 0; i < 100000; i++) {
		xmm_epoch_t now = test_rng_next(&rng) >> (test_rng_below(&rng, 40));
		xmm_epoch_t age = test_rng_below(&rng, W), truth = now >= age ? now - age : 0;
		xmm_epoch_t e = xmm_epoch_expand32(now, (uint32_t)truth);

		cr_assert_geq(e, truth);
		cr_assert_leq(e, now);
		cr_assert_eq(e, truth, "within one window the expansion is exact");
	}
}

Test(flush, stamp32_roundtrip)
{
	struct xmm_flush_clock *clk = new_clock(4, NULL);

	for (int i = 0; i < 1000; i++) {
		uint32_t s32 = xmm_flush_stamp32(clk);

		cr_assert_eq(xmm_flush_expand32(clk, s32), xmm_flush_now(clk));
		xmm_flush_end(clk, (unsigned)i % 4, xmm_flush_begin(clk));
		cr_assert_eq(xmm_flush_expand32(clk, s32), xmm_flush_now(clk) - 1);
	}
	xmm_flush_clock_destroy(clk);
}

Test(flush, platform_clock)
{
	struct xmm_flush_clock *clk = NULL;
	xmm_cpumask_t m;

	cr_assert_eq(xmm_flush_clock_create(&clk, 16, NULL, XMM_FLUSH_PLATFORM_CLOCK), 0);
	xmm_epoch_t s = xmm_flush_stamp(clk);

	cr_expect_not(xmm_flush_needed(clk, 0, 0), "init counts as a flush at init time");
	cr_expect(xmm_flush_needed(clk, 0, s));
	xmm_epoch_t t;

	do /* a coarse clock may read the same value twice */
		t = xmm_flush_begin(clk);
	while (t <= s);
	xmm_flush_end(clk, 7, t);
	xmm_cpumask_fill(&m, 16);
	xmm_flush_filter(clk, &m, s);
	cr_expect_eq(xmm_cpumask_weight(&m), 15);
	cr_expect_not(xmm_cpumask_test(&m, 7));
	xmm_flush_clock_destroy(clk);
}

/*
 * Model-based test: long random sequences of begin/end/end_mask/stamp/filter/
 * needed against a brute-force reference, over many group layouts. Filter
 * results must be identical (no flush is ever in flight between calls here,
 * so the filter must be exact, not only safe).
 */
struct ref_clock {
	unsigned int ncpus;
	xmm_epoch_t now;
	xmm_epoch_t done[XMM_MAX_CPUS];
};

static void ref_filter(const struct ref_clock *r, xmm_cpumask_t *m, xmm_epoch_t s)
{
	for (unsigned int cpu = 0; cpu < r->ncpus; cpu++)
		if (r->done[cpu] > s)
			xmm_cpumask_clear(m, cpu);
}

enum layout { L_DEFAULT, L_NODES, L_INTERLEAVED, L_RANDOM, L_ONE, L_SINGLETONS, L_COUNT };

static void make_groups(uint16_t *g, unsigned int ncpus, enum layout l, struct test_rng *rng)
{
	unsigned int per = (unsigned int)test_rng_below(rng, 32) + 1;
	unsigned int n = (unsigned int)test_rng_below(rng, ncpus) + 1;

	for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
		switch (l) {
		case L_NODES:
			g[cpu] = (uint16_t)(cpu / per);
			break;
		case L_INTERLEAVED:
			g[cpu] = (uint16_t)(cpu % n);
			break;
		case L_RANDOM:
			g[cpu] = (uint16_t)test_rng_below(rng, n);
			break;
		case L_ONE:
			g[cpu] = 0;
			break;
		case L_SINGLETONS:
			g[cpu] = (uint16_t)cpu;
			break;
		default:
			break;
		}
	}
}

static void random_mask(xmm_cpumask_t *m, unsigned int ncpus, struct test_rng *rng)
{
	unsigned int kind = (unsigned int)test_rng_below(rng, 4);

	if (kind == 0) {
		xmm_cpumask_fill(m, ncpus);
		return;
	}
	xmm_cpumask_zero(m);
	unsigned int pct = kind == 1 ? 5 : kind == 2 ? 50 : 95;

	for (unsigned int cpu = 0; cpu < ncpus; cpu++)
		if (test_rng_below(rng, 100) < pct)
			xmm_cpumask_set(m, cpu);
}

static void model_run(uint64_t seed, unsigned int ncpus, enum layout l, unsigned int steps)
{
	static struct ref_clock r;
	static uint16_t groups[XMM_MAX_CPUS];
	xmm_epoch_t stamps[16] = { 0 }, tokens[8];
	unsigned int ntokens = 0;
	struct xmm_flush_clock *clk = NULL;
	struct test_rng rng;
	xmm_cpumask_t m, mr;

	test_rng_seed(&rng, seed);
	make_groups(groups, ncpus, l, &rng);
	cr_assert_eq(xmm_flush_clock_create(&clk, ncpus, l == L_DEFAULT ? NULL : groups, 0), 0);
	r.ncpus = ncpus;
	r.now = 1;
	for (unsigned int cpu = 0; cpu < ncpus; cpu++)
		r.done[cpu] = 1;

	for (unsigned int step = 0; step < steps; step++) {
		unsigned int op = (unsigned int)test_rng_below(&rng, 100);

		if (op < 15) { /* begin */
			xmm_epoch_t t = xmm_flush_begin(clk);

			cr_assert_eq(t, ++r.now);
			if (ntokens < 8)
				tokens[ntokens++] = t;
			else
				tokens[test_rng_below(&rng, 8)] = t;
		} else if (op < 35 && ntokens) { /* end: one CPU, an outstanding token */
			unsigned int cpu = (unsigned int)test_rng_below(&rng, ncpus);
			xmm_epoch_t t = tokens[test_rng_below(&rng, ntokens)];

			xmm_flush_end(clk, cpu, t);
			if (t > r.done[cpu])
				r.done[cpu] = t;
		} else if (op < 45 && ntokens) { /* end_mask */
			xmm_epoch_t t = tokens[test_rng_below(&rng, ntokens)];

			random_mask(&m, ncpus, &rng);
			xmm_flush_end_mask(clk, &m, t);
			for (unsigned int cpu = 0; cpu < ncpus; cpu++)
				if (xmm_cpumask_test(&m, cpu) && t > r.done[cpu])
					r.done[cpu] = t;
		} else if (op < 55) { /* stamp */
			xmm_epoch_t s = xmm_flush_stamp(clk);

			cr_assert_eq(s, r.now);
			stamps[test_rng_below(&rng, 16)] = s;
			cr_assert_eq(xmm_flush_expand32(clk, xmm_flush_stamp32(clk)), s);
		} else { /* filter / needed / any_needed with an old, recent or random stamp */
			xmm_epoch_t s = test_rng_below(&rng, 3) ? stamps[test_rng_below(&rng, 16)]
								: test_rng_below(&rng, r.now + 1);

			random_mask(&m, ncpus, &rng);
			mr = m;
			xmm_flush_filter(clk, &m, s);
			ref_filter(&r, &mr, s);
			cr_assert(xmm_cpumask_equal(&m, &mr),
				  "seed %llu step %u: filter(stamp %llu) differs from the reference "
				  "(%u vs %u CPUs)",
				  (unsigned long long)seed, step, (unsigned long long)s,
				  xmm_cpumask_weight(&m), xmm_cpumask_weight(&mr));
			unsigned int cpu = (unsigned int)test_rng_below(&rng, ncpus);

			cr_assert_eq(xmm_flush_needed(clk, cpu, s), r.done[cpu] <= s);
			bool any = false;

			for (unsigned int c = 0; c < ncpus && !any; c++)
				any = r.done[c] <= s;
			cr_assert_eq(xmm_flush_any_needed(clk, s), any);
		}
	}
	xmm_flush_clock_destroy(clk);
}

Test(flush, model_small_machines)
{
	static const unsigned int sizes[] = { 1, 2, 3, 63, 64, 65, 130 };
	uint64_t seed = test_seed(1000);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int l = 0; l < L_COUNT; l++)
			model_run(seed++, sizes[i], (enum layout)l, 4000 * test_scale());
}

Test(flush, model_large_machines)
{
	static const unsigned int sizes[] = { 1000, XMM_MAX_CPUS };
	uint64_t seed = test_seed(2000);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int l = 0; l < L_COUNT; l++)
			model_run(seed++, sizes[i], (enum layout)l, 1500 * test_scale());
}

/*
 * Regression (issue 15): a token from the future was accepted silently in
 * release builds, and the filters then dropped a CPU that still needed a
 * flush. It is refused in every build and writes nothing.
 */
Test(flush, end_refuses_a_token_from_the_future)
{
	struct xmm_flush_clock *clk = new_clock(4, NULL);
	xmm_cpumask_t m, all;
	xmm_epoch_t s, t;

	s = xmm_flush_stamp(clk);
	t = xmm_flush_begin(clk);
	cr_expect_eq(xmm_flush_end(clk, 1, t + 1), XMM_EINVAL);
	cr_expect_eq(xmm_flush_end(clk, 1, UINT64_MAX), XMM_EINVAL);
	xmm_cpumask_fill(&all, 4);
	cr_expect_eq(xmm_flush_end_mask(clk, &all, t + 100), XMM_EINVAL);
	cr_expect(xmm_flush_needed(clk, 1, s), "nothing was written");
	m = all;
	xmm_flush_filter(clk, &m, s);
	cr_expect_eq(xmm_cpumask_weight(&m), 4, "no CPU dropped");
	cr_expect(xmm_flush_any_needed(clk, s));
	/* A later stamp stays covered only by a real flush. */
	cr_expect_eq(xmm_flush_end(clk, 1, t), 0);
	cr_expect_not(xmm_flush_needed(clk, 1, s));
	cr_expect(xmm_flush_needed(clk, 1, xmm_flush_stamp(clk)));
	cr_expect_eq(xmm_flush_end_mask(clk, &all, t), 0);
	cr_expect_not(xmm_flush_any_needed(clk, s));
	xmm_flush_clock_destroy(clk);
}
