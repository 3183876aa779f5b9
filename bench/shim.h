/* SPDX-License-Identifier: MIT */
/*
 * bench/shim.h - a C face for Google Benchmark (implemented in shim.cc, the
 * only C++ in the tree), plus the report rows every seed benchmark prints.
 *
 * A benchmark is a C function taking an opaque state:
 *
 *   static void bm(struct xmm_bench_state *st, void *arg)
 *   {
 *       while (xmm_bench_running(st, 256))        // KeepRunningBatch(256)
 *           for (int i = 0; i < 256; i++) work(arg);
 *   }
 *   xmm_bench_add(&(struct xmm_bench){ .name = "flush/filter/64", .fn = bm, .arg = p });
 *   xmm_bench_run(&argc, argv, "report/flush.json");
 *   xmm_bench_ns("flush/filter/64", &ns);        // real ns per iteration
 */
#ifndef XMM_BENCH_SHIM_H
#define XMM_BENCH_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_bench_state;
typedef void (*xmm_bench_fn)(struct xmm_bench_state *st, void *arg);

enum xmm_bench_unit { XMM_BENCH_NS = 0, XMM_BENCH_US, XMM_BENCH_MS };

struct xmm_bench {
	const char *name;   /* unique; copied */
	xmm_bench_fn fn;
	void *arg;
	int threads;        /* 0 or 1: one thread */
	int repetitions;    /* 0: Google Benchmark's default (or --benchmark_repetitions) */
	double min_time;    /* seconds; 0: the run's default (see xmm_bench_run) */
	int64_t iterations; /* fixed count; 0: chosen by Google Benchmark */
	bool manual_time;   /* time is what xmm_bench_manual_time reports */
	enum xmm_bench_unit unit;
};

void xmm_bench_add(const struct xmm_bench *b);

/* Run @batch more iterations? (KeepRunningBatch: the count may end higher than asked.) */
bool xmm_bench_running(struct xmm_bench_state *st, uint64_t batch);
uint64_t xmm_bench_iterations(struct xmm_bench_state *st);
int xmm_bench_thread(struct xmm_bench_state *st);
int xmm_bench_threads(struct xmm_bench_state *st);
void xmm_bench_pause(struct xmm_bench_state *st);
void xmm_bench_resume(struct xmm_bench_state *st);
void xmm_bench_manual_time(struct xmm_bench_state *st, double seconds);
void xmm_bench_items(struct xmm_bench_state *st, int64_t items);
void xmm_bench_bytes(struct xmm_bench_state *st, int64_t bytes);
void xmm_bench_error(struct xmm_bench_state *st, const char *msg);

enum {
	XMM_BENCH_RATE = 1,      /* divide by elapsed seconds */
	XMM_BENCH_PER_ITER = 2,  /* divide by iterations */
	XMM_BENCH_AVG_THREADS = 4 /* average over threads instead of summing */
};
void xmm_bench_counter(struct xmm_bench_state *st, const char *name, double value, unsigned flags);

/* Keep @p's value observable so the compiler cannot drop the work producing it. */
void xmm_bench_keep(const void *p);

/*
 * Options common to every bench binary, removed from argv:
 *   --quick        shorter runs and fewer sizes (the report's --quick)
 *   --report DIR   write DIR/<name>.json and append report rows to DIR/report.tsv
 *   --samples N    samples of each benchmark a target judges (bench/common.h)
 */
struct xmm_bench_opts {
	bool quick;
	int samples;     /* --samples N: samples per judged benchmark (bench/common.h) */
	const char *report_dir;
	double min_time; /* default seconds per benchmark: 0.25, or 0.03 with --quick */
};
void xmm_bench_parse(int *argc, char **argv, struct xmm_bench_opts *o);

/*
 * What --help prints about this binary, before the common options: a line on
 * what it measures, then its own flags, one per line ("  --gib N   ..."). Call
 * before xmm_bench_parse, which prints it and exits on --help or -h.
 */
void xmm_bench_usage(const char *text);

/* Seconds each benchmark registered from now on runs by default (set by xmm_bench_parse). */
void xmm_bench_set_default_min_time(double seconds);

/*
 * Run the registered benchmarks (honouring --benchmark_* flags); results are
 * kept for the lookups below. @json: write Google Benchmark's JSON there too
 * (NULL: no file). Returns 0, or non-zero if a benchmark reported an error.
 */
int xmm_bench_run(int *argc, char **argv, const char *json);

/* Real nanoseconds per iteration (median of repetitions when repeated). */
bool xmm_bench_ns(const char *name, double *ns);
/* A counter's value as reported (rates already divided). */
bool xmm_bench_value(const char *name, const char *counter, double *v);
/* The lowest and highest of a repeated benchmark's runs (@counter NULL: real ns per
 * iteration); false if it ran fewer than twice. */
bool xmm_bench_spread(const char *name, const char *counter, double *lo, double *hi);

/*
 * Report rows: one line per comparison of libxmm against a baseline measured
 * in the same run. ratio = baseline/libxmm for costs (lower is better),
 * libxmm/baseline for throughputs (higher is better). A row with a target
 * says whether it was met; rows with target_ratio 0 are for information.
 */
struct xmm_report_row {
	const char *seed;      /* "000" */
	const char *scenario;
	const char *param;     /* e.g. "64 CPUs" */
	const char *baseline;
	double base;
	double xmm;
	const char *unit;
	bool higher_is_better;
	double target_ratio;   /* 0: no target */
	const char *target;    /* human text, e.g. ">=10x" */
	/* The lowest and highest run of each side (0, 0: a single run or unknown). */
	double base_lo, base_hi, xmm_lo, xmm_hi;
};
void xmm_report_row(const struct xmm_bench_opts *o, const struct xmm_report_row *r);
/* Missing results make a row that says so instead of a number. */
void xmm_report_missing(const struct xmm_bench_opts *o, const char *seed, const char *scenario,
			const char *param, const char *why);

#ifdef __cplusplus
}
#endif

#endif /* XMM_BENCH_SHIM_H */
