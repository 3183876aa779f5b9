/* SPDX-License-Identifier: MIT */
/*
 * bench_zero: zero detection (xmm/zero.h) and the populate-on-demand zero
 * sweep (xmm/zerosweep.h) against the Xen way (baselines/zero_xen.c), a peer
 * in QEMU's technique (baselines/zero_peer.c) and the streaming-read limit
 * (baselines/zero_stream.c), seed 003. `bench_zero --help` lists the flags.
 *
 * 1. scan: 1 GiB of zero pages (256 MiB with --quick), written first so that
 *    they are real memory and not the kernel's shared zero page, read by a
 *    plain streaming read (of every vector width), the scalar 8-byte loop,
 *    the peer page by page, and xmm_zero_scan with every kernel set this CPU
 *    runs, each with the prefetch hint chosen for this CPU; the dispatched
 *    set and the portable one also with every other hint, so that the table
 *    of hints (libxmm/arch/x86_64/zero.c) can be checked on any host in one
 *    run, and the dispatched one at other distances. The limit is the
 *    fastest of the streaming reads and the peer.
 * 2. reject: pages that are not zero, cold: each timed slice of 1024 pages is
 *    flushed from the caches first. Four kinds in equal parts, drawn per page:
 *    random data; data from the start for a random length (heap, page cache);
 *    data up to the end from a random offset (stacks); one to four non-zero
 *    words at random places (page tables, sparse structures). Nanoseconds per
 *    page, and cache lines read per page, counted by an instance of the
 *    kernels' own template (libxmm/core/zero_kernel.h) whose predicates count
 *    the distinct lines they are given, so the count is of the algorithm every
 *    kernel set runs; for the Xen check, lines its loops touch. Beside it, the
 *    lines read or prefetched per page when the pages are scanned together.
 *    Timed: the Xen check, the peer, and the kernel sets as in 1 (the
 *    dispatched one with every hint).
 * 3. the seed scenario: a guest image of 4 GiB (512 MiB with --quick) in
 *    2 MiB superpages, shuffled: half zero, a quarter with one to eight
 *    non-zero pages (of the kinds above) at random places, a quarter full of
 *    such pages. The balloon has freed a page in every zero and mixed
 *    superpage and in one data superpage in eight. Swept whole, the Xen way
 *    (xen_pod_sweep) and the libxmm way (notes, then next/check until the pass
 *    ends); both must reclaim exactly the same superpages and pages, which a
 *    check run compares, with the image read-only for libxmm's. Bytes read
 *    per reclaimed MiB: lines the Xen loops touch, and lines libxmm's scan
 *    loads or prefetches (the counting instance again), times 64; bytes
 *    written: the clears (libxmm writes only its bitmaps, outside the image).
 *
 * Each scenario is one benchmark whose iterations are rounds; a round times
 * every contender once, in an order drawn anew (rotated, for the sweep), and
 * the medians over rounds are the results: contenders measured side by side,
 * so that noise from other work on the machine falls on all of them alike.
 */
#include <immintrin.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <xmm/errno.h>
#include <xmm/zero.h>
#include <xmm/user/zerosweep.h>

#include "../libxmm/core/zero_kernel.h"
#include "baselines/zero_peer.h"
#include "baselines/zero_stream.h"
#include "baselines/zero_xen.h"
#include "common.h"

#define PAGE 4096
#define SP_PAGES 512
#define SP_BYTES ((size_t)SP_PAGES * PAGE)
#define MIB (1ULL << 20)
#define MAX_CONTENDERS 24
#define MAX_ROUNDS 512
#define SLICE 1024 /* pages per timed reject slice */

static struct xmm_bench_opts opts;

/* ---- helpers --------------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_zero: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Anonymous memory in huge pages where the kernel has them (a hypervisor maps guest memory so). */
static char *map_memory(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("cannot map %zu MiB", len >> 20);
	madvise(p, len, MADV_HUGEPAGE);
	return p;
}

/*
 * A random order of @n contenders, drawn every round: what one leaves behind
 * (in the prefetchers, the TLB, the DRAM pages open) and the bursts of other
 * work on the machine fall on every contender alike, not on the one that
 * always runs after a given other. (With a fixed rotation, the kernel set run
 * after the peer in the cold reject ran 20% faster than anywhere else.)
 */
static void shuffle(size_t *order, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = xmm_bench_rng_below(rng, i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

/* A page that is not zero, of one of the four kinds (see the top). */
enum nz_kind { NZ_DATA, NZ_HEAD, NZ_TAIL, NZ_SPARSE, NZ_KINDS };
static const char *const nz_name[] = { "data", "head", "tail", "sparse" };

static void fill_nonzero(uint64_t *rng, char *page, enum nz_kind k)
{
	size_t n = 8 + xmm_bench_rng_below(rng, PAGE - 8);

	memset(page, 0, PAGE);
	switch (k) {
	case NZ_DATA:
		n = PAGE;
		/* fall through */
	case NZ_HEAD:
		for (size_t i = 0; i < n; i += 8) {
			uint64_t w = xmm_bench_rng(rng) | 1;

			memcpy(page + i, &w, 8);
		}
		break;
	case NZ_TAIL:
		for (size_t i = PAGE - (n & ~(size_t)7); i < PAGE; i += 8) {
			uint64_t w = xmm_bench_rng(rng) | 1;

			memcpy(page + i, &w, 8);
		}
		break;
	default:
		for (int j = 0; j <= (int)xmm_bench_rng_below(rng, 4); j++)
			page[xmm_bench_rng_below(rng, PAGE)] = (char)(1 + xmm_bench_rng_below(rng, 255));
		break;
	}
}

/* Push [p, p + len) out of every cache level. */
static void evict(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 64)
		_mm_clflush(p + i);
	_mm_mfence();
}

/* ---- kernel sets ------------------------------------------------------------ */

static const struct xmm_zero_ops *variants[8];
static size_t nvariants;
static const struct xmm_zero_ops *dispatched; /* what xmm_zero_* calls use here */
static const struct xmm_zero_ops *portable;   /* the portable set with this CPU's hint */
static struct xmm_zero_prefetch_choice choice;
static void traffic_mark(const char *line);
/* The counting instance's prefetch (see below): none where the dispatched set issues none. */
static zk_prefetch_fn counted_prefetch = traffic_mark;

/* The sets to measure: those with detection kernels of their own (x86-gpr's are portable's). */
static void load_variants(void)
{
	const struct xmm_zero_ops *all[8];
	size_t n = xmm_zero_variants(all, 8);

	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = i + 1; j < n; j++)
			dup |= all[j]->zero_scan == all[i]->zero_scan;
		if (!dup)
			variants[nvariants++] = all[i];
	}
	portable = variants[nvariants - 1];
	xmm_zero_prefetch_choice(&choice);
	xmm_zero_ops_set(NULL);
	dispatched = xmm_zero_ops_get();
	for (size_t v = 0; v < nvariants; v++) /* x86-gpr runs portable's detection kernels */
		if (variants[v]->zero_scan == dispatched->zero_scan)
			dispatched = variants[v];
	if (dispatched->prefetch == XMM_ZERO_PF_NONE)
		counted_prefetch = NULL;
}

/* @isa with @hint instead of the one chosen for this CPU. */
static const struct xmm_zero_ops *with_hint(const struct xmm_zero_ops *isa,
					    enum xmm_zero_prefetch hint)
{
	const struct xmm_zero_ops *all[8];
	size_t n = xmm_zero_variants_hint(all, 8, hint);

	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i]->name, isa->name) == 0)
			return all[i];
	die("no %s set with hint %s", isa->name, xmm_zero_prefetch_name(hint));
}

/* "avx512/nta": a kernel set and its prefetch hint. */
static const char *set_name(const struct xmm_zero_ops *ops)
{
	static char names[MAX_CONTENDERS * 2][32];
	static size_t used;

	for (size_t i = 0; i < used; i++) {
		char want[32];

		snprintf(want, sizeof(want), "%s/%s", ops->name, xmm_zero_prefetch_name(ops->prefetch));
		if (strcmp(names[i], want) == 0)
			return names[i];
	}
	if (used == sizeof(names) / sizeof(names[0]))
		die("too many kernel sets");
	snprintf(names[used], sizeof(names[used]), "%s/%s", ops->name,
		 xmm_zero_prefetch_name(ops->prefetch));
	return names[used++];
}

/*
 * The contenders of a scenario: baselines first (ops NULL), then every set
 * with this CPU's hint, then the sets of @with_hints with every other hint,
 * then the first of @with_hints (the dispatched set) at other distances.
 */
struct contender {
	const char *name;
	const struct xmm_zero_ops *ops;
	unsigned int pages; /* prefetch distance; 0: this CPU's */
};

static const unsigned int other_pages[] = { 1, 4 };

static size_t kernel_contenders(struct contender *c, size_t n,
				const struct xmm_zero_ops *const *with_hints, size_t nwith)
{
	for (size_t v = 0; v < nvariants; v++)
		c[n++] = (struct contender){ set_name(variants[v]), variants[v], 0 };
	for (size_t w = 0; w < nwith; w++)
		for (unsigned int h = 0; h < XMM_ZERO_PF_HINTS; h++) {
			const struct xmm_zero_ops *ops;
			bool have = false;

			if (h == with_hints[w]->prefetch)
				continue;
			ops = with_hint(with_hints[w], (enum xmm_zero_prefetch)h);
			for (size_t i = 0; i < n; i++)
				have |= c[i].ops == ops;
			if (!have && n < MAX_CONTENDERS)
				c[n++] = (struct contender){ set_name(ops), ops, 0 };
		}
	for (size_t i = 0; nwith && with_hints[0]->prefetch != XMM_ZERO_PF_NONE &&
			   i < sizeof(other_pages) / sizeof(other_pages[0]) && n < MAX_CONTENDERS;
	     i++) {
		static char names[sizeof(other_pages) / sizeof(other_pages[0])][40];

		if (other_pages[i] == choice.pages)
			continue;
		snprintf(names[i], sizeof(names[i]), "%s:%u", set_name(with_hints[0]), other_pages[i]);
		c[n++] = (struct contender){ names[i], with_hints[0], other_pages[i] };
	}
	return n;
}

/* Before a contender runs: its prefetch distance. */
static void contender_pages(const struct contender *c)
{
	xmm_zero_prefetch_pages_set(c->pages ? c->pages : choice.pages);
}

/*
 * The counting instance: the portable predicates, counting each distinct line
 * they are given (counted_lines). A block that holds lines the samples of the
 * same page just read counts only its others (the last three lines sampled
 * are remembered). With a traffic map set, every line loaded or prefetched is
 * also marked there, once (traffic_lines): what the scan costs in memory
 * traffic, prefetches that turn out useless included.
 */
static uint64_t counted_lines, traffic_lines;
static uintptr_t sampled[3];
static unsigned int nsampled;
static uint64_t *traffic;    /* a bit per line of [traffic_base, + traffic_len) */
static const char *traffic_base;
static size_t traffic_len;

static void traffic_mark(const char *line)
{
	size_t i = (size_t)(line - traffic_base) / 64;

	if (traffic && line >= traffic_base && (size_t)(line - traffic_base) < traffic_len &&
	    !(traffic[i / 64] & 1ULL << (i % 64))) {
		traffic[i / 64] |= 1ULL << (i % 64);
		traffic_lines++;
	}
}

static void traffic_start(const char *base, size_t len)
{
	free(traffic);
	traffic = calloc(len / 64 / 64 + 1, sizeof(uint64_t));
	if (!traffic)
		die("out of memory");
	traffic_base = base;
	traffic_len = len;
	traffic_lines = 0;
}

static void traffic_stop(void)
{
	free(traffic);
	traffic = NULL;
}

static bool was_sampled(uintptr_t line)
{
	return line == sampled[0] || line == sampled[1] || line == sampled[2];
}

static bool line_nz_counted(const char *p)
{
	if (!was_sampled((uintptr_t)p)) {
		counted_lines++;
		sampled[nsampled++ % 3] = (uintptr_t)p;
	}
	traffic_mark(p);
	return zk_line_nz_words(p);
}

static bool block_nz_counted(const char *p)
{
	for (uintptr_t l = 0; l < ZK_BLOCK; l += ZK_LINE) {
		counted_lines += !was_sampled((uintptr_t)p + l);
		traffic_mark(p + l);
	}
	return zk_block_nz_words(p);
}


static bool is_zero_counted(const void *p, size_t len)
{
	return zk_is_zero(p, len, line_nz_counted, block_nz_counted, counted_prefetch);
}

static size_t zero_scan_counted(const void *base, size_t npages, uint64_t *bitmap)
{
	return zk_zero_scan(base, npages, bitmap, line_nz_counted, block_nz_counted,
			    counted_prefetch);
}

static struct xmm_zero_ops counted = {
	.name = "counted", .is_zero = is_zero_counted, .zero_scan = zero_scan_counted
};

/* ---- 1. scan zero pages ------------------------------------------------------ */

struct results {
	size_t n;
	const char *name[MAX_CONTENDERS];
	double value[MAX_CONTENDERS]; /* median over rounds */
	double lo[MAX_CONTENDERS], hi[MAX_CONTENDERS]; /* the lowest and highest round */
};

/* Median, lowest and highest of @n rounds (sorts @v). */
static void summarize(struct results *r, size_t k, double *v, size_t n)
{
	r->value[k] = xmm_bench_median(v, n);
	r->lo[k] = n ? v[0] : 0;
	r->hi[k] = n ? v[n - 1] : 0;
}

static size_t index_of(const struct results *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return i;
	return 0;
}

static struct results scan_res, reject_res, sweep_res;

static double result(const struct results *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return 0;
}

static void bm_scan(struct xmm_bench_state *st, void *arg)
{
	const size_t len = opts.quick ? 256 * MIB : 1024 * MIB, npages = len / PAGE;
	static double gbps[MAX_CONTENDERS][MAX_ROUNDS];
	const struct xmm_zero_ops *hinted[2] = { dispatched, portable };
	struct contender c[MAX_CONTENDERS] = { { "scalar", NULL, 0 }, { "peer", NULL, 0 } };
	size_t ncont = 2, nbase;
	char *buf = map_memory(len);
	uint64_t *bitmap = malloc(XMM_ZERO_BITMAP_WORDS(npages) * sizeof(uint64_t));
	uint64_t rng = 0x5eed0013;
	size_t rounds = 0;

	(void)arg;
	/*
	 * A streaming read of every width this CPU has ("stream/avx512", ...), and
	 * the widest also prefetching ("stream/avx512+nta"), before the kernels;
	 * pages holds width * STREAM_PF_KINDS + prefetch.
	 */
	for (int w = STREAM_WIDTHS - 1; w >= 0; w--) {
		static char names[STREAM_WIDTHS * STREAM_PF_KINDS][32];
		bool widest = ncont == 2;

		if (!stream_width_supported((enum stream_width)w))
			continue;
		for (int pf = 0; pf < (widest ? STREAM_PF_KINDS : 1); pf++) {
			unsigned int id = (unsigned int)(w * STREAM_PF_KINDS + pf);

			snprintf(names[id], sizeof(names[id]), "stream/%s%s",
				 stream_width_name((enum stream_width)w),
				 stream_prefetch_name((enum stream_prefetch)pf));
			c[ncont++] = (struct contender){ names[id], NULL, id };
		}
	}
	nbase = ncont;
	ncont = kernel_contenders(c, ncont, hinted, dispatched == portable ? 1 : 2);
	memset(buf, 0, len);
	scan_res.n = ncont;
	for (size_t i = 0; i < ncont; i++)
		scan_res.name[i] = c[i].name;
	while (xmm_bench_running(st, 1) && rounds < MAX_ROUNDS) {
		size_t order[MAX_CONTENDERS];

		/* A new order every round, as in the reject scenario below. */
		shuffle(order, ncont, &rng);
		for (size_t i = 0; i < ncont; i++) {
			size_t k = order[i], zero;
			double t;

			if (k >= nbase)
				contender_pages(&c[k]);
			t = xmm_bench_now();
			if (k == 0)
				zero = xen_scalar_scan(buf, npages);
			else if (k == 1)
				zero = peer_zero_scan(buf, npages);
			else if (k < nbase)
				zero = stream_read_width(
					       (enum stream_width)(c[k].pages / STREAM_PF_KINDS),
					       (enum stream_prefetch)(c[k].pages % STREAM_PF_KINDS), buf,
					       len) == 0 ? npages : 0;
			else
				zero = c[k].ops->zero_scan(buf, npages, bitmap);
			gbps[k][rounds] = (double)len / (xmm_bench_now() - t) * 1e-9;
			if (zero != npages)
				die("scan: %s found %zu zero pages of %zu", c[k].name, zero, npages);
		}
		rounds++;
	}
	xmm_zero_prefetch_pages_set(choice.pages);
	for (size_t k = 0; k < ncont; k++) {
		summarize(&scan_res, k, gbps[k], rounds);
		xmm_bench_counter(st, c[k].name, scan_res.value[k], 0);
	}
	free(bitmap);
	munmap(buf, len);
}

/* ---- 2. reject pages that are not zero --------------------------------------- */

static double lines_median = -1, lines_mean, xen_lines_median, xen_lines_mean, traffic_mean;
static double kind_lines[NZ_KINDS], xen_kind_lines[NZ_KINDS];

/* Lines read per page, by the counting instance and by the Xen check; medians and means. */
static void count_reject_lines(const char *buf, size_t npages, const uint8_t *kind)
{
	double *mine = malloc(npages * sizeof(double)), *xen = malloc(npages * sizeof(double));
	double sum = 0, xsum = 0, *per = malloc(npages * sizeof(double));

	for (size_t i = 0; i < npages; i++) {
		struct xen_zero_count c = { 0, 0, 0 };
		uint64_t before = counted_lines;

		zero_scan_counted(buf + i * PAGE, 1, NULL);
		mine[i] = (double)(counted_lines - before);
		xen_page_is_zero(buf + i * PAGE, &c);
		xen[i] = (double)c.lines;
		sum += mine[i];
		xsum += xen[i];
	}
	for (int k = 0; k < NZ_KINDS; k++) {
		size_t n = 0, nx = 0;

		for (size_t i = 0; i < npages; i++)
			if (kind[i] == k)
				per[n++] = mine[i];
		kind_lines[k] = n ? xmm_bench_median(per, n) : 0;
		for (size_t i = 0; i < npages; i++)
			if (kind[i] == k)
				per[nx++] = xen[i];
		xen_kind_lines[k] = nx ? xmm_bench_median(per, nx) : 0;
	}
	lines_mean = sum / (double)npages;
	xen_lines_mean = xsum / (double)npages;
	/* All pages in one scan, as a sweep reads them: lines loaded or prefetched. */
	traffic_start(buf, npages * PAGE);
	zero_scan_counted(buf, npages, NULL);
	traffic_mean = (double)traffic_lines / (double)npages;
	traffic_stop();
	lines_median = xmm_bench_median(mine, npages);
	xen_lines_median = xmm_bench_median(xen, npages);
	free(mine);
	free(xen);
	free(per);
}

static void bm_reject(struct xmm_bench_state *st, void *arg)
{
	const size_t npages = opts.quick ? 16384 : 65536, nslices = npages / SLICE;
	static double ns[MAX_CONTENDERS][MAX_ROUNDS];
	struct contender c[MAX_CONTENDERS] = { { "xen", NULL, 0 }, { "peer", NULL, 0 } };
	size_t ncont = kernel_contenders(c, 2, &dispatched, 1);
	char *buf = map_memory(npages * PAGE);
	uint8_t *kind = malloc(npages);
	uint64_t rng = 0x5eed003, bitmap[SLICE / 64];
	size_t rounds = 0;

	(void)arg;
	for (size_t i = 0; i < npages; i++) {
		kind[i] = (uint8_t)xmm_bench_rng_below(&rng, NZ_KINDS);
		fill_nonzero(&rng, buf + i * PAGE, (enum nz_kind)kind[i]);
	}
	count_reject_lines(buf, npages, kind);
	reject_res.n = ncont;
	for (size_t i = 0; i < ncont; i++)
		reject_res.name[i] = c[i].name;
	while (xmm_bench_running(st, 1) && rounds < MAX_ROUNDS) {
		const char *slice = buf + (rounds % nslices) * SLICE * PAGE;
		size_t order[MAX_CONTENDERS];

		shuffle(order, ncont, &rng);
		for (size_t i = 0; i < ncont; i++) {
			size_t k = order[i], zero = 0;
			double t;

			contender_pages(&c[k]);
			evict(slice, SLICE * PAGE);
			t = xmm_bench_now();
			if (k == 0)
				for (size_t p = 0; p < SLICE; p++)
					zero += xen_page_is_zero(slice + p * PAGE, NULL);
			else if (k == 1)
				zero = peer_zero_scan(slice, SLICE);
			else
				zero = c[k].ops->zero_scan(slice, SLICE, bitmap);
			ns[k][rounds] = (xmm_bench_now() - t) * 1e9 / SLICE;
			if (zero)
				die("reject: %s found %zu zero pages", c[k].name, zero);
		}
		rounds++;
	}
	xmm_zero_prefetch_pages_set(choice.pages);
	for (size_t k = 0; k < ncont; k++) {
		char name[64];

		reject_res.value[k] = xmm_bench_median(ns[k], rounds);
		snprintf(name, sizeof(name), "%s_ns", c[k].name);
		xmm_bench_counter(st, name, reject_res.value[k], 0);
	}
	xmm_bench_counter(st, "lines_median", lines_median, 0);
	xmm_bench_counter(st, "lines_mean", lines_mean, 0);
	xmm_bench_counter(st, "xen_lines_median", xen_lines_median, 0);
	xmm_bench_counter(st, "xen_lines_mean", xen_lines_mean, 0);
	xmm_bench_counter(st, "traffic_lines_mean", traffic_mean, 0);
	free(kind);
	munmap(buf, npages * PAGE);
}

/* ---- 3. the seed scenario: sweep a guest image -------------------------------- */

struct image {
	char *mem;
	size_t bytes;
	uint64_t nsp, npages;
	xmm_pfn_t *notes; /* the balloon's frees, in the order they came */
	size_t nnotes;
	uint8_t *want_whole;   /* by construction */
	uint64_t *want_pages;  /* bitmap over the image's pages */
	uint64_t reclaim_pages;
};

static void image_build(struct image *im, size_t bytes)
{
	uint64_t rng = 0x5eed0003;
	uint8_t *kind;

	im->bytes = bytes;
	im->nsp = bytes / SP_BYTES;
	im->npages = im->nsp * SP_PAGES;
	im->mem = map_memory(bytes);
	im->notes = malloc(im->nsp * sizeof(*im->notes));
	im->want_whole = calloc(im->nsp, 1);
	im->want_pages = calloc(im->npages / 64, sizeof(uint64_t));
	kind = malloc(im->nsp);
	if (!im->notes || !im->want_whole || !im->want_pages || !kind)
		die("image: out of memory");
	/* Exactly half zero (0), a quarter mixed (1), a quarter data (2), shuffled. */
	for (uint64_t k = 0; k < im->nsp; k++)
		kind[k] = k < im->nsp / 2 ? 0 : k < im->nsp * 3 / 4 ? 1 : 2;
	for (uint64_t k = im->nsp - 1; k > 0; k--) {
		uint64_t j = xmm_bench_rng_below(&rng, k + 1);
		uint8_t t = kind[k];

		kind[k] = kind[j];
		kind[j] = t;
	}
	im->nnotes = 0;
	im->reclaim_pages = 0;
	for (uint64_t k = 0; k < im->nsp; k++) {
		char *sp = im->mem + k * SP_BYTES;
		bool nonzero[SP_PAGES] = { false };

		memset(sp, 0, SP_BYTES);
		if (kind[k] == 1)
			for (uint64_t j = 1 + xmm_bench_rng_below(&rng, 8); j > 0; j--)
				nonzero[xmm_bench_rng_below(&rng, SP_PAGES)] = true;
		for (unsigned int p = 0; p < SP_PAGES; p++) {
			if (kind[k] == 2 || nonzero[p]) {
				fill_nonzero(&rng, sp + (size_t)p * PAGE,
					     (enum nz_kind)xmm_bench_rng_below(&rng, NZ_KINDS));
				continue;
			}
			im->want_pages[(k * SP_PAGES + p) / 64] |= 1ULL << (p % 64);
			im->reclaim_pages++;
		}
		im->want_whole[k] = kind[k] == 0;
		if (kind[k] != 2 || xmm_bench_rng_below(&rng, 8) == 0)
			im->notes[im->nnotes++] = k * SP_PAGES + xmm_bench_rng_below(&rng, SP_PAGES);
	}
	/* The frees came in no particular order. */
	for (size_t i = im->nnotes - 1; i > 0; i--) {
		size_t j = xmm_bench_rng_below(&rng, i + 1);
		xmm_pfn_t t = im->notes[i];

		im->notes[i] = im->notes[j];
		im->notes[j] = t;
	}
	free(kind);
}

static void image_free(struct image *im)
{
	munmap(im->mem, im->bytes);
	free(im->notes);
	free(im->want_whole);
	free(im->want_pages);
}

/* What a sweep reclaimed. */
struct reclaim {
	uint8_t *whole;
	uint64_t *pages;
	uint64_t npages;
};

static void reclaim_reset(struct reclaim *r, const struct image *im)
{
	memset(r->whole, 0, im->nsp);
	memset(r->pages, 0, im->npages / 8);
	r->npages = 0;
}

static void reclaim_expect(const struct reclaim *r, const struct image *im, const char *who)
{
	if (memcmp(r->whole, im->want_whole, im->nsp) != 0 ||
	    memcmp(r->pages, im->want_pages, im->npages / 8) != 0 || r->npages != im->reclaim_pages)
		die("sweep: %s reclaimed %llu pages, not the %llu zero ones", who,
		    (unsigned long long)r->npages, (unsigned long long)im->reclaim_pages);
}

/* The libxmm way: the balloon's notes, then offers and checks until the pass ends. */
static void xmm_pod_sweep(struct xmm_zerosweep *s, const struct image *im, struct reclaim *r)
{
	uint64_t zero[SP_PAGES / 64];
	xmm_pfn_t first;

	for (size_t i = 0; i < im->nnotes; i++)
		xmm_zerosweep_note(s, im->notes[i]);
	while (xmm_zerosweep_next(s, &first) == 0) {
		uint64_t k = first / SP_PAGES;
		int64_t n = xmm_zerosweep_check(s, im->mem + first * PAGE, zero);

		/* Reclaim whole, or these pages; they were read as zero, so they go to the cache clean. */
		r->whole[k] = n == SP_PAGES;
		memcpy(&r->pages[first / 64], zero, sizeof(zero));
		r->npages += (uint64_t)n;
	}
}

static double xen_read_per_mib, xen_written_per_mib, xmm_read_per_mib;
static double reclaimed_mib;

/* Check runs (untimed): same reclaim both ways, what each reads and writes. */
static void sweep_validate(struct image *im, struct xmm_zerosweep *s, struct reclaim *r)
{
	struct xen_zero_count c = { 0, 0, 0 };

	reclaim_reset(r, im);
	r->npages = xen_pod_sweep(im->mem, im->nsp, r->whole, r->pages, &c);
	reclaim_expect(r, im, "the Xen way");
	reclaimed_mib = (double)r->npages * PAGE / MIB;
	xen_read_per_mib = (double)c.lines * 64 / reclaimed_mib;
	xen_written_per_mib = (double)c.bytes_written / reclaimed_mib;

	/* libxmm's, with the image read-only: a write to it would fault. */
	if (mprotect(im->mem, im->bytes, PROT_READ) != 0)
		die("mprotect");
	counted.clear = portable->clear;
	xmm_zero_ops_set(&counted);
	traffic_start(im->mem, im->bytes);
	reclaim_reset(r, im);
	xmm_pod_sweep(s, im, r);
	reclaim_expect(r, im, "libxmm (counting)");
	xmm_read_per_mib = (double)traffic_lines * 64 / reclaimed_mib;
	traffic_stop();
	for (size_t v = 0; v < nvariants; v++) {
		xmm_zero_ops_set(variants[v]);
		reclaim_reset(r, im);
		xmm_pod_sweep(s, im, r);
		reclaim_expect(r, im, variants[v]->name);
	}
	xmm_zero_ops_set(NULL);
	if (mprotect(im->mem, im->bytes, PROT_READ | PROT_WRITE) != 0)
		die("mprotect");
}

static void bm_sweep(struct xmm_bench_state *st, void *arg)
{
	static double gbps[3][MAX_ROUNDS];
	struct image im;
	struct reclaim r;
	struct xmm_zerosweep *s;
	size_t rounds = 0;

	(void)arg;
	image_build(&im, opts.quick ? 512 * MIB : 4096 * MIB);
	r.whole = malloc(im.nsp);
	r.pages = malloc(im.npages / 8);
	if (!r.whole || !r.pages || xmm_zerosweep_create(&s, im.npages, XEN_SUPERPAGE_ORDER) != 0)
		die("sweep: out of memory");
	sweep_validate(&im, s, &r);
	sweep_res.n = 3;
	sweep_res.name[0] = "xen";
	sweep_res.name[1] = "libxmm";
	sweep_res.name[2] = "portable";
	while (xmm_bench_running(st, 1) && rounds < MAX_ROUNDS) {
		for (size_t i = 0; i < 3; i++) {
			size_t c = (i + rounds) % 3;
			double t;

			reclaim_reset(&r, &im);
			xmm_zero_ops_set(c == 2 ? portable : NULL);
			t = xmm_bench_now();
			if (c == 0)
				r.npages = xen_pod_sweep(im.mem, im.nsp, r.whole, r.pages, NULL);
			else
				xmm_pod_sweep(s, &im, &r);
			gbps[c][rounds] = (double)im.bytes / (xmm_bench_now() - t) * 1e-9;
			reclaim_expect(&r, &im, sweep_res.name[c]);
		}
		rounds++;
	}
	xmm_zero_ops_set(NULL);
	for (size_t c = 0; c < 3; c++) {
		summarize(&sweep_res, c, gbps[c], rounds);
		xmm_bench_counter(st, sweep_res.name[c], sweep_res.value[c], 0);
	}
	xmm_bench_counter(st, "xen_read_B_per_MiB", xen_read_per_mib, 0);
	xmm_bench_counter(st, "xen_written_B_per_MiB", xen_written_per_mib, 0);
	xmm_bench_counter(st, "libxmm_read_B_per_MiB", xmm_read_per_mib, 0);
	xmm_zerosweep_destroy(s);
	free(r.whole);
	free(r.pages);
	image_free(&im);
}

/* ---- the report ----------------------------------------------------------------- */

static void row(const char *scenario, const char *param, const char *baseline, double base,
		double xmm, const char *unit, bool higher, double target, const char *target_text)
{
	/* A cost may be 0 (bytes written to pages proved zero); a throughput may not. */
	const struct xmm_bench_report rep = { &opts, "003", !higher };

	xmm_bench_row(&rep, scenario, param, baseline, base, xmm, unit, higher, target,
		      target_text);
}

static void report(void)
{
	const char *best = set_name(dispatched), *size = opts.quick ? "256 MiB" : "1 GiB";
	double stream = 0, peer = result(&scan_res, "peer"), limit;
	const char *stream_name = "stream";
	char param[96], base[96], limit_name[96], peer_name[96], path[4096];
	FILE *dat;

	/* The streaming read is the fastest of its widths; the limit the faster of it and the peer. */
	for (size_t k = 0; k < scan_res.n; k++)
		if (strncmp(scan_res.name[k], "stream/", 7) == 0 && scan_res.value[k] > stream) {
			stream = scan_res.value[k];
			stream_name = scan_res.name[k];
		}
	limit = stream > peer ? stream : peer;

	printf("prefetch: %s, %u pages ahead (%s); dispatched kernel set %s\n",
	       xmm_zero_prefetch_name(choice.hint), choice.pages, choice.why, best);
	snprintf(limit_name, sizeof(limit_name), "the limit (%s)",
		 stream >= peer ? stream_name : "peer");
	snprintf(peer_name, sizeof(peer_name), "peer: QEMU buffer_is_zero way (%s)", peer_isa());
	snprintf(base, sizeof(base), "streaming read (%s)", stream_name + 7);

	snprintf(param, sizeof(param), "%s, %s", size, best);
	row("scan zero pages", param, limit_name, limit, result(&scan_res, best), "GB/s", true, 0.95,
	    ">=0.95x");
	row("scan zero pages", param, peer_name, peer, result(&scan_res, best), "GB/s", true, 1.0,
	    ">=1x");
	snprintf(param, sizeof(param), "%s, %s", size, set_name(portable));
	row("scan zero pages", param, base, stream, result(&scan_res, set_name(portable)), "GB/s",
	    true, 0.85, ">=0.85x");
	/* The candidates for the limit, and the scalar loop (context: a property of the host). */
	row("scan zero pages: the limit's candidates", "peer, per page", base, stream, peer, "GB/s",
	    true, 0, NULL);
	for (size_t k = 0; k < scan_res.n; k++)
		if (strncmp(scan_res.name[k], "stream/", 7) == 0 && scan_res.name[k] != stream_name)
			row("scan zero pages: the limit's candidates", scan_res.name[k], base, stream,
			    scan_res.value[k], "GB/s", true, 0, NULL);
	row("scan zero pages: the limit's candidates", "scalar 8-byte loop", base, stream,
	    result(&scan_res, "scalar"), "GB/s", true, 0, NULL);
	row("scan zero pages", param, "scalar 8-byte loop", result(&scan_res, "scalar"),
	    result(&scan_res, set_name(portable)), "GB/s", true, 0, NULL);
	/* Every other set and hint against the limit: the table of hints, checked on this host. */
	for (size_t k = 0; k < scan_res.n; k++) {
		if (!strchr(scan_res.name[k], '/') || strncmp(scan_res.name[k], "stream/", 7) == 0 ||
		    strcmp(scan_res.name[k], best) == 0 ||
		    strcmp(scan_res.name[k], set_name(portable)) == 0)
			continue;
		snprintf(param, sizeof(param), "%s, %s", size, scan_res.name[k]);
		row("scan zero pages", param, limit_name, limit, scan_res.value[k], "GB/s", true, 0,
		    NULL);
	}

	row("reject non-zero page", "lines read, median", "target", 2, lines_median, "lines", false,
	    1, "<=2 lines");
	row("reject non-zero page", "lines read, mean", "Xen quick check + scan", xen_lines_mean,
	    lines_mean, "lines", false, 0, NULL);
	row("reject non-zero page", "lines read+prefetched, mean", "Xen quick check + scan",
	    xen_lines_mean, traffic_mean, "lines", false, 0, NULL);
	snprintf(param, sizeof(param), "cold, %s", best);
	row("reject non-zero page", param, peer_name, result(&reject_res, "peer"),
	    result(&reject_res, best), "ns/page", false, 1.0, ">=1x");
	row("reject non-zero page", param, "Xen quick check + scan", result(&reject_res, "xen"),
	    result(&reject_res, best), "ns/page", false, 0, NULL);
	for (size_t k = 2; k < reject_res.n; k++) {
		if (strcmp(reject_res.name[k], best) == 0)
			continue;
		snprintf(param, sizeof(param), "cold, %s", reject_res.name[k]);
		row("reject non-zero page", param, peer_name, result(&reject_res, "peer"),
		    reject_res.value[k], "ns/page", false, 0, NULL);
	}

	snprintf(param, sizeof(param), "%s image, %s", opts.quick ? "512 MiB" : "4 GiB", best);
	row("seed-003 PoD sweep", param, "Xen-style sweep", result(&sweep_res, "xen"),
	    result(&sweep_res, "libxmm"), "GB/s", true, 3, ">=3x");
	snprintf(param, sizeof(param), "%s image, %s", opts.quick ? "512 MiB" : "4 GiB",
		 set_name(portable));
	row("seed-003 PoD sweep", param, "Xen-style sweep", result(&sweep_res, "xen"),
	    result(&sweep_res, "portable"), "GB/s", true, 0, NULL);
	row("seed-003 sweep: bytes read", "per reclaimed MiB", "Xen-style sweep", xen_read_per_mib,
	    xmm_read_per_mib, "B/MiB", false, 0, NULL);
	/* Met only when libxmm wrote nothing at all (the ratio is then infinite). */
	row("seed-003 sweep: bytes written", "per reclaimed MiB", "Xen-style sweep",
	    xen_written_per_mib, 0, "B/MiB", false, __builtin_inf(), "none");

	printf("lines read per rejected page (median by kind, libxmm / Xen):");
	for (int k = 0; k < NZ_KINDS; k++)
		printf(" %s %g/%g", nz_name[k], kind_lines[k], xen_kind_lines[k]);
	printf("\n");
	if (!opts.report_dir)
		return;
	snprintf(path, sizeof(path), "%s/zero.dat", opts.report_dir);
	dat = fopen(path, "w");
	if (!dat)
		return;
	fprintf(dat, "# scan of zero pages, GB/s: median, lowest and highest round\n");
	for (size_t c = 0; c < scan_res.n; c++)
		fprintf(dat, "\"%s\" %g %g %g\n", strcmp(scan_res.name[c], "scalar") == 0 ? "scalar loop" :
					    strcmp(scan_res.name[c], "peer") == 0 ? "peer (QEMU way)" :
					    scan_res.name[c], scan_res.value[c], scan_res.lo[c], scan_res.hi[c]);
	fprintf(dat, "\n\n# seed-003 sweep, GB/s of guest image: median, lowest and highest round\n");
	{
		size_t x = index_of(&sweep_res, "xen"), l = index_of(&sweep_res, "libxmm"),
		       q = index_of(&sweep_res, "portable");

		fprintf(dat, "\"Xen-style\" %g %g %g\n\"libxmm %s\" %g %g %g\n\"libxmm %s\" %g %g %g\n",
			sweep_res.value[x], sweep_res.lo[x], sweep_res.hi[x], best, sweep_res.value[l],
			sweep_res.lo[l], sweep_res.hi[l], set_name(portable), sweep_res.value[q],
			sweep_res.lo[q], sweep_res.hi[q]);
	}
	fclose(dat);
}

int main(int argc, char **argv)
{
	char json[4096];
	int rc;

	static char help[1024];

	snprintf(help, sizeof(help),
		 "bench_zero: seed 003: zero scan, cold reject and the PoD sweep against a\n"
		 "streaming read, a peer in QEMU's buffer_is_zero technique, the scalar loop and\n"
		 "a Xen-style sweep. Each scenario is one benchmark whose iterations are rounds\n"
		 "that time every contender once, in a new random order each round.\n"
		 "  --quick            256 MiB scan, 16384 reject pages, 512 MiB image, fewer rounds\n"
		 "  e.g. --benchmark_filter=zero/scan runs the scan only (rows of the others say so)\n"
		 "Environment (read once, see xmm/zero.h):\n"
		 "  XMM_ZERO_KERNEL=portable|x86-gpr|sse2|avx2|avx512   force the kernel set\n"
		 "  XMM_ZERO_PREFETCH=none|nta|t0|t1|t2[:PAGES]          force the prefetch hint\n"
		 "                     and distance (1-%d pages; default %d)\n",
		 XMM_ZERO_PF_MAX_PAGES, XMM_ZERO_PF_DEFAULT_PAGES);
	xmm_bench_usage(help);
	xmm_bench_parse(&argc, argv, &opts);
	load_variants();
	xmm_bench_add(&(struct xmm_bench){ .name = "zero/scan", .fn = bm_scan,
					   .iterations = opts.quick ? 5 : 31,
					   .unit = XMM_BENCH_MS });
	xmm_bench_add(&(struct xmm_bench){ .name = "zero/reject", .fn = bm_reject,
					   .iterations = opts.quick ? 32 : 128,
					   .unit = XMM_BENCH_MS });
	xmm_bench_add(&(struct xmm_bench){ .name = "zero/seed003", .fn = bm_sweep,
					   .iterations = opts.quick ? 3 : 9,
					   .unit = XMM_BENCH_MS });
	if (opts.report_dir)
		snprintf(json, sizeof(json), "%s/zero.json", opts.report_dir);
	rc = xmm_bench_run(&argc, argv, opts.report_dir ? json : NULL);
	report();
	return rc;
}
