/* SPDX-License-Identifier: MIT */
/*
 * The flush filter (xmm/flush.h) against a model: the clock, and each CPU's
 * newest completed flush. Ops: stamp, begin, end (tokens handed out, from the
 * future, stale), end_mask, needed, filter, any_needed, stamp32/expand32.
 * Checked after every step: needed and filter exactly as the model says
 * (safety: no CPU dropped that needs a flush; precision: none kept that does
 * not), any_needed never false when a CPU needs one.
 */
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/flush.h>

#include "fuzz.h"

#define MAXCPUS 200

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	unsigned int ncpus = 1 + (unsigned)fz_below(&f, MAXCPUS);
	uint16_t groups[MAXCPUS];
	bool use_groups = fz_u8(&f) & 1;
	uint64_t epoch[MAXCPUS], now = 1, tokens[16] = { 0 }, ntok = 0;
	struct xmm_flush_clock *clk = NULL;
	unsigned int ngroups = 1 + (unsigned)fz_below(&f, ncpus);

	for (unsigned int c = 0; c < ncpus; c++) {
		groups[c] = (uint16_t)fz_below(&f, ngroups);
		epoch[c] = 1;
	}
	FZ_CHECK(xmm_flush_clock_create(&clk, ncpus, use_groups ? groups : NULL, 0) == 0, "create");
	FZ_CHECK(xmm_flush_now(clk) == 1, "a new clock reads 1");
	for (int steps = 0; fz_more(&f) && steps < 4000; steps++) {
		unsigned int op = fz_u8(&f) % 9, cpu = (unsigned)fz_below(&f, ncpus);
		/* A stamp: 0, now, a past time, or one from the future. */
		uint64_t s, t, pick = fz_u8(&f);
		xmm_cpumask_t mask, want;

		s = pick < 32 ? 0 : pick < 96 ? now : pick < 240 ? 1 + fz_below(&f, now) : now + 1 + fz_u8(&f);
		switch (op) {
		case 0:
			FZ_CHECK(xmm_flush_stamp(clk) == now, "stamp reads the clock");
			break;
		case 1:
			t = xmm_flush_begin(clk);
			FZ_CHECK(t == ++now, "begin ticks");
			tokens[ntok++ % 16] = t;
			break;
		case 2: /* end with a token handed out, or any value (from the future: refused) */
			t = fz_u8(&f) & 1 && ntok ? tokens[fz_below(&f, ntok < 16 ? ntok : 16)] : fz_u64(&f) % (now + 8);
			if (t > now) {
				FZ_CHECK(xmm_flush_end(clk, cpu, t) == XMM_EINVAL, "token %llu from the future",
					 (unsigned long long)t);
			} else {
				FZ_CHECK(xmm_flush_end(clk, cpu, t) == 0, "end");
				if (t > epoch[cpu])
					epoch[cpu] = t;
			}
			break;
		case 3:
			t = fz_u8(&f) & 1 && ntok ? tokens[fz_below(&f, ntok < 16 ? ntok : 16)] : now + fz_u8(&f) % 3;
			xmm_cpumask_zero(&mask);
			for (unsigned int c = 0; c < ncpus; c++)
				if (fz_u8(&f) & 1)
					xmm_cpumask_set(&mask, c);
			FZ_CHECK(xmm_flush_end_mask(clk, &mask, t) == (t > now ? XMM_EINVAL : 0), "end_mask");
			if (t <= now)
				for (unsigned int c = 0; c < ncpus; c++)
					if (xmm_cpumask_test(&mask, c) && t > epoch[c])
						epoch[c] = t;
			break;
		case 4:
			FZ_CHECK(xmm_flush_needed(clk, cpu, s) == (epoch[cpu] <= s), "needed cpu %u stamp %llu",
				 cpu, (unsigned long long)s);
			break;
		case 5:
		case 6: {
			bool any = false;

			xmm_cpumask_zero(&mask);
			xmm_cpumask_zero(&want);
			for (unsigned int c = 0; c < ncpus; c++) {
				if (op == 6 || fz_u8(&f) & 1)
					xmm_cpumask_set(&mask, c);
				if (xmm_cpumask_test(&mask, c) && epoch[c] <= s)
					xmm_cpumask_set(&want, c);
				any |= epoch[c] <= s;
			}
			xmm_flush_filter(clk, &mask, s);
			for (unsigned int c = 0; c < ncpus; c++)
				FZ_CHECK(xmm_cpumask_test(&mask, c) == xmm_cpumask_test(&want, c),
					 "filter: cpu %u stamp %llu epoch %llu kept %d", c, (unsigned long long)s,
					 (unsigned long long)epoch[c], xmm_cpumask_test(&mask, c));
			FZ_CHECK(!any || xmm_flush_any_needed(clk, s), "any_needed dropped a CPU");
			break;
		}
		case 7: {
			bool any = false;

			for (unsigned int c = 0; c < ncpus; c++)
				any |= epoch[c] <= s;
			FZ_CHECK(!any || xmm_flush_any_needed(clk, s), "any_needed said no, stamp %llu",
				 (unsigned long long)s);
			break;
		}
		case 8: {
			uint32_t s32 = xmm_flush_stamp32(clk);
			uint64_t e = xmm_flush_expand32(clk, s32);

			FZ_CHECK(s32 == (uint32_t)now && e == now, "stamp32 of now");
			e = xmm_epoch_expand32(now, (uint32_t)s);
			FZ_CHECK(e <= now && (s > now || e >= s || now - s >= (1ULL << 32)),
				 "expand32 is never older than the stamp");
			break;
		}
		}
		FZ_CHECK(xmm_flush_now(clk) == now, "the clock");
	}
	xmm_flush_clock_destroy(clk);
	return 0;
}
