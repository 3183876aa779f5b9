/* SPDX-License-Identifier: MIT */
/*
 * Unit tests and the model-based test of the scrub queues (xmm/scrub.h),
 * over a small machine of real memory whose callbacks record everything.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/scrub.h>

#include "common.h"

#define PAGE XMM_PAGE_SIZE

struct piece {
	unsigned int node;
	xmm_pfn_t pfn;
	uint64_t n;
};

/* A machine: npages frames of memory, one link each, and a log of what the library did. */
struct mach {
	struct xmm_scrub *s;
	xmm_pfn_t base; /* frame of mem[0] */
	uint64_t npages, chunk;
	unsigned char *mem;
	struct xmm_scrub_link *links;
	struct piece *log;
	size_t nlog, cap;
	uint64_t link_calls;
	uint64_t since_check;  /* pages cleaned since the last should_yield */
	uint64_t checks;
	bool yielded;          /* should_yield said yes */
	uint64_t yield_at;     /* should_yield says yes at this check (0: never) */
	struct test_rng *yield_rng; /* or at random, when set */
	bool fail_map;
	uint64_t max_map;
	void (*on_clean)(struct mach *m, const struct piece *p);
};

static struct xmm_scrub_link *m_link(void *ctx, xmm_pfn_t pfn)
{
	struct mach *m = ctx;

	cr_assert(pfn >= m->base && pfn - m->base < m->npages, "link of frame %llu beyond the machine",
		  (unsigned long long)pfn);
	m->link_calls++;
	return &m->links[pfn - m->base];
}

static void *m_map(void *ctx, xmm_pfn_t pfn, uint64_t n)
{
	struct mach *m = ctx;

	cr_assert_leq(n, m->chunk, "map of %llu pages, chunk %llu", (unsigned long long)n,
		      (unsigned long long)m->chunk);
	cr_assert(pfn >= m->base && pfn - m->base + n <= m->npages);
	if (n > m->max_map)
		m->max_map = n;
	return m->fail_map ? NULL : m->mem + (pfn - m->base) * PAGE;
}

static void m_unmap(void *ctx, void *va, uint64_t n)
{
	(void)ctx, (void)va, (void)n;
}

static void m_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	struct mach *m = ctx;

	if (m->nlog == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->log = realloc(m->log, m->cap * sizeof(*m->log));
		cr_assert_not_null(m->log);
	}
	m->log[m->nlog] = (struct piece){ node, pfn, n };
	m->since_check += n;
	if (m->on_clean)
		m->on_clean(m, &m->log[m->nlog]);
	m->nlog++;
}

static bool m_should_yield(void *ctx)
{
	struct mach *m = ctx;

	cr_assert_leq(m->since_check, m->chunk, "%llu pages scrubbed between two checks, chunk %llu",
		      (unsigned long long)m->since_check, (unsigned long long)m->chunk);
	m->since_check = 0;
	m->checks++;
	if (m->yield_rng)
		m->yielded = test_rng_below(m->yield_rng, 4) == 0;
	else
		m->yielded = m->yield_at && m->checks == m->yield_at;
	return m->yielded;
}

static const struct xmm_scrub_ops m_ops = {
	.link = m_link, .map = m_map, .unmap = m_unmap, .clean = m_clean,
	.should_yield = m_should_yield,
};

static struct mach *mach_new(unsigned int nnodes, const uint8_t *distance, uint64_t npages,
			     uint64_t chunk)
{
	struct mach *m = calloc(1, sizeof(*m));

	cr_assert_not_null(m);
	m->npages = npages;
	m->mem = aligned_alloc(PAGE, npages * PAGE);
	m->links = calloc(npages, sizeof(*m->links));
	cr_assert(m->mem && m->links);
	memset(m->mem, 0x5a, npages * PAGE);
	cr_assert_eq(xmm_scrub_create(&m->s, nnodes, distance, chunk, &m_ops, m), 0);
	m->chunk = xmm_scrub_chunk_pages(m->s);
	return m;
}

static void mach_free(struct mach *m)
{
	xmm_scrub_destroy(m->s);
	free(m->mem);
	free(m->links);
	free(m->log);
	free(m);
}

static unsigned char pattern(xmm_pfn_t pfn)
{
	return (unsigned char)(pfn * 7 + 1) | 1; /* never zero */
}

static void fill(struct mach *m, xmm_pfn_t pfn, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		memset(m->mem + (pfn + i) * PAGE, pattern(pfn + i), PAGE);
}

static bool is_zero(const struct mach *m, xmm_pfn_t pfn, uint64_t n)
{
	const uint64_t *w = (const uint64_t *)(const void *)(m->mem + pfn * PAGE);

	for (uint64_t i = 0; i < n * PAGE / 8; i++)
		if (w[i])
			return false;
	return true;
}

static bool is_pattern(const struct mach *m, xmm_pfn_t pfn, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		for (size_t b = 0; b < PAGE; b += 512)
			if (m->mem[(pfn + i) * PAGE + b] != pattern(pfn + i))
				return false;
	return true;
}

static bool aligned_block(xmm_pfn_t pfn, uint64_t n)
{
	return n && !(n & (n - 1)) && pfn % n == 0;
}

/* ---- sizes and arguments ---------------------------------------------------- */

Test(scrub, size_rejects_bad_nnodes)
{
	cr_expect_eq(xmm_scrub_size(0), 0);
	cr_expect_eq(xmm_scrub_size(XMM_SCRUB_MAX_NODES + 1), 0);
	cr_expect_gt(xmm_scrub_size(1), 0);
	cr_expect_eq(xmm_scrub_size(3) % XMM_CACHELINE, 0);
	cr_expect_lt(xmm_scrub_size(1), xmm_scrub_size(2));
	cr_expect_gt(xmm_scrub_size(XMM_SCRUB_MAX_NODES), 0);
}

Test(scrub, init_rejects_bad_arguments)
{
	size_t sz = xmm_scrub_size(4);
	char *mem = aligned_alloc(XMM_SCRUB_ALIGN, sz + XMM_SCRUB_ALIGN);
	struct xmm_scrub *s = (struct xmm_scrub *)mem;
	struct xmm_scrub_ops ops = m_ops;
	struct mach ctx = { 0 };

	cr_assert_not_null(mem);
	cr_expect_eq(xmm_scrub_init(NULL, 4, NULL, 8, &ops, &ctx), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_init((struct xmm_scrub *)(mem + 8), 4, NULL, 8, &ops, &ctx), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_init(s, 0, NULL, 8, &ops, &ctx), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_init(s, XMM_SCRUB_MAX_NODES + 1, NULL, 8, &ops, &ctx), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_init(s, 4, NULL, 0, &ops, &ctx), XMM_EINVAL, "chunk_pages 0");
	cr_expect_eq(xmm_scrub_init(s, 4, NULL, 8, NULL, &ctx), XMM_EINVAL);
	ops.link = NULL;
	cr_expect_eq(xmm_scrub_init(s, 4, NULL, 8, &ops, &ctx), XMM_EINVAL);
	ops = m_ops;
	ops.map = NULL;
	cr_expect_eq(xmm_scrub_init(s, 4, NULL, 8, &ops, &ctx), XMM_EINVAL);
	ops = m_ops;
	ops.clean = NULL;
	cr_expect_eq(xmm_scrub_init(s, 4, NULL, 8, &ops, &ctx), XMM_EINVAL);
	ops = m_ops;
	ops.unmap = NULL;
	ops.should_yield = NULL;
	cr_expect_eq(xmm_scrub_init(s, 4, NULL, 1000, &ops, &ctx), 0, "unmap, should_yield optional");
	cr_expect_eq(xmm_scrub_nnodes(s), 4);
	cr_expect_eq(xmm_scrub_chunk_pages(s), 512, "rounded down to a power of two");
	for (unsigned int n = 0; n < 4; n++)
		cr_expect_eq(xmm_scrub_pending(s, n), 0);

	struct xmm_scrub *out = (struct xmm_scrub *)0x1;

	cr_expect_eq(xmm_scrub_create(&out, 0, NULL, 8, &m_ops, &ctx), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_create(&out, 2, NULL, 0, &m_ops, &ctx), XMM_EINVAL);
	cr_expect_eq(out, (struct xmm_scrub *)0x1, "untouched on error");
	cr_expect_eq(xmm_scrub_create(NULL, 2, NULL, 8, &m_ops, &ctx), XMM_EINVAL);
	free(mem);
}

/* Bad input queues nothing, touches no link and loses nothing already queued. */
Test(scrub, put_rejects_bad_extents)
{
	struct mach *m = mach_new(2, NULL, 64, 8);
	xmm_pfn_t p;

	fill(m, 0, 64);
	cr_assert_eq(xmm_scrub_put(m->s, 1, 16, 16), 0);
	m->link_calls = 0;
	cr_expect_eq(xmm_scrub_put(m->s, 0, 0, 0), XMM_EINVAL, "npages 0");
	cr_expect_eq(xmm_scrub_put(m->s, 2, 0, 1), XMM_EINVAL, "node out of range");
	cr_expect_eq(xmm_scrub_put(m->s, 1000, 0, 1), XMM_EINVAL, "node out of range");
	cr_expect_eq(xmm_scrub_put(m->s, 0, XMM_SCRUB_MAX_PFN, 1), XMM_EINVAL, "beyond the frame limit");
	cr_expect_eq(xmm_scrub_put(m->s, 0, 5, UINT64_MAX), XMM_EINVAL, "pfn + npages overflows");
	cr_expect_eq(xmm_scrub_put(m->s, 0, UINT64_MAX, 2), XMM_EINVAL, "pfn + npages overflows");
	cr_expect_eq(xmm_scrub_put(m->s, 0, XMM_SCRUB_MAX_PFN - 3, 4), XMM_EINVAL, "one frame too far");
	cr_expect_eq(m->link_calls, 0, "nothing queued");
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	cr_expect_eq(xmm_scrub_pending(m->s, 1), 16);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 1, &p), XMM_ENOENT);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 16, "only the good extent, stolen from node 1");
	cr_expect_eq(m->nlog, 2);
	cr_expect(is_zero(m, 16, 16));
	cr_expect(is_pattern(m, 0, 16) && is_pattern(m, 32, 32), "nothing else written");
	mach_free(m);
}

Test(scrub, put_accepts_the_last_frames)
{
	struct mach *m = mach_new(1, NULL, 64, 8);
	xmm_pfn_t p;

	m->base = XMM_SCRUB_MAX_PFN - 64;
	/* Frames 2^40 - 6 .. 2^40 - 2: no aligned block of 4 (it would need 2^40 - 1). */
	cr_expect_eq(xmm_scrub_put(m->s, 0, XMM_SCRUB_MAX_PFN - 5, 5), 0, "ends at the limit");
	cr_expect_eq(xmm_scrub_take(m->s, 0, 4, &p), XMM_ENOENT);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 2, &p), 0);
	cr_expect_eq(p, XMM_SCRUB_MAX_PFN - 5);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 3);
	cr_expect_eq(m->log[0].pfn, XMM_SCRUB_MAX_PFN - 3);
	cr_expect_eq(m->log[0].n, 2);
	cr_expect_eq(m->log[1].pfn, XMM_SCRUB_MAX_PFN - 1);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	mach_free(m);
}

Test(scrub, take_and_run_reject_bad_arguments)
{
	struct mach *m = mach_new(2, NULL, 64, 8);
	xmm_pfn_t p = 77;

	fill(m, 0, 64);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 32), 0);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 0, &p), XMM_EINVAL, "npages 0");
	cr_expect_eq(xmm_scrub_take(m->s, 2, 1, &p), XMM_EINVAL, "node out of range");
	cr_expect_eq(xmm_scrub_take(m->s, 0, 1, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_take(m->s, 0, XMM_SCRUB_MAX_PFN + 1, &p), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_take(m->s, 1, 1, &p), XMM_ENOENT, "node 1 has nothing; take never steals");
	cr_expect_eq(xmm_scrub_take(m->s, 0, 64, &p), XMM_ENOENT, "no extent that large");
	cr_expect_eq(p, 77, "untouched on error");
	cr_expect_eq(xmm_scrub_run(m->s, 2, UINT64_MAX), 0, "node out of range");
	cr_expect_eq(xmm_scrub_run(m->s, 0, 0), 0, "budget 0");
	cr_expect_eq(m->nlog, 0);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 32);
	cr_expect_eq(xmm_scrub_pending(m->s, 2), 0, "node out of range");
	cr_expect(is_pattern(m, 0, 64));
	mach_free(m);
}

/* ---- scrubbing -------------------------------------------------------------- */

Test(scrub, run_hands_back_aligned_chunks_as_they_are_zeroed)
{
	struct mach *m = mach_new(1, NULL, 2048, 64);
	uint64_t covered = 0;

	fill(m, 0, 2048);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 1024, 1024), 0);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 1024);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 1024);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	cr_expect_eq(m->nlog, 1024 / 64, "one clean per chunk");
	for (size_t i = 0; i < m->nlog; i++) {
		cr_expect(aligned_block(m->log[i].pfn, m->log[i].n));
		cr_expect_eq(m->log[i].n, 64);
		cr_expect_geq(m->log[i].pfn, 1024);
		covered += m->log[i].n;
	}
	cr_expect_eq(covered, 1024);
	cr_expect(is_zero(m, 1024, 1024));
	cr_expect(is_pattern(m, 0, 1024), "memory around the extent untouched");
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 0, "nothing left");
	mach_free(m);
}

Test(scrub, run_keeps_to_its_budget_and_puts_the_rest_back)
{
	struct mach *m = mach_new(1, NULL, 256, 8);
	xmm_pfn_t p;

	fill(m, 0, 256);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 256), 0);
	cr_expect_eq(xmm_scrub_run(m->s, 0, 8), 8);
	cr_expect_eq(m->nlog, 1);
	cr_expect_eq(m->log[0].n, 8);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 248);
	cr_expect_eq(xmm_scrub_run(m->s, 0, 13), 13, "budget not a multiple of the chunk");
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 235);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 128, &p), 0, "the rest is back in the queue, still whole");
	cr_expect_eq(p, 128);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 107);
	cr_expect(is_zero(m, 0, 256));
	for (size_t i = 0; i < m->nlog; i++)
		cr_expect(aligned_block(m->log[i].pfn, m->log[i].n) && m->log[i].n <= 8);
	mach_free(m);
}

/* Every chunk is followed by a check; a yes stops run and the rest goes back. */
Test(scrub, yield_bounds_every_chunk_and_stops_run)
{
	struct mach *m = mach_new(1, NULL, 1024, 16);
	uint64_t total = 0;

	fill(m, 0, 1024);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 3, 1000), 0, "unaligned: pieces ramp up and down");
	m->yield_at = 3;
	uint64_t n = xmm_scrub_run(m->s, 0, UINT64_MAX);

	cr_expect_eq(m->checks, 3);
	cr_expect_eq(m->nlog, 3);
	for (size_t i = 0; i < m->nlog; i++)
		total += m->log[i].n;
	cr_expect_eq(n, total);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 1000 - n);
	m->yield_at = 0;
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 1000 - n);
	cr_expect_eq(m->checks, m->nlog, "one check after every chunk");
	cr_expect(is_zero(m, 3, 1000));
	cr_expect(is_pattern(m, 0, 3) && is_pattern(m, 1003, 21));
	mach_free(m);
}

Test(scrub, map_failure_puts_everything_back)
{
	struct mach *m = mach_new(1, NULL, 128, 8);
	xmm_pfn_t p = 5;

	fill(m, 0, 128);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 128), 0);
	m->fail_map = true;
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 0);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 64, &p), XMM_ENOMEM);
	cr_expect_eq(p, 5);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 128);
	cr_expect_eq(m->nlog, 0);
	m->fail_map = false;
	cr_expect_eq(xmm_scrub_take(m->s, 0, 64, &p), 0, "the block is back, whole");
	cr_expect_eq(p % 64, 0);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 64);
	cr_expect(is_zero(m, 0, 128));
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	mach_free(m);
}

Test(scrub, take_returns_aligned_zeroed_blocks_and_splits_the_rest)
{
	struct mach *m = mach_new(1, NULL, 4096, 16);
	xmm_pfn_t p;
	uint64_t taken = 0;

	fill(m, 0, 4096);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 2048, 2048), 0);
	for (unsigned int k = 0; k <= 9; k++) {
		cr_assert_eq(xmm_scrub_take(m->s, 0, 1ULL << k, &p), 0, "order %u", k);
		cr_expect_eq(p % (1ULL << k), 0, "order %u block at %llu", k, (unsigned long long)p);
		cr_expect(p >= 2048 && p + (1ULL << k) <= 4096);
		cr_expect(is_zero(m, p, 1ULL << k));
		taken += 1ULL << k;
		cr_expect_eq(xmm_scrub_pending(m->s, 0), 2048 - taken);
	}
	cr_expect_leq(m->max_map, 16, "take maps at most a chunk at a time");
	cr_expect_eq(xmm_scrub_take(m->s, 0, 3, &p), 0, "not a power of two: any 3 contiguous pages");
	taken += 3;
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 2048 - taken);
	for (size_t i = 0; i < m->nlog; i++)
		cr_expect(aligned_block(m->log[i].pfn, m->log[i].n), "clean got %llu+%llu",
			  (unsigned long long)m->log[i].pfn, (unsigned long long)m->log[i].n);
	cr_expect(is_zero(m, 2048, 2048));
	cr_expect(is_pattern(m, 0, 2048));
	mach_free(m);
}

/* Extents put unaligned: take searches its class when the top does not fit. */
Test(scrub, take_searches_past_extents_that_do_not_fit)
{
	struct mach *m = mach_new(1, NULL, 64, 8);
	xmm_pfn_t p;

	cr_assert_eq(xmm_scrub_put(m->s, 0, 16, 8), 0);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 1, 8), 0, "class 3 but holds no aligned 8");
	cr_expect_eq(xmm_scrub_take(m->s, 0, 8, &p), 0);
	cr_expect_eq(p, 16);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 8, &p), XMM_ENOENT);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 7, &p), 0, "7 contiguous pages fit");
	cr_expect_eq(p, 1);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 1);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 1, &p), 0);
	cr_expect_eq(p, 8);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	mach_free(m);
}

/* A worker's claim puts the rest of the extent back before it scrubs. */
static void take_during_clean(struct mach *m, const struct piece *pc)
{
	xmm_pfn_t p;

	if (m->nlog == 0)
		cr_expect_eq(xmm_scrub_take(m->s, pc->node, 64, &p), 0,
			     "memory a worker is about to scrub stays visible to take");
}

Test(scrub, claimed_memory_stays_visible_to_take)
{
	struct mach *m = mach_new(1, NULL, 4096, 8);

	m->on_clean = take_during_clean;
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 4096), 0);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 4096 - 64);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	mach_free(m);
}

/* Own node first, then the nearest; nodes without workers are scrubbed by others. */
Test(scrub, run_steals_nearest_first)
{
	/* node 0 is 40 from node 1, 20 from node 2, 30 from node 3 */
	static const uint8_t dist[16] = { 10, 40, 20, 30, 40, 10, 20, 20,
					  20, 20, 10, 20, 30, 20, 20, 10 };
	struct mach *m = mach_new(4, dist, 256, 8);

	for (unsigned int n = 0; n < 4; n++)
		cr_assert_eq(xmm_scrub_put(m->s, n, n * 64, 8), 0);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 32);
	cr_assert_eq(m->nlog, 4);
	cr_expect_eq(m->log[0].node, 0);
	cr_expect_eq(m->log[1].node, 2);
	cr_expect_eq(m->log[2].node, 3);
	cr_expect_eq(m->log[3].node, 1);
	for (unsigned int i = 0; i < 4; i++)
		cr_expect_eq(m->log[i].pfn, m->log[i].node * 64, "clean names the memory's own node");
	for (unsigned int n = 0; n < 4; n++)
		cr_expect_eq(xmm_scrub_pending(m->s, n), 0);

	/* No distances: the others in rotated order, so equidistant victims differ per node. */
	struct mach *r = mach_new(3, NULL, 64, 8);

	cr_assert_eq(xmm_scrub_put(r->s, 0, 0, 8), 0);
	cr_assert_eq(xmm_scrub_put(r->s, 2, 8, 8), 0);
	cr_expect_eq(xmm_scrub_run(r->s, 1, 8), 8);
	cr_expect_eq(r->log[0].node, 2, "node 1 looks at 2 before 0");
	mach_free(r);
	mach_free(m);
}

Test(scrub, idle_handshake)
{
	struct mach *m = mach_new(2, NULL, 64, 8);
	uint32_t seq, w = *xmm_scrub_wake_word(m->s);

	cr_assert(xmm_scrub_idle_begin(m->s, &seq), "nothing queued: may sleep");
	cr_expect_eq(seq, w);
	cr_assert(xmm_scrub_idle_begin(m->s, &seq), "a second sleeper");
	cr_assert_eq(xmm_scrub_put(m->s, 1, 0, 8), 0);
	cr_expect_eq(*xmm_scrub_wake_word(m->s), seq + 1, "the first put after idle moves the word");
	cr_assert_eq(xmm_scrub_put(m->s, 1, 8, 8), 0);
	cr_expect_eq(*xmm_scrub_wake_word(m->s), seq + 1, "once for all sleepers");
	w = *xmm_scrub_wake_word(m->s);
	cr_expect_not(xmm_scrub_idle_begin(m->s, &seq), "work queued on node 1");
	cr_assert_eq(xmm_scrub_put(m->s, 0, 16, 8), 0);
	cr_expect_eq(*xmm_scrub_wake_word(m->s), w + 1, "a cancelled idle costs one needless wake");
	cr_assert_eq(xmm_scrub_put(m->s, 0, 24, 8), 0);
	cr_expect_eq(*xmm_scrub_wake_word(m->s), w + 1, "nobody idle: put leaves the word alone");
	xmm_scrub_wake(m->s);
	cr_expect_eq(*xmm_scrub_wake_word(m->s), w + 2);
	mach_free(m);
}

/* ---- the model-based test ----------------------------------------------------- */

/*
 * The reference: each node's queued memory as a set of extents, split the
 * way the contract says (a block taken out of an extent leaves the buddy
 * decomposition of what is left on either side), with no order. That fixes
 * exactly when take must succeed, which pieces clean may get, and pending.
 */
#define MNODES 3
#define MPAGES 2048
#define MAXEXT 4096

struct model {
	struct piece ext[MAXEXT];
	size_t n;
	int8_t node_of[MPAGES]; /* -1: the caller's */
};

static void model_add(struct model *md, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	cr_assert_lt(md->n, MAXEXT);
	md->ext[md->n++] = (struct piece){ node, pfn, n };
}

static void model_add_blocks(struct model *md, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	while (n) {
		uint64_t b = 1;

		while (b * 2 <= n && (pfn % (b * 2)) == 0)
			b *= 2;
		model_add(md, node, pfn, b);
		pfn += b;
		n -= b;
	}
}

/* Remove the block [pfn, pfn + n) from the one extent that holds it. */
static void model_remove(struct model *md, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	for (size_t i = 0; i < md->n; i++) {
		struct piece e = md->ext[i];

		if (e.node != node || pfn < e.pfn || pfn + n > e.pfn + e.n)
			continue;
		md->ext[i] = md->ext[--md->n];
		model_add_blocks(md, node, e.pfn, pfn - e.pfn);
		model_add_blocks(md, node, pfn + n, e.pfn + e.n - pfn - n);
		for (uint64_t k = 0; k < n; k++)
			md->node_of[pfn + k] = -1;
		return;
	}
	cr_assert_fail("block %llu+%llu of node %u is in no queued extent", (unsigned long long)pfn,
		       (unsigned long long)n, node);
}

static bool model_fits(const struct model *md, unsigned int node, uint64_t m)
{
	bool pow2 = !(m & (m - 1));

	for (size_t i = 0; i < md->n; i++) {
		const struct piece *e = &md->ext[i];
		xmm_pfn_t a = pow2 ? (e->pfn + m - 1) / m * m : e->pfn;

		if (e->node == node && a + m <= e->pfn + e->n)
			return true;
	}
	return false;
}

static uint64_t model_pending(const struct model *md, unsigned int node)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < md->n; i++)
		if (md->ext[i].node == node)
			sum += md->ext[i].n;
	return sum;
}

static unsigned int steal_rank(const uint8_t *dist, unsigned int from, unsigned int to)
{
	/* Position of @to in @from's steal order: own node, then by distance, ties rotated. */
	unsigned int rank = 0;

	if (from == to)
		return 0;
	for (unsigned int i = 1; i < MNODES; i++) {
		unsigned int j = (from + i) % MNODES;

		if (j == to)
			continue;
		if (dist[from * MNODES + j] < dist[from * MNODES + to] ||
		    (dist[from * MNODES + j] == dist[from * MNODES + to] &&
		     (j + MNODES - from) % MNODES < (to + MNODES - from) % MNODES))
			rank++;
	}
	return rank + 1;
}

static void model_round(uint64_t seed, uint64_t steps)
{
	static const uint64_t chunks[] = { 1, 4, 16, 64 };
	struct test_rng rng;
	uint8_t dist[MNODES * MNODES];
	struct model *md = calloc(1, sizeof(*md));
	struct mach *m;

	test_rng_seed(&rng, seed);
	for (unsigned int i = 0; i < MNODES; i++)
		for (unsigned int j = 0; j < MNODES; j++)
			dist[i * MNODES + j] = i == j ? 10 : (uint8_t)(12 + test_rng_below(&rng, 3) * 10);
	m = mach_new(MNODES, dist, MPAGES, chunks[test_rng_below(&rng, 4)]);
	memset(md->node_of, -1, sizeof(md->node_of));
	for (uint64_t step = 0; step < steps; step++) {
		unsigned int node = (unsigned int)test_rng_below(&rng, MNODES);
		uint64_t op = test_rng_below(&rng, 10);

		if (op < 4) { /* put a range the caller owns, aligned or not */
			uint64_t n = test_rng_below(&rng, 2) ? 1ULL << test_rng_below(&rng, 9)
							     : 1 + test_rng_below(&rng, 300);
			xmm_pfn_t pfn = test_rng_below(&rng, MPAGES - n + 1);
			bool free = true;

			if (n > 1 && !(n & (n - 1)) && test_rng_below(&rng, 2))
				pfn = pfn / n * n;
			for (uint64_t k = 0; k < n && free; k++)
				free = md->node_of[pfn + k] < 0;
			if (!free)
				continue;
			fill(m, pfn, n);
			cr_assert_eq(xmm_scrub_put(m->s, node, pfn, n), 0);
			model_add(md, node, pfn, n);
			memset(&md->node_of[pfn], (int)node, n);
		} else if (op < 7) { /* run with a random budget, sometimes yielding */
			uint64_t budget = test_rng_below(&rng, 3) ? 1 + test_rng_below(&rng, 200) : UINT64_MAX;
			size_t first = m->nlog;
			uint64_t got, sum = 0;
			bool any = md->n > 0;

			m->yield_rng = test_rng_below(&rng, 2) ? &rng : NULL;
			m->yielded = false;
			got = xmm_scrub_run(m->s, node, budget);
			for (size_t i = first; i < m->nlog; i++) {
				const struct piece *pc = &m->log[i];

				cr_assert(aligned_block(pc->pfn, pc->n) && pc->n <= m->chunk);
				for (unsigned int v = 0; v < MNODES; v++)
					if (steal_rank(dist, node, v) < steal_rank(dist, node, pc->node))
						cr_assert_eq(model_pending(md, v), 0,
							     "node %u scrubbed %u's memory while %u had some",
							     node, pc->node, v);
				cr_assert_eq(md->node_of[pc->pfn], (int8_t)pc->node);
				cr_assert(is_zero(m, pc->pfn, pc->n));
				model_remove(md, pc->node, pc->pfn, pc->n);
				sum += pc->n;
			}
			cr_assert_eq(got, sum);
			cr_assert_leq(got, budget);
			if (any)
				cr_assert_gt(got, 0, "queued memory and a budget: run scrubs something");
			if (got < budget && !m->yielded)
				cr_assert_eq(md->n, 0, "run stopped early with work left and no yield");
			m->yield_rng = NULL;
		} else { /* take */
			uint64_t want = test_rng_below(&rng, 2) ? 1ULL << test_rng_below(&rng, 7)
								: 1 + test_rng_below(&rng, 100);
			bool fits = model_fits(md, node, want);
			xmm_pfn_t p = 0;
			int rc = xmm_scrub_take(m->s, node, want, &p);

			cr_assert_eq(rc, fits ? 0 : XMM_ENOENT, "take %llu on node %u",
				     (unsigned long long)want, node);
			if (rc == 0) {
				if (!(want & (want - 1)))
					cr_assert_eq(p % want, 0, "power-of-two take is aligned");
				cr_assert(is_zero(m, p, want));
				for (uint64_t k = 0; k < want; k++)
					cr_assert_eq(md->node_of[p + k], (int8_t)node);
				model_remove(md, node, p, want);
			}
		}
		for (unsigned int n = 0; n < MNODES; n++)
			cr_assert_eq(xmm_scrub_pending(m->s, n), model_pending(md, n), "step %llu node %u",
				     (unsigned long long)step, n);
	}
	/* Drain: every page put comes back. */
	size_t first = m->nlog;

	while (xmm_scrub_run(m->s, 0, UINT64_MAX))
		;
	for (size_t i = first; i < m->nlog; i++)
		model_remove(md, m->log[i].node, m->log[i].pfn, m->log[i].n);
	cr_assert_eq(md->n, 0);
	for (unsigned int n = 0; n < MNODES; n++)
		cr_assert_eq(xmm_scrub_pending(m->s, n), 0);
	mach_free(m);
	free(md);
}

Test(scrub, model_random_sequences, .timeout = 120)
{
	uint64_t seed = test_seed(0x5c7b);
	unsigned int rounds = 12 * test_scale();

	for (unsigned int r = 0; r < rounds; r++)
		model_round(seed + r, 3000);
}

static bool links_all_zero(const struct mach *m)
{
	for (uint64_t i = 0; i < m->npages; i++)
		if (m->links[i].next || m->links[i].npages)
			return false;
	return true;
}

/*
 * Regression (issue 15): a put of an extent already queued linked it to
 * itself, run then handed the same page back 1000 times and pending
 * underflowed. A double put now returns XMM_EBUSY and changes nothing.
 */
Test(scrub, double_put_is_refused_and_changes_nothing)
{
	struct mach *m = mach_new(1, NULL, 64, 8);
	xmm_pfn_t p;

	fill(m, 0, 64);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 1), 0);
	for (int i = 0; i < 1000; i++)
		cr_expect_eq(xmm_scrub_put(m->s, 0, 0, 1), XMM_EBUSY);
	cr_expect_eq(xmm_scrub_put(m->s, 0, 0, 16), XMM_EBUSY, "same first frame, longer");
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 1);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 1);
	cr_expect_eq(m->nlog, 1, "handed back once");
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	cr_expect(links_all_zero(m), "links are zero once the pages are handed back");

	/* Handed back, the frame can be put again; the same holds after take. */
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 1), 0);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 32, 32), 0);
	cr_expect_eq(xmm_scrub_put(m->s, 0, 32, 32), XMM_EBUSY);
	cr_expect_eq(xmm_scrub_take(m->s, 0, 8, &p), 0);
	cr_expect_eq(xmm_scrub_put(m->s, 0, p, 8), 0, "taken pages are the caller's again");
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 33);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 33);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	cr_expect(links_all_zero(m));
	mach_free(m);
}

/* An extent in flight (claimed by a run that map failed in) is still refused. */
Test(scrub, double_put_of_an_extent_put_back_is_refused)
{
	struct mach *m = mach_new(1, NULL, 64, 8);

	fill(m, 0, 64);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 16, 16), 0);
	m->fail_map = true;
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 0);
	cr_expect_eq(xmm_scrub_put(m->s, 0, 16, 16), XMM_EBUSY, "put back, still queued");
	m->fail_map = false;
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 16);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 0);
	cr_expect(links_all_zero(m));
	mach_free(m);
}

/* The second case: overlapping puts handed back 16 pages for 12. */
Test(scrub, overlapping_puts)
{
	struct mach *m = mach_new(1, NULL, 64, 8);
	uint64_t sum = 0;

	fill(m, 0, 64);
	cr_assert_eq(xmm_scrub_put(m->s, 0, 0, 8), 0);
#ifdef XMM_DEBUG
	/* Debug builds catch every overlap, and change nothing. */
	cr_expect_eq(xmm_scrub_put(m->s, 0, 4, 8), XMM_EBUSY);
	cr_expect_eq(xmm_scrub_put(m->s, 0, 7, 1), XMM_EBUSY);
	cr_expect_eq(xmm_scrub_put(m->s, 0, 6, 1), XMM_EBUSY);
	cr_expect_eq(xmm_scrub_pending(m->s, 0), 8);
	cr_expect_eq(xmm_scrub_put(m->s, 0, 8, 4), 0, "adjacent is fine");
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 12);
	for (size_t i = 0; i < m->nlog; i++)
		sum += m->log[i].n;
	cr_expect_eq(sum, 12, "12 pages handed back for 12 put");
	cr_expect(links_all_zero(m));
#else
	/* Release builds catch a repeated first frame only (documented in xmm/scrub.h). */
	cr_expect_eq(xmm_scrub_put(m->s, 0, 0, 4), XMM_EBUSY);
	cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 8);
	(void)sum;
#endif
	mach_free(m);
}

/* Racing double puts of the same frames: exactly one of each pair wins. */
struct racer { struct mach *m; atomic_int *go; int wins; };

static void *race_puts(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(r->go))
		;
	for (xmm_pfn_t pfn = 0; pfn < 64; pfn++)
		r->wins += xmm_scrub_put(r->m->s, 0, pfn, 1) == 0;
	return NULL;
}

Test(scrub, racing_double_puts_have_one_winner)
{
	for (int round = 0; round < 50; round++) {
		struct mach *m = mach_new(1, NULL, 64, 8);
		atomic_int go = 0;
		struct racer r[2] = { { m, &go, 0 }, { m, &go, 0 } };
		pthread_t t[2];

		fill(m, 0, 64);
		for (int i = 0; i < 2; i++)
			cr_assert_eq(pthread_create(&t[i], NULL, race_puts, &r[i]), 0);
		atomic_store(&go, 1);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		cr_expect_eq(r[0].wins + r[1].wins, 64);
		cr_expect_eq(xmm_scrub_pending(m->s, 0), 64);
		cr_expect_eq(xmm_scrub_run(m->s, 0, UINT64_MAX), 64);
		cr_expect_eq(m->nlog, 64);
		mach_free(m);
	}
}
