/* SPDX-License-Identifier: MIT */
/* Zeroing and zero detection (xmm/zero.h), every kernel set this CPU can run. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/platform.h>
#include <xmm/zero.h>

#include "common.h"

static const struct xmm_zero_ops *variants[8];
static size_t nvariants;

static void load_variants(void)
{
	nvariants = xmm_zero_variants(variants, 8);
	cr_assert_geq(nvariants, 1);
	cr_assert_eq(variants[nvariants - 1], &xmm_zero_portable, "portable comes last");
}

/* Zero [off, off + len) of a 0xa5-filled buffer; everything else must stay 0xa5. */
static void check_clear(const struct xmm_zero_ops *ops, unsigned char *buf, size_t cap, size_t off,
			size_t len)
{
	memset(buf, 0xa5, cap);
	ops->clear(buf + off, len);
	for (size_t i = 0; i < cap; i++) {
		unsigned char want = i >= off && i < off + len ? 0 : 0xa5;

		if (buf[i] != want)
			cr_assert_fail("%s: clear(off %zu, len %zu): byte %zu is %#x, not %#x", ops->name,
				       off, len, i, buf[i], want);
	}
}

Test(zero, clear_every_small_length_and_alignment)
{
	unsigned char *buf = aligned_alloc(64, 512);

	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		for (size_t off = 0; off < 72; off++)
			for (size_t len = 0; len + off <= 440; len++)
				check_clear(variants[v], buf, 512, off, len);
	free(buf);
}

Test(zero, clear_around_the_non_temporal_threshold)
{
	const size_t cap = 96 << 10;
	unsigned char *buf = aligned_alloc(4096, cap);
	static const size_t lens[] = { (16 << 10) - 1, 16 << 10, (16 << 10) + 1, (16 << 10) + 63,
				       (32 << 10) + 65, (64 << 10) - 3, 64 << 10, 90 << 10 };

	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			for (size_t off = 0; off < 130; off += 13)
				if (off + lens[i] <= cap)
					check_clear(variants[v], buf, cap, off, lens[i]);
	free(buf);
}

Test(zero, clear_large_unaligned)
{
	const size_t cap = (4 << 20) + 4096;
	unsigned char *buf = malloc(cap);

	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		check_clear(variants[v], buf, cap, 7, (4 << 20) + 1001);
	free(buf);
}

Test(zero, dispatch_picks_the_fastest_and_can_be_set)
{
	load_variants();
	cr_expect_eq(xmm_zero_ops_get(), variants[0]);
	for (size_t v = 0; v < nvariants; v++) {
		unsigned char page[4096];

		xmm_zero_ops_set(variants[v]);
		cr_expect_eq(xmm_zero_ops_get(), variants[v]);
		memset(page, 1, sizeof(page));
		xmm_clear(page, sizeof(page));
		for (size_t i = 0; i < sizeof(page); i++)
			cr_assert_eq(page[i], 0);
	}
	xmm_zero_ops_set(NULL);
	cr_expect_eq(xmm_zero_ops_get(), variants[0], "NULL goes back to the platform's choice");
	xmm_clear(NULL, 0);
}

Test(zero, platform_choice_honours_the_environment)
{
	load_variants();
	setenv("XMM_ZERO_KERNEL", "portable", 1);
	cr_expect_eq(xmm_pr_zero_ops(), &xmm_zero_portable);
	setenv("XMM_ZERO_KERNEL", "no-such-kernel", 1);
	cr_expect_eq(xmm_pr_zero_ops(), variants[0], "an unknown name falls back to the fastest");
	unsetenv("XMM_ZERO_KERNEL");
	cr_expect_eq(xmm_pr_zero_ops(), variants[0]);
}
