/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include <xmm/cpumask.h>

#include "common.h"

/* Reference: one bool per CPU. */
static bool ref_bit(const bool *ref, unsigned int cpu)
{
	return cpu < XMM_MAX_CPUS && ref[cpu];
}

Test(cpumask, layout_is_xen_and_linux)
{
	xmm_cpumask_t m;

	xmm_cpumask_zero(&m);
	xmm_cpumask_set(&m, 0);
	xmm_cpumask_set(&m, 65);
	xmm_cpumask_set(&m, XMM_MAX_CPUS - 1);
	cr_expect_eq(m.bits[0], 1ULL);
	cr_expect_eq(m.bits[1], 2ULL);
	cr_expect_eq(m.bits[XMM_CPUMASK_WORDS - 1], 1ULL << 63);
	cr_expect_eq(sizeof(m), XMM_MAX_CPUS / 8);
}

Test(cpumask, fill_sets_exactly_n)
{
	static const unsigned int ns[] = { 0, 1, 63, 64, 65, 127, 128, 1000, XMM_MAX_CPUS,
					   XMM_MAX_CPUS + 5 };
	xmm_cpumask_t m;

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		unsigned int n = ns[i] > XMM_MAX_CPUS ? XMM_MAX_CPUS : ns[i];

		xmm_cpumask_fill(&m, ns[i]);
		cr_expect_eq(xmm_cpumask_weight(&m), n, "fill(%u)", ns[i]);
		cr_expect_eq(xmm_cpumask_test(&m, n - 1), n > 0);
		cr_expect_not(xmm_cpumask_test(&m, n));
	}
}

Test(cpumask, out_of_range_is_ignored)
{
	xmm_cpumask_t m;

	xmm_cpumask_zero(&m);
	xmm_cpumask_set(&m, XMM_MAX_CPUS);
	xmm_cpumask_set(&m, ~0u);
	cr_expect(xmm_cpumask_empty(&m));
	cr_expect_not(xmm_cpumask_test(&m, XMM_MAX_CPUS));
	cr_expect_eq(xmm_cpumask_next(&m, XMM_MAX_CPUS + 3), XMM_MAX_CPUS);
}

Test(cpumask, random_ops_match_reference)
{
	static bool ra[XMM_MAX_CPUS], rb[XMM_MAX_CPUS];
	struct test_rng rng;
	xmm_cpumask_t a, b, c;

	test_rng_seed(&rng, test_seed(7));
	for (int round = 0; round < 200; round++) {
		unsigned int density = (unsigned int)test_rng_below(&rng, 100) + 1;

		xmm_cpumask_zero(&a);
		xmm_cpumask_zero(&b);
		for (unsigned int i = 0; i < XMM_MAX_CPUS; i++) {
			ra[i] = test_rng_below(&rng, 1000) < density;
			rb[i] = test_rng_below(&rng, 100) < 50;
			if (ra[i])
				xmm_cpumask_set(&a, i);
			if (rb[i])
				xmm_cpumask_set(&b, i);
		}
		unsigned int w = 0, cpu, prev = 0, seen = 0;

		for (unsigned int i = 0; i < XMM_MAX_CPUS; i++) {
			w += ra[i];
			cr_assert_eq(xmm_cpumask_test(&a, i), ra[i]);
		}
		cr_assert_eq(xmm_cpumask_weight(&a), w);
		cr_assert_eq(xmm_cpumask_empty(&a), w == 0);
		xmm_cpumask_for_each(cpu, &a) {
			cr_assert(ra[cpu]);
			cr_assert(seen == 0 || cpu > prev);
			prev = cpu;
			seen++;
		}
		cr_assert_eq(seen, w);

		xmm_cpumask_and(&c, &a, &b);
		for (unsigned int i = 0; i < XMM_MAX_CPUS; i++)
			cr_assert_eq(xmm_cpumask_test(&c, i), ref_bit(ra, i) && ref_bit(rb, i));
		xmm_cpumask_or(&c, &a, &b);
		for (unsigned int i = 0; i < XMM_MAX_CPUS; i++)
			cr_assert_eq(xmm_cpumask_test(&c, i), ref_bit(ra, i) || ref_bit(rb, i));
		xmm_cpumask_andnot(&c, &a, &b);
		for (unsigned int i = 0; i < XMM_MAX_CPUS; i++)
			cr_assert_eq(xmm_cpumask_test(&c, i), ref_bit(ra, i) && !ref_bit(rb, i));
		cr_assert(xmm_cpumask_equal(&a, &a));
		c = a;
		xmm_cpumask_clear(&c, xmm_cpumask_first(&a));
		cr_assert_eq(xmm_cpumask_equal(&a, &c), w == 0);
	}
}

Test(cpumask, popcount_matches_bit_loop)
{
	struct test_rng rng;

	test_rng_seed(&rng, test_seed(11));
	for (int i = 0; i < 100000; i++) {
		uint64_t x = test_rng_next(&rng) & test_rng_next(&rng);
		unsigned int n = 0;

		for (int b = 0; b < 64; b++)
			n += (x >> b) & 1;
		cr_assert_eq(xmm_popcount64(x), n, "%#llx", (unsigned long long)x);
	}
	cr_expect_eq(xmm_popcount64(~0ULL), 64u);
	cr_expect_eq(xmm_popcount64(0), 0u);
}
