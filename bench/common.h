/* SPDX-License-Identifier: MIT */
/*
 * bench/common.h - what every bench_<primitive> shares (common.c), on top of
 * the Google Benchmark face in shim.h: one report-row writer, one result
 * lookup, one clock, one pinning helper, one RNG, one median, one .dat
 * writer, and one noise-control policy.
 *
 * Noise control, for every benchmark whose figure a target judges (context
 * rows run once, for the default time): it is registered through
 * xmm_bench_add_sampled, which runs it as
 * XMM_BENCH_SAMPLES samples (--samples N) of XMM_BENCH_SAMPLE_SECONDS each
 * (one run with --quick), and xmm_bench_run interleaves the samples of every benchmark in
 * random order (--benchmark_enable_random_interleaving, which a flag given on
 * the command line overrides), so a drift in the machine's load does not
 * favour whichever contender runs first; the figure is the median of the
 * samples (xmm_bench_ns, xmm_bench_value). Short samples are what a burst of
 * load on a shared machine spoils fewest of. A one-shot scenario (a fixed
 * iteration count, e.g. destroying an 8 GiB guest) is already one long
 * sample: it runs XMM_BENCH_ONESHOT_SAMPLES times, interleaved the same way,
 * with --quick as well (its short runs are the ones noise sways most).
 */
#ifndef XMM_BENCH_COMMON_H
#define XMM_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XMM_BENCH_SAMPLES 15 /* default; --samples N */
#define XMM_BENCH_ONESHOT_SAMPLES 5 /* one-shot scenarios, --quick too */
#define XMM_BENCH_SAMPLE_SECONDS 0.1

/* Register @b under the noise-control policy above (its repetitions and min_time are set). */
void xmm_bench_add_sampled(const struct xmm_bench_opts *o, const struct xmm_bench *b);

/* Seconds: CLOCK_MONOTONIC, and the calling thread's CPU time. */
double xmm_bench_now(void);
double xmm_bench_thread_cpu(void);

/*
 * Bind the calling thread to this machine's logical CPU @cpu (modulo the CPUs
 * there are), through hwloc; nothing on a one-CPU machine or for a negative
 * @cpu. Returns whether the binding took.
 */
bool xmm_bench_pin(int cpu);

/* xorshift64 (state never 0), and a value below @n (n > 0) by multiply-shift. */
static inline uint64_t xmm_bench_rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline uint64_t xmm_bench_rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)xmm_bench_rng(s) * n) >> 64);
}

/* The median of @v[0..n) (sorts @v); 0 for n == 0. */
double xmm_bench_median(double *v, size_t n);

/* A result by name (printf format): real ns per iteration, or a counter; 0 if it did not run. */
double xmm_bench_ns_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double xmm_bench_value_of(const char *name, const char *counter);

/*
 * Report rows of one seed: xmm_bench_row writes libxmm's @xmm against
 * @baseline's @base in @unit (see struct xmm_report_row; @target 0: no
 * target). A side that did not run (<= 0; for libxmm < 0 where @zero_ok:
 * counts that may be 0) makes a "not measured" row instead.
 */
struct xmm_bench_report {
	const struct xmm_bench_opts *o;
	const char *seed;
	bool zero_ok;
};
void xmm_bench_row(const struct xmm_bench_report *r, const char *scenario, const char *param,
		   const char *baseline, double base, double xmm, const char *unit, bool higher,
		   double target, const char *target_text);

/*
 * Open DIR/@name.dat for a plot (NULL without --report, or on error) and
 * write its header comment, a printf format giving the columns.
 */
FILE *xmm_bench_dat_open(const struct xmm_bench_opts *o, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Write " v lo hi" to a .dat file: @v and the lowest and highest of its runs when
 * it came straight from a lookup of a repeated benchmark (else v v v), for the
 * plots' error bars.
 */
void xmm_bench_dat_value(FILE *f, double v);

#ifdef __cplusplus
}
#endif

#endif /* XMM_BENCH_COMMON_H */
