/* SPDX-License-Identifier: MIT */
/* The zero sweep (xmm/zerosweep.h): order of offers, checks, reclaim results. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xmm/errno.h>
#include <xmm/user/zerosweep.h>

#include "common.h"

#define PAGE 4096

static struct xmm_zerosweep *sweep(uint64_t npages, unsigned int order)
{
	struct xmm_zerosweep *s;

	cr_assert_eq(xmm_zerosweep_create(&s, npages, order), 0);
	return s;
}

Test(zerosweep, size_and_init_reject_bad_geometry)
{
	static unsigned char mem[4096] __attribute__((aligned(64)));

	cr_expect_eq(xmm_zerosweep_size(1 << 9, 0), 0, "order 0 is no superpage");
	cr_expect_eq(xmm_zerosweep_size(1ULL << 40, XMM_SUPERPAGE_MAX_ORDER + 1), 0);
	cr_expect_eq(xmm_zerosweep_size(511, 9), 0, "no whole superpage");
	cr_expect_gt(xmm_zerosweep_size(512, 9), 0);
	cr_expect_gt(xmm_zerosweep_size(1ULL << 40, 9), xmm_zerosweep_size(1ULL << 30, 9));
	cr_expect_eq(xmm_zerosweep_init(NULL, 512, 9), XMM_EINVAL);
	cr_expect_eq(xmm_zerosweep_init((struct xmm_zerosweep *)(void *)(mem + 8), 512, 9), XMM_EINVAL);
	cr_expect_eq(xmm_zerosweep_init((struct xmm_zerosweep *)(void *)mem, 511, 9), XMM_EINVAL);
	cr_expect_eq(xmm_zerosweep_init((struct xmm_zerosweep *)(void *)mem, 4096, 9), 0);
	cr_expect_eq(xmm_zerosweep_create(NULL, 512, 9), XMM_EINVAL);
	xmm_zerosweep_destroy(NULL);
}

Test(zerosweep, geometry_and_bad_calls)
{
	struct xmm_zerosweep *s = sweep(10 * 512 + 100, 9);
	struct xmm_zerosweep_stats st;
	uint64_t bm[8];
	xmm_pfn_t first = 7;

	cr_expect_eq(xmm_zerosweep_superpages(s), 10, "the partial superpage at the end is not covered");
	cr_expect_eq(xmm_zerosweep_superpage_pages(s), 512);
	cr_expect_eq(xmm_zerosweep_note(s, 10 * 512), XMM_ERANGE);
	cr_expect_eq(xmm_zerosweep_note(s, ~0ULL), XMM_ERANGE);
	cr_expect_eq(xmm_zerosweep_next(s, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_zerosweep_check(s, NULL, bm), XMM_EINVAL);
	cr_expect_eq(xmm_zerosweep_check(s, bm, NULL), XMM_EINVAL);
	xmm_zerosweep_stats(s, &st);
	cr_expect_eq(st.noted + st.offered + st.checked, 0, "bad calls change nothing");
	cr_expect_eq(xmm_zerosweep_next(s, &first), 0);
	cr_expect_eq(first, 0, "the out-of-range notes made nothing pending");
	xmm_zerosweep_destroy(s);
}

Test(zerosweep, linear_pass_then_enoent_then_again)
{
	struct xmm_zerosweep *s = sweep(70 * 8, 3);
	xmm_pfn_t first;

	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t k = 0; k < 70; k++) {
			cr_assert_eq(xmm_zerosweep_next(s, &first), 0);
			cr_assert_eq(first, k * 8);
		}
		cr_assert_eq(xmm_zerosweep_next(s, &first), XMM_ENOENT);
	}
	xmm_zerosweep_destroy(s);
}

Test(zerosweep, noted_superpages_come_first_once_each)
{
	struct xmm_zerosweep *s = sweep(200 * 512, 9);
	struct xmm_zerosweep_stats st;
	static const uint64_t want[] = { 2, 5, 130, 0, 1, 3, 4, 6 };
	xmm_pfn_t first;

	cr_expect_eq(xmm_zerosweep_note(s, 5 * 512 + 17), 0);
	cr_expect_eq(xmm_zerosweep_note(s, 130 * 512), 0);
	cr_expect_eq(xmm_zerosweep_note(s, 2 * 512 + 511), 0);
	cr_expect_eq(xmm_zerosweep_note(s, 5 * 512), 0, "noted twice, offered once");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(xmm_zerosweep_next(s, &first), 0);
		cr_assert_eq(first, want[i] * 512, "offer %zu: %llu", i, (unsigned long long)first / 512);
	}
	/* Noted again after its offer: offered again, then the pass skips what it offered. */
	cr_expect_eq(xmm_zerosweep_note(s, 3 * 512), 0);
	cr_assert_eq(xmm_zerosweep_next(s, &first), 0);
	cr_expect_eq(first, 3 * 512);
	for (uint64_t k = 7; k < 200; k++) {
		cr_assert_eq(xmm_zerosweep_next(s, &first), 0);
		if (k == 130)
			k++;
		cr_assert_eq(first, k * 512);
	}
	cr_expect_eq(xmm_zerosweep_next(s, &first), XMM_ENOENT);
	xmm_zerosweep_stats(s, &st);
	cr_expect_eq(st.noted, 4);
	cr_expect_eq(st.from_notes, 4);
	cr_expect_eq(st.offered, 201);
	xmm_zerosweep_destroy(s);
}

/* ---- model: the sequential reference of the offer order ---------------------- */

struct model {
	uint64_t nsp, cand_cursor, lin_cursor, noted, offered, from_notes;
	bool *pending, *done;
};

static int model_note(struct model *m, uint64_t k)
{
	if (k >= m->nsp)
		return XMM_ERANGE;
	if (!m->pending[k]) {
		m->pending[k] = true;
		m->noted++;
	}
	return 0;
}

static int model_next(struct model *m, uint64_t *k)
{
	bool found = false;

	for (uint64_t i = 0; i < m->nsp && !found; i++) {
		*k = (m->cand_cursor + i) % m->nsp;
		found = m->pending[*k];
	}
	if (found) {
		m->pending[*k] = false;
		m->cand_cursor = (*k + 1) % m->nsp;
		m->from_notes++;
	} else {
		for (*k = m->lin_cursor; *k < m->nsp && m->done[*k]; (*k)++)
			;
		if (*k == m->nsp) {
			memset(m->done, 0, m->nsp);
			m->lin_cursor = 0;
			return XMM_ENOENT;
		}
		m->lin_cursor = *k + 1;
	}
	m->done[*k] = true;
	m->offered++;
	return 0;
}

Test(zerosweep, model_random_notes_and_offers)
{
	static const uint64_t sizes[] = { 1, 63, 64, 65, 200, 1000 };
	struct test_rng r;

	test_rng_seed(&r, test_seed(63));
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		unsigned int order = 1 + (unsigned int)test_rng_below(&r, 12);
		uint64_t nsp = sizes[z];
		struct model m = { .nsp = nsp, .pending = calloc(nsp, 1), .done = calloc(nsp, 1) };
		struct xmm_zerosweep *s = sweep((nsp << order) + test_rng_below(&r, 1ULL << order), order);
		struct xmm_zerosweep_stats st;

		for (unsigned int step = 0; step < 20000 * test_scale(); step++) {
			/* Phases of mostly notes and of mostly offers, so both empty and busy queues occur. */
			bool noting = (step / 500) % 2 ? test_rng_below(&r, 10) < 2 : test_rng_below(&r, 10) < 7;

			if (noting) {
				uint64_t pfn = test_rng_below(&r, (nsp + 2) << order);

				cr_assert_eq(xmm_zerosweep_note(s, pfn), model_note(&m, pfn >> order));
			} else {
				xmm_pfn_t first = ~0ULL;
				uint64_t k = ~0ULL;
				int want = model_next(&m, &k), got = xmm_zerosweep_next(s, &first);

				cr_assert_eq(got, want, "step %u", step);
				if (got == 0)
					cr_assert_eq(first, k << order, "step %u: %llu, model %llu", step,
						     (unsigned long long)(first >> order),
						     (unsigned long long)k);
			}
		}
		xmm_zerosweep_stats(s, &st);
		cr_expect_eq(st.noted, m.noted);
		cr_expect_eq(st.offered, m.offered);
		cr_expect_eq(st.from_notes, m.from_notes);
		xmm_zerosweep_destroy(s);
		free(m.pending);
		free(m.done);
	}
}

/* ---- checks and a whole sweep against a reference that reads every page ------- */

static bool page_is_zero_ref(const unsigned char *p)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i])
			return false;
	return true;
}

Test(zerosweep, a_full_sweep_reclaims_what_a_page_by_page_reference_does)
{
	const unsigned int order = 6;
	const uint64_t nsp = 96, spp = 1ULL << order, npages = nsp * spp;
	const size_t bytes = npages * PAGE;
	unsigned char *guest = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool *reclaimed = calloc(npages, 1), *whole = calloc(nsp, 1), *checked = calloc(nsp, 1);
	struct xmm_zerosweep *s = sweep(npages, order);
	struct xmm_zerosweep_stats st;
	uint64_t zero[XMM_ZERO_BITMAP_WORDS(1 << 6)], want_whole = 0, want_pages = 0;
	struct test_rng r;
	xmm_pfn_t first;
	int rc;

	cr_assert_neq(guest, MAP_FAILED);
	test_rng_seed(&r, test_seed(64));
	/* Zero, mixed (a few non-zero pages anywhere, a byte anywhere in them) and data superpages. */
	for (uint64_t k = 0; k < nsp; k++) {
		unsigned char *sp = guest + k * spp * PAGE;
		uint64_t kind = test_rng_below(&r, 4);

		if (kind == 1)
			for (int j = 0; j < 1 + (int)test_rng_below(&r, 4); j++)
				sp[test_rng_below(&r, spp * PAGE)] = 0xee;
		else if (kind == 2)
			for (uint64_t p = 0; p < spp; p++)
				sp[p * PAGE + test_rng_below(&r, PAGE)] = 1;
		if (kind != 2 && test_rng_below(&r, 2))
			cr_assert_eq(xmm_zerosweep_note(s, k * spp + test_rng_below(&r, spp)), 0);
	}
	/* No writes to guest memory: a write would fault. */
	cr_assert_eq(mprotect(guest, bytes, PROT_READ), 0);

	while ((rc = xmm_zerosweep_next(s, &first)) == 0) {
		uint64_t k = first / spp;
		int64_t n;

		cr_assert_eq(first % spp, 0);
		cr_assert(!checked[k], "superpage %llu offered twice in one pass", (unsigned long long)k);
		checked[k] = true;
		n = xmm_zerosweep_check(s, guest + first * PAGE, zero);
		cr_assert_geq(n, 0);
		if ((uint64_t)n == spp)
			whole[k] = true;
		for (uint64_t p = 0; p < spp; p++)
			if (zero[p / 64] >> (p % 64) & 1)
				reclaimed[first + p] = true;
	}
	cr_assert_eq(rc, XMM_ENOENT);

	for (uint64_t k = 0; k < nsp; k++) {
		bool all = true;

		cr_assert(checked[k]);
		for (uint64_t p = k * spp; p < (k + 1) * spp; p++) {
			bool z = page_is_zero_ref(guest + p * PAGE);

			all &= z;
			want_pages += z;
			cr_assert_eq(reclaimed[p], z, "page %llu", (unsigned long long)p);
		}
		cr_assert_eq(whole[k], all, "superpage %llu", (unsigned long long)k);
		want_whole += all;
	}
	xmm_zerosweep_stats(s, &st);
	cr_expect_eq(st.checked, nsp);
	cr_expect_eq(st.whole, want_whole);
	cr_expect_eq(st.zero_pages, want_pages);
	cr_expect_eq(st.from_notes, st.noted, "every noted superpage came before the linear pass");
	munmap(guest, bytes);
	free(reclaimed);
	free(whole);
	free(checked);
	xmm_zerosweep_destroy(s);
}
