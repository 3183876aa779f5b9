/* SPDX-License-Identifier: MIT */
/*
 * Zero detection (xmm/zero.h) against a byte loop, with every kernel set this
 * CPU runs (portable, SSE2, AVX2, AVX-512...): pages that are zero but for a
 * few bytes the input places (first, last and middle lines included), at any
 * alignment; is_zero, zero_scan (count and bitmap, bits past npages
 * cleared), superpage_check with and without a bitmap, and xmm_clear (the
 * range zeroed, the bytes around it untouched).
 */
#include <string.h>

#include <xmm/errno.h>
#include <xmm/zero.h>

#include "fuzz.h"

#define PAGE 4096
#define MAXPAGES 32

static bool ref_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *buf;
	struct fz f = { data, size };
	size_t off = fz_below(&f, 256), npages = fz_below(&f, MAXPAGES + 1), len;
	const struct xmm_zero_ops *variants[8];
	size_t nv = xmm_zero_variants(variants, 8);
	uint64_t bm[XMM_ZERO_BITMAP_WORDS(MAXPAGES) + 1], want_bm[XMM_ZERO_BITMAP_WORDS(MAXPAGES)];
	size_t want = 0;
	unsigned char *p;

	if (!buf && !(buf = aligned_alloc(PAGE, (MAXPAGES + 2) * PAGE)))
		abort();
	memset(buf, 0, (MAXPAGES + 2) * PAGE);
	p = buf + off;
	/* Dirty bytes: anywhere, or at a page's first, middle or last line. */
	for (unsigned int k = fz_u8(&f) % 8; k && npages; k--) {
		size_t pg = fz_below(&f, npages), at;

		switch (fz_u8(&f) % 4) {
		case 0: at = fz_below(&f, 64); break;
		case 1: at = PAGE - 1 - fz_below(&f, 64); break;
		case 2: at = PAGE / 2 + fz_below(&f, 64); break;
		default: at = fz_below(&f, PAGE); break;
		}
		p[pg * PAGE + at] = fz_u8(&f) | 1;
	}
	memset(want_bm, 0, sizeof(want_bm));
	for (size_t i = 0; i < npages; i++)
		if (ref_zero(p + i * PAGE, PAGE)) {
			want++;
			want_bm[i / 64] |= 1ULL << (i % 64);
		}
	len = fz_below(&f, npages * PAGE + 1);
	for (size_t v = 0; v <= nv; v++) {
		const struct xmm_zero_ops *z = v < nv ? variants[v] : NULL;
		const char *name = z ? z->name : "dispatch";

		if (z)
			xmm_zero_ops_set(z);
		FZ_CHECK(xmm_is_zero(p, len) == ref_zero(p, len), "%s: is_zero of %zu bytes at +%zu", name,
			 len, off);
		memset(bm, 0xff, sizeof(bm));
		FZ_CHECK(xmm_zero_scan(p, npages, bm) == want, "%s: zero_scan count", name);
		for (size_t w = 0; w < XMM_ZERO_BITMAP_WORDS(npages); w++)
			FZ_CHECK(bm[w] == want_bm[w], "%s: zero_scan bitmap word %zu", name, w);
		FZ_CHECK(bm[XMM_ZERO_BITMAP_WORDS(npages)] == ~0ULL, "%s: zero_scan wrote past its bitmap",
			 name);
		FZ_CHECK(xmm_zero_scan(p, npages, NULL) == want, "%s: zero_scan without a bitmap", name);
		for (unsigned int order = 0; (1u << order) <= npages; order++) {
			size_t sp = 1u << order;
			bool whole = true;

			for (size_t i = 0; i < sp; i++)
				whole &= (want_bm[i / 64] >> (i % 64)) & 1;
			FZ_CHECK(xmm_superpage_check(p, order, NULL) == whole, "%s: superpage order %u", name,
				 order);
			memset(bm, 0xff, sizeof(bm));
			FZ_CHECK(xmm_superpage_check(p, order, bm) == whole, "%s: superpage order %u + bitmap",
				 name, order);
			for (size_t i = 0; i < sp; i++)
				FZ_CHECK(((bm[i / 64] >> (i % 64)) & 1) == ((want_bm[i / 64] >> (i % 64)) & 1),
					 "%s: superpage bitmap bit %zu", name, i);
		}
		FZ_CHECK(xmm_superpage_check(NULL, 0, NULL) == XMM_EINVAL, "NULL superpage");
		FZ_CHECK(xmm_superpage_check(p, XMM_SUPERPAGE_MAX_ORDER + 1, NULL) == XMM_EINVAL, "order");
	}
	/* xmm_clear: exactly [p + a, p + a + n) becomes zero. */
	{
		size_t a = fz_below(&f, npages * PAGE + 1), n = fz_below(&f, npages * PAGE - a + 1);
		unsigned char *q = buf + PAGE, *ref = malloc((MAXPAGES + 1) * PAGE);

		if (!ref)
			abort();
		memset(q - 64, 0x77, (size_t)MAXPAGES * PAGE + 64);
		memcpy(ref, q - 64, (size_t)MAXPAGES * PAGE + 64);
		memset(ref + 64 + a, 0, n);
		xmm_clear(q + a, n);
		FZ_CHECK(!memcmp(ref, q - 64, (size_t)MAXPAGES * PAGE + 64), "xmm_clear of %zu at +%zu", n, a);
		free(ref);
	}
	xmm_zero_ops_set(NULL);
	return 0;
}
