/* SPDX-License-Identifier: MIT */
/*
 * NUMA-aware lock-free scrub queues: see xmm/scrub.h for the contract.
 *
 * Layout (one block of caller memory, xmm_scrub_size(nnodes) bytes):
 *
 *   line 0-1   read-only after init: ops, ctx, sizes
 *   line 2     idle handshake: sleepy flag, wake word
 *   queues     per node: XMM_SCRUB_ORDERS stack heads (5 lines), then a line
 *              with the class bitmap and the pending count
 *   steal      per node, every node nearest first (the node itself first)
 *
 * Each size class is a tagstack.h stack of extents, indexed by first frame
 * (XMM_SCRUB_PFN_BITS of index, the rest tag; its ABA argument and the limit
 * in xmm/scrub.h), linked through the caller-owned struct xmm_scrub_link.
 *
 * The class bitmap is a hint that lets run and take skip empty classes and
 * nodes. Pushes set the bit after a full fence; a pop that finds a stack
 * empty clears its bit, issues a full fence and looks again, setting the bit
 * back if the stack is not empty. Either the pusher's fenced load sees the
 * cleared bit (and sets it), or the popper's fenced look sees the push
 * (Dekker's pattern), so a non-empty stack never stays hidden (I4).
 *
 * Queued or not. A link whose npages is 0 is not queued (I6): put claims it
 * with a compare-and-swap from 0, so a double put, even a racing one, finds
 * it taken and returns XMM_EBUSY having changed nothing. The link keeps its
 * length while its extent is queued or in flight, and goes back to zero just
 * before its first page is handed back (hand_back, take). In debug builds
 * (XMM_DEBUG_CHECKS) put also marks every other frame's link of the extent
 * INTERIOR, so that an overlapping put finds one of them taken; pieces handed
 * back clear the links of all their frames.
 */
#include <xmm/errno.h>
#include <xmm/platform.h>
#include <xmm/scrub.h>
#include <xmm/zero.h>

#include "tagstack.h"
#include "utils.h"

#define BITS XMM_SCRUB_PFN_BITS
/* npages of a frame inside a queued or in-flight extent, debug builds only (I6). */
#define INTERIOR UINT64_MAX

struct scrub_queue {
	uint64_t head[XMM_SCRUB_ORDERS];
	uint64_t classes XMM_ALIGNED(XMM_CACHELINE); /* bit b: class b may be non-empty */
	uint64_t pending;                            /* I5 */
};

struct xmm_scrub {
	/* read-only after init */
	struct xmm_scrub_ops ops;
	void *ctx;
	uint64_t chunk;       /* power of two */
	uint64_t claim;       /* chunk * XMM_SCRUB_CLAIM_CHUNKS, a power of two */
	uint32_t nnodes;
	uint16_t *steal;      /* [nnodes * nnodes]: row n is node n's order of victims */
	/* idle handshake: written only when workers go idle and when one is woken */
	uint32_t sleepy XMM_ALIGNED(XMM_CACHELINE); /* 1: someone may sleep; the next push wakes */
	uint32_t wake_seq;
	struct scrub_queue q[] XMM_ALIGNED(XMM_CACHELINE);
};

_Static_assert(sizeof(struct scrub_queue) % XMM_CACHELINE == 0, "queues are whole lines");

/* The largest naturally aligned power-of-two block starting at @pfn, at most min(n, cap). */
static inline uint64_t front_block(xmm_pfn_t pfn, uint64_t n, uint64_t cap)
{
	uint64_t b = 1ULL << xmm_ilog2(n < cap ? n : cap);
	uint64_t align = pfn & -pfn;

	return pfn && align < b ? align : b;
}

size_t xmm_scrub_size(unsigned int nnodes)
{
	size_t sz;

	if (nnodes == 0 || nnodes > XMM_SCRUB_MAX_NODES)
		return 0;
	sz = sizeof(struct xmm_scrub) + (size_t)nnodes * sizeof(struct scrub_queue) +
	     (size_t)nnodes * nnodes * sizeof(uint16_t);
	return xmm_line_up(sz);
}

/*
 * Row @n of the steal order: @n itself, then the other nodes by distance,
 * ties in rotated index order (n+1, n+2, ...) so that equidistant nodes do
 * not all pick the same victim first. A counting sort over the 256 distances.
 */
static void steal_row(uint16_t *row, unsigned int n, unsigned int nnodes, const uint8_t *distance)
{
	uint32_t count[257];
	unsigned int i;

	row[0] = (uint16_t)n;
	__builtin_memset(count, 0, sizeof(count));
	for (i = 1; i < nnodes; i++) {
		unsigned int j = (n + i) % nnodes;

		count[(distance ? distance[(size_t)n * nnodes + j] : 0) + 1]++;
	}
	for (i = 1; i < 257; i++)
		count[i] += count[i - 1];
	for (i = 1; i < nnodes; i++) {
		unsigned int j = (n + i) % nnodes;

		row[1 + count[distance ? distance[(size_t)n * nnodes + j] : 0]++] = (uint16_t)j;
	}
}

int xmm_scrub_init(struct xmm_scrub *s, unsigned int nnodes, const uint8_t *distance,
		   uint64_t chunk_pages, const struct xmm_scrub_ops *ops, void *ctx)
{
	size_t sz = xmm_scrub_size(nnodes);

	if (!s || ((uintptr_t)s & (XMM_SCRUB_ALIGN - 1)) || sz == 0 || chunk_pages == 0 || !ops ||
	    !ops->link || !ops->map || !ops->clean)
		return XMM_EINVAL;
	__builtin_memset(s, 0, sz);
	s->ops = *ops;
	s->ctx = ctx;
	s->nnodes = nnodes;
	/* A chunk above 2^34 pages (64 TiB) buys nothing and could overflow the claim. */
	s->chunk = 1ULL << xmm_ilog2(chunk_pages > (1ULL << 34) ? 1ULL << 34 : chunk_pages);
	s->claim = s->chunk * XMM_SCRUB_CLAIM_CHUNKS;
	s->steal = (uint16_t *)(void *)&s->q[nnodes];
	for (unsigned int n = 0; n < nnodes; n++)
		steal_row(&s->steal[(size_t)n * nnodes], n, nnodes, distance);
	return 0;
}

unsigned int xmm_scrub_nnodes(const struct xmm_scrub *s)
{
	return s->nnodes;
}

uint64_t xmm_scrub_chunk_pages(const struct xmm_scrub *s)
{
	return s->chunk;
}

/* ---- the stacks ------------------------------------------------------------ */

/* The stacks' link accessors: an extent's link is the caller's, for its first frame. */
static uint64_t link_next(void *sp, uint64_t pfn)
{
	struct xmm_scrub *s = sp;

	return xmm_pr_load_relaxed_64(&s->ops.link(s->ctx, pfn)->next);
}

static void link_set_next(void *sp, uint64_t pfn, uint64_t next1)
{
	struct xmm_scrub *s = sp;

	xmm_pr_store_relaxed_64(&s->ops.link(s->ctx, pfn)->next, next1);
}

/* Push [pfn, pfn + n) on its class; returns the class's bit for publish(). */
static uint64_t push(struct xmm_scrub *s, struct scrub_queue *q, xmm_pfn_t pfn, uint64_t n)
{
	unsigned int b = xmm_ilog2(n);

	XMM_ASSERT(n && pfn + n <= XMM_SCRUB_MAX_PFN);
	/* Relaxed: the push's release CAS publishes it (tagstack.h). */
	xmm_pr_store_relaxed_64(&s->ops.link(s->ctx, pfn)->npages, n);
	xmm_tagstack_push(&q->head[b], BITS, pfn, s, link_set_next);
	return 1ULL << b;
}

/* Push [pfn, pfn + n) as its buddy decomposition: aligned blocks, largest fitting first. */
static uint64_t push_range(struct xmm_scrub *s, struct scrub_queue *q, xmm_pfn_t pfn, uint64_t n)
{
	uint64_t classes = 0;

	while (n) {
		uint64_t b = front_block(pfn, n, 1ULL << (XMM_SCRUB_ORDERS - 1));

		classes |= push(s, q, pfn, b);
		pfn += b;
		n -= b;
	}
	return classes;
}

/*
 * After pushes on @q's @classes: mark the classes non-empty and wake idle
 * workers. The full fence orders the pushes' head stores before the loads of
 * the bitmap and of the sleepy flag: it pairs with the fence in pop()'s empty
 * path (I4) and with the one in xmm_scrub_idle_begin (no lost wakeup). The
 * first pusher to see the flag takes it and wakes every sleeper; pushes until
 * one of them goes idle again pay only the fence and two loads. Every caller
 * pushed just before, so the fence follows a CAS: on x86 that CAS is the
 * fence (an mfence here would wait for the link's store miss, 4x the put).
 */
static void publish(struct xmm_scrub *s, struct scrub_queue *q, uint64_t classes)
{
	uint64_t missing;

	xmm_pr_fence_after_rmw();
	missing = classes & ~xmm_pr_load_relaxed_64(&q->classes);
	if (missing)
		xmm_pr_for_64(&q->classes, missing);
	if (xmm_pr_load_relaxed_32(&s->sleepy) && xmm_pr_cas_32(&s->sleepy, &(uint32_t){ 1 }, 0)) {
		/* Release: a sleeper that reads the new value sees our pushes (pairs with idle_begin). */
		xmm_pr_faa_32(&s->wake_seq, 1);
		xmm_pr_wake(&s->wake_seq);
	}
}

/* Pop the top extent of class @b of @q; false when the stack is empty. */
static bool pop(struct xmm_scrub *s, struct scrub_queue *q, unsigned int b, xmm_pfn_t *pfn,
		uint64_t *n)
{
	const uint64_t bit = 1ULL << b;

	for (;;) {
		if (xmm_tagstack_pop(&q->head[b], BITS, s, link_next, pfn)) {
			/* The pop's acquire pairs with the push that stored it. */
			*n = xmm_pr_load_relaxed_64(&s->ops.link(s->ctx, *pfn)->npages);
			XMM_ASSERT(xmm_ilog2(*n) == b); /* I3 */
			return true;
		}
		/* Empty: clear the hint, then look again (pairs with the fence in publish). */
		xmm_pr_fand_64(&q->classes, ~bit);
		xmm_pr_fence_after_rmw();
		if (xmm_tagstack_empty(&q->head[b], BITS))
			return false;
		xmm_pr_for_64(&q->classes, bit);
	}
}

/*
 * Pop the best fit for a claim of 2^c pages: class c, else the smallest
 * larger class, else the largest smaller one. Like a buddy allocator, this
 * leaves large blocks whole for take as long as smaller ones will do.
 */
static bool pop_fit(struct xmm_scrub *s, struct scrub_queue *q, unsigned int c, xmm_pfn_t *pfn,
		    uint64_t *n)
{
	/* Relaxed: only a hint; pop's acquire load of the head is what orders. */
	uint64_t classes = xmm_pr_load_relaxed_64(&q->classes);

	while (classes) {
		uint64_t up = classes >> c << c;
		unsigned int b = up ? (unsigned int)__builtin_ctzll(up) : xmm_ilog2(classes);

		if (pop(s, q, b, pfn, n))
			return true;
		classes &= ~(1ULL << b);
	}
	return false;
}

/* ---- put, run, take ---------------------------------------------------------- */

/* Zero the links of [pfn, pfn + n): its first frame's, and in debug builds every frame's (I6). */
static void unlink_range(struct xmm_scrub *s, xmm_pfn_t pfn, uint64_t n)
{
	uint64_t m = XMM_DEBUG_CHECKS ? n : 1;

	for (uint64_t i = 0; i < m; i++) {
		struct xmm_scrub_link *lk = s->ops.link(s->ctx, pfn + i);

		/* Relaxed: what the caller next does with the pages is ordered by clean / take's return. */
		xmm_pr_store_relaxed_64(&lk->next, 0);
		xmm_pr_store_relaxed_64(&lk->npages, 0);
	}
}

/* Debug builds: claim the links of [pfn + 1, pfn + n); false (and none claimed) on overlap. */
static bool claim_interior(struct xmm_scrub *s, xmm_pfn_t pfn, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		uint64_t zero = 0;

		if (!xmm_pr_cas_64(&s->ops.link(s->ctx, pfn + i)->npages, &zero, INTERIOR)) {
			while (--i)
				xmm_pr_store_relaxed_64(&s->ops.link(s->ctx, pfn + i)->npages, 0);
			return false;
		}
	}
	return true;
}

int xmm_scrub_put(struct xmm_scrub *s, unsigned int node, xmm_pfn_t pfn, uint64_t npages)
{
	struct scrub_queue *q;
	uint64_t zero = 0;
	uint64_t *len;

	if (npages == 0 || node >= s->nnodes || pfn > XMM_SCRUB_MAX_PFN ||
	    npages > XMM_SCRUB_MAX_PFN - pfn)
		return XMM_EINVAL;
	/*
	 * Claim the link (I6): a queued or in-flight extent's is not zero. The
	 * CAS makes two racing puts of one frame agree on a single winner; its
	 * ordering is not needed (the push's release CAS publishes the link).
	 */
	len = &s->ops.link(s->ctx, pfn)->npages;
	if (!xmm_pr_cas_64(len, &zero, npages))
		return XMM_EBUSY;
	if (XMM_DEBUG_CHECKS && !claim_interior(s, pfn, npages)) {
		xmm_pr_store_relaxed_64(len, 0);
		return XMM_EBUSY;
	}
	q = &s->q[node];
	/* Counted before it can be popped, so pending never drops below what is queued (I5). */
	xmm_pr_faa_64(&q->pending, npages);
	publish(s, q, push(s, q, pfn, npages));
	return 0;
}

/* Hand [pfn, pfn + n) of @node back through clean, then uncount it (pairs with pending()). */
static void hand_back(struct xmm_scrub *s, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	unlink_range(s, pfn, n); /* the caller may put these pages again once clean is called */
	s->ops.clean(s->ctx, node, pfn, n);
	xmm_pr_faa_64(&s->q[node].pending, -n);
}

/*
 * Zero one chunk [pfn, pfn + c) through the caller's mapping; false if map
 * failed (nothing was written). xmm_clear is fenced: the zeros are visible
 * before whatever the caller does next (clean, or take's return).
 */
static bool zero_chunk(struct xmm_scrub *s, xmm_pfn_t pfn, uint64_t c)
{
	void *va = s->ops.map(s->ctx, pfn, c);

	if (!va)
		return false;
	xmm_clear(va, (size_t)c << XMM_PAGE_SHIFT);
	if (s->ops.unmap)
		s->ops.unmap(s->ctx, va, c);
	return true;
}

/*
 * Zero a claimed block [pfn, pfn + n) of @node chunk by chunk, handing each
 * chunk back as soon as it is zero. Returns the pages scrubbed; sets *stop
 * and puts the rest back when should_yield says so or map fails.
 */
static uint64_t scrub_claim(struct xmm_scrub *s, unsigned int node, xmm_pfn_t pfn, uint64_t n,
			    bool *stop)
{
	uint64_t done = 0;

	while (done < n) {
		xmm_pfn_t p = pfn + done;
		uint64_t c = front_block(p, n - done, s->chunk);

		if (!zero_chunk(s, p, c)) {
			publish(s, &s->q[node], push_range(s, &s->q[node], p, n - done));
			*stop = true;
			return done;
		}
		hand_back(s, node, p, c);
		done += c;
		if (s->ops.should_yield && s->ops.should_yield(s->ctx)) {
			if (done < n)
				publish(s, &s->q[node], push_range(s, &s->q[node], pfn + done, n - done));
			*stop = true;
			return done;
		}
	}
	return done;
}

uint64_t xmm_scrub_run(struct xmm_scrub *s, unsigned int node, uint64_t budget_pages)
{
	const uint16_t *order;
	uint64_t done = 0;
	bool stop = false;

	if (node >= s->nnodes)
		return 0;
	order = &s->steal[(size_t)node * s->nnodes];
	while (done < budget_pages && !stop) {
		uint64_t cap = budget_pages - done < s->claim ? budget_pages - done : s->claim;
		struct scrub_queue *q = NULL;
		unsigned int victim = 0;
		uint64_t n = 0, claim;
		xmm_pfn_t pfn = 0;

		for (unsigned int i = 0; i < s->nnodes && !q; i++) {
			victim = order[i];
			if (pop_fit(s, &s->q[victim], xmm_ilog2(cap), &pfn, &n))
				q = &s->q[victim];
		}
		if (!q)
			break;
		/* Claim a bounded aligned block; the rest goes back at once, visible to take. */
		claim = front_block(pfn, n, cap);
		if (claim < n)
			publish(s, q, push_range(s, q, pfn + claim, n - claim));
		done += scrub_claim(s, victim, pfn, claim, &stop);
	}
	return done;
}

/* Where a block of @m pages fits in [pfn, pfn + n): 2^k blocks 2^k-aligned. */
static bool fits(xmm_pfn_t pfn, uint64_t n, uint64_t m, xmm_pfn_t *at)
{
	xmm_pfn_t a = (m & (m - 1)) ? pfn : (pfn + m - 1) & ~(m - 1);

	*at = a;
	return a - pfn <= n && n - (a - pfn) >= m;
}

/* Find and claim @m pages in @q; the rest of the extent, and extents that did not fit, go back. */
static bool claim_block(struct xmm_scrub *s, struct scrub_queue *q, uint64_t m, xmm_pfn_t *at)
{
	const unsigned int k = xmm_ilog2(m);
	uint64_t held = 0, classes = 0, n = 0, larger;
	bool found = false;
	xmm_pfn_t pfn = 0;

	/* Relaxed loads of the bitmap: hints; pop's acquire load of the head orders. */
	if ((xmm_pr_load_relaxed_64(&q->classes) >> k) & 1 && pop(s, q, k, &pfn, &n)) {
		found = fits(pfn, n, m, at);
		if (!found) {
			/* Hold it on a private chain (we own its link now) and look elsewhere. */
			link_set_next(s, pfn, held);
			held = pfn + 1;
		}
	}
	/* Every extent of a larger class holds such a block: take the smallest. */
	larger = k + 1 < XMM_SCRUB_ORDERS ? xmm_pr_load_relaxed_64(&q->classes) >> (k + 1) << (k + 1)
					   : 0;
	while (!found && larger) {
		unsigned int b = (unsigned int)__builtin_ctzll(larger);

		if (pop(s, q, b, &pfn, &n)) {
			found = fits(pfn, n, m, at);
			XMM_ASSERT(found); /* n >= 2^(k+1) > m + (alignment slack) */
		}
		larger &= larger - 1;
	}
	/* Last resort: search class k (only extents put unaligned can miss). */
	while (!found && pop(s, q, k, &pfn, &n)) {
		found = fits(pfn, n, m, at);
		if (!found) {
			link_set_next(s, pfn, held);
			held = pfn + 1;
		}
	}
	while (held) {
		uint64_t next = link_next(s, held - 1);

		classes |= push(s, q, held - 1,
				xmm_pr_load_relaxed_64(&s->ops.link(s->ctx, held - 1)->npages));
		held = next;
	}
	if (found) {
		classes |= push_range(s, q, pfn, *at - pfn);
		classes |= push_range(s, q, *at + m, pfn + n - (*at + m));
	}
	if (classes)
		publish(s, q, classes);
	return found;
}

int xmm_scrub_take(struct xmm_scrub *s, unsigned int node, uint64_t npages, xmm_pfn_t *pfn_out)
{
	struct scrub_queue *q;
	xmm_pfn_t at;

	if (!pfn_out || npages == 0 || npages > XMM_SCRUB_MAX_PFN || node >= s->nnodes)
		return XMM_EINVAL;
	q = &s->q[node];
	if (!claim_block(s, q, npages, &at))
		return XMM_ENOENT;
	for (uint64_t done = 0; done < npages;) {
		uint64_t c = front_block(at + done, npages - done, s->chunk);

		if (!zero_chunk(s, at + done, c)) {
			/* The block goes back whole: zeroing a page twice is harmless. */
			publish(s, q, push_range(s, q, at, npages));
			return XMM_ENOMEM;
		}
		done += c;
	}
	unlink_range(s, at, npages); /* I6: the block is the caller's again */
	xmm_pr_faa_64(&q->pending, -npages); /* pairs with pending()'s acquire */
	*pfn_out = at;
	return 0;
}

uint64_t xmm_scrub_pending(const struct xmm_scrub *s, unsigned int node)
{
	if (node >= s->nnodes)
		return 0;
	/* Acquire pairs with the acq_rel decrements after clean / take. */
	return xmm_pr_load_acquire_64(&s->q[node].pending);
}

/* ---- sleeping workers ----------------------------------------------------- */

/*
 * Dekker's pattern with publish: we store the flag, fence, read the word and
 * look at every stack; a pusher pushes, fences and reads the flag. Either we
 * see the push, or the pusher sees our flag (or a later one) and moves the
 * word after we read it, so the futex wait returns at once or is woken. A
 * pusher that took an earlier sleeper's flag moved the word before our read,
 * or we see its push: its push precedes its take of the flag.
 */
bool xmm_scrub_idle_begin(struct xmm_scrub *s, uint32_t *seq)
{
	xmm_pr_store_relaxed_32(&s->sleepy, 1);
	/* Full fence: the flag before the looks below; pairs with the fence in publish. */
	xmm_pr_fence_full();
	/* Acquire pairs with publish's increment: a changed word means pushes we must see. */
	*seq = xmm_pr_load_acquire_32(&s->wake_seq);
	for (unsigned int n = 0; n < s->nnodes; n++)
		for (unsigned int b = 0; b < XMM_SCRUB_ORDERS; b++)
			if (xmm_tagstack_idx1(xmm_pr_load_relaxed_64(&s->q[n].head[b]), BITS))
				return false; /* the flag stays: at worst one needless wake */
	return true;
}

uint32_t *xmm_scrub_wake_word(struct xmm_scrub *s)
{
	return &s->wake_seq;
}

void xmm_scrub_wake(struct xmm_scrub *s)
{
	/* acq_rel: what the caller did before (e.g. setting a stop flag) is seen by woken sleepers. */
	xmm_pr_faa_32(&s->wake_seq, 1);
	xmm_pr_wake(&s->wake_seq);
}
