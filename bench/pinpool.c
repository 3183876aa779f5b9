/* SPDX-License-Identifier: MIT */
/*
 * bench_pinpool: the pinned hypercall-buffer pool (xmm/pinpool.h) against
 * per-call locking and a libxencall-shaped mutex cache, seed 002.
 *
 * Scenario: a thread allocates a hypercall buffer of 1, 4 or 64 pages and
 * frees it, over and over, on 1 or 2 threads (each pinned to its own CPU).
 * Four ways of getting the buffer, measured in the same run:
 *
 *   libxmm        xmm_pin_alloc / xmm_pin_free
 *   mlock         mlock / munlock of the thread's own heap buffer per call
 *   mmap          mmap(MAP_LOCKED) / munmap per call
 *   mutex-cache   4 single-page buffers under one mutex, mmap for the rest
 *                 (libxencall's shape; baselines/pinpool_xencall.c)
 *
 * Each benchmark reports, beside the time per pair:
 *   pairs_s       pairs per second, all threads together (wall clock)
 *   best_s        the same in the fastest round: rounds last about a
 *                 millisecond, scheduler slices several, so on a machine
 *                 shared with other work the fastest rounds are the ones no
 *                 thread lost its CPU in
 *   cpu_ns        CPU time per pair, summed over threads: unlike the wall
 *                 clock it does not count time a thread was descheduled, so
 *                 2 x cpu_ns(1 thread) / cpu_ns(2 threads) is the scaling
 *                 the code allows on two dedicated CPUs
 *   syscalls      system calls per pair, from each approach's own counter
 *                 (the pool's is stats.os_calls)
 *   res_M, tlb_M  rescheduling and TLB-shootdown interrupts per million
 *                 pairs, all CPUs, from /proc/interrupts: machine-wide, so
 *                 they include the background rate printed at the start
 * The fill variant writes every byte of the buffer between alloc and free.
 *
 * Timing: the threads run rounds of K pairs each (K calibrated to about a
 * millisecond), start together from a spin barrier, and a round lasts from
 * that start to the last thread's end. Between rounds the second thread
 * spins, so no futex wake-up (itself a rescheduling interrupt) is counted.
 *
 * Outside check: after the benchmarks, the binary runs itself under
 * `strace -f` (--steady WAY PAGES THREADS N) and counts the system calls of
 * all threads between two marker calls around the N pairs.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xmm/errno.h>
#include <xmm/user/pinpool.h>

#include "baselines/pinpool_percall.h"
#include "baselines/pinpool_xencall.h"
#include "common.h"

#define PAGE ((size_t)4096)
#define MAX_THREADS 2
#define WARMUP_PAIRS 64

enum way { XMM, MLOCK, MMAP, MUTEX, NWAYS };
static const char *const way_name[NWAYS] = { "libxmm", "mlock", "mmap", "mutex-cache" };
static const char *const way_desc[NWAYS] = { "libxmm pool", "mlock/munlock per call",
					     "mmap(MAP_LOCKED)/munmap per call",
					     "4-entry mutex cache (libxencall)" };
static const size_t sizes[] = { 1, 4, 64 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* ---- the rig: one way, one size, 1 or 2 pinned threads ------------------------------- */

struct thread_state {
	char *heap;          /* mlock: this thread's buffer */
	uint64_t syscalls;   /* mlock, mmap: counted here */
	uint64_t errors, keep;
	double start, end, cpu;
	pthread_t tid;
} XMM_ALIGNED(XMM_CACHELINE);

struct rig {
	enum way way;
	size_t pages;
	unsigned int threads;
	bool fill;
	bool steady; /* no CPU clock reads (system calls) in rounds: for the strace check */
	struct xmm_pinpool *pool;
	struct xencall_cache *xc;
	int cpu[MAX_THREADS];
	uint64_t round_pairs;
	atomic_uint go XMM_ALIGNED(XMM_CACHELINE); /* round number; -1u: stop */
	atomic_uint arrived XMM_ALIGNED(XMM_CACHELINE);
	atomic_uint done XMM_ALIGNED(XMM_CACHELINE);
	atomic_uint ready;
	struct thread_state t[MAX_THREADS];
};

/* Each way as get/put; NULL from get is a failed allocation. */
static void *xmm_get(struct rig *r, struct thread_state *t, size_t bytes)
{
	void *b;

	(void)t;
	return xmm_pin_alloc(r->pool, bytes, &b) == 0 ? b : NULL;
}

static void xmm_put(struct rig *r, struct thread_state *t, void *b, size_t bytes)
{
	(void)t;
	(void)bytes;
	xmm_pin_free(r->pool, b);
}

static void *mlock_get(struct rig *r, struct thread_state *t, size_t bytes)
{
	(void)r;
	return percall_mlock(t->heap, bytes, &t->syscalls) == 0 ? t->heap : NULL;
}

static void mlock_put(struct rig *r, struct thread_state *t, void *b, size_t bytes)
{
	(void)r;
	percall_munlock(b, bytes, &t->syscalls);
}

static void *mmap_get(struct rig *r, struct thread_state *t, size_t bytes)
{
	(void)r;
	return percall_mmap_alloc(bytes, &t->syscalls);
}

static void mmap_put(struct rig *r, struct thread_state *t, void *b, size_t bytes)
{
	(void)r;
	percall_mmap_free(b, bytes, &t->syscalls);
}

static void *mutex_get(struct rig *r, struct thread_state *t, size_t bytes)
{
	(void)t;
	return xencall_cache_alloc(r->xc, bytes / PAGE);
}

static void mutex_put(struct rig *r, struct thread_state *t, void *b, size_t bytes)
{
	(void)t;
	xencall_cache_free(r->xc, b, bytes / PAGE);
}

/*
 * @n alloc/free pairs. Always inlined with constant get/put, so each way's
 * loop calls its API directly, with no indirect call in the measurement.
 */
static inline __attribute__((always_inline)) void
pairs_with(struct rig *r, struct thread_state *t, uint64_t n,
	   void *(*get)(struct rig *, struct thread_state *, size_t),
	   void (*put)(struct rig *, struct thread_state *, void *, size_t))
{
	const size_t bytes = r->pages * PAGE;
	const bool fill = r->fill;

	for (uint64_t i = 0; i < n; i++) {
		void *b = get(r, t, bytes);

		if (!b) {
			t->errors++;
			continue;
		}
		if (fill)
			memset(b, (int)i, bytes);
		t->keep += (uintptr_t)b;
		put(r, t, b, bytes);
	}
}

static void pairs(struct rig *r, struct thread_state *t, uint64_t n)
{
	switch (r->way) {
	case XMM:
		pairs_with(r, t, n, xmm_get, xmm_put);
		break;
	case MLOCK:
		pairs_with(r, t, n, mlock_get, mlock_put);
		break;
	case MMAP:
		pairs_with(r, t, n, mmap_get, mmap_put);
		break;
	default:
		pairs_with(r, t, n, mutex_get, mutex_put);
		break;
	}
}

static void spin_until(atomic_uint *v, unsigned int target)
{
	for (unsigned int spins = 0; atomic_load_explicit(v, memory_order_acquire) < target; spins++)
		if (spins % 65536 == 65535)
			sched_yield(); /* only if the machine took our CPU away */
}

/* One round on thread @i: start with the others, time @round_pairs pairs. */
static void round_on(struct rig *r, unsigned int i, unsigned int round)
{
	struct thread_state *t = &r->t[i];
	double c0;

	atomic_fetch_add(&r->arrived, 1);
	spin_until(&r->arrived, round * r->threads);
	c0 = r->steady ? 0 : xmm_bench_thread_cpu();
	t->start = xmm_bench_now();
	pairs(r, t, r->round_pairs);
	t->end = xmm_bench_now();
	t->cpu = r->steady ? 0 : xmm_bench_thread_cpu() - c0;
	atomic_fetch_add(&r->done, 1);
}

static void thread_setup(struct rig *r, struct thread_state *t)
{
	if (r->way == MLOCK) {
		t->heap = aligned_alloc(PAGE, r->pages * PAGE);
		if (t->heap)
			memset(t->heap, 1, r->pages * PAGE); /* resident before the first mlock */
		else
			t->errors++;
	}
	pairs(r, t, WARMUP_PAIRS); /* the pool's cache and first chunk, the mutex cache's entries */
}

static void *second_thread(void *arg)
{
	struct rig *r = arg;
	unsigned int seen = 0;

	xmm_bench_pin(r->cpu[1]);
	thread_setup(r, &r->t[1]);
	atomic_fetch_add(&r->ready, 1);
	for (;;) {
		unsigned int g;

		for (unsigned int spins = 0; (g = atomic_load(&r->go)) == seen; spins++)
			if (spins % 65536 == 65535)
				sched_yield();
		if (g == UINT32_MAX)
			break;
		seen = g;
		round_on(r, 1, g);
	}
	free(r->t[1].heap);
	return NULL;
}

static bool rig_start(struct rig *r, enum way way, size_t pages, unsigned int threads, bool fill)
{
	static const struct xmm_pinpool_cfg cfg = { 0 }; /* the defaults: anonymous, 64 MiB */
	cpu_set_t mine;
	unsigned int n = 0;

	memset(r, 0, sizeof(*r));
	r->way = way;
	r->pages = pages;
	r->threads = threads;
	r->fill = fill;
	r->cpu[0] = r->cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(mine), &mine) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < threads; c++)
			if (CPU_ISSET(c, &mine))
				r->cpu[n++] = c;
	if (way == XMM && xmm_pinpool_create(&r->pool, &cfg) != 0)
		return false;
	if (way == MUTEX && !(r->xc = xencall_cache_create()))
		return false;
	for (unsigned int i = 1; i < threads; i++)
		if (pthread_create(&r->t[i].tid, NULL, second_thread, r) != 0)
			return false;
	xmm_bench_pin(r->cpu[0]);
	thread_setup(r, &r->t[0]);
	spin_until(&r->ready, threads - 1);
	return true;
}

static void rig_stop(struct rig *r, const cpu_set_t *affinity)
{
	atomic_store(&r->go, UINT32_MAX);
	for (unsigned int i = 1; i < r->threads; i++)
		pthread_join(r->t[i].tid, NULL);
	free(r->t[0].heap);
	if (r->pool)
		xmm_pinpool_destroy(r->pool);
	if (r->xc)
		xencall_cache_destroy(r->xc);
	if (affinity)
		pthread_setaffinity_np(pthread_self(), sizeof(*affinity), affinity);
}

/* Run one round of @k pairs per thread: the wall time from the common start to the last end. */
static double rig_round(struct rig *r, uint64_t k, double *cpu)
{
	unsigned int g = atomic_load(&r->go) + 1;
	double start = 1e300, end = 0;

	r->round_pairs = k;
	atomic_store(&r->go, g);
	round_on(r, 0, g);
	spin_until(&r->done, g * r->threads);
	*cpu = 0;
	for (unsigned int i = 0; i < r->threads; i++) {
		start = fmin(start, r->t[i].start);
		end = fmax(end, r->t[i].end);
		*cpu += r->t[i].cpu;
	}
	return end - start;
}

static uint64_t rig_syscalls(struct rig *r)
{
	uint64_t n = 0;

	if (r->way == XMM) {
		struct xmm_pinpool_stats st;

		xmm_pinpool_stats(r->pool, &st);
		return st.os_calls;
	}
	if (r->way == MUTEX)
		return xencall_cache_syscalls(r->xc);
	for (unsigned int i = 0; i < r->threads; i++)
		n += r->t[i].syscalls;
	return n;
}

static uint64_t rig_errors(const struct rig *r)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < r->threads; i++)
		n += r->t[i].errors;
	return n;
}

/* ---- /proc/interrupts ------------------------------------------------------------------ */

struct irqs {
	uint64_t res, tlb;
	bool have_res, have_tlb;
};

static uint64_t sum_counts(const char *s)
{
	uint64_t sum = 0;
	char *end;

	for (;;) {
		unsigned long long v = strtoull(s, &end, 10);

		if (end == s)
			return sum;
		sum += v;
		s = end;
	}
}

static struct irqs read_irqs(void)
{
	struct irqs q = { 0 };
	char line[8192];
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return q;
	while (fgets(line, sizeof(line), f)) {
		const char *s = line + strspn(line, " ");

		if (strncmp(s, "RES:", 4) == 0) {
			q.res = sum_counts(s + 4);
			q.have_res = true;
		} else if (strncmp(s, "TLB:", 4) == 0) {
			q.tlb = sum_counts(s + 4);
			q.have_tlb = true;
		}
	}
	fclose(f);
	return q;
}

static double bg_res_s, bg_tlb_s; /* background interrupts per second, idle */

static void measure_background(double seconds)
{
	struct irqs a = read_irqs(), b;
	double t0 = xmm_bench_now();
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

	nanosleep(&ts, NULL);
	b = read_irqs();
	bg_res_s = (double)(b.res - a.res) / (xmm_bench_now() - t0);
	bg_tlb_s = (double)(b.tlb - a.tlb) / (xmm_bench_now() - t0);
	printf("background (idle %.2f s): %.0f rescheduling and %.0f TLB-shootdown interrupts/s%s\n",
	       seconds, bg_res_s, bg_tlb_s,
	       a.have_res && a.have_tlb ? "" : " (this kernel shows no RES/TLB lines)");
}

/* ---- benchmarks ------------------------------------------------------------------------ */

struct bcase {
	enum way way;
	size_t pages;
	unsigned int threads;
	bool fill;
	uint64_t k; /* pairs per thread per round, calibrated once (repetitions must match) */
	char name[96];
};

static double round_seconds;

static void bm_pairs(struct xmm_bench_state *st, void *arg)
{
	struct bcase *c = arg;
	struct rig *r = aligned_alloc(XMM_CACHELINE, sizeof(*r));
	cpu_set_t affinity;
	bool have_affinity = sched_getaffinity(0, sizeof(affinity), &affinity) == 0;
	double wall = 0, cpu = 0, best = 1e300, w, cu;
	uint64_t k, rounds = 0, calls0;
	struct irqs q0, q1;

	if (!r || !rig_start(r, c->way, c->pages, c->threads, c->fill)) {
		xmm_bench_error(st, "setup failed");
		if (r)
			rig_stop(r, have_affinity ? &affinity : NULL);
		free(r);
		return;
	}
	/* Calibrate: a pilot round, then rounds of about round_seconds. */
	w = rig_round(r, 16, &cu);
	if (!c->k)
		c->k = (uint64_t)fmax(16.0, fmin(1e6, round_seconds / fmax(w / 16, 1e-9)));
	k = c->k;
	calls0 = rig_syscalls(r);
	q0 = read_irqs();
	while (xmm_bench_running(st, k)) {
		w = rig_round(r, k, &cu);
		xmm_bench_manual_time(st, w);
		best = fmin(best, w);
		wall += w;
		cpu += cu;
		rounds++;
	}
	q1 = read_irqs();
	double n = (double)(rounds * k * c->threads);

	if (rig_errors(r))
		xmm_bench_error(st, "an allocation failed");
	xmm_bench_counter(st, "pairs_s", n / wall, 0);
	xmm_bench_counter(st, "best_s", (double)(k * c->threads) / best, 0);
	xmm_bench_counter(st, "cpu_ns", cpu / n * 1e9, 0);
	xmm_bench_counter(st, "syscalls", (double)(rig_syscalls(r) - calls0) / n, 0);
	xmm_bench_counter(st, "res_M", (double)(q1.res - q0.res) / n * 1e6, 0);
	xmm_bench_counter(st, "tlb_M", (double)(q1.tlb - q0.tlb) / n * 1e6, 0);
	xmm_bench_counter(st, "bg_M", (bg_res_s + bg_tlb_s) * wall / n * 1e6, 0);
	rig_stop(r, have_affinity ? &affinity : NULL);
	free(r);
}

static struct bcase cases[NWAYS * NSIZES * 3];
static size_t ncases;

static const struct xmm_bench_opts *opts; /* for registration under the noise policy */

/* @sampled: a target judges the figure (the noise policy, bench/common.h). */
static void add_case(enum way way, size_t pages, unsigned int threads, bool fill, bool sampled)
{
	struct bcase *c = &cases[ncases++];

	c->way = way;
	c->pages = pages;
	c->threads = threads;
	c->fill = fill;
	snprintf(c->name, sizeof(c->name), "pinpool/%s/pages:%zu/threads:%u%s", way_name[way],
		 pages, threads, fill ? "/fill" : "");
	struct xmm_bench b = { .name = c->name, .fn = bm_pairs, .arg = c, .manual_time = true };

	if (sampled)
		xmm_bench_add_sampled(opts, &b);
	else
		xmm_bench_add(&b);
}

/* ---- steady mode and the strace check ----------------------------------------------------- */

/*
 * --steady WAY PAGES THREADS N: set up and warm up, then N pairs per thread
 * between two getppid() calls, the markers the strace check counts between.
 */
static int steady(char **argv)
{
	struct rig *r = aligned_alloc(XMM_CACHELINE, sizeof(*r));
	enum way way = NWAYS;
	double cpu;
	int rc;

	for (int w = 0; w < NWAYS; w++)
		if (strcmp(argv[0], way_name[w]) == 0)
			way = (enum way)w;
	if (!r || way == NWAYS || !rig_start(r, way, strtoul(argv[1], NULL, 0),
					     (unsigned int)strtoul(argv[2], NULL, 0), false))
		return 2;
	r->steady = true;
	(void)getppid();
	rig_round(r, strtoull(argv[3], NULL, 0), &cpu);
	(void)getppid();
	rig_stop(r, NULL);
	rc = rig_errors(r) ? 1 : 0;
	free(r);
	return rc;
}

static char self_exe[4096];

/* Run argv (NULL-terminated) with its output discarded; its exit status, or -1. */
static int run_quiet(char *const argv[])
{
	pid_t pid;
	int status;

	fflush(NULL); /* or the child's exit would print our buffered output again */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * System calls per pair that `strace -f` sees between the markers of
 * --steady (all threads; -1 on failure). sched_yield is left out: only this
 * harness's spin-waits make it, when a thread waits long for the other.
 */
static double strace_per_pair(enum way way, size_t pages, unsigned int threads)
{
	char out[] = "/tmp/xmm-pinpool-strace-XXXXXX", arg_p[32], arg_t[32], arg_n[32], line[1024];
	uint64_t n = way == XMM ? 20000 : 300;
	char *argv[] = { "strace", "-f", "-o", out, self_exe, "--steady", (char *)way_name[way],
			 arg_p, arg_t, arg_n, NULL };
	int fd = mkstemp(out), markers = 0;
	double calls = 0;
	FILE *f;

	if (fd < 0)
		return -1;
	close(fd);
	snprintf(arg_p, sizeof(arg_p), "%zu", pages);
	snprintf(arg_t, sizeof(arg_t), "%u", threads);
	snprintf(arg_n, sizeof(arg_n), "%llu", (unsigned long long)n);
	if (run_quiet(argv) != 0 || !(f = fopen(out, "r"))) {
		unlink(out);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *call = line + strspn(line, "0123456789 "); /* past "PID " */

		if (strncmp(call, "getppid(", 8) == 0)
			markers++;
		else if (markers == 1 && strncmp(call, "sched_yield(", 12) != 0 &&
			 strncmp(call, "<...", 4) != 0 && strncmp(call, "---", 3) != 0 &&
			 strncmp(call, "+++", 3) != 0)
			calls++; /* a call; "<... resumed>" halves are not counted twice */
	}
	fclose(f);
	unlink(out);
	return markers == 2 ? calls / (double)(n * threads) : -1;
}

static bool strace_works(void)
{
	char *argv[] = { "strace", "-f", "-o", "/dev/null", "true", NULL };

	return run_quiet(argv) == 0;
}

/* ---- the report -------------------------------------------------------------------------- */

static double value(enum way way, size_t pages, unsigned int threads, bool fill, const char *ctr)
{
	char name[96];

	snprintf(name, sizeof(name), "pinpool/%s/pages:%zu/threads:%u%s", way_name[way], pages,
		 threads, fill ? "/fill" : "");
	return ctr ? xmm_bench_value_of(name, ctr) : xmm_bench_ns_of("%s", name);
}

static const char *param(size_t pages, unsigned int threads)
{
	static char buf[8][40];
	static int next;
	char *b = buf[next++ % 8];

	snprintf(b, 40, "%zu page%s, %u thread%s", pages, pages > 1 ? "s" : "", threads,
		 threads > 1 ? "s" : "");
	return b;
}

static void report(const struct xmm_bench_opts *o)
{
	const struct xmm_bench_report rep = { o, "002", true };
	char baseline[96];
	FILE *dat;

	for (size_t s = 0; s < NSIZES; s++) {
		size_t pg = sizes[s];
		double x = value(XMM, pg, 1, false, NULL);

		xmm_bench_row(&rep, "alloc/free pair", param(pg, 1), way_desc[MLOCK], value(MLOCK, pg, 1, false, NULL),
		    x, "ns/pair", false, pg == 1 ? 100 : 0, pg == 1 ? ">=100x" : NULL);
		xmm_bench_row(&rep, "alloc/free pair", param(pg, 1), way_desc[MMAP], value(MMAP, pg, 1, false, NULL),
		    x, "ns/pair", false, pg == 1 ? 100 : 0, pg == 1 ? ">=100x" : NULL);
		xmm_bench_row(&rep, "alloc/free pair", param(pg, 1), way_desc[MUTEX], value(MUTEX, pg, 1, false, NULL),
		    x, "ns/pair", false, pg == 64 ? 100 : 0, pg == 64 ? ">=100x" : NULL);
	}
	for (size_t s = 0; s < NSIZES; s++) {
		size_t pg = sizes[s];

		xmm_bench_row(&rep, "alloc/free pairs, throughput", param(pg, 2), way_desc[MUTEX],
		    value(MUTEX, pg, 2, false, "pairs_s") / 1e6, value(XMM, pg, 2, false, "pairs_s") / 1e6,
		    "Mpairs/s", true, pg == 64 ? 100 : 2, pg == 64 ? ">=100x" : ">=2x");
	}
	for (size_t s = 0; s < NSIZES; s++) {
		size_t pg = sizes[s];
		double c1 = value(XMM, pg, 1, false, "cpu_ns"), c2 = value(XMM, pg, 2, false, "cpu_ns");

		xmm_bench_row(&rep, "2 threads vs 1, wall-clock throughput", param(pg, 2), "libxmm, 1 thread",
		    value(XMM, pg, 1, false, "pairs_s") / 1e6, value(XMM, pg, 2, false, "pairs_s") / 1e6,
		    "Mpairs/s", true, 1.8, ">=1.8x");
		xmm_bench_row(&rep, "2 threads vs 1, fastest round", param(pg, 2), "libxmm, 1 thread",
		    value(XMM, pg, 1, false, "best_s") / 1e6, value(XMM, pg, 2, false, "best_s") / 1e6,
		    "Mpairs/s", true, 0, NULL);
		xmm_bench_row(&rep, "2 threads vs 1, CPU time per pair", param(pg, 2), "libxmm, 1 thread",
		    c1 > 0 ? 1e3 / c1 : 0, c2 > 0 ? 2e3 / c2 : 0, "Mpairs/CPU-s", true, 0, NULL);
	}
	for (size_t s = 0; s < NSIZES; s++) {
		size_t pg = sizes[s];
		double x = value(XMM, pg, 1, true, NULL);

		for (int w = MLOCK; w < NWAYS; w++)
			xmm_bench_row(&rep, "alloc/fill/free pair (context)", param(pg, 1), way_desc[w],
			    value((enum way)w, pg, 1, true, NULL), x, "ns/pair", false, 0, NULL);
	}
	for (size_t s = 0; s < NSIZES; s++)
		for (unsigned int th = 1; th <= 2; th++)
			xmm_bench_row(&rep, "syscalls per pair (own counters)", param(sizes[s], th), way_desc[MLOCK],
			    value(MLOCK, sizes[s], th, false, "syscalls"),
			    value(XMM, sizes[s], th, false, "syscalls"), "calls", false, INFINITY, "0");
	for (size_t s = 0; s < NSIZES; s += 2)
		for (unsigned int th = 1; th <= 2; th++)
			for (int w = MLOCK; w <= MMAP; w++) {
				double b = value((enum way)w, sizes[s], th, false, "res_M") +
					   value((enum way)w, sizes[s], th, false, "tlb_M");
				double x = value(XMM, sizes[s], th, false, "res_M") +
					   value(XMM, sizes[s], th, false, "tlb_M");

				xmm_bench_row(&rep, "RES+TLB interrupts per M pairs (raw)", param(sizes[s], th),
				    way_desc[w], b, x, "irqs/Mpairs", false, 0, NULL);
			}

	if (!strace_works()) {
		xmm_report_missing(o, "002", "syscalls per pair (strace -f)", "all",
				   "strace missing or ptrace not permitted");
	} else {
		double base = strace_per_pair(MLOCK, 1, 1);

		snprintf(baseline, sizeof(baseline), "%s (strace, 1 page, 1 thread)", way_desc[MLOCK]);
		for (size_t s = 0; s < NSIZES; s++)
			for (unsigned int th = 1; th <= 2; th++)
				xmm_bench_row(&rep, "syscalls per pair (strace -f)", param(sizes[s], th), baseline,
				    base, strace_per_pair(XMM, sizes[s], th), "calls", false, INFINITY, "0");
		printf("strace, syscalls per pair: mmap per call %.2f, mutex cache 1 page 1 thread "
		       "%.2f, 2 threads %.2f, 64 pages %.2f\n",
		       strace_per_pair(MMAP, 1, 1), strace_per_pair(MUTEX, 1, 1),
		       strace_per_pair(MUTEX, 1, 2), strace_per_pair(MUTEX, 64, 1));
	}

	dat = xmm_bench_dat_open(o, "pinpool", "pages, then ns lo hi per alloc/free pair on 1 "
				 "thread for libxmm mlock mmap mutex-cache, the same with fill, then 2 "
				 "threads (per thread): libxmm mutex-cache");
	if (!dat)
		return;
	for (size_t s = 0; s < NSIZES; s++) {
		fprintf(dat, "%zu", sizes[s]);
		for (int fill = 0; fill < 2; fill++)
			for (int w = 0; w < NWAYS; w++)
				xmm_bench_dat_value(dat, value((enum way)w, sizes[s], 1, fill, NULL));
		xmm_bench_dat_value(dat, value(XMM, sizes[s], 2, false, NULL));
		xmm_bench_dat_value(dat, value(MUTEX, sizes[s], 2, false, NULL));
		fputc('\n', dat);
	}
	fclose(dat);
}

int main(int argc, char **argv)
{
	struct xmm_bench_opts o;
	char json[4096];
	ssize_t len;

	if (argc == 6 && strcmp(argv[1], "--steady") == 0)
		return steady(argv + 2);
	len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (len > 0)
		self_exe[len] = '\0';
	xmm_bench_usage("bench_pinpool: the pinned buffer pool (xmm/pinpool.h), seed 002: alloc/free pairs of\n"
		"1, 4 and 64 pages on 1 and 2 threads against mlock and mmap per call and a mutex\n"
		"cache; system calls per pair under strace, and interrupts.\n"
		"It has no flags of its own (--steady is internal: the strace check runs it).\n");
	xmm_bench_parse(&argc, argv, &o);
	round_seconds = o.quick ? 0.5e-3 : 1e-3;
	measure_background(o.quick ? 0.2 : 1.0);
	opts = &o;
	for (int w = 0; w < NWAYS; w++)
		for (size_t s = 0; s < NSIZES; s++) {
			/* Targets judge the pairs without fill; the fill is context. */
			add_case((enum way)w, sizes[s], 1, false, true);
			add_case((enum way)w, sizes[s], 2, false, true);
			add_case((enum way)w, sizes[s], 1, true, false);
		}
	if (o.report_dir)
		snprintf(json, sizeof(json), "%s/pinpool.json", o.report_dir);
	int rc = xmm_bench_run(&argc, argv, o.report_dir ? json : NULL);

	report(&o);
	return rc;
}
