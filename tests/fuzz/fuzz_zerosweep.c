/* SPDX-License-Identifier: MIT */
/*
 * The PoD sweep (xmm/zerosweep.h) against a model of its order: pending
 * (noted since last offered) superpages first, then a linear pass offering
 * each superpage not yet offered in this pass, XMM_ENOENT once at its end.
 * Ops: note (in and out of range), next, check of a superpage whose pages
 * the input dirties; checked after every step, with the stats.
 */
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/zerosweep.h>
#include <xmm/zero.h>

#include "fuzz.h"

#define PAGE 4096
#define MAXSP 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *sp;
	struct fz f = { data, size };
	unsigned int order = 1 + (unsigned)fz_below(&f, 5);
	uint64_t per = 1ULL << order, nsp = fz_below(&f, MAXSP + 1);
	uint64_t npages = nsp * per + fz_below(&f, per);
	bool pending[MAXSP] = { 0 }, offered[MAXSP] = { 0 };
	uint64_t cursor = 0, n_offered = 0, n_from_notes = 0, n_checked = 0, n_whole = 0, n_zero = 0;
	struct xmm_zerosweep *s = NULL;
	struct xmm_zerosweep_stats st;
	size_t dirty[4];
	unsigned int ndirty = 0;
	xmm_pfn_t first;
	int rc;

	if (!sp && !(sp = aligned_alloc(PAGE, 32 * PAGE)))
		abort();
	memset(sp, 0, 32 * PAGE);
	rc = xmm_zerosweep_create(&s, npages, order);
	if (nsp == 0) {
		FZ_CHECK(rc == XMM_EINVAL, "a guest without a whole superpage: %d", rc);
		return 0;
	}
	FZ_CHECK(rc == 0 && xmm_zerosweep_superpages(s) == nsp && xmm_zerosweep_superpage_pages(s) == per,
		 "create");
	for (int steps = 0; fz_more(&f) && steps < 3000; steps++) {
		unsigned int op = fz_u8(&f) % 3;

		if (op == 0) {
			xmm_pfn_t pfn = fz_below(&f, npages + per + 2);

			rc = xmm_zerosweep_note(s, pfn);
			if (pfn >= nsp * per) {
				FZ_CHECK(rc == XMM_ERANGE, "note past the last superpage: %d", rc);
			} else {
				FZ_CHECK(rc == 0, "note: %d", rc);
				pending[pfn >> order] = true;
			}
		} else if (op == 1) {
			bool any = false;

			for (uint64_t k = 0; k < nsp; k++)
				any |= pending[k];
			rc = xmm_zerosweep_next(s, &first);
			if (any) {
				uint64_t k = first >> order;

				FZ_CHECK(rc == 0 && !(first & (per - 1)) && k < nsp && pending[k],
					 "next must offer a noted superpage: rc %d first %llu", rc,
					 (unsigned long long)first);
				pending[k] = false;
				offered[k] = true;
				n_offered++;
				n_from_notes++;
			} else {
				uint64_t k = cursor;

				while (k < nsp && offered[k])
					k++;
				if (k >= nsp) {
					FZ_CHECK(rc == XMM_ENOENT, "the pass should end: rc %d", rc);
					memset(offered, 0, sizeof(offered));
					cursor = 0;
				} else {
					FZ_CHECK(rc == 0 && first == k * per, "linear pass: rc %d first %llu, model %llu",
						 rc, (unsigned long long)first, (unsigned long long)(k * per));
					offered[k] = true;
					cursor = k + 1;
					n_offered++;
				}
			}
		} else {
			uint64_t zero[1] = { ~0ULL }, want_bm = 0, want = 0;

			for (unsigned int k = 0; k < ndirty; k++)
				sp[dirty[k]] = 0;
			ndirty = fz_u8(&f) % 4;
			for (unsigned int k = 0; k < ndirty; k++)
				sp[dirty[k] = fz_below(&f, per * PAGE)] = 1;
			for (uint64_t i = 0; i < per; i++) {
				bool z = true;
				const uint64_t *w = (const uint64_t *)(const void *)(sp + i * PAGE);

				for (size_t b = 0; b < PAGE / 8 && z; b++)
					z = !w[b];
				if (z) {
					want++;
					want_bm |= 1ULL << i;
				}
			}
			FZ_CHECK(xmm_zerosweep_check(s, sp, zero) == (int64_t)want, "check count");
			FZ_CHECK(zero[0] == want_bm, "check bitmap %llx, want %llx", (unsigned long long)zero[0],
				 (unsigned long long)want_bm);
			n_checked++;
			n_whole += want == per;
			n_zero += want;
			FZ_CHECK(xmm_zerosweep_check(s, NULL, zero) == XMM_EINVAL, "NULL superpage");
			FZ_CHECK(xmm_zerosweep_check(s, sp, NULL) == XMM_EINVAL, "NULL bitmap");
		}
		xmm_zerosweep_stats(s, &st);
		FZ_CHECK(st.offered == n_offered && st.from_notes == n_from_notes && st.checked == n_checked &&
				 st.whole == n_whole && st.zero_pages == n_zero,
			 "stats");
	}
	FZ_CHECK(xmm_zerosweep_next(s, NULL) == XMM_EINVAL, "NULL first");
	xmm_zerosweep_destroy(s);
	return 0;
}
