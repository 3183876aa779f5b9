/* SPDX-License-Identifier: MIT */
/* Zeroing and zero detection (xmm/zero.h), every kernel set this CPU can run. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/platform.h>
#include <xmm/zero.h>

#include "common.h"

static const struct xmm_zero_ops *variants[8];
static size_t nvariants;

static void load_variants(void)
{
	struct xmm_zero_prefetch_choice c;

	xmm_zero_prefetch_choice(&c);
	nvariants = xmm_zero_variants(variants, 8);
	cr_assert_geq(nvariants, 1);
	cr_assert_eq(variants[nvariants - 1], &xmm_zero_portable_sets[c.hint], "portable comes last");
	for (size_t v = 0; v < nvariants; v++)
		cr_assert_eq(variants[v]->prefetch, c.hint, "every set has this CPU's hint");
	for (size_t v = 0; v < nvariants; v++)
		cr_assert(variants[v]->name && variants[v]->clear && variants[v]->is_zero &&
			  variants[v]->zero_scan, "variant %zu is complete", v);
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

/* ---- zero detection ------------------------------------------------------- */

#define PAGE 4096

static bool ref_is_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * A zero range [off, off + len) inside a buffer whose other bytes are 0xff, so
 * that reading one byte outside the range changes the answer (and ASan sees
 * reads outside the buffer); then one non-zero byte at each position in @pos
 * (all of them when pos is NULL).
 */
static void check_is_zero(const struct xmm_zero_ops *ops, unsigned char *buf, size_t cap,
			  size_t off, size_t len, const size_t *pos, size_t npos)
{
	memset(buf, 0xff, cap);
	memset(buf + off, 0, len);
	if (!ops->is_zero(buf + off, len))
		cr_assert_fail("%s: is_zero(off %zu, len %zu) of zeroes is false", ops->name, off, len);
	for (size_t i = 0; i < (pos ? npos : len); i++) {
		size_t at = pos ? pos[i] : i;
		unsigned char v = (unsigned char)(1u << (at % 8)); /* every bit of a byte, somewhere */

		if (at >= len)
			continue;
		buf[off + at] = v;
		if (ops->is_zero(buf + off, len))
			cr_assert_fail("%s: is_zero(off %zu, len %zu) misses %#x at %zu", ops->name, off,
				       len, v, at);
		buf[off + at] = 0;
	}
}

Test(zero, is_zero_every_small_length_alignment_and_position)
{
	const size_t cap = 64 + 320 + 64;
	unsigned char *buf = aligned_alloc(64, cap);

	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		for (size_t off = 0; off < 64; off++)
			for (size_t len = 0; len <= 320; len++)
				check_is_zero(variants[v], buf, cap, off, len, NULL, 0);
	free(buf);
}

/* Every length up to three pages at every alignment, with the bytes each kernel reads last or alone. */
Test(zero, is_zero_every_length_to_three_pages)
{
	const size_t maxlen = 3 * PAGE + 2 * 64, cap = 4 * PAGE;
	unsigned char *buf = aligned_alloc(PAGE, cap);
	struct test_rng r;

	test_rng_seed(&r, test_seed(6));
	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		for (size_t off = 0; off < 64; off++)
			for (size_t len = 321; len <= maxlen; len++) {
				size_t pos[] = { 0, len - 1, len / 2, len - 65, 64 - off, len - 64 - 1,
						 test_rng_below(&r, len) };

				check_is_zero(variants[v], buf, cap, off, len, pos, 7);
			}
	free(buf);
}

Test(zero, is_zero_every_position_of_page_sized_ranges)
{
	static const size_t lens[] = { PAGE - 1, PAGE, PAGE + 1, 2 * PAGE - 64, 2 * PAGE + 63 };
	static const size_t offs[] = { 0, 1, 63 };
	const size_t cap = 3 * PAGE;
	unsigned char *buf = aligned_alloc(PAGE, cap);

	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
				check_is_zero(variants[v], buf, cap, offs[o], lens[l], NULL, 0);
	free(buf);
}

/* Ranges that end where the allocation ends: a read past the end is an ASan error. */
Test(zero, is_zero_reads_nothing_past_the_end)
{
	static const size_t big[] = { PAGE - 1, PAGE, PAGE + 63, 3 * PAGE + 5 };

	load_variants();
	for (size_t v = 0; v < nvariants; v++)
		for (size_t len = 0; len < 300 + sizeof(big) / sizeof(big[0]); len++) {
			size_t n = len < 300 ? len : big[len - 300];
			unsigned char *buf = malloc(n ? n : 1);

			memset(buf, 0, n);
			cr_assert(variants[v]->is_zero(buf, n));
			if (n) {
				buf[n - 1] = 2;
				cr_assert(!variants[v]->is_zero(buf, n));
			}
			free(buf);
		}
}

/* Page contents of the kinds a guest has. */
enum page_kind { PK_ZERO, PK_BYTE, PK_FIRST, PK_LAST, PK_DATA, PK_PREFIX, PK_SUFFIX, PK_KINDS };

static void fill_page(struct test_rng *r, unsigned char *p, enum page_kind k)
{
	size_t n = 1 + test_rng_below(r, PAGE - 1);

	memset(p, 0, PAGE);
	switch (k) {
	case PK_ZERO:
		break;
	case PK_BYTE:
		p[test_rng_below(r, PAGE)] = (unsigned char)(1 + test_rng_below(r, 255));
		break;
	case PK_FIRST:
		p[0] = 1;
		break;
	case PK_LAST:
		p[PAGE - 1] = 0x80;
		break;
	case PK_DATA:
		for (size_t i = 0; i < PAGE; i++)
			p[i] = (unsigned char)test_rng_next(r);
		p[0] |= 1;
		break;
	case PK_PREFIX:
		memset(p, 0x5a, n);
		break;
	case PK_SUFFIX:
		memset(p + PAGE - n, 0xa5, n);
		break;
	default:
		abort();
	}
}

/* A reference bitmap and count, by a byte loop. */
static size_t ref_scan(const unsigned char *base, size_t npages, uint64_t *bm)
{
	size_t count = 0;

	memset(bm, 0, XMM_ZERO_BITMAP_WORDS(npages) * sizeof(uint64_t));
	for (size_t i = 0; i < npages; i++)
		if (ref_is_zero(base + i * PAGE, PAGE)) {
			bm[i / 64] |= 1ULL << (i % 64);
			count++;
		}
	return count;
}

#define GUARD 0x5eed5eed5eed5eedULL

Test(zero, zero_scan_bitmaps_match_a_byte_loop)
{
	const size_t maxpages = 300, cap = (maxpages + 1) * PAGE;
	unsigned char *buf = aligned_alloc(PAGE, cap);
	uint64_t want[8], got[8 + 1];
	struct test_rng r;

	test_rng_seed(&r, test_seed(61));
	load_variants();
	for (unsigned int round = 0; round < 60 * test_scale(); round++) {
		size_t npages = round < 3 ? round : 1 + test_rng_below(&r, maxpages);
		size_t off = round % 3 == 0 ? 0 : test_rng_below(&r, PAGE); /* page aligned, or not */
		size_t words = XMM_ZERO_BITMAP_WORDS(npages), count;

		/* Mostly zero pages, as a sweep sees them, with every other kind mixed in. */
		for (size_t i = 0; i < npages; i++)
			fill_page(&r, buf + off + i * PAGE,
				  test_rng_below(&r, 2) ? PK_ZERO : (enum page_kind)test_rng_below(&r, PK_KINDS));
		count = ref_scan(buf + off, npages, want);
		for (size_t v = 0; v < nvariants; v++) {
			for (size_t w = 0; w <= words; w++)
				got[w] = GUARD;
			cr_assert_eq(variants[v]->zero_scan(buf + off, npages, got), count,
				     "%s: %zu pages at +%zu", variants[v]->name, npages, off);
			cr_assert_eq(memcmp(got, want, words * sizeof(uint64_t)), 0,
				     "%s: bitmap of %zu pages at +%zu", variants[v]->name, npages, off);
			cr_assert_eq(got[words], GUARD, "%s: wrote past the bitmap", variants[v]->name);
			cr_assert_eq(variants[v]->zero_scan(buf + off, npages, NULL), count);
		}
	}
	free(buf);
}

Test(zero, superpage_check_fills_the_bitmap_in_one_pass)
{
	const unsigned int maxorder = 10;
	const size_t npages = (size_t)1 << maxorder;
	unsigned char *buf = aligned_alloc(PAGE, npages * PAGE);
	uint64_t want[16], got[16 + 1];
	struct test_rng r;

	test_rng_seed(&r, test_seed(62));
	memset(buf, 0, npages * PAGE);
	load_variants();
	for (size_t v = 0; v < nvariants; v++) {
		xmm_zero_ops_set(variants[v]);
		for (unsigned int order = 0; order <= maxorder; order++) {
			size_t n = (size_t)1 << order, words = XMM_ZERO_BITMAP_WORDS(n);

			for (size_t w = 0; w <= words; w++)
				got[w] = GUARD;
			cr_assert_eq(xmm_superpage_check(buf, order, got), 1);
			ref_scan(buf, n, want);
			cr_assert_eq(memcmp(got, want, words * sizeof(uint64_t)), 0);
			cr_assert_eq(got[words], GUARD);
			cr_assert_eq(xmm_superpage_check(buf, order, NULL), 1);

			/* One non-zero byte, then a few: exactly those pages lose their bit. */
			for (int k = 0; k < 3; k++) {
				size_t at = test_rng_below(&r, n * PAGE);

				buf[at] = 0x10;
				cr_assert_eq(xmm_superpage_check(buf, order, got), 0, "%s order %u",
					     variants[v]->name, order);
				ref_scan(buf, n, want);
				cr_assert_eq(memcmp(got, want, words * sizeof(uint64_t)), 0, "%s order %u",
					     variants[v]->name, order);
				cr_assert_eq(xmm_superpage_check(buf, order, NULL), 0);
			}
			memset(buf, 0, n * PAGE);
		}
	}
	xmm_zero_ops_set(NULL);
	free(buf);
}

Test(zero, superpage_check_rejects_bad_arguments)
{
	static unsigned char page[PAGE] __attribute__((aligned(PAGE)));
	uint64_t bm[1] = { GUARD };

	cr_expect_eq(xmm_superpage_check(NULL, 0, bm), XMM_EINVAL);
	cr_expect_eq(xmm_superpage_check(page, XMM_SUPERPAGE_MAX_ORDER + 1, bm), XMM_EINVAL);
	cr_expect_eq(xmm_superpage_check(page, 64, bm), XMM_EINVAL);
	cr_expect_eq(xmm_superpage_check(page, ~0u, NULL), XMM_EINVAL);
	cr_expect_eq(bm[0], GUARD, "a rejected call writes nothing");
	cr_expect_eq(xmm_superpage_check(page, 0, bm), 1);
	cr_expect_eq(bm[0], 1);
}

Test(zero, public_calls_take_zero_lengths)
{
	uint64_t bm[1] = { GUARD };

	cr_expect(xmm_is_zero(NULL, 0));
	cr_expect_eq(xmm_zero_scan(NULL, 0, bm), 0);
	cr_expect_eq(bm[0], GUARD, "no pages, no words");
	cr_expect_eq(xmm_zero_scan(NULL, 0, NULL), 0);
}

/* A kernel set that answers what no real one would, to see that calls go through the set in use. */
static bool fake_is_zero(const void *p, size_t len)
{
	(void)p;
	return len == 3;
}

static size_t fake_zero_scan(const void *base, size_t npages, uint64_t *bm)
{
	(void)base;
	if (bm)
		bm[0] = 0x2a;
	return npages + 1;
}

Test(zero, detection_goes_through_the_kernels_set)
{
	static const struct xmm_zero_ops fake = { .name = "fake", .clear = NULL,
						  .is_zero = fake_is_zero,
						  .zero_scan = fake_zero_scan };
	static const unsigned char nz[8] = { 1 };
	uint64_t bm[1];

	xmm_zero_ops_set(&fake);
	cr_expect(xmm_is_zero(nz, 3));
	cr_expect_eq(xmm_zero_scan(nz, 5, bm), 6);
	cr_expect_eq(bm[0], 0x2a);
	cr_expect_eq(xmm_superpage_check(nz, 2, bm), 0, "scan said 5 of 4 pages: not whole");
	cr_expect_eq(xmm_superpage_check(nz, 0, NULL), 0, "is_zero of 4096 bytes is false here");
	xmm_zero_ops_set(NULL);
	cr_expect(!xmm_is_zero(nz, 3));
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
		cr_expect(!xmm_is_zero(page, sizeof(page)));
		xmm_clear(page, sizeof(page));
		for (size_t i = 0; i < sizeof(page); i++)
			cr_assert_eq(page[i], 0);
		cr_expect(xmm_is_zero(page, sizeof(page)));
	}
	xmm_zero_ops_set(NULL);
	cr_expect_eq(xmm_zero_ops_get(), variants[0], "NULL goes back to the platform's choice");
	xmm_clear(NULL, 0);
}

Test(zero, platform_choice_honours_the_environment)
{
	load_variants();
	setenv("XMM_ZERO_KERNEL", "portable", 1);
	cr_expect_eq(xmm_pr_zero_ops(), variants[nvariants - 1]);
	setenv("XMM_ZERO_KERNEL", "no-such-kernel", 1);
	cr_expect_eq(xmm_pr_zero_ops(), variants[0], "an unknown name falls back to the fastest");
	unsetenv("XMM_ZERO_KERNEL");
	cr_expect_eq(xmm_pr_zero_ops(), variants[0]);
}

/* ---- the prefetch: per CPU, forced by XMM_ZERO_PREFETCH, never changing an answer ---- */

Test(zero, prefetch_parse_takes_every_hint_and_distance)
{
	static const struct {
		const char *s;
		enum xmm_zero_prefetch hint;
		unsigned int pages;
	} good[] = {
		{ "none", XMM_ZERO_PF_NONE, XMM_ZERO_PF_DEFAULT_PAGES },
		{ "nta", XMM_ZERO_PF_NTA, XMM_ZERO_PF_DEFAULT_PAGES },
		{ "t0", XMM_ZERO_PF_T0, XMM_ZERO_PF_DEFAULT_PAGES },
		{ "t1", XMM_ZERO_PF_T1, XMM_ZERO_PF_DEFAULT_PAGES },
		{ "t2", XMM_ZERO_PF_T2, XMM_ZERO_PF_DEFAULT_PAGES },
		{ "t2:1", XMM_ZERO_PF_T2, 1 },
		{ "nta:4", XMM_ZERO_PF_NTA, 4 },
		{ "t0:09", XMM_ZERO_PF_T0, 9 },
		{ "none:3", XMM_ZERO_PF_NONE, 3 },
		{ "t1:16", XMM_ZERO_PF_T1, XMM_ZERO_PF_MAX_PAGES },
	};
	static const char *const bad[] = { "", ":2", "t3", "nt", "ntaa", "NTA", "nta ", " nta",
					   "nta:", "nta:0", "nta:17", "nta:100", "nta:2x", "nta:-1",
					   "nta:+2", "nta::2", "t2:1:1", "prefetchnta" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		enum xmm_zero_prefetch hint = XMM_ZERO_PF_HINTS;
		unsigned int pages = 0;

		cr_expect_eq(xmm_zero_prefetch_parse(good[i].s, &hint, &pages), 0, "\"%s\"", good[i].s);
		cr_expect_eq(hint, good[i].hint, "\"%s\"", good[i].s);
		cr_expect_eq(pages, good[i].pages, "\"%s\"", good[i].s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum xmm_zero_prefetch hint = XMM_ZERO_PF_HINTS;
		unsigned int pages = 77;

		cr_expect_eq(xmm_zero_prefetch_parse(bad[i], &hint, &pages), XMM_EINVAL, "\"%s\"", bad[i]);
		cr_expect(hint == XMM_ZERO_PF_HINTS && pages == 77, "\"%s\" left them alone", bad[i]);
	}
	{
		enum xmm_zero_prefetch hint;
		unsigned int pages;

		cr_expect_eq(xmm_zero_prefetch_parse(NULL, &hint, &pages), XMM_EINVAL);
		cr_expect_eq(xmm_zero_prefetch_parse("t2", NULL, &pages), XMM_EINVAL);
		cr_expect_eq(xmm_zero_prefetch_parse("t2", &hint, NULL), XMM_EINVAL);
	}
	/* Every name parses back to its hint. */
	for (unsigned int h = 0; h < XMM_ZERO_PF_HINTS; h++) {
		enum xmm_zero_prefetch hint;
		unsigned int pages;

		cr_assert_not_null(xmm_zero_prefetch_name((enum xmm_zero_prefetch)h));
		cr_expect_eq(xmm_zero_prefetch_parse(xmm_zero_prefetch_name((enum xmm_zero_prefetch)h),
						     &hint, &pages), 0);
		cr_expect_eq(hint, (enum xmm_zero_prefetch)h);
	}
	cr_expect_null(xmm_zero_prefetch_name(XMM_ZERO_PF_HINTS));
	cr_expect_null(xmm_zero_prefetch_name((enum xmm_zero_prefetch)-1));
}

Test(zero, prefetch_distance_is_clamped)
{
	unsigned int before = xmm_zero_prefetch_pages();

	xmm_zero_prefetch_pages_set(0);
	cr_expect_eq(xmm_zero_prefetch_pages(), 1);
	xmm_zero_prefetch_pages_set(XMM_ZERO_PF_MAX_PAGES + 1);
	cr_expect_eq(xmm_zero_prefetch_pages(), XMM_ZERO_PF_MAX_PAGES);
	xmm_zero_prefetch_pages_set(3);
	cr_expect_eq(xmm_zero_prefetch_pages(), 3);
	xmm_zero_prefetch_pages_set(before);
}

Test(zero, platform_choice_honours_the_prefetch_environment)
{
	struct xmm_zero_prefetch_choice cpu, c;
	const struct xmm_zero_ops *ops;

	unsetenv("XMM_ZERO_PREFETCH");
	xmm_zero_prefetch_choice(&cpu);
	cr_assert_lt((unsigned int)cpu.hint, XMM_ZERO_PF_HINTS);
	cr_assert(cpu.pages >= 1 && cpu.pages <= XMM_ZERO_PF_MAX_PAGES);
	cr_assert_not_null(cpu.why);

	setenv("XMM_ZERO_PREFETCH", "t0:3", 1);
	xmm_zero_prefetch_choice(&c);
	cr_expect(c.hint == XMM_ZERO_PF_T0 && c.pages == 3);
	cr_expect_str_eq(c.why, "XMM_ZERO_PREFETCH");
	ops = xmm_pr_zero_ops();
	cr_expect_eq(ops->prefetch, XMM_ZERO_PF_T0);
	cr_expect_eq(xmm_zero_prefetch_pages(), 3, "the platform sets the distance it chose");

	setenv("XMM_ZERO_KERNEL", "portable", 1);
	cr_expect_eq(xmm_pr_zero_ops(), &xmm_zero_portable_sets[XMM_ZERO_PF_T0]);
	unsetenv("XMM_ZERO_KERNEL");

	setenv("XMM_ZERO_PREFETCH", "prefetchnta", 1);
	xmm_zero_prefetch_choice(&c);
	cr_expect(c.hint == cpu.hint && c.pages == cpu.pages, "a bad value keeps the CPU's choice");
	cr_expect_eq(xmm_pr_zero_ops()->prefetch, cpu.hint);
	cr_expect_eq(xmm_zero_prefetch_pages(), cpu.pages);

	unsetenv("XMM_ZERO_PREFETCH");
	cr_expect_eq(xmm_pr_zero_ops()->prefetch, cpu.hint);
	cr_expect_eq(xmm_zero_prefetch_pages(), cpu.pages);
}

Test(zero, every_hint_has_every_set)
{
	const struct xmm_zero_ops *base[8], *v[8];
	size_t n;

	load_variants();
	n = xmm_zero_variants_hint(base, 8, XMM_ZERO_PF_NONE);
	cr_assert_eq(n, xmm_zero_variants(v, 8));
	for (unsigned int h = 0; h < XMM_ZERO_PF_HINTS; h++) {
		cr_assert_eq(xmm_zero_variants_hint(v, 8, (enum xmm_zero_prefetch)h), n);
		for (size_t i = 0; i < n; i++) {
			cr_expect_str_eq(v[i]->name, base[i]->name);
			cr_expect_eq(v[i]->prefetch, (enum xmm_zero_prefetch)h);
			cr_expect_eq(v[i]->clear, base[i]->clear, "the hint is the scan's only");
		}
		cr_expect_eq(v[n - 1], &xmm_zero_portable_sets[h]);
	}
	cr_expect_eq(xmm_zero_variants_hint(v, 8, XMM_ZERO_PF_HINTS), 0);
	cr_expect_eq(xmm_zero_variants_hint(v, 0, XMM_ZERO_PF_T2), 0);
	cr_expect_eq(xmm_zero_variants_hint(v, 1, XMM_ZERO_PF_T2), 1, "room for portable only");
	cr_expect_eq(v[0], &xmm_zero_portable_sets[XMM_ZERO_PF_T2]);
}

/*
 * Every set with every hint, at the shortest, the default and the longest
 * distance, gives the byte loop's answers: on ranges of many pages (so that
 * the prefetch runs ahead, up to the end of the range and no further: a
 * prefetch is no read, but the range ends at the end of the allocation, and
 * a real read there is an ASan error), one non-zero byte anywhere.
 */
Test(zero, every_hint_and_distance_gives_identical_results)
{
	static const unsigned int dists[] = { 1, XMM_ZERO_PF_DEFAULT_PAGES, XMM_ZERO_PF_MAX_PAGES };
	const size_t maxpages = 40;
	unsigned char *buf = aligned_alloc(PAGE, maxpages * PAGE);
	uint64_t want[1], got[2];
	unsigned int before = xmm_zero_prefetch_pages();
	struct test_rng r;

	test_rng_seed(&r, test_seed(63));
	for (unsigned int round = 0; round < 40 * test_scale(); round++) {
		size_t npages = 1 + test_rng_below(&r, maxpages);
		size_t off = round % 2 ? 0 : 1 + test_rng_below(&r, 63); /* page aligned, or not */
		size_t len = npages * PAGE - off, count;
		unsigned char *p = buf + maxpages * PAGE - len; /* ends where the buffer ends */
		bool zero;

		memset(buf, 0, maxpages * PAGE);
		if (round % 4 != 3)
			p[test_rng_below(&r, len)] = (unsigned char)(1 + test_rng_below(&r, 255));
		zero = ref_is_zero(p, len);
		count = ref_scan(p, len / PAGE, want);
		for (unsigned int h = 0; h < XMM_ZERO_PF_HINTS; h++) {
			const struct xmm_zero_ops *v[8];
			size_t n = xmm_zero_variants_hint(v, 8, (enum xmm_zero_prefetch)h);

			for (size_t d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
				xmm_zero_prefetch_pages_set(dists[d]);
				for (size_t i = 0; i < n; i++) {
					const char *what = xmm_zero_prefetch_name(v[i]->prefetch);

					cr_assert_eq(v[i]->is_zero(p, len), zero, "%s/%s:%u, %zu bytes",
						     v[i]->name, what, dists[d], len);
					got[0] = got[1] = GUARD;
					cr_assert_eq(v[i]->zero_scan(p, len / PAGE, got), count,
						     "%s/%s:%u, %zu pages", v[i]->name, what, dists[d],
						     len / PAGE);
					if (len / PAGE)
						cr_assert_eq(got[0], want[0], "%s/%s:%u", v[i]->name, what,
							     dists[d]);
					cr_assert_eq(got[len / PAGE ? 1 : 0], GUARD);
				}
			}
		}
	}
	xmm_zero_prefetch_pages_set(before);
	free(buf);
}
