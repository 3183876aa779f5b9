/* SPDX-License-Identifier: MIT */
/*
 * bench_scrub: destroying a guest of real memory (seed 001) with the scrub
 * queues (xmm/scrub.h, the daemon and arena of xmm/user/scrubd.h and xmm/user/scrub_arena.h) against the
 * seed's synchronous scrub and the RFC patch's spinlocked page list
 * (baselines/scrub_xen.c), all in the same run over the same memory.
 *
 * The guest is N GiB (8, --quick 1, --gib N) of anonymous memory backed by
 * transparent huge pages, filled with a non-zero pattern before every
 * scenario, and freed as 2 MiB extents (superpages, as a VMM backs guests).
 *
 *   bandwidth  memset over the whole guest, 1 thread
 *   sync       the seed: zero every 4 KiB page, then return
 *   rfc        park every page on one spinlocked list; a tasklet thread
 *              takes a page at a time and zeroes it (one, not one per CPU:
 *              spinning tasklets beside the destroyer on 2 CPUs measure
 *              lock-holder preemption, not the design)
 *   libxmm     daemon with 1 or 2 workers, asleep; put every extent (the
 *              destroy), then drain: destroy time, time until all is clean;
 *              right before, in the same repetition, xmm_clear (non-temporal
 *              stores) over the whole guest with as many threads: what
 *              scrubbing can reach
 *   yield      run() on this thread over the whole guest with a should_yield
 *              that records the time between checks (default chunk_pages):
 *              thread CPU time, the work done between two checks, which
 *              the target is about; wall time too, which adds whatever
 *              preempted the thread on this shared machine; then the same
 *              record for a bare loop of xmm_clear over the chunks, which is
 *              what the machine itself adds to any chunk (bare_*)
 *   take       take of 4 KiB and 2 MiB while a worker scrubs the rest in the
 *              background, each beside a synchronous xmm_clear of the same
 *              size on dirty memory nobody scrubs (plus one atomic update,
 *              the allocator's bookkeeping): p50/p99 latency
 *   overhead   run() with a zeroing kernel that does nothing: everything a
 *              chunk costs but the zeroing (queues, claim, callbacks)
 *   queue      put + take pairs on one node from 2 threads, against
 *              ck_stack, ck_fifo_mpmc and liburcu's wfcqueue
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmm/errno.h>
#include <xmm/user/scrubd.h>
#include <xmm/user/scrub_arena.h>
#include <xmm/zero.h>

#include "baselines/scrub_queues.h"
#include "baselines/scrub_xen.h"
#include "common.h"

#define EXTENT 512 /* pages: 2 MiB */
#define PATTERN 0xa5

/* ---- the guest ------------------------------------------------------------ */

struct guest {
	struct xmm_scrub_arena *a;
	struct xmm_scrub *s;
	char *base;
	uint64_t npages, bytes;
	_Atomic uint64_t cleaned;
	_Atomic uint64_t first_clean_ns; /* when the first piece came back (0: none yet) */
	/* should_yield's record, only while the yield scenario runs on one thread */
	bool record;
	double last_cpu, last_wall;
	double *gaps, *wall_gaps; /* thread CPU time (the work between checks), wall time */
	size_t ngaps, gaps_cap;
};

static struct guest g;

static void on_clean(void *arg, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	(void)arg, (void)node, (void)pfn;
	if (atomic_fetch_add_explicit(&g.cleaned, n, memory_order_relaxed) == 0)
		atomic_store(&g.first_clean_ns, (uint64_t)(xmm_bench_now() * 1e9));
}

static bool on_should_yield(void *arg)
{
	(void)arg;
	if (g.record) {
		double c = xmm_bench_thread_cpu(), w = xmm_bench_now();

		if (g.ngaps < g.gaps_cap) {
			g.gaps[g.ngaps] = c - g.last_cpu;
			g.wall_gaps[g.ngaps++] = w - g.last_wall;
		}
		g.last_cpu = c;
		g.last_wall = w;
	}
	return false;
}

static void guest_init(uint64_t gib)
{
	struct xmm_scrub_arena_cfg cfg = { .npages = gib << 18, .clean = on_clean,
					   .should_yield = on_should_yield };

	if (xmm_scrub_arena_create(&g.a, &cfg) != 0) {
		fprintf(stderr, "cannot map a %llu GiB guest\n", (unsigned long long)gib);
		exit(1);
	}
	g.s = xmm_scrub_arena_scrub(g.a);
	g.base = xmm_scrub_arena_va(g.a, 0);
	g.npages = cfg.npages;
	g.bytes = g.npages * XMM_PAGE_SIZE;
	g.gaps_cap = g.npages / xmm_scrub_chunk_pages(g.s) + 16;
	g.gaps = calloc(g.gaps_cap, sizeof(*g.gaps));
	g.wall_gaps = calloc(g.gaps_cap, sizeof(*g.wall_gaps));
}

/* The guest ran and wrote everywhere. */
static void guest_fill(void)
{
	memset(g.base, PATTERN, g.bytes);
}

/* Spot check that the guest is zero: a word in every page (the tests check every byte). */
static bool guest_zero(void)
{
	for (uint64_t p = 0; p < g.npages; p++)
		if (((const uint64_t *)(const void *)(g.base + p * XMM_PAGE_SIZE))[(p * 67) % 512])
			return false;
	return true;
}

/* The destroy: every extent of [first, first + npages) to the scrub queues. */
static void guest_put(uint64_t first, uint64_t npages)
{
	for (uint64_t p = first; p < first + npages; p += EXTENT)
		if (xmm_scrub_arena_put(g.a, p, EXTENT) != 0)
			abort();
}

static double pct(double *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	xmm_bench_median(v, n); /* sorts */
	return v[(size_t)(q * (double)(n - 1))];
}

/* ---- bandwidth -------------------------------------------------------------- */

struct part {
	char *p;
	size_t len;
	bool nt;
};

static void *clear_part(void *arg)
{
	struct part *pt = arg;

	if (pt->nt)
		xmm_clear(pt->p, pt->len);
	else
		memset(pt->p, 0, pt->len);
	return NULL;
}

/* Zero the whole guest with @threads threads (1 or 2), non-temporal or memset; GB/s. */
static double clear_guest(int threads, bool nt)
{
	struct part pt[2];
	pthread_t t;
	double t0;

	for (int i = 0; i < threads; i++)
		pt[i] = (struct part){ g.base + i * (g.bytes / threads), g.bytes / threads, nt };
	t0 = xmm_bench_now();
	if (threads == 2 && pthread_create(&t, NULL, clear_part, &pt[1]) != 0)
		abort();
	clear_part(&pt[0]);
	if (threads == 2)
		pthread_join(t, NULL);
	return (double)g.bytes / (xmm_bench_now() - t0) / 1e9;
}

static void bm_memset(struct xmm_bench_state *st, void *arg)
{
	(void)arg;
	while (xmm_bench_running(st, 1)) {
		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		xmm_bench_counter(st, "GBps", clear_guest(1, false), 0);
	}
}

/* ---- the seed's synchronous destroy, and the RFC patch ---------------------- */

static void bm_sync(struct xmm_bench_state *st, void *arg)
{
	(void)arg;
	while (xmm_bench_running(st, 1)) {
		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		double t0 = xmm_bench_now();

	/* The real zeroing kernels: scenarios run in random order, and two zero nothing. */
	xmm_zero_ops_set(NULL);
		xen_scrub_sync(g.base, g.npages);
		double dt = xmm_bench_now() - t0;

		xmm_bench_counter(st, "destroy_s", dt, 0);
		xmm_bench_counter(st, "GBps", (double)g.bytes / dt / 1e9, 0);
		if (!guest_zero())
			xmm_bench_error(st, "memory not zero after the synchronous scrub");
	}
}

struct rfc {
	struct xen_scrub_list l;
	atomic_int destroyed;
};

static void *tasklet(void *arg)
{
	struct rfc *r = arg;

	/* The RFC's tasklet spins on the list (here until the destroy is done and it is empty). */
	for (;;) {
		int done = atomic_load(&r->destroyed);

		if (!xen_scrub_list_scrub_one(&r->l) && done)
			return NULL;
	}
}

static void bm_rfc(struct xmm_bench_state *st, void *arg)
{
	(void)arg;
	while (xmm_bench_running(st, 1)) {
		struct rfc r;
		pthread_t t;

	/* The real zeroing kernels: scenarios run in random order, and two zero nothing. */
	xmm_zero_ops_set(NULL);
		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		if (xen_scrub_list_init(&r.l, g.base, g.npages) != 0)
			abort();
		atomic_init(&r.destroyed, 0);
		if (pthread_create(&t, NULL, tasklet, &r) != 0)
			abort();
		double t0 = xmm_bench_now();

		for (uint64_t p = 0; p < g.npages; p += EXTENT)
			xen_scrub_list_free(&r.l, p, EXTENT);
		double t1 = xmm_bench_now();

		atomic_store(&r.destroyed, 1);
		pthread_join(t, NULL);
		double t2 = xmm_bench_now();

		xmm_bench_counter(st, "destroy_s", t1 - t0, 0);
		xmm_bench_counter(st, "clean_s", t2 - t0, 0);
		xmm_bench_counter(st, "GBps", (double)g.bytes / (t2 - t0) / 1e9, 0);
		xen_scrub_list_fini(&r.l);
		if (!guest_zero())
			xmm_bench_error(st, "memory not zero after the RFC scrub");
	}
}

/* ---- libxmm: destroy, then the daemon scrubs -------------------------------- */

/*
 * Each repetition measures the non-temporal bandwidth with as many threads
 * as workers, then the destroy and the scrub, back to back: on a shared
 * machine the two see the same conditions.
 */
static void bm_libxmm(struct xmm_bench_state *st, void *arg)
{
	unsigned int workers = (unsigned int)(uintptr_t)arg;

	/* The real zeroing kernels: scenarios run in random order, and two zero nothing. */
	xmm_zero_ops_set(NULL);
	while (xmm_bench_running(st, 1)) {
		struct xmm_scrubd *d;

		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		xmm_bench_counter(st, "nt_GBps", clear_guest((int)workers, true), 0);
		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		atomic_store(&g.cleaned, 0);
		atomic_store(&g.first_clean_ns, 0);
		if (xmm_scrubd_start(&d, g.s, NULL, workers) != 0)
			abort();
		double t0 = xmm_bench_now();

		guest_put(0, g.npages);
		double t1 = xmm_bench_now();

		xmm_scrubd_drain(d);
		double t2 = xmm_bench_now();

		xmm_scrubd_stop(d);
		xmm_bench_counter(st, "destroy_s", t1 - t0, 0);
		xmm_bench_counter(st, "clean_s", t2 - t0, 0);
		xmm_bench_counter(st, "GBps", (double)g.bytes / (t2 - t0) / 1e9, 0);
		/* A sleeping worker woken by the first put, plus one chunk of zeroing. */
		xmm_bench_counter(st, "first_clean_us",
				  (double)atomic_load(&g.first_clean_ns) / 1e3 - t0 * 1e6, 0);
		if (atomic_load(&g.cleaned) != g.npages || !guest_zero()) {
			char why[160];

			snprintf(why, sizeof(why), "not every page came back zero: %llu of %llu "
				 "pages cleaned, guest %s", (unsigned long long)atomic_load(&g.cleaned),
				 (unsigned long long)g.npages, guest_zero() ? "zero" : "NOT zero");
			xmm_bench_error(st, why);
		}
	}
}

/* ---- yield checks -------------------------------------------------------------- */

static void bm_yield(struct xmm_bench_state *st, void *arg)
{
	(void)arg;
	while (xmm_bench_running(st, 1)) {
		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		guest_put(0, g.npages);
		g.ngaps = 0;
		g.record = true;
		g.last_cpu = xmm_bench_thread_cpu();
		double t0 = g.last_wall = xmm_bench_now();

	/* The real zeroing kernels: scenarios run in random order, and two zero nothing. */
	xmm_zero_ops_set(NULL);
		while (xmm_scrub_run(g.s, 0, UINT64_MAX))
			;
		double dt = xmm_bench_now() - t0;

		g.record = false;
		xmm_bench_counter(st, "checks", (double)g.ngaps, 0);
		xmm_bench_counter(st, "GBps", (double)g.bytes / dt / 1e9, 0);
		xmm_bench_counter(st, "p50_us", pct(g.gaps, g.ngaps, 0.5) * 1e6, 0);
		xmm_bench_counter(st, "p999_us", pct(g.gaps, g.ngaps, 0.999) * 1e6, 0);
		xmm_bench_counter(st, "max_us", pct(g.gaps, g.ngaps, 1.0) * 1e6, 0);
		xmm_bench_counter(st, "wall_max_us", pct(g.wall_gaps, g.ngaps, 1.0) * 1e6, 0);

		/* The machine's own jitter, measured the same way: xmm_clear of each chunk, no queue. */
		const uint64_t chunk = xmm_scrub_chunk_pages(g.s) << XMM_PAGE_SHIFT;
		size_t n = 0;

		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		g.last_cpu = xmm_bench_thread_cpu();
		for (uint64_t off = 0; off + chunk <= g.bytes && n < g.gaps_cap; off += chunk) {
			double c;

			xmm_clear(g.base + off, chunk);
			c = xmm_bench_thread_cpu();
			g.gaps[n++] = c - g.last_cpu;
			g.last_cpu = c;
		}
		xmm_bench_counter(st, "bare_p999_us", pct(g.gaps, n, 0.999) * 1e6, 0);
		xmm_bench_counter(st, "bare_max_us", pct(g.gaps, n, 1.0) * 1e6, 0);
	}
}

/* ---- take latency under background scrubbing --------------------------------- */

static _Atomic uint64_t sync_allocs;

static void bm_take(struct xmm_bench_state *st, void *arg)
{
	unsigned int order = (unsigned int)(uintptr_t)arg;
	const uint64_t n = 1ULL << order;
	/* The last quarter is never put: dirty memory for the synchronous clears. */
	const uint64_t queued = g.npages / 4 * 3, reserve = g.npages - queued;
	const size_t max = order ? 200 : 10000;
	double *take = calloc(max, sizeof(double)), *sync = calloc(max, sizeof(double));

	/* The real zeroing kernels: scenarios run in random order, and two zero nothing. */
	xmm_zero_ops_set(NULL);
	while (xmm_bench_running(st, 1)) {
		struct xmm_scrubd *d;
		size_t k = 0;

		xmm_bench_pause(st);
		guest_fill();
		xmm_bench_resume(st);
		if (xmm_scrubd_start(&d, g.s, NULL, 1) != 0)
			abort();
		guest_put(0, queued);
		while (k < max) {
			xmm_pfn_t pfn;
			double a = xmm_bench_now();

			if (xmm_scrub_take(g.s, 0, n, &pfn) != 0)
				break; /* the worker got there first: background scrub over */
			double b = xmm_bench_now();

			xmm_clear(g.base + ((queued + (k * n) % reserve) << XMM_PAGE_SHIFT),
				  n << XMM_PAGE_SHIFT);
			/*
			 * The allocator's own bookkeeping (take updates pending): a locked
			 * RMW, which also waits for the clear's stores to complete, as
			 * take's does. Without it the clock stops with them in flight.
			 */
			atomic_fetch_add(&sync_allocs, 1);
			take[k] = b - a;
			sync[k++] = xmm_bench_now() - b;
		}
		xmm_scrubd_drain(d);
		xmm_scrubd_stop(d);
		xmm_bench_counter(st, "samples", (double)k, 0);
		xmm_bench_counter(st, "take_p50_ns", pct(take, k, 0.5) * 1e9, 0);
		xmm_bench_counter(st, "take_p99_ns", pct(take, k, 0.99) * 1e9, 0);
		xmm_bench_counter(st, "sync_p50_ns", pct(sync, k, 0.5) * 1e9, 0);
		xmm_bench_counter(st, "sync_p99_ns", pct(sync, k, 0.99) * 1e9, 0);
	}
	free(take);
	free(sync);
}

/* ---- everything but the zeroing ------------------------------------------------- */

static void clear_nothing(void *p, size_t len)
{
	(void)p, (void)len;
}

/*
 * The overhead and libxmm-queue scenarios zero nothing, to time everything but
 * the zeroing. Scenarios run in random order (the noise policy), so each one
 * sets the kernels it needs when it starts: these two zero_nothing, every
 * other one the real kernels (xmm_zero_ops_set(NULL)).
 */
static const struct xmm_zero_ops zero_nothing = { .name = "nothing", .clear = clear_nothing };

/* Run until nothing is left; *arg receives the thread CPU time it took. */
static void *run_all(void *arg)
{
	double c0 = xmm_bench_thread_cpu();

	while (xmm_scrub_run(g.s, 0, UINT64_MAX))
		;
	*(double *)arg = xmm_bench_thread_cpu() - c0;
	return NULL;
}

/* CPU time, not wall time: a thread preempted by another process costs nothing here. */
static void bm_overhead(struct xmm_bench_state *st, void *arg)
{
	int threads = (int)(uintptr_t)arg;
	const double chunks = (double)(g.npages / xmm_scrub_chunk_pages(g.s));

	xmm_zero_ops_set(&zero_nothing);
	while (xmm_bench_running(st, 1)) {
		double cpu[2] = { 0, 0 };
		pthread_t t;

		guest_put(0, g.npages);
		if (threads == 2 && pthread_create(&t, NULL, run_all, &cpu[1]) != 0)
			abort();
		run_all(&cpu[0]);
		if (threads == 2)
			pthread_join(t, NULL);
		xmm_bench_counter(st, "ns_per_chunk", (cpu[0] + cpu[1]) / chunks * 1e9, 0);
	}
	xmm_zero_ops_set(NULL);
}

/* ---- put + take pairs on 2 threads ------------------------------------------------ */

#define QFRAMES 4096

static struct xmm_scrub *qs;
static struct xmm_scrub_link qlinks[QFRAMES];
static char qpage[XMM_PAGE_SIZE] __attribute__((aligned(4096)));

static struct xmm_scrub_link *q_link(void *ctx, xmm_pfn_t pfn)
{
	(void)ctx;
	return &qlinks[pfn];
}

static void *q_map(void *ctx, xmm_pfn_t pfn, uint64_t n)
{
	(void)ctx, (void)pfn, (void)n;
	return qpage;
}

static void q_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	(void)ctx, (void)node, (void)pfn, (void)n;
}

static const struct xmm_scrub_ops q_ops = { .link = q_link, .map = q_map, .clean = q_clean };

static void bm_queue_libxmm(struct xmm_bench_state *st, void *arg)
{
	/* Each thread puts a frame of its own; take returns whichever is on top. */
	xmm_pfn_t pfn = (xmm_pfn_t)xmm_bench_thread(st);

	(void)arg;
	/* The pair, not a 4 KiB clear: the queue benchmarks run last, main restores the kernel. */
	xmm_zero_ops_set(&zero_nothing);
	while (xmm_bench_running(st, 64))
		for (int i = 0; i < 64; i++)
			if (xmm_scrub_put(qs, 0, pfn, 1) != 0 || xmm_scrub_take(qs, 0, 1, &pfn) != 0)
				abort();
}

static void bm_queue_baseline(struct xmm_bench_state *st, void *arg)
{
	enum queue_kind kind = (enum queue_kind)(uintptr_t)arg;
	void *e = queue_thread_entry();

	while (xmm_bench_running(st, 64))
		for (int i = 0; i < 64; i++)
			if (!(e = queue_pair(kind, e)))
				abort();
}

/* ---- registration and the report -------------------------------------------------- */

static void report(const struct xmm_bench_opts *o, uint64_t gib)
{
	const struct xmm_bench_report rep = { o, "001", false };
	char param[32];
	double chunk_bytes = (double)(xmm_scrub_chunk_pages(g.s) * XMM_PAGE_SIZE);
	double nt1 = xmm_bench_value_of("scrub/destroy/libxmm/workers:1", "nt_GBps");
	double nt2 = xmm_bench_value_of("scrub/destroy/libxmm/workers:2", "nt_GBps");
	double ms1 = xmm_bench_value_of("scrub/bandwidth/memset/threads:1", "GBps");
	double w1 = xmm_bench_value_of("scrub/destroy/libxmm/workers:1", "GBps");
	double w2 = xmm_bench_value_of("scrub/destroy/libxmm/workers:2", "GBps");

	snprintf(param, sizeof(param), "%llu GiB", (unsigned long long)gib);
	xmm_bench_row(&rep, "destroy returns (2 MiB extents)", param, "sync 4 KiB memset (seed)",
	    xmm_bench_value_of("scrub/destroy/sync", "destroy_s"),
	    xmm_bench_value_of("scrub/destroy/libxmm/workers:1", "destroy_s"), "s", false, 1000, ">=1000x");
	xmm_bench_row(&rep, "destroy returns (2 MiB extents)", param, "one spinlocked page list (RFC)",
	    xmm_bench_value_of("scrub/destroy/rfc", "destroy_s"),
	    xmm_bench_value_of("scrub/destroy/libxmm/workers:1", "destroy_s"), "s", false, 0, NULL);
	xmm_bench_row(&rep, "all clean, 1 worker", param, "NT-store bandwidth, 1 thread", nt1, w1, "GB/s", true,
	    0.85, ">=85%");
	xmm_bench_row(&rep, "all clean, 2 workers", param, "NT-store bandwidth, 2 threads", nt2, w2, "GB/s", true,
	    0.85, ">=85%");
	xmm_bench_row(&rep, "all clean, 1 worker", param, "memset bandwidth, 1 thread", ms1, w1, "GB/s", true, 0,
	    NULL);
	xmm_bench_row(&rep, "first chunk clean after put", param, "zeroing one chunk (1 worker)",
	    w1 > 0 ? chunk_bytes / w1 / 1e3 : 0,
	    xmm_bench_value_of("scrub/destroy/libxmm/workers:1", "first_clean_us"), "us", false, 0, NULL);
	xmm_bench_row(&rep, "all clean, 1 worker", param, "RFC: 1 tasklet, page at a time",
	    xmm_bench_value_of("scrub/destroy/rfc", "GBps"), w1, "GB/s", true, 0, NULL);
	xmm_bench_row(&rep, "queue cost per chunk", "1 MiB chunk", "zeroing the chunk (1 worker)",
	    w1 > 0 ? chunk_bytes / w1 : 0, xmm_bench_value_of("scrub/overhead/threads:1", "ns_per_chunk"), "ns",
	    false, 100, ">=100x (<1%)");
	xmm_bench_row(&rep, "queue cost per chunk, 2 threads", "1 MiB chunk", "zeroing the chunk (2 workers)",
	    w2 > 0 ? 2 * chunk_bytes / w2 : 0, xmm_bench_value_of("scrub/overhead/threads:2", "ns_per_chunk"),
	    "ns", false, 100, ">=100x (<1%)");
	xmm_bench_row(&rep, "longest run between yield checks", "1 MiB chunk", "bound: 100 us", 100,
	    xmm_bench_value_of("scrub/yield", "max_us"), "us", false, 1, "<=100 us");
	xmm_bench_row(&rep, "run between yield checks, p99.9", "1 MiB chunk", "bound: 100 us", 100,
	    xmm_bench_value_of("scrub/yield", "p999_us"), "us", false, 0, NULL);
	xmm_bench_row(&rep, "wall time between yield checks, max", "1 MiB chunk", "bound: 100 us", 100,
	    xmm_bench_value_of("scrub/yield", "wall_max_us"), "us", false, 0, NULL);
	/* What the machine adds to any chunk: a bare loop of xmm_clear, timed the same way. */
	xmm_bench_row(&rep, "bare xmm_clear of each chunk, longest", "1 MiB chunk", "bound: 100 us", 100,
	    xmm_bench_value_of("scrub/yield", "bare_max_us"), "us", false, 0, NULL);
	xmm_bench_row(&rep, "bare xmm_clear of each chunk, p99.9", "1 MiB chunk", "bound: 100 us", 100,
	    xmm_bench_value_of("scrub/yield", "bare_p999_us"), "us", false, 0, NULL);
	for (unsigned int order = 0; order <= 9; order += 9) {
		char name[64];
		const char *sz = order ? "2 MiB" : "4 KiB";

		snprintf(name, sizeof(name), "scrub/take/order:%u", order);
		xmm_bench_row(&rep, "take p50, scrub running", sz, "sync clear + atomic update",
		    xmm_bench_value_of(name, "sync_p50_ns"), xmm_bench_value_of(name, "take_p50_ns"), "ns", false, 0, NULL);
		xmm_bench_row(&rep, "take p99, scrub running", sz, "sync clear + atomic update",
		    xmm_bench_value_of(name, "sync_p99_ns"), xmm_bench_value_of(name, "take_p99_ns"), "ns", false, 0, NULL);
	}
	for (int k = 0; k < Q_KINDS; k++) {
		char name[64];

		snprintf(name, sizeof(name), "scrub/queue/%s/threads:2", queue_name[k]);
		xmm_bench_row(&rep, "queue put+take pair, 2 threads", "1 node", queue_name[k],
		    xmm_bench_ns_of("%s", name), xmm_bench_ns_of("scrub/queue/libxmm/threads:2"),
		    "ns/pair", false, 0, NULL);
	}

	FILE *dat = xmm_bench_dat_open(o, "scrub", "label kind GB/s lo hi (%llu GiB guest; kind 0: "
				       "what the machine can do, 1: a baseline, 2: libxmm)",
				       (unsigned long long)gib);

	if (!dat)
		return;
	static const struct {
		const char *label;
		int kind;
		const char *bench, *counter;
	} bars[] = {
		{ "NT stores, 1 thread", 0, "scrub/destroy/libxmm/workers:1", "nt_GBps" },
		{ "memset, 1 thread", 0, "scrub/bandwidth/memset/threads:1", "GBps" },
		{ "libxmm, 1 worker", 2, "scrub/destroy/libxmm/workers:1", "GBps" },
		{ "NT stores, 2 threads", 0, "scrub/destroy/libxmm/workers:2", "nt_GBps" },
		{ "libxmm, 2 workers", 2, "scrub/destroy/libxmm/workers:2", "GBps" },
		{ "RFC: 1 tasklet", 1, "scrub/destroy/rfc", "GBps" },
		{ "seed: sync 4 KiB", 1, "scrub/destroy/sync", "GBps" },
	};
	for (size_t i = 0; i < sizeof(bars) / sizeof(bars[0]); i++) {
		fprintf(dat, "\"%s\" %d", bars[i].label, bars[i].kind);
		xmm_bench_dat_value(dat, xmm_bench_value_of(bars[i].bench, bars[i].counter));
		fputc('\n', dat);
	}
	fclose(dat);

	/* The seed's headline: how long the destroy takes to return. */
	dat = xmm_bench_dat_open(o, "scrub_destroy", "label kind seconds lo hi (%llu GiB guest; "
				 "kind 1: a baseline, 2: libxmm)", (unsigned long long)gib);
	if (!dat)
		return;
	static const struct {
		const char *label;
		int kind;
		const char *bench;
	} destroy[] = {
		{ "seed: sync 4 KiB memset", 1, "scrub/destroy/sync" },
		{ "RFC: spinlocked page list", 1, "scrub/destroy/rfc" },
		{ "libxmm, 1 worker", 2, "scrub/destroy/libxmm/workers:1" },
		{ "libxmm, 2 workers", 2, "scrub/destroy/libxmm/workers:2" },
	};
	for (size_t i = 0; i < sizeof(destroy) / sizeof(destroy[0]); i++) {
		fprintf(dat, "\"%s\" %d", destroy[i].label, destroy[i].kind);
		xmm_bench_dat_value(dat, xmm_bench_value_of(destroy[i].bench, "destroy_s"));
		fputc('\n', dat);
	}
	fclose(dat);
}

/*
 * One-shot scenarios (threads 0) run one iteration per sample, the queue pairs
 * (threads 2) are ordinary timed loops: both under the noise policy
 * (bench/common.h), since targets judge them.
 */
static const struct xmm_bench_opts *opts;

static void add(const char *name, xmm_bench_fn fn, void *arg, int threads)
{
	xmm_bench_add_sampled(opts, &(struct xmm_bench){ .name = name, .fn = fn, .arg = arg,
							.threads = threads,
							.iterations = threads ? 0 : 1,
							.unit = threads ? XMM_BENCH_NS
									: XMM_BENCH_MS });
}

int main(int argc, char **argv)
{
	struct xmm_bench_opts o;
	char json[4096];
	uint64_t gib;
	int out = 1;

	xmm_bench_usage("bench_scrub: the scrub queues (xmm/scrub.h, xmm/user/scrubd.h), seed 001: destroying\n"
		"a guest of real memory against the seed's synchronous scrub and the RFC's page list;\n"
		"bandwidth, yield gaps, take latency, queue cost against ck and liburcu queues.\n"
		"Its own flags:\n"
		"  --gib N            the guest, N GiB of memory (default 8, --quick 1)\n");
	xmm_bench_parse(&argc, argv, &o);
	opts = &o;
	gib = o.quick ? 1 : 8;
	for (int i = 1; i < argc; i++) { /* --gib N: guest size */
		if (strcmp(argv[i], "--gib") == 0 && i + 1 < argc)
			gib = strtoull(argv[++i], NULL, 0);
		else
			argv[out++] = argv[i];
	}
	argc = out;
	if (gib == 0) {
		fprintf(stderr, "--gib must be at least 1\n");
		return 2;
	}
	guest_init(gib);
	guest_fill(); /* fault the guest in once, outside any measurement */
	if (xmm_scrub_create(&qs, 1, NULL, 1, &q_ops, NULL) != 0)
		return 1;
	for (int k = 0; k < Q_KINDS; k++)
		if (queue_setup((enum queue_kind)k) != 0)
			return 1;

	add("scrub/bandwidth/memset/threads:1", bm_memset, NULL, 0);
	add("scrub/destroy/sync", bm_sync, NULL, 0);
	add("scrub/destroy/rfc", bm_rfc, NULL, 0);
	add("scrub/destroy/libxmm/workers:1", bm_libxmm, (void *)1, 0);
	add("scrub/destroy/libxmm/workers:2", bm_libxmm, (void *)2, 0);
	add("scrub/yield", bm_yield, NULL, 0);
	add("scrub/take/order:0", bm_take, (void *)0, 0);
	add("scrub/take/order:9", bm_take, (void *)9, 0);
	add("scrub/overhead/threads:1", bm_overhead, (void *)1, 0);
	add("scrub/overhead/threads:2", bm_overhead, (void *)2, 0);
	add("scrub/queue/libxmm/threads:2", bm_queue_libxmm, NULL, 2);
	for (int k = 0; k < Q_KINDS; k++) {
		static char names[Q_KINDS][64];

		snprintf(names[k], sizeof(names[k]), "scrub/queue/%s/threads:2", queue_name[k]);
		add(names[k], bm_queue_baseline, (void *)(uintptr_t)k, 2);
	}
	if (o.report_dir)
		snprintf(json, sizeof(json), "%s/scrub.json", o.report_dir);
	int rc = xmm_bench_run(&argc, argv, o.report_dir ? json : NULL);

	xmm_zero_ops_set(NULL);
	report(&o, gib);
	return rc;
}
