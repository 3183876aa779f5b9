// SPDX-License-Identifier: MIT
/*
 * Zero detection and xmm_clear on kernel pages against byte loops: the
 * kernel build has the portable kernels only (no SSE in kernel code), so
 * this checks them compiled with the kernel's flags.
 */
#include "selftest.h"

#include <linux/sched.h>
#include <linux/string.h>

#include <xmm/errno.h>
#include <xmm/zero.h>

static bool ref_zero(const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int xt_zero(char *detail, size_t len)
{
	size_t npages = xt_zero_pages, bytes = npages * PAGE_SIZE, words = (npages + 63) / 64;
	u8 *buf = xt_vzalloc(bytes), *pat = xt_vzalloc(bytes);
	u64 *bitmap = xt_vzalloc(words * sizeof(u64) + 8), rng = 0x6a09e667f3bcc909ULL;
	u64 checks = 0, it;
	size_t i, nzero = 0, got;
	unsigned int order;
	int rc = -ENOMEM;

	if (!buf || !pat || !bitmap)
		goto out;
	rc = -EINVAL;
	/* Pages of three kinds: zero, one stray byte anywhere, random. */
	for (i = 0; i < npages; i++) {
		u64 x = xt_rand(&rng);
		u8 *pg = buf + i * PAGE_SIZE;

		if (x % 10 < 4) {
			nzero++;
		} else if (x % 10 < 8) {
			pg[(x >> 8) % PAGE_SIZE] = 1 + (x >> 20) % 255;
		} else {
			size_t j;

			for (j = 0; j < PAGE_SIZE; j += 8)
				*(u64 *)(pg + j) = xt_rand(&rng);
		}
	}
	/* zero_scan: count and bitmap, bits past npages cleared. */
	memset(bitmap, 0xff, words * sizeof(u64));
	got = xmm_zero_scan(buf, npages, bitmap);
	for (i = 0; i < words * 64; i++) {
		bool bit = bitmap[i / 64] >> (i % 64) & 1;
		bool want = i < npages && ref_zero(buf + i * PAGE_SIZE, PAGE_SIZE);

		if (bit != want) {
			snprintf(detail, len, "zero_scan bit %zu = %d, byte loop %d", i, bit, want);
			goto out;
		}
		checks++;
	}
	if (got != nzero) {
		snprintf(detail, len, "zero_scan counted %zu zero pages, byte loop %zu", got, nzero);
		goto out;
	}
	/* is_zero on random windows: any offset, lengths 0 to 3 pages. */
	for (it = 0; it < 4000; it++) {
		u64 x = xt_rand(&rng);
		size_t off = x % bytes, n = (x >> 32) % (it & 1 ? 3 * PAGE_SIZE : 200);

		n = min(n, bytes - off);
		if (xmm_is_zero(buf + off, n) != ref_zero(buf + off, n)) {
			snprintf(detail, len, "is_zero(+%zu, %zu) disagrees with the byte loop", off, n);
			goto out;
		}
		checks++;
	}
	/* superpage_check, with and without the bitmap. */
	for (order = 0; (1UL << order) <= npages && order <= 6; order++) {
		size_t sp;

		for (sp = 0; sp + (1UL << order) <= npages; sp += 1UL << order) {
			const u8 *base = buf + sp * PAGE_SIZE;
			int want = ref_zero(base, PAGE_SIZE << order);
			u64 bm[2] = { ~0ULL, ~0ULL };

			if (xmm_superpage_check(base, order, NULL) != want ||
			    xmm_superpage_check(base, order, bm) != want) {
				snprintf(detail, len, "superpage_check(order %u, page %zu) != %d", order,
					 sp, want);
				goto out;
			}
			for (i = 0; i < (1UL << order); i++)
				if ((bm[i / 64] >> (i % 64) & 1) !=
				    ref_zero(base + i * PAGE_SIZE, PAGE_SIZE)) {
					snprintf(detail, len, "superpage_check bitmap wrong");
					goto out;
				}
			checks++;
		}
	}
	if (xmm_superpage_check(NULL, 0, NULL) != XMM_EINVAL ||
	    xmm_superpage_check(buf, XMM_SUPERPAGE_MAX_ORDER + 1, NULL) != XMM_EINVAL) {
		snprintf(detail, len, "superpage_check accepted bad input");
		goto out;
	}
	/* xmm_clear: zero inside, untouched outside. */
	for (it = 0; it < 600; it++) {
		u64 x = xt_rand(&rng);
		size_t off = x % bytes, n = (x >> 32) % (it & 1 ? 2 * PAGE_SIZE + 100 : 130);

		n = min(n, bytes - off);
		for (i = 0; i < bytes; i += 8)
			*(u64 *)(pat + i) = 0x0101010101010101ULL * (1 + (i >> 3) % 250);
		xmm_clear(pat + off, n);
		if (!ref_zero(pat + off, n)) {
			snprintf(detail, len, "clear(+%zu, %zu) left a byte", off, n);
			goto out;
		}
		for (i = off >= 64 ? off - 64 : 0; i < off; i++)
			if (pat[i] != 1 + (i >> 3) % 250)
				break;
		if (i < off || (off + n < bytes && pat[off + n] != 1 + ((off + n) >> 3) % 250)) {
			snprintf(detail, len, "clear(+%zu, %zu) wrote outside its range", off, n);
			goto out;
		}
		checks++;
		if ((it & 31) == 0)
			cond_resched();
	}
	snprintf(detail, len, "kernels %s, %zu pages (%zu zero), %llu answers checked against byte loops",
		 xmm_zero_ops_get()->name, npages, nzero, checks);
	rc = xt_injected("zero") ? -EIO : 0;
out:
	xt_vfree(bitmap, words * sizeof(u64) + 8);
	xt_vfree(pat, bytes);
	xt_vfree(buf, bytes);
	return rc;
}
