/* SPDX-License-Identifier: MIT */
/* Options and report rows shared by the bench binaries (see shim.h). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void xmm_bench_parse(int *argc, char **argv, struct xmm_bench_opts *o)
{
	int out = 1;

	o->quick = false;
	o->report_dir = NULL;
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			o->quick = true;
		else if (strcmp(argv[i], "--report") == 0 && i + 1 < *argc)
			o->report_dir = argv[++i];
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
			   "ratio\ttarget\tmet\n");
	return f;
}

void xmm_report_row(const struct xmm_bench_opts *o, const struct xmm_report_row *r)
{
	double ratio = r->higher_is_better ? r->xmm / r->base : r->base / r->xmm;
	const char *met = r->target_ratio <= 0 ? "-" : ratio >= r->target_ratio ? "yes" : "NO";
	FILE *f = report_tsv(o);

	printf("REPORT seed %s | %-40s | %-12s | vs %-28s | %12.4g vs %12.4g %-10s | %9.3gx | %s %s\n",
	       r->seed, r->scenario, r->param, r->baseline, r->base, r->xmm, r->unit, ratio,
	       r->target ? r->target : "", met);
	if (f) {
		fprintf(f, "%s\t%s\t%s\t%s\t%.6g\t%.6g\t%s\t%.4g\t%s\t%s\n", r->seed, r->scenario,
			r->param, r->baseline, r->base, r->xmm, r->unit, ratio,
			r->target ? r->target : "-", met);
		fclose(f);
	}
}

void xmm_report_missing(const struct xmm_bench_opts *o, const char *seed, const char *scenario,
			const char *param, const char *why)
{
	FILE *f = report_tsv(o);

	printf("REPORT seed %s | %-40s | %-12s | not measured: %s\n", seed, scenario, param, why);
	if (f) {
		fprintf(f, "%s\t%s\t%s\t-\t-\t-\t-\t-\t-\tnot measured: %s\n", seed, scenario, param, why);
		fclose(f);
	}
}
