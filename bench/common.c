/* SPDX-License-Identifier: MIT */
/* What the bench binaries share: options, report rows, and common.h's helpers. */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>

static const char *usage_text = "";

void xmm_bench_usage(const char *text)
{
	usage_text = text;
}

static void print_usage(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	printf("usage: %s [options] [Google Benchmark flags]\n\n%s", slash ? slash + 1 : argv0,
	       usage_text);
	printf("\nOptions of every bench_<primitive>:\n"
	       "  --quick            shorter runs and fewer sizes (what report.sh --quick passes)\n"
	       "  --report DIR       write DIR/<primitive>.json, DIR/<primitive>.dat and append\n"
	       "                     the report rows to DIR/report.tsv\n"
	       "  --samples N        samples per benchmark that a target judges (default %d;\n"
	       "                     1: a single run); their median is the figure\n"
	       "  --help, -h         this text\n"
	       "\nGoogle Benchmark flags that help here:\n"
	       "  --benchmark_filter=REGEX          run only the benchmarks whose name matches\n"
	       "  --benchmark_list_tests            list the benchmarks and exit\n"
	       "  --benchmark_min_time=SECONDS      time per run of every benchmark\n"
	       "  --benchmark_repetitions=N         runs of every benchmark (median reported)\n"
	       "  --benchmark_color=false           no colour (default: only on a terminal)\n"
	       "  --benchmark_format=json|csv       stdout format\n"
	       "Samples run interleaved in random order\n"
	       "(--benchmark_enable_random_interleaving=false turns it off).\n",
	       XMM_BENCH_SAMPLES);
}

void xmm_bench_parse(int *argc, char **argv, struct xmm_bench_opts *o)
{
	int out = 1;

	o->quick = false;
	o->report_dir = NULL;
	o->samples = XMM_BENCH_SAMPLES;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_usage(argv[0]);
			exit(0);
		} else if (strcmp(argv[i], "--quick") == 0)
			o->quick = true;
		else if (strcmp(argv[i], "--report") == 0 && i + 1 < *argc)
			o->report_dir = argv[++i];
		else if (strcmp(argv[i], "--samples") == 0 && i + 1 < *argc)
			o->samples = atoi(argv[++i]);
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	o->min_time = o->quick ? 0.03 : 0.25;
	xmm_bench_set_default_min_time(o->min_time);
	if (o->report_dir && mkdir(o->report_dir, 0755) != 0 && errno != EEXIST) {
		perror(o->report_dir);
		exit(2);
	}
}

static FILE *report_tsv(const struct xmm_bench_opts *o)
{
	char path[4096];
	FILE *f;
	struct stat st;
	bool fresh;

	if (!o->report_dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/report.tsv", o->report_dir);
	fresh = stat(path, &st) != 0 || st.st_size == 0;
	f = fopen(path, "a");
	if (f && fresh)
		fprintf(f, "seed\tscenario\tparam\tbaseline\tbaseline_value\tlibxmm_value\tunit\t"
			   "ratio\ttarget\tmet\tratio_lo\tratio_hi\ttarget_ratio\n");
	return f;
}

/*
 * The ratio's range over the runs: the worst and best pairing of each side's
 * lowest and highest run (a side run once counts as its value). "-" when
 * neither side was repeated.
 */
static void ratio_range(const struct xmm_report_row *r, char *lo, char *hi, size_t n)
{
	double bl = r->base_hi > 0 ? r->base_lo : r->base, bh = r->base_hi > 0 ? r->base_hi : r->base;
	double xl = r->xmm_hi > 0 ? r->xmm_lo : r->xmm, xh = r->xmm_hi > 0 ? r->xmm_hi : r->xmm;
	double a, b;

	if (r->base_hi <= 0 && r->xmm_hi <= 0) {
		snprintf(lo, n, "-");
		snprintf(hi, n, "-");
		return;
	}
	a = r->higher_is_better ? xl / bh : bl / xh;
	b = r->higher_is_better ? xh / bl : bh / xl;
	snprintf(lo, n, "%.4g", a);
	snprintf(hi, n, "%.4g", b);
}

void xmm_report_row(const struct xmm_bench_opts *o, const struct xmm_report_row *r)
{
	double ratio = r->higher_is_better ? r->xmm / r->base : r->base / r->xmm;
	const char *met = r->target_ratio <= 0 ? "-" : ratio >= r->target_ratio ? "yes" : "NO";
	FILE *f = report_tsv(o);
	char lo[32], hi[32];

	ratio_range(r, lo, hi, sizeof(lo));
	printf("REPORT seed %s | %-40s | %-12s | vs %-28s | %12.4g vs %12.4g %-10s | %9.3gx | %s %s\n",
	       r->seed, r->scenario, r->param, r->baseline, r->base, r->xmm, r->unit, ratio,
	       r->target ? r->target : "", met);
	if (f) {
		fprintf(f, "%s\t%s\t%s\t%s\t%.6g\t%.6g\t%s\t%.4g\t%s\t%s\t%s\t%s\t%.4g\n", r->seed,
			r->scenario, r->param, r->baseline, r->base, r->xmm, r->unit, ratio,
			r->target ? r->target : "-", met, lo, hi, r->target_ratio);
		fclose(f);
	}
}

void xmm_report_missing(const struct xmm_bench_opts *o, const char *seed, const char *scenario,
			const char *param, const char *why)
{
	FILE *f = report_tsv(o);

	printf("REPORT seed %s | %-40s | %-12s | not measured: %s\n", seed, scenario, param, why);
	if (f) {
		fprintf(f, "%s\t%s\t%s\t-\t-\t-\t-\t-\t-\tnot measured: %s\t-\t-\t0\n", seed,
			scenario, param, why);
		fclose(f);
	}
}

void xmm_bench_add_sampled(const struct xmm_bench_opts *o, const struct xmm_bench *b)
{
	struct xmm_bench c = *b;

	if (c.iterations) {
		c.repetitions = XMM_BENCH_ONESHOT_SAMPLES;
	} else {
		c.repetitions = o->quick || o->samples < 2 ? 0 : o->samples;
		if (c.repetitions)
			c.min_time = XMM_BENCH_SAMPLE_SECONDS;
	}
	xmm_bench_add(&c);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double xmm_bench_now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double xmm_bench_thread_cpu(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static hwloc_topology_t pin_topo;
static bool pin_topo_ok;

static void pin_topo_load(void)
{
	pin_topo_ok = hwloc_topology_init(&pin_topo) == 0 && hwloc_topology_load(pin_topo) == 0;
}

bool xmm_bench_pin(int cpu)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	hwloc_topology_t topo;
	hwloc_obj_t pu;
	int n;

	if (cpu < 0)
		return false;
	/* This machine's topology, loaded by the first caller (pthread_once orders it for all). */
	pthread_once(&once, pin_topo_load);
	if (!pin_topo_ok)
		return false;
	topo = pin_topo;
	n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	if (n < 2)
		return false;
	pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned int)(cpu % n));
	return pu && hwloc_set_cpubind(topo, pu->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double xmm_bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The spread of what the lookups returned, keyed by the value itself, so that
 * xmm_bench_row can give a row whose sides came straight from a lookup the
 * range of their runs (a side that was scaled or computed has none). The
 * report runs on one thread, after the benchmarks.
 */
#define SPREADS 1024
struct spread {
	double v, lo, hi;
};
static struct spread spreads[SPREADS];
static size_t nspreads;

static double remember(double v, const char *name, const char *counter)
{
	double lo, hi;

	if (v > 0 && xmm_bench_spread(name, counter, &lo, &hi))
		spreads[nspreads++ % SPREADS] = (struct spread){ v, lo, hi };
	return v;
}

static void spread_of(double v, double *lo, double *hi)
{
	*lo = *hi = 0;
	for (size_t i = 0; i < nspreads && i < SPREADS; i++)
		if (spreads[i].v == v) {
			*lo = spreads[i].lo;
			*hi = spreads[i].hi;
		}
}

double xmm_bench_ns_of(const char *fmt, ...)
{
	char name[256];
	va_list ap;
	double ns = 0;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return remember(xmm_bench_ns(name, &ns) ? ns : 0, name, NULL);
}

double xmm_bench_value_of(const char *name, const char *counter)
{
	double v = 0;

	return remember(xmm_bench_value(name, counter, &v) ? v : 0, name, counter);
}

void xmm_bench_row(const struct xmm_bench_report *r, const char *scenario, const char *param,
		   const char *baseline, double base, double xmm, const char *unit, bool higher,
		   double target, const char *target_text)
{
	if (base <= 0 || (r->zero_ok ? xmm < 0 : xmm <= 0)) {
		xmm_report_missing(r->o, r->seed, scenario, param,
				   base == 0 && xmm == 0 ? "zero on both sides"
							 : "benchmark filtered out or failed");
		return;
	}
	struct xmm_report_row row = { .seed = r->seed, .scenario = scenario, .param = param,
				      .baseline = baseline, .base = base, .xmm = xmm, .unit = unit,
				      .higher_is_better = higher, .target_ratio = target,
				      .target = target_text };

	spread_of(base, &row.base_lo, &row.base_hi);
	spread_of(xmm, &row.xmm_lo, &row.xmm_hi);
	xmm_report_row(r->o, &row);
}

FILE *xmm_bench_dat_open(const struct xmm_bench_opts *o, const char *name, const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	FILE *f;

	if (!o->report_dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.dat", o->report_dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs("# ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	return f;
}

void xmm_bench_dat_value(FILE *f, double v)
{
	double lo, hi;

	spread_of(v, &lo, &hi);
	if (hi <= 0)
		lo = hi = v;
	fprintf(f, " %g %g %g", v, lo, hi);
}
