/* SPDX-License-Identifier: MIT */
/*
 * The scrub queues (xmm/scrub.h) against a model of who owns each frame.
 *
 * Single-threaded mode: put (overlapping, repeated, out of range), run with
 * should_yield and map failures drawn from the input, take, pending. After
 * every step: pending(node) is the model's count, every page handed back was
 * queued on that node and is zero, a double put got XMM_EBUSY (an overlapping
 * one too in debug builds), and the link of every frame not queued is zero (I6).
 *
 * Multi-threaded mode (first byte odd): 2-4 threads, each with its own frames
 * and op stream, put and take while others run and steal; every page must be
 * handed back exactly once (a CAS per page), pending must end at 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/scrub.h>

#include "fuzz.h"

#ifdef XMM_DEBUG
#define XMM_DEBUG_PUT 1 /* debug builds refuse overlapping puts too */
#else
#define XMM_DEBUG_PUT 0
#endif

#define NFR 1024
#define PAGE 4096
#define FREE 0xff

struct rig {
	struct xmm_scrub *s;
	struct xmm_scrub_link links[NFR];
	_Atomic uint8_t owner[NFR]; /* FREE, or the node it was put on */
	_Atomic bool head[NFR];     /* the first frame of a successful put, not handed back yet */
	unsigned int nnodes;
	struct fz *f;               /* single-threaded: yields and map failures from the input */
	_Atomic uint64_t cleaned;
	bool mt;
};

static unsigned char *mem; /* NFR pages, allocated once */
static struct rig rig;

static struct xmm_scrub_link *r_link(void *ctx, xmm_pfn_t pfn)
{
	FZ_CHECK(pfn < NFR, "link of frame %llu", (unsigned long long)pfn);
	return &((struct rig *)ctx)->links[pfn];
}

static void *r_map(void *ctx, xmm_pfn_t pfn, uint64_t n)
{
	struct rig *r = ctx;

	FZ_CHECK(pfn + n <= NFR && n <= xmm_scrub_chunk_pages(r->s), "map");
	if (!r->mt && (fz_u8(r->f) & 7) == 7)
		return NULL;
	return mem + pfn * PAGE;
}

static void hand_back(struct rig *r, unsigned int node, xmm_pfn_t pfn, uint64_t n, bool check_node)
{
	for (uint64_t i = 0; i < n; i++) {
		uint8_t o = atomic_load(&r->owner[pfn + i]);

		FZ_CHECK(o != FREE, "frame %llu handed back but not queued", (unsigned long long)(pfn + i));
		FZ_CHECK(!check_node || o == node, "frame %llu of node %u handed back as node %u's",
			 (unsigned long long)(pfn + i), o, node);
		/* Look before the CAS: once it is FREE, its owner may put it (and dirty it) again. */
		FZ_CHECK(!memcmp(mem + (pfn + i) * PAGE, (uint64_t[1]){ 0 }, 8) &&
				 !memcmp(mem + (pfn + i + 1) * PAGE - 8, (uint64_t[1]){ 0 }, 8),
			 "frame %llu handed back dirty", (unsigned long long)(pfn + i));
		atomic_store(&r->head[pfn + i], false);
		FZ_CHECK(atomic_compare_exchange_strong(&r->owner[pfn + i], &o, FREE),
			 "frame %llu handed back twice", (unsigned long long)(pfn + i));
	}
	atomic_fetch_add(&r->cleaned, n);
}

static void r_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	struct rig *r = ctx;

	FZ_CHECK((pfn & -pfn) >= n || pfn == 0, "clean of an unaligned block");
	FZ_CHECK(!(n & (n - 1)), "clean of %llu pages", (unsigned long long)n);
	hand_back(r, node, pfn, n, true);
}

static bool r_yield(void *ctx)
{
	struct rig *r = ctx;

	return !r->mt && (fz_u8(r->f) & 3) == 3;
}

static const struct xmm_scrub_ops ops = {
	.link = r_link, .map = r_map, .clean = r_clean, .should_yield = r_yield,
};

static void dirty(xmm_pfn_t pfn, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		memset(mem + (pfn + i) * PAGE, 0xa5, 8);
		memset(mem + (pfn + i + 1) * PAGE - 8, 0xa5, 8);
	}
}

/* One op; @lo, @hi: the frames this stream may put (all of them single-threaded). */
static void one_op(struct rig *r, struct fz *f, xmm_pfn_t lo, xmm_pfn_t hi)
{
	unsigned int op = fz_u8(f) % 4, node = (unsigned)fz_below(f, r->nnodes + 1);
	xmm_pfn_t pfn = lo + fz_below(f, hi - lo), got;
	uint64_t n = fz_u8(f) % 70, head_busy, any_busy = 0;
	int rc;

	switch (op) {
	case 0:
		if (pfn + n > hi)
			n = hi - pfn;
		/* A queued frame that was put first keeps starting its piece: the library
		 * splits extents only into pieces that start where they did. */
		head_busy = n && atomic_load(&r->owner[pfn]) != FREE && atomic_load(&r->head[pfn]);
		for (uint64_t i = 0; i < n; i++)
			any_busy |= atomic_load(&r->owner[pfn + i]) != FREE;
		/*
		 * Which puts the model can follow: all, single-threaded, where every
		 * overlap is refused; in release builds not one that overlaps behind
		 * its first frame (undetected there, as xmm/scrub.h says); with
		 * threads only puts of free frames (others may be handing ours back).
		 */
		if (any_busy && (r->mt || (!head_busy && !XMM_DEBUG_PUT)))
			break;
		if (!any_busy && n && node < r->nnodes)
			atomic_store(&r->head[pfn], true); /* before the put: a racing clean clears it */
		if (!any_busy && n && node < r->nnodes) {
			/* Owned before the put: a racing clean must find the pages queued. */
			dirty(pfn, n);
			for (uint64_t i = 0; i < n; i++)
				atomic_store(&r->owner[pfn + i], (uint8_t)node);
		}
		rc = xmm_scrub_put(r->s, node, pfn, n);
		if (n == 0 || node >= r->nnodes)
			FZ_CHECK(rc == XMM_EINVAL, "bad put: %d", rc);
		else if (any_busy)
			FZ_CHECK(rc == XMM_EBUSY, "double put of [%llu, +%llu): %d", (unsigned long long)pfn,
				 (unsigned long long)n, rc);
		else
			FZ_CHECK(rc == 0, "put: %d", rc);
		break;
	case 1:
		(void)xmm_scrub_run(r->s, node, 1 + fz_u16(f) % 600);
		break;
	case 2:
		n = 1 + fz_u8(f) % 40;
		rc = xmm_scrub_take(r->s, node, n, &got);
		if (node >= r->nnodes) {
			FZ_CHECK(rc == XMM_EINVAL, "take on a bad node: %d", rc);
		} else if (rc == 0) {
			FZ_CHECK(got + n <= NFR, "take returned frame %llu", (unsigned long long)got);
			FZ_CHECK((n & (n - 1)) || !(got & (n - 1)), "take of %llu: frame %llu unaligned",
				 (unsigned long long)n, (unsigned long long)got);
			hand_back(r, node, got, n, true);
		} else {
			FZ_CHECK(rc == XMM_ENOENT || rc == XMM_ENOMEM, "take: %d", rc);
		}
		break;
	case 3:
		if (!r->mt)
			for (unsigned int nd = 0; nd < r->nnodes; nd++) {
				uint64_t want = 0;

				for (xmm_pfn_t x = 0; x < NFR; x++)
					want += atomic_load(&r->owner[x]) == nd;
				FZ_CHECK(xmm_scrub_pending(r->s, nd) == want, "pending(%u) %llu, model %llu", nd,
					 (unsigned long long)xmm_scrub_pending(r->s, nd), (unsigned long long)want);
			}
		break;
	}
}

struct worker {
	struct rig *r;
	struct fz f;
	xmm_pfn_t lo, hi;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (fz_more(&w->f))
		one_op(w->r, &w->f, w->lo, w->hi);
	return NULL;
}

static void check_links(struct rig *r)
{
	for (xmm_pfn_t x = 0; x < NFR; x++)
		if (atomic_load(&r->owner[x]) == FREE)
			FZ_CHECK(!r->links[x].next && !r->links[x].npages, "link of free frame %llu not zero",
				 (unsigned long long)x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t mode = fz_u8(&f);
	struct rig *r = &rig;
	uint8_t dist[16];

	if (!mem && !(mem = aligned_alloc(PAGE, (size_t)NFR * PAGE)))
		abort();
	memset(r, 0, sizeof(*r));
	memset(r->owner, FREE, sizeof(r->owner));
	r->nnodes = 1 + fz_u8(&f) % 4;
	r->f = &f;
	r->mt = mode & 1;
	for (int i = 0; i < 16; i++)
		dist[i] = fz_u8(&f);
	FZ_CHECK(xmm_scrub_create(&r->s, r->nnodes, mode & 2 ? dist : NULL, 1ULL << (fz_u8(&f) % 7), &ops,
				  r) == 0, "create");
	if (!r->mt) {
		for (int steps = 0; fz_more(&f) && steps < 3000; steps++) {
			one_op(r, &f, 0, NFR);
			check_links(r);
		}
	} else {
		unsigned int nt = 2 + (mode >> 2) % 3;
		struct worker w[4];
		pthread_t t[4];
		size_t per = f.n / nt;

		for (unsigned int i = 0; i < nt; i++) {
			w[i] = (struct worker){ r, fz_split(&f, per), i * (NFR / nt), (i + 1) * (NFR / nt) };
			FZ_CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0, "thread");
		}
		for (unsigned int i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
	}
	/* Drain: everything put comes back exactly once, and pending ends at 0. */
	r->mt = true; /* no more yields or map failures */
	for (unsigned int nd = 0; nd < r->nnodes; nd++)
		while (xmm_scrub_run(r->s, nd, UINT64_MAX))
			;
	for (unsigned int nd = 0; nd < r->nnodes; nd++)
		FZ_CHECK(xmm_scrub_pending(r->s, nd) == 0, "pending(%u) after the drain", nd);
	for (xmm_pfn_t x = 0; x < NFR; x++)
		FZ_CHECK(atomic_load(&r->owner[x]) == FREE, "frame %llu lost", (unsigned long long)x);
	check_links(r);
	xmm_scrub_destroy(r->s);
	return 0;
}
