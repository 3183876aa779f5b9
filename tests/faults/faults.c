/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: for every operation that allocates or maps, fail its Nth
 * allocation for every N it makes (counted in a first, clean run), and check
 * that the operation reports an error and leaves the state it was given
 * unchanged, or succeeds with the state it should have. Leaks are
 * LeakSanitizer's (the asan build runs this; detect_leaks=1).
 *
 * The allocation points are link-time wraps (libxmm is a static library):
 * the platform's xmm_pages_alloc, xmm_vm_reserve, xmm_vm_populate, and libc's
 * malloc, calloc, aligned_alloc, mmap, mprotect and mlock as libxmm and this
 * file call them
 * (not inside shared libraries: hwloc's and liburcu's own allocations are
 * theirs). The scrub queues' and the pinned pool's host ops (map, commit) are
 * failed the same way by the ops this file gives them.
 *
 * Prints one line per scenario: calls counted, failure points run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xmm/errno.h>
#include <xmm/pinpool.h>
#include <xmm/user/flush.h>
#include <xmm/user/p2m.h>
#include <xmm/user/pinpool.h>
#include <xmm/user/scrub.h>
#include <xmm/user/scrub_arena.h>
#include <xmm/user/scrubd.h>
#include <xmm/user/topo.h>
#include <xmm/user/zerosweep.h>

/* ---- the injector ----------------------------------------------------------- */

static bool armed;
static long calls, fail_at; /* fail the fail_at-th call while armed (0: count only) */
static long failed;

static bool fail_now(void)
{
	if (!armed)
		return false;
	if (++calls == fail_at) {
		failed++;
		return true;
	}
	return false;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_aligned_alloc(size_t a, size_t n);
void *__real_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__real_xmm_pages_alloc(size_t npages);
int __real_xmm_vm_reserve(size_t bytes, void **va);
int __real_xmm_vm_populate(void *va, size_t bytes);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_aligned_alloc(size_t a, size_t n);
void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__wrap_xmm_pages_alloc(size_t npages);
int __wrap_xmm_vm_reserve(size_t bytes, void **va);
int __wrap_xmm_vm_populate(void *va, size_t bytes);

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return fail_now() ? NULL : __real_calloc(n, m); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return fail_now() ? NULL : __real_aligned_alloc(a, n); }
void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
	if (fail_now()) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap(a, n, prot, flags, fd, off);
}
int __real_mprotect(void *a, size_t n, int prot);
int __real_mlock(const void *a, size_t n);
int __wrap_mprotect(void *a, size_t n, int prot);
int __wrap_mlock(const void *a, size_t n);
int __wrap_mprotect(void *a, size_t n, int prot)
{
	if (fail_now()) {
		errno = ENOMEM;
		return -1;
	}
	return __real_mprotect(a, n, prot);
}
int __wrap_mlock(const void *a, size_t n)
{
	if (fail_now()) {
		errno = EAGAIN;
		return -1;
	}
	return __real_mlock(a, n);
}
void *__wrap_xmm_pages_alloc(size_t npages) { return fail_now() ? NULL : __real_xmm_pages_alloc(npages); }
int __wrap_xmm_vm_reserve(size_t bytes, void **va) { return fail_now() ? XMM_ENOMEM : __real_xmm_vm_reserve(bytes, va); }
int __wrap_xmm_vm_populate(void *va, size_t bytes) { return fail_now() ? XMM_ENOMEM : __real_xmm_vm_populate(va, bytes); }

static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "faults: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

/*
 * A scenario: setup builds a state (not armed), op is the operation under
 * test (armed), check says whether the state after op is right for its
 * result (unchanged on an error), teardown frees everything.
 */
struct scenario {
	const char *name;
	void *(*setup)(void);
	int (*op)(void *st);
	bool (*check)(void *st, int rc);
	void (*teardown)(void *st);
};

static void run(const struct scenario *sc)
{
	long total;
	void *st = sc->setup();
	int rc;

	armed = true, calls = 0, fail_at = 0;
	rc = sc->op(st);
	armed = false;
	total = calls;
	if (rc != 0 || !sc->check(st, rc))
		fail("%s: the clean run failed (%d)", sc->name, rc);
	sc->teardown(st);
	for (long n = 1; n <= total; n++) {
		st = sc->setup();
		armed = true, calls = 0, fail_at = n, failed = 0;
		rc = sc->op(st);
		armed = false;
		if (!sc->check(st, rc))
			fail("%s: failing allocation %ld of %ld: result %d, state wrong", sc->name, n, total, rc);
		/* rc == 0 with failed set: a failure the operation absorbed (an optional allocation). */
		sc->teardown(st);
	}
	printf("%-28s %3ld allocation points, each failed once: %s\n", sc->name, total,
	       failures ? "FAILED" : "ok");
}

/* ---- p2m: set_range, clear, set_identity, create, both backends ------------- */

#define MAX (8 * 512 + 77)

struct p2m_st {
	struct xmm_p2m *p;
	unsigned int flags;
	uint64_t before[MAX], after[MAX];
};

static unsigned int p2m_flags;

static void *p2m_setup(void)
{
	struct p2m_st *s = calloc(1, sizeof(*s));

	if (!s || xmm_p2m_create(&s->p, MAX, p2m_flags) != 0)
		abort();
	s->flags = p2m_flags;
	/* identity [100, 700), a private leaf around 1500, a run at 3000 */
	if (xmm_p2m_set_identity(s->p, 100, 700) || xmm_p2m_set_range(s->p, 1500, 77, 100) ||
	    xmm_p2m_set_range(s->p, 3000, 9000, 100))
		abort();
	for (xmm_pfn_t x = 0; x < MAX; x++)
		s->before[x] = xmm_p2m_get(s->p, x);
	memcpy(s->after, s->before, sizeof(s->before));
	return s;
}

static bool p2m_check(void *st, int rc)
{
	struct p2m_st *s = st;
	const uint64_t *want = rc == 0 ? s->after : s->before;

	if (rc != 0 && rc != XMM_ENOMEM)
		return false;
	for (xmm_pfn_t x = 0; x < MAX; x++)
		if (xmm_p2m_get(s->p, x) != want[x]) {
			fprintf(stderr, "  pfn %llu: %llx, want %llx (rc %d)\n", (unsigned long long)x,
				(unsigned long long)xmm_p2m_get(s->p, x), (unsigned long long)want[x], rc);
			return false;
		}
	return true;
}

static void p2m_teardown(void *st)
{
	struct p2m_st *s = st;

	xmm_p2m_destroy(s->p);
	free(s);
}

static int p2m_set_range(void *st)
{
	struct p2m_st *s = st;

	for (xmm_pfn_t x = 300; x < 2300; x++)
		s->after[x] = 5000 + (x - 300);
	return xmm_p2m_set_range(s->p, 300, 5000, 2000);
}

static int p2m_clear(void *st)
{
	struct p2m_st *s = st;

	for (xmm_pfn_t x = 50; x < 650; x++)
		s->after[x] = XMM_INVALID_MFN;
	return xmm_p2m_clear(s->p, 50, 650); /* partly covered identity leaves: private copies */
}

static int p2m_set_identity(void *st)
{
	struct p2m_st *s = st;

	for (xmm_pfn_t x = 1550; x < 3050; x++)
		s->after[x] = XMM_IDENTITY_FRAME(x);
	return xmm_p2m_set_identity(s->p, 1550, 3050);
}

static void *nothing_setup(void)
{
	return NULL;
}

static void nothing_teardown(void *st)
{
	(void)st;
}

static struct xmm_p2m *created_p2m;

static int p2m_create(void *st)
{
	(void)st;
	created_p2m = NULL;
	return xmm_p2m_create(&created_p2m, 1ULL << 30, p2m_flags);
}

static bool p2m_create_check(void *st, int rc)
{
	(void)st;
	if (rc == 0) {
		bool ok = xmm_p2m_get(created_p2m, 12345) == XMM_INVALID_MFN;

		xmm_p2m_destroy(created_p2m);
		return ok;
	}
	return rc == XMM_ENOMEM && created_p2m == NULL;
}

/* ---- the user-space creates ----------------------------------------------------- */

static void *created;
static int (*create_fn)(void);
static void (*destroy_fn)(void *);

static int c_flush(void) { return xmm_flush_clock_create((struct xmm_flush_clock **)&created, 64, NULL, 0); }
static void d_flush(void *p) { xmm_flush_clock_destroy(p); }
static int c_sweep(void) { return xmm_zerosweep_create((struct xmm_zerosweep **)&created, 1 << 20, 9); }
static void d_sweep(void *p) { xmm_zerosweep_destroy(p); }
static int c_topo(void) { return xmm_topo_load((struct xmm_topo **)&created, "pack:2 numa:1 core:2 pu:2"); }
static void d_topo(void *p) { xmm_topo_free(p); }
static int c_pool(void) { return xmm_pinpool_create((struct xmm_pinpool **)&created, NULL); }
static void d_pool(void *p) { xmm_pinpool_destroy(p); }
static int c_arena(void)
{
	struct xmm_scrub_arena_cfg cfg = { .npages = 4096 };

	return xmm_scrub_arena_create((struct xmm_scrub_arena **)&created, &cfg);
}
static void d_arena(void *p) { xmm_scrub_arena_destroy(p); }

static const struct xmm_scrub_ops *scrub_ops_for_create(void);
static int c_scrub(void)
{
	return xmm_scrub_create((struct xmm_scrub **)&created, 2, NULL, 64, scrub_ops_for_create(), NULL);
}
static void d_scrub(void *p) { xmm_scrub_destroy(p); }

static int create_op(void *st)
{
	(void)st;
	created = NULL;
	return create_fn();
}

static bool create_check(void *st, int rc)
{
	(void)st;
	if (rc == 0) {
		destroy_fn(created);
		return true;
	}
	return (rc == XMM_ENOMEM || rc == XMM_EAGAIN) && created == NULL;
}

/* ---- scrub: run and take with map failing ----------------------------------------- */

#define SPAGES 256

struct scrub_st {
	struct xmm_scrub *s;
	struct xmm_scrub_link links[SPAGES];
	unsigned char mem[SPAGES][64]; /* the first bytes of each page: all the test looks at */
	int handed[SPAGES];
};

static struct xmm_scrub_link *s_link(void *ctx, xmm_pfn_t pfn)
{
	return &((struct scrub_st *)ctx)->links[pfn];
}

static unsigned char page_buf[64 * 4096]; /* what map hands out: big enough for a chunk */

static void *s_map(void *ctx, xmm_pfn_t pfn, uint64_t n)
{
	(void)ctx, (void)pfn, (void)n;
	return fail_now() ? NULL : page_buf;
}

static void s_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	struct scrub_st *s = ctx;

	(void)node;
	for (uint64_t i = 0; i < n; i++)
		s->handed[pfn + i]++;
}

static const struct xmm_scrub_ops s_ops = { .link = s_link, .map = s_map, .clean = s_clean };

static const struct xmm_scrub_ops *scrub_ops_for_create(void)
{
	return &s_ops;
}

static void *scrub_setup(void)
{
	struct scrub_st *s = calloc(1, sizeof(*s));

	if (!s || xmm_scrub_create(&s->s, 1, NULL, 16, &s_ops, s) != 0)
		abort();
	if (xmm_scrub_put(s->s, 0, 0, 100) || xmm_scrub_put(s->s, 0, 128, 64) || xmm_scrub_put(s->s, 0, 200, 56))
		abort();
	return s;
}

/* Take 32 pages, then run everything; a map failure stops either. */
static int scrub_op(void *st)
{
	struct scrub_st *s = st;
	xmm_pfn_t p;
	int rc = xmm_scrub_take(s->s, 0, 32, &p);

	if (rc == 0)
		for (int i = 0; i < 32; i++)
			s->handed[p + i]++;
	else if (rc != XMM_ENOMEM)
		return rc;
	while (xmm_scrub_run(s->s, 0, UINT64_MAX))
		;
	return xmm_scrub_pending(s->s, 0) ? XMM_ENOMEM : rc;
}

/* Whatever failed, nothing is lost or doubled: run again without failures and count. */
static bool scrub_check(void *st, int rc)
{
	struct scrub_st *s = st;

	(void)rc;
	while (xmm_scrub_run(s->s, 0, UINT64_MAX))
		;
	if (xmm_scrub_pending(s->s, 0))
		return false;
	for (int i = 0; i < SPAGES; i++) {
		int want = i < 100 || (i >= 128 && i < 192) || i >= 200;

		if (s->handed[i] != want || s->links[i].next || s->links[i].npages)
			return false;
	}
	return true;
}

static void scrub_teardown(void *st)
{
	struct scrub_st *s = st;

	xmm_scrub_destroy(s->s);
	free(s);
}

/* ---- pinpool core: alloc with commit failing; user pool: first alloc -------------- */

#define PCHUNK (64 * 1024)
#define PARENA (16 * PCHUNK)

struct pool_st {
	struct xmm_pinpool *p;
	unsigned char *arena;
	void *bufs[8];
	struct xmm_pinpool_stats before;
};

static int h_commit(void *ctx, void *addr, size_t bytes)
{
	(void)ctx;
	if (fail_now())
		return XMM_ENOMEM;
	memset(addr, 0, bytes);
	return 0;
}
static void h_release(void *ctx, void *addr, size_t bytes) { (void)ctx, (void)addr, (void)bytes; }
static void h_nop(void *ctx) { (void)ctx; }
static const struct xmm_pinpool_ops pool_ops = {
	.commit = h_commit, .release = h_release, .lock = h_nop, .unlock = h_nop,
};

static void *pool_setup(void)
{
	struct pool_st *s = calloc(1, sizeof(*s));
	size_t sz = (xmm_pinpool_size(PARENA, PCHUNK) + 4095) & ~(size_t)4095;

	if (!s)
		abort();
	s->arena = aligned_alloc(PCHUNK, PARENA);
	s->p = aligned_alloc(4096, sz);
	if (!s->arena || !s->p || xmm_pinpool_init(s->p, s->arena, PARENA, PCHUNK, 0, &pool_ops, NULL))
		abort();
	if (xmm_pin_cache_alloc(s->p, NULL, 4096, &s->bufs[0]))
		abort();
	xmm_pinpool_stats(s->p, &s->before);
	return s;
}

/* Buffers of several classes, each needing a chunk of its own at first. */
static int pool_op(void *st)
{
	struct pool_st *s = st;
	static const size_t sizes[] = { 8192, 16384, 32768, PCHUNK, 2 * PCHUNK, 4096 };
	int rc = 0;

	for (int i = 0; i < 6 && rc == 0; i++)
		rc = xmm_pin_cache_alloc(s->p, NULL, sizes[i], &s->bufs[1 + i]);
	return rc;
}

static bool pool_check(void *st, int rc)
{
	struct pool_st *s = st;
	struct xmm_pinpool_stats now;

	xmm_pinpool_stats(s->p, &now);
	if (rc == 0)
		return now.allocs == s->before.allocs + 6;
	/* The failed allocation changed nothing: what succeeded before it is all that is in use. */
	{
		uint64_t in_use = 0;

		for (int i = 0; i < 8; i++)
			if (s->bufs[i])
				in_use += xmm_pinpool_buf_bytes(s->p, s->bufs[i]);
		return rc == XMM_ENOMEM && now.bytes_in_use == in_use;
	}
}

static void pool_teardown(void *st)
{
	struct pool_st *s = st;

	xmm_pinpool_fini(s->p, NULL, NULL);
	free(s->p);
	free(s->arena);
	free(s);
}

/* The user pool: the first alloc of a thread mallocs its cache and commits a chunk. */
static struct xmm_pinpool *upool;

static void *upool_setup(void)
{
	struct xmm_pinpool_cfg cfg = { .cap_bytes = 4 << 20 };

	if (xmm_pinpool_create(&upool, &cfg))
		abort();
	return upool;
}

static void *ubuf;

static int upool_op(void *st)
{
	ubuf = NULL;
	return xmm_pin_alloc(st, 4096, &ubuf);
}

static bool upool_check(void *st, int rc)
{
	struct xmm_pinpool_stats now;

	xmm_pinpool_stats(st, &now);
	if (rc == 0)
		return xmm_pin_free(st, ubuf) == 0;
	return (rc == XMM_ENOMEM || rc == XMM_EPERM) && now.bytes_in_use == 0 && ubuf == NULL;
}

static void upool_teardown(void *st)
{
	xmm_pinpool_destroy(st);
}

/* scrubd: start allocates the daemon and its threads. */
static struct xmm_scrub *dscrub;
static struct xmm_scrubd *daemon_;
static struct scrub_st *dctx;

static void *scrubd_setup(void)
{
	dctx = calloc(1, sizeof(*dctx));
	if (!dctx || xmm_scrub_create(&dscrub, 1, NULL, 64, &s_ops, dctx))
		abort();
	return dscrub;
}

static int scrubd_op(void *st)
{
	daemon_ = NULL;
	return xmm_scrubd_start(&daemon_, st, NULL, 2);
}

static bool scrubd_check(void *st, int rc)
{
	(void)st;
	if (rc == 0) {
		xmm_scrubd_stop(daemon_);
		return true;
	}
	return (rc == XMM_ENOMEM || rc == XMM_EAGAIN) && daemon_ == NULL;
}

static void scrubd_teardown(void *st)
{
	xmm_scrub_destroy(st);
	free(dctx);
}

int main(void)
{
	static const struct { const char *name; int (*c)(void); void (*d)(void *); } creates[] = {
		{ "flush_clock_create", c_flush, d_flush }, { "zerosweep_create", c_sweep, d_sweep },
		{ "topo_load synthetic", c_topo, d_topo }, { "pinpool_create", c_pool, d_pool },
		{ "scrub_arena_create", c_arena, d_arena }, { "scrub_create", c_scrub, d_scrub },
	};

	for (unsigned int b = 0; b < 2; b++) {
		static const char *const bname[] = { "linear", "portable" };
		char names[4][64];
		struct scenario sc[4] = {
			{ names[0], p2m_setup, p2m_set_range, p2m_check, p2m_teardown },
			{ names[1], p2m_setup, p2m_clear, p2m_check, p2m_teardown },
			{ names[2], p2m_setup, p2m_set_identity, p2m_check, p2m_teardown },
			{ names[3], nothing_setup, p2m_create, p2m_create_check, nothing_teardown },
		};

		p2m_flags = b ? XMM_P2M_PORTABLE : XMM_P2M_LINEAR;
		snprintf(names[0], 64, "p2m %s set_range", bname[b]);
		snprintf(names[1], 64, "p2m %s clear", bname[b]);
		snprintf(names[2], 64, "p2m %s set_identity", bname[b]);
		snprintf(names[3], 64, "p2m %s create", bname[b]);
		for (int i = 0; i < 4; i++)
			run(&sc[i]);
	}
	for (unsigned int i = 0; i < sizeof(creates) / sizeof(creates[0]); i++) {
		struct scenario sc = { creates[i].name, nothing_setup, create_op, create_check, nothing_teardown };

		create_fn = creates[i].c;
		destroy_fn = creates[i].d;
		run(&sc);
	}
	run(&(struct scenario){ "scrub take+run, map fails", scrub_setup, scrub_op, scrub_check, scrub_teardown });
	run(&(struct scenario){ "pinpool alloc, commit fails", pool_setup, pool_op, pool_check, pool_teardown });
	run(&(struct scenario){ "pin_alloc first call", upool_setup, upool_op, upool_check, upool_teardown });
	run(&(struct scenario){ "scrubd_start", scrubd_setup, scrubd_op, scrubd_check, scrubd_teardown });
	if (failures) {
		printf("faults: %d failures\n", failures);
		return 1;
	}
	printf("faults: ok\n");
	return 0;
}
