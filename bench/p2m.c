/* SPDX-License-Identifier: MIT */
/*
 * bench_p2m: the sparse linear p2m map (xmm/p2m.h), seed 004, against a
 * 3-level tree as Linux kept it before 3.19 (baselines/p2m_tree.c) and a
 * dense flat array (baselines/p2m_dense.c), in the same run.
 *
 * The guest, the seed scenario: max_pfn of 1 TiB; 16 GiB populated, as the
 * 3 GiB below the PCI hole, five more 1 GiB runs and 4096 runs of 2 MiB
 * scattered over the rest; identity where a PC has holes: VGA [0xa0, 0x100),
 * the 32-bit PCI hole [3 GiB, 4 GiB) and a 64-bit MMIO window in the top
 * 4 GiB. --quick: a 64 GiB guest with 5 GiB populated.
 *
 * All four structures hold the same values. After populating, each populated
 * pfn maps to MFN_BASE + the next pfn of one random cycle through all of them,
 * so pfn = get(pfn) - MFN_BASE is a chain of dependent lookups that visits
 * every populated pfn in random order.
 *
 *   get/random        independent gets of random populated pfns: throughput
 *   get/chase         gets along the cycle, each pfn from the previous result: latency
 *   get/seq           every populated pfn in order
 *   get/any           random pfns anywhere below max_pfn: mostly holes
 *   get/caller/X      a caller's own loop (p2m_caller.c, compiled apart through
 *                     <xmm/p2m.h> alone) over random populated pfns:
 *                     the inline xmm_p2m_get (linear), against the same loop
 *                     indexing a raw array of the same entries (array)
 *   get/random/threads:N   N readers (libxmm linear; the dense array for reference)
 *   get/random/writer:W    one reader, W: a writer populates 64 leaves of a
 *                     1 GiB hole and clears it, as fast as it can (thousands of
 *                     times a second: every clear's discard shoots down the
 *                     reader's TLB); portable readers hold an RCU read-side
 *                     section per 256 gets in both runs. Gets per second of the
 *                     reader's CPU time, and of wall clock
 *   populate          create the map, then set_identity and set_range the guest
 *   resident          VmRSS + VmPTE a structure adds, built and swept (a get per
 *                     page of entries, everywhere: for the linear backend that
 *                     maps the zero page into every PTE, its worst case)
 *
 * The four read structures are built before any benchmark runs (so where their
 * pages land does not depend on what ran before), and repetitions run in
 * random order (--benchmark_enable_random_interleaving), so that a drift in
 * the machine's load does not favour one structure. Peak memory: two dense
 * arrays (the read one and populate's), 4.2 GiB by default, 300 MiB --quick.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmm/errno.h>
#include <xmm/user/p2m.h>

#include "baselines/p2m_dense.h"
#include "baselines/p2m_tree.h"
#include "p2m_caller.h"
#include "common.h"

#define GiB (1ULL << 18) /* pfns */
#define LEAF 512ULL
#define MFN_BASE (1ULL << 40)
#define ALWAYS_INLINE inline __attribute__((always_inline))


/* ---- the guest --------------------------------------------------------------- */

struct run {
	xmm_pfn_t pfn;
	uint64_t n;
};

static struct guest {
	xmm_pfn_t max_pfn;           /* a power of two */
	struct run ident[3];
	struct run *runs;            /* populated, ascending */
	size_t nruns;
	xmm_pfn_t *chunk;            /* first pfn of every 2 MiB chunk holding populated pfns */
	uint64_t nchunks, populated; /* populated pfns */
	xmm_pfn_t *cycle;            /* the populated pfns in cycle order */
	xmm_pfn_t writer;            /* a 1 GiB hole the writer benchmark fills and clears */
	char param[48];
} g;

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static void guest_init(bool quick)
{
	uint64_t gibs = quick ? 64 : 1024, big = quick ? 1 : 5, small = quick ? 512 : 4096;
	uint64_t nch = gibs * GiB / LEAF, s = 0x9e3779b97f4a7c15ULL, k = 0;
	uint8_t *used = calloc(nch, 1); /* per 2 MiB chunk: 1 populated, 2 reserved */
	size_t cap = 4 + big + small;

	g.max_pfn = gibs * GiB;
	g.ident[0] = (struct run){ 0xa0, 0x60 };
	g.ident[1] = (struct run){ 3 * GiB, GiB };
	g.ident[2] = (struct run){ g.max_pfn - 4 * GiB, 4 * GiB };
	g.runs = malloc(cap * sizeof(*g.runs));
	if (!used || !g.runs)
		abort();
	g.runs[g.nruns++] = (struct run){ 0, 0xa0 };
	g.runs[g.nruns++] = (struct run){ 0x100, GiB - 0x100 };
	g.runs[g.nruns++] = (struct run){ GiB, GiB };
	g.runs[g.nruns++] = (struct run){ 2 * GiB, GiB };
	for (uint64_t c = 0; c < 4 * GiB / LEAF; c++)
		used[c] = 2;
	for (uint64_t c = (g.max_pfn - 4 * GiB) / LEAF; c < nch; c++)
		used[c] = 2;
	/* The writer's hole: keep one 1 GiB range free. */
	g.writer = (gibs / 2) * GiB;
	for (uint64_t c = g.writer / LEAF; c < (g.writer + GiB) / LEAF; c++)
		used[c] = 2;
	while (k < big) {
		uint64_t gib = 4 + xmm_bench_rng(&s) % (gibs - 8), c0 = gib * GiB / LEAF;
		bool free = true;

		for (uint64_t c = c0; c < c0 + GiB / LEAF; c++)
			free = free && !used[c];
		if (!free)
			continue;
		memset(&used[c0], 1, GiB / LEAF);
		g.runs[g.nruns++] = (struct run){ gib * GiB, GiB };
		k++;
	}
	for (k = 0; k < small;) {
		uint64_t c = xmm_bench_rng(&s) % nch;

		if (used[c])
			continue;
		used[c] = 1;
		g.runs[g.nruns++] = (struct run){ c * LEAF, LEAF };
		k++;
	}
	qsort(g.runs, g.nruns, sizeof(*g.runs), run_cmp);
	for (size_t i = 0; i < g.nruns; i++) {
		g.populated += g.runs[i].n;
		for (xmm_pfn_t c = g.runs[i].pfn / LEAF; c <= (g.runs[i].pfn + g.runs[i].n - 1) / LEAF; c++)
			used[c] = 3;
	}
	g.chunk = malloc(nch * sizeof(*g.chunk));
	for (uint64_t c = 0; c < nch; c++)
		if (used[c] == 3)
			g.chunk[g.nchunks++] = c * LEAF;
	free(used);

	/* Sattolo's shuffle: one cycle through every populated pfn. */
	g.cycle = malloc(g.populated * sizeof(*g.cycle));
	if (!g.chunk || !g.cycle)
		abort();
	k = 0;
	for (size_t i = 0; i < g.nruns; i++)
		for (uint64_t j = 0; j < g.runs[i].n; j++)
			g.cycle[k++] = g.runs[i].pfn + j;
	for (uint64_t i = g.populated - 1; i > 0; i--) {
		uint64_t j = xmm_bench_rng(&s) % i;
		xmm_pfn_t t = g.cycle[i];

		g.cycle[i] = g.cycle[j];
		g.cycle[j] = t;
	}
	snprintf(g.param, sizeof(g.param), "%llu GiB, %.0f GiB populated%s",
		 (unsigned long long)gibs, (double)g.populated / GiB, quick ? " (quick)" : "");
}

/* ---- the four structures ------------------------------------------------------- */

enum impl { DENSE, TREE, LINEAR, PORTABLE, NIMPL };
static const char *const impl_name[] = { "dense", "tree", "linear", "portable" };

/* Each structure through a pointer, as a caller holds a map: the same indirection for all. */
struct inst {
	enum impl impl;
	struct p2m_dense *dense;
	struct p2m_tree *tree;
	struct xmm_p2m *p;
};

static int inst_create(struct inst *x, enum impl impl)
{
	int rc = XMM_ENOMEM;

	x->impl = impl;
	switch (impl) {
	case DENSE:
		x->dense = malloc(sizeof(*x->dense));
		if (x->dense && (rc = p2m_dense_init(x->dense, g.max_pfn)) != 0)
			free(x->dense);
		return rc;
	case TREE:
		x->tree = malloc(sizeof(*x->tree));
		if (x->tree && (rc = p2m_tree_init(x->tree, g.max_pfn)) != 0)
			free(x->tree);
		return rc;
	default:
		return xmm_p2m_create(&x->p, g.max_pfn,
				      impl == LINEAR ? XMM_P2M_LINEAR : XMM_P2M_PORTABLE);
	}
}

static void inst_destroy(struct inst *x)
{
	switch (x->impl) {
	case DENSE:
		p2m_dense_fini(x->dense);
		free(x->dense);
		break;
	case TREE:
		p2m_tree_fini(x->tree);
		free(x->tree);
		break;
	default:
		xmm_p2m_destroy(x->p);
	}
}

static ALWAYS_INLINE xmm_mfn_t get_of(const struct inst *x, enum impl impl, xmm_pfn_t pfn)
{
	switch (impl) {
	case DENSE:
		return p2m_dense_get(x->dense, pfn);
	case TREE:
		return p2m_tree_get(x->tree, pfn);
	default:
		return xmm_p2m_get(x->p, pfn);
	}
}

static int inst_set_range(struct inst *x, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n)
{
	switch (x->impl) {
	case DENSE:
		return p2m_dense_set_range(x->dense, pfn, mfn, n);
	case TREE:
		return p2m_tree_set_range(x->tree, pfn, mfn, n);
	default:
		return xmm_p2m_set_range(x->p, pfn, mfn, n);
	}
}

static int inst_set_identity(struct inst *x, xmm_pfn_t a, xmm_pfn_t b)
{
	switch (x->impl) {
	case DENSE:
		return p2m_dense_set_identity(x->dense, a, b);
	case TREE:
		return p2m_tree_set_identity(x->tree, a, b);
	default:
		return xmm_p2m_set_identity(x->p, a, b);
	}
}

/* The guest as a VMM builds it: its holes, then its memory in runs of machine frames. */
static int populate(struct inst *x)
{
	int rc = 0;

	for (size_t i = 0; i < 3 && !rc; i++)
		rc = inst_set_identity(x, g.ident[i].pfn, g.ident[i].pfn + g.ident[i].n);
	for (size_t i = 0; i < g.nruns && !rc; i++)
		rc = inst_set_range(x, g.runs[i].pfn, MFN_BASE + g.runs[i].pfn, g.runs[i].n);
	return rc;
}

/* ---- the read structures: built first, measured as they are built -------------- */

static struct inst maps[NIMPL];
static double resident[NIMPL]; /* bytes */

/* VmRSS + VmPTE in bytes: resident pages (the shared zero page is not ours) and page tables. */
static double resident_now(void)
{
	char line[256];
	long rss = 0, pte = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "VmPTE: %ld", &pte);
	}
	fclose(f);
	return (double)(rss + pte) * 1024;
}

static void build_all(void)
{
	static const enum impl order[] = { LINEAR, PORTABLE, TREE, DENSE };

	for (size_t k = 0; k < NIMPL; k++) {
		enum impl i = order[k];
		struct inst *x = &maps[i];
		double before = resident_now();
		uint64_t sum = 0;
		int rc = inst_create(x, i);

		rc = rc ? rc : populate(x);
		for (uint64_t j = 0; j < g.populated && !rc; j++) {
			xmm_pfn_t pfn = g.cycle[j], next = g.cycle[j + 1 < g.populated ? j + 1 : 0];

			rc = inst_set_range(x, pfn, MFN_BASE + next, 1);
		}
		if (rc) {
			fprintf(stderr, "bench_p2m: cannot build %s: %s\n", impl_name[i], xmm_strerror(rc));
			exit(1);
		}
		for (xmm_pfn_t pfn = 0; pfn < g.max_pfn; pfn += LEAF)
			sum += get_of(x, i, pfn);
		xmm_bench_keep(&sum);
		resident[i] = resident_now() - before;
	}
}

/* ---- reads ------------------------------------------------------------------------ */

enum pattern { RANDOM, CHASE, SEQ, ANY, NPATTERN };
static const char *const pattern_name[] = { "random", "chase", "seq", "any" };

struct read_case {
	enum impl impl;
	enum pattern pattern;
	bool plain;  /* one reader, nothing else */
	bool rcu;    /* a read-side section per 256 gets */
	bool writer; /* a writer populates and clears meanwhile */
	char name[96];
};

static ALWAYS_INLINE void loop_random(struct xmm_bench_state *st, enum impl impl, bool any,
				      bool rcu)
{
	const struct inst *x = &maps[impl];
	const xmm_pfn_t *chunk = g.chunk;
	const uint64_t n = g.nchunks, mask = g.max_pfn - 1;
	uint64_t s = 0x2545f4914f6cdd1dULL * (uint64_t)(xmm_bench_thread(st) + 1), acc = 0, gets = 0;
	double cpu = xmm_bench_thread_cpu();

	while (xmm_bench_running(st, 256)) {
		if (rcu)
			xmm_rcu_read_lock();
		for (int i = 0; i < 256; i++) {
			uint64_t r = xmm_bench_rng(&s);
			xmm_pfn_t pfn = any ? r & mask : chunk[((r >> 32) * n) >> 32] + (r & (LEAF - 1));

			acc += get_of(x, impl, pfn);
		}
		if (rcu)
			xmm_rcu_read_unlock();
		gets += 256;
	}
	xmm_bench_keep(&acc);
	xmm_bench_counter(st, "gets", (double)gets, XMM_BENCH_RATE);
	/* Per second of this reader's own CPU time (summed over readers): what other threads
	 * cost it, whatever its share of the CPUs. (Readers never block: one held up would
	 * spin, and show here.) */
	xmm_bench_counter(st, "gets_per_cpu_s", (double)gets / (xmm_bench_thread_cpu() - cpu), 0);
}

static ALWAYS_INLINE void loop_chase(struct xmm_bench_state *st, enum impl impl)
{
	const struct inst *x = &maps[impl];
	xmm_pfn_t pfn = g.cycle[0];

	while (xmm_bench_running(st, 256))
		for (int i = 0; i < 256; i++)
			pfn = get_of(x, impl, pfn) - MFN_BASE;
	if (pfn >= g.max_pfn)
		xmm_bench_error(st, "the chain of gets left the cycle");
	xmm_bench_keep(&pfn);
}

static ALWAYS_INLINE void loop_seq(struct xmm_bench_state *st, enum impl impl)
{
	const struct inst *x = &maps[impl];
	uint64_t c = 0, acc = 0;

	while (xmm_bench_running(st, LEAF)) {
		for (xmm_pfn_t pfn = g.chunk[c]; pfn < g.chunk[c] + LEAF; pfn++)
			acc += get_of(x, impl, pfn);
		c = c + 1 == g.nchunks ? 0 : c + 1;
	}
	xmm_bench_keep(&acc);
}

static ALWAYS_INLINE void read_impl(struct xmm_bench_state *st, const struct read_case *c,
				    enum impl impl)
{
	switch (c->pattern) {
	case RANDOM:
		loop_random(st, impl, false, c->rcu);
		break;
	case CHASE:
		loop_chase(st, impl);
		break;
	case SEQ:
		loop_seq(st, impl);
		break;
	default:
		loop_random(st, impl, true, false);
	}
}

/* The writer: 64 leaves of a 1 GiB hole populated, then the whole GiB cleared, again and again. */
static atomic_int writer_stop;
static atomic_ulong writer_cycles;

static void *writer_main(void *arg)
{
	struct xmm_p2m *p = arg;
	unsigned long cycles = 0;

	while (!atomic_load_explicit(&writer_stop, memory_order_relaxed)) {
		for (xmm_pfn_t k = 0; k < 64; k++) {
			xmm_pfn_t pfn = g.writer + k * 8 * LEAF;

			if (xmm_p2m_set_range(p, pfn, MFN_BASE + pfn, LEAF) != 0)
				abort();
		}
		if (xmm_p2m_clear(p, g.writer, g.writer + GiB) != 0)
			abort();
		cycles++;
	}
	atomic_store(&writer_cycles, cycles);
	return NULL;
}

static void bm_read(struct xmm_bench_state *st, void *arg)
{
	const struct read_case *c = arg;
	pthread_t writer;

	if (c->writer) {
		atomic_store(&writer_stop, 0);
		pthread_create(&writer, NULL, writer_main, maps[c->impl].p);
	}
	switch (c->impl) {
	case DENSE:
		read_impl(st, c, DENSE);
		break;
	case TREE:
		read_impl(st, c, TREE);
		break;
	case LINEAR:
		read_impl(st, c, LINEAR);
		break;
	default:
		read_impl(st, c, PORTABLE);
	}
	if (c->writer) {
		atomic_store(&writer_stop, 1);
		pthread_join(writer, NULL);
		xmm_bench_counter(st, "writer_cycles", (double)atomic_load(&writer_cycles),
				  XMM_BENCH_RATE);
	}
}

/* ---- populate ---------------------------------------------------------------------- */

static void bm_populate(struct xmm_bench_state *st, void *arg)
{
	enum impl impl = (enum impl)(uintptr_t)arg;
	struct inst x;
	double builds = 0;

	while (xmm_bench_running(st, 1)) {
		int rc = inst_create(&x, impl);

		rc = rc ? rc : populate(&x);
		if (rc) {
			xmm_bench_error(st, xmm_strerror(rc));
			break;
		}
		xmm_bench_pause(st);
		inst_destroy(&x);
		xmm_rcu_barrier(); /* the portable backend's last frees, before the next round */
		xmm_bench_resume(st);
		builds++;
	}
	xmm_bench_counter(st, "pfns", builds * (double)g.populated, XMM_BENCH_RATE);
}

/* ---- a caller's loop ---------------------------------------------------------------- */

static void bm_caller(struct xmm_bench_state *st, void *arg)
{
	uint64_t acc = 0, seed = 0x853c49e6748fea9bULL;

	while (xmm_bench_running(st, 4096))
		acc += arg ? p2m_caller_sum_array(maps[DENSE].dense->a, g.chunk, g.nchunks, &seed, 4096)
			   : p2m_caller_sum(maps[LINEAR].p, g.chunk, g.nchunks, &seed, 4096);
	xmm_bench_keep(&acc);
}

/* ---- registration and the report ------------------------------------------------------ */

static struct read_case rcases[64];
static size_t nr;

/* mode: 0 plain, 1 a reader alone, 2 a reader beside the writer (both: RCU for portable). */
static const struct xmm_bench_opts *opts; /* for registration under the noise policy */

/* @sampled: a target judges the figure (the noise policy, bench/common.h). */
static void add_read(enum impl impl, enum pattern pattern, int threads, int mode, bool sampled)
{
	struct read_case *c = &rcases[nr++];

	c->impl = impl;
	c->pattern = pattern;
	c->plain = !mode && !threads;
	c->rcu = mode && impl == PORTABLE;
	c->writer = mode == 2;
	if (mode)
		snprintf(c->name, sizeof(c->name), "p2m/get/random/writer:%d/%s", mode - 1,
			 impl_name[impl]);
	else if (threads)
		snprintf(c->name, sizeof(c->name), "p2m/get/random/threads:%d/%s", threads,
			 impl_name[impl]);
	else
		snprintf(c->name, sizeof(c->name), "p2m/get/%s/%s", pattern_name[pattern],
			 impl_name[impl]);
	struct xmm_bench b = { .name = c->name, .fn = bm_read, .arg = c,
			       .threads = threads ? threads : 1 };

	if (sampled)
		xmm_bench_add_sampled(opts, &b);
	else
		xmm_bench_add(&b);
}

static char populate_name[NIMPL][64];

static double populate_ms(enum impl impl)
{
	return xmm_bench_ns_of("%s", populate_name[impl]) * 1e-6;
}

/* ns per get of a pattern with one plain reader. */
static double get_ns(enum pattern pattern, enum impl impl)
{
	for (size_t i = 0; i < nr; i++)
		if (rcases[i].impl == impl && rcases[i].pattern == pattern && rcases[i].plain)
			return xmm_bench_ns_of("%s", rcases[i].name);
	return 0;
}

static void row(const struct xmm_bench_opts *o, const char *scenario, const char *baseline,
		double base, double xmm, const char *unit, bool higher, double target,
		const char *target_text)
{
	xmm_bench_row(&(struct xmm_bench_report){ o, "004", false }, scenario, g.param, baseline,
		      base, xmm, unit, higher, target, target_text);
}

static void report(const struct xmm_bench_opts *o)
{
	double ns[NPATTERN][NIMPL];
	const double budget = 1.2 * 8 * (double)g.populated + (1 << 20);
	FILE *dat;

	for (int p = 0; p < NPATTERN; p++)
		for (int i = 0; i < NIMPL; i++)
			ns[p][i] = get_ns((enum pattern)p, (enum impl)i);

	row(o, "random get, independent (throughput)", "dense array (the limit)", ns[RANDOM][DENSE],
	    ns[RANDOM][LINEAR], "ns/get", false, 1 / 1.15, "within 1.15x");
	row(o, "random get, independent (throughput)", "3-level tree (Linux <3.19)",
	    ns[RANDOM][TREE], ns[RANDOM][LINEAR], "ns/get", false, 1, ">=1x");
	row(o, "random get, dependent (latency)", "dense array (the limit)", ns[CHASE][DENSE],
	    ns[CHASE][LINEAR], "ns/get", false, 1 / 1.05, "within 1.05x");
	/* Context, no target: DESIGN retired ">=1.1x the tree" (the dense array itself, the
	 * limit by structure, is only 1.00-1.07x the tree on every host measured). */
	row(o, "random get, dependent (latency)", "3-level tree (Linux <3.19)", ns[CHASE][TREE],
	    ns[CHASE][LINEAR], "ns/get", false, 0, NULL);
	row(o, "random get in a caller's loop (inline API, linear)", "raw array, same loop",
	    xmm_bench_ns_of("p2m/get/caller/array"), xmm_bench_ns_of("p2m/get/caller/linear"), "ns/get", false,
	    1 / 1.15, "within 1.15x");
	/*
	 * The dense array is the limit by structure (one load, no hole check), so this row
	 * is what structure alone can win against the tree on the machine that ran it. On
	 * the project's KVM machine a dependent get is a DRAM miss plus a nested TLB walk
	 * (140-170 ns) and the tree's upper levels stay in L2, so it reads 0.97-1.10x.
	 */
	row(o, "random get, dependent: the limit itself (dense array, not libxmm)",
	    "3-level tree (Linux <3.19)", ns[CHASE][TREE], ns[CHASE][DENSE], "ns/get", false, 0,
	    NULL);
	row(o, "resident, page tables incl. (linear)", "1.2 x 8 B/populated pfn + 1 MiB",
	    budget / (1 << 20), resident[LINEAR] / (1 << 20), "MiB", false, 1, "<= budget");
	row(o, "resident, page tables incl. (linear)", "dense array", resident[DENSE] / (1 << 20),
	    resident[LINEAR] / (1 << 20), "MiB", false, 0, NULL);
	row(o, "resident, page tables incl. (portable)", "1.2 x 8 B/populated pfn + 1 MiB",
	    budget / (1 << 20), resident[PORTABLE] / (1 << 20), "MiB", false, 0, NULL);
	row(o, "resident, page tables incl. (tree)", "1.2 x 8 B/populated pfn + 1 MiB",
	    budget / (1 << 20), resident[TREE] / (1 << 20), "MiB", false, 0, NULL);
	row(o, "get throughput, 2 readers vs 1 (linear)", "1 reader",
	    xmm_bench_value_of("p2m/get/random/threads:1/linear", "gets"),
	    xmm_bench_value_of("p2m/get/random/threads:2/linear", "gets"), "gets/s", true, 1.8, ">=1.8x");
	row(o, "get throughput per CPU-s, 2 readers vs 1 (linear)", "1 reader",
	    xmm_bench_value_of("p2m/get/random/threads:1/linear", "gets_per_cpu_s"),
	    xmm_bench_value_of("p2m/get/random/threads:2/linear", "gets_per_cpu_s"), "gets/cpu-s", true, 0,
	    NULL);
	row(o, "get throughput, 2 readers vs 1 (dense)", "1 reader",
	    xmm_bench_value_of("p2m/get/random/threads:1/dense", "gets"),
	    xmm_bench_value_of("p2m/get/random/threads:2/dense", "gets"), "gets/s", true, 0, NULL);
	for (int i = LINEAR; i <= PORTABLE; i++) {
		char scen[96], alone[96], busy[96];

		snprintf(alone, sizeof(alone), "p2m/get/random/writer:0/%s", impl_name[i]);
		snprintf(busy, sizeof(busy), "p2m/get/random/writer:1/%s", impl_name[i]);
		snprintf(scen, sizeof(scen), "reader beside populate+clear writer (%s)", impl_name[i]);
		/* The issue asks for progress, not a ratio: the ratio is the writer's cost. */
		row(o, scen, "reader alone", xmm_bench_value_of(alone, "gets_per_cpu_s"),
		    xmm_bench_value_of(busy, "gets_per_cpu_s"), "gets/cpu-s", true, i == LINEAR ? 0.01 : 0,
		    i == LINEAR ? "progress" : NULL);
		snprintf(scen, sizeof(scen), "reader beside writer, wall clock (%s)", impl_name[i]);
		row(o, scen, "reader alone", xmm_bench_value_of(alone, "gets"), xmm_bench_value_of(busy, "gets"), "gets/s",
		    true, 0, NULL);
	}
	row(o, "random get, independent (portable)", "3-level tree (Linux <3.19)", ns[RANDOM][TREE],
	    ns[RANDOM][PORTABLE], "ns/get", false, 0, NULL);
	row(o, "random get, dependent (portable)", "3-level tree (Linux <3.19)", ns[CHASE][TREE],
	    ns[CHASE][PORTABLE], "ns/get", false, 0, NULL);
	row(o, "sequential get (linear)", "dense array", ns[SEQ][DENSE], ns[SEQ][LINEAR], "ns/get",
	    false, 0, NULL);
	row(o, "sequential get (linear)", "3-level tree (Linux <3.19)", ns[SEQ][TREE],
	    ns[SEQ][LINEAR], "ns/get", false, 0, NULL);
	row(o, "random get anywhere, mostly holes (linear)", "dense array", ns[ANY][DENSE],
	    ns[ANY][LINEAR], "ns/get", false, 0, NULL);
	row(o, "create + populate the guest (linear)", "3-level tree (Linux <3.19)",
	    populate_ms(TREE), populate_ms(LINEAR), "ms", false, 0, NULL);
	row(o, "create + populate the guest (linear)", "dense array", populate_ms(DENSE),
	    populate_ms(LINEAR), "ms", false, 0, NULL);
	row(o, "create + populate the guest (portable)", "3-level tree (Linux <3.19)",
	    populate_ms(TREE), populate_ms(PORTABLE), "ms", false, 0, NULL);

	dat = xmm_bench_dat_open(o, "p2m", "ns per get; %s\n# label, then ns lo hi for dense tree "
				 "linear portable", g.param);
	if (!dat)
		return;
	static const char *const pattern_label[] = {
		"random pfns,\\nindependent", "random pfns, each\\nfrom the last (dependent)",
		"every pfn\\nin order", "random anywhere\\n(mostly holes)"
	};
	_Static_assert(sizeof(pattern_label) / sizeof(pattern_label[0]) == NPATTERN, "labels");
	for (int p = 0; p < NPATTERN; p++) {
		fprintf(dat, "\"%s\"", pattern_label[p]);
		for (int i = 0; i < NIMPL; i++)
			xmm_bench_dat_value(dat, ns[p][i]);
		fputc('\n', dat);
	}
	fclose(dat);
}

int main(int argc, char **argv)
{
	struct xmm_bench_opts o;
	char json[4096];

	xmm_bench_usage("bench_p2m: the sparse linear p2m (xmm/p2m.h), seed 004: gets (independent,\n"
		"dependent, sequential, anywhere, a caller's loop), readers beside a writer, resident\n"
		"memory and populate, against a 3-level tree and a dense array.\n"
		"It has no flags of its own; --quick takes a 64 GiB guest instead of 1 TiB.\n");
	xmm_bench_parse(&argc, argv, &o);
	guest_init(o.quick);
	/* Before anything churns memory, so that where their pages land does not depend on
	 * which benchmarks ran before. */
	build_all();
	opts = &o;
	for (int i = 0; i < NIMPL; i++) {
		snprintf(populate_name[i], sizeof(populate_name[i]), "p2m/populate/%s", impl_name[i]);
		xmm_bench_add(&(struct xmm_bench){ .name = populate_name[i], .fn = bm_populate,
						   .arg = (void *)(uintptr_t)i,
						   .unit = XMM_BENCH_MS });
	}
	for (int p = 0; p < NPATTERN; p++)
		for (int i = 0; i < NIMPL; i++)
			add_read((enum impl)i, (enum pattern)p, 0, 0, p <= CHASE);
	for (int t = 1; t <= 2; t++) {
		add_read(LINEAR, RANDOM, t, 0, true);
		add_read(DENSE, RANDOM, t, 0, false);
	}
	xmm_bench_add_sampled(&o, &(struct xmm_bench){ .name = "p2m/get/caller/linear",
							.fn = bm_caller });
	xmm_bench_add_sampled(&o, &(struct xmm_bench){ .name = "p2m/get/caller/array",
							.fn = bm_caller, .arg = (void *)1 });
	for (int i = LINEAR; i <= PORTABLE; i++) {
		add_read((enum impl)i, RANDOM, 0, 1, i == LINEAR);
		add_read((enum impl)i, RANDOM, 0, 2, i == LINEAR);
	}
	if (o.report_dir)
		snprintf(json, sizeof(json), "%s/p2m.json", o.report_dir);
	int rc = xmm_bench_run(&argc, argv, o.report_dir ? json : NULL);

	report(&o);
	return rc;
}
