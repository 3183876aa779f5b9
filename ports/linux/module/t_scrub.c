// SPDX-License-Identifier: MIT
/*
 * Scrub queues on real kernel pages: blocks of 1..32 pages allocated on every
 * node with memory, filled with a pattern, put as the naturally aligned
 * extents the buddy allocator handed out, on their own node. One kthread per
 * CPU, bound, runs xmm_scrub_run for its CPU's node (stealing from the other
 * nodes nearest first, so a node without CPUs gets scrubbed too) while
 * another kthread takes blocks. Every page must come back exactly once, zero,
 * as an aligned block, to the node it was put on.
 */
#include "selftest.h"

#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>

#include <xmm/scrub.h>

#define MAX_ORDER_PUT 5
#define DEADLINE_S 120

struct blk {
	unsigned long pfn;
	unsigned int order;
	int node;
};

struct sstate {
	struct xmm_scrub *s;
	size_t ssize;
	unsigned int nnodes;
	unsigned long base, span;      /* frames [base, base + span) hold every block */
	struct xmm_scrub_link *links;  /* one per frame of the span */
	atomic_t *seen;                /* times each frame came back */
	struct blk *blk;
	unsigned int nblk;
	int stop, taker_started;
	u64 deadline;
	atomic64_t cleaned, taken, stolen, takes, take_calls, yields;
	atomic64_t bad;                /* not zero, wrong node or misaligned */
	atomic64_t cleaned_cpuless;    /* pages of nodes without CPUs, cleaned */
};

static bool frames_zero(unsigned long pfn, u64 n)
{
	const u64 *w = page_address(pfn_to_page(pfn));
	u64 i, any = 0;

	for (i = 0; i < n * (PAGE_SIZE / sizeof(u64)); i++)
		any |= w[i];
	return any == 0;
}

static void mark(struct sstate *st, unsigned int node, unsigned long pfn, u64 n)
{
	u64 i;

	if (pfn < st->base || pfn + n > st->base + st->span || (pfn & (n - 1)) ||
	    (n & (n - 1)) || !frames_zero(pfn, n)) {
		atomic64_inc(&st->bad);
		return;
	}
	for (i = 0; i < n; i++) {
		atomic_inc(&st->seen[pfn - st->base + i]);
		if (page_to_nid(pfn_to_page(pfn + i)) != (int)node)
			atomic64_inc(&st->bad);
	}
}

static struct xmm_scrub_link *op_link(void *ctx, xmm_pfn_t pfn)
{
	struct sstate *st = ctx;

	return &st->links[pfn - st->base];
}

static void *op_map(void *ctx, xmm_pfn_t pfn, uint64_t npages)
{
	return page_address(pfn_to_page(pfn)); /* the direct map */
}

static void op_clean(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t npages)
{
	struct sstate *st = ctx;

	mark(st, node, pfn, npages);
	atomic64_add(npages, &st->cleaned);
	if (cpu_to_node(raw_smp_processor_id()) != (int)node)
		atomic64_add(npages, &st->stolen);
	if (!node_state(node, N_CPU))
		atomic64_add(npages, &st->cleaned_cpuless);
}

static bool op_should_yield(void *ctx)
{
	struct sstate *st = ctx;

	if (!need_resched())
		return false;
	atomic64_inc(&st->yields);
	return true;
}

static const struct xmm_scrub_ops ops = {
	.link = op_link,
	.map = op_map,
	.clean = op_clean,
	.should_yield = op_should_yield,
};

static u64 pending_all(struct sstate *st)
{
	u64 n = 0;
	unsigned int node;

	for (node = 0; node < st->nnodes; node++)
		n += xmm_scrub_pending(st->s, node);
	return n;
}

static int worker(void *arg, unsigned int i)
{
	struct sstate *st = arg;
	unsigned int ncpus = num_online_cpus();

	if (i == ncpus) { /* the taker: blocks of 1..8 pages from nodes with CPUs */
		u64 rng = 0x853c49e6748fea9bULL, k;
		int rc = 0;

		/* The first takes before the workers start, then beside them. */
		for (k = 0; pending_all(st) && !READ_ONCE(st->stop); k++) {
			u64 y = xt_rand(&rng), n = 1ULL << ((y >> 16) % 4);
			unsigned int node = y % st->nnodes;
			xmm_pfn_t pfn;

			if (k == 32)
				WRITE_ONCE(st->taker_started, 1);
			if (!node_state(node, N_CPU))
				continue;
			atomic64_inc(&st->take_calls);
			if (xmm_scrub_take(st->s, node, n, &pfn) == 0) {
				mark(st, node, pfn, n);
				atomic64_add(n, &st->taken);
				atomic64_inc(&st->takes);
			}
			cond_resched();
			if (ktime_get_ns() > st->deadline) {
				rc = -ETIMEDOUT;
				break;
			}
		}
		WRITE_ONCE(st->taker_started, 1);
		return rc;
	}
	/* Start together with the taker, so that it meets queued memory. */
	while (!READ_ONCE(st->taker_started) && !READ_ONCE(st->stop))
		schedule_timeout_uninterruptible(1);
	while (pending_all(st) && !READ_ONCE(st->stop)) {
		/* Bound: this CPU's node is fixed for the thread's life. */
		unsigned int node = cpu_to_node(raw_smp_processor_id());

		xmm_scrub_run(st->s, node, 4 * xmm_scrub_chunk_pages(st->s));
		cond_resched();
		if (ktime_get_ns() > st->deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

int xt_scrub(char *detail, size_t len)
{
	struct sstate *st = kzalloc(sizeof(*st), GFP_KERNEL);
	unsigned int nnodes = nr_node_ids, node, i, nodes_used = 0, cpuless_nodes = 0;
	u64 rng = 0x2545f4914f6cdd1dULL, put = 0, put_cpuless = 0, want = xt_scrub_pages;
	unsigned long lo = ULONG_MAX, hi = 0, f;
	u8 *dist = NULL;
	int rc = -ENOMEM;

	if (!st)
		return -ENOMEM;
	st->nnodes = nnodes;
	st->blk = xt_vzalloc(want * sizeof(*st->blk));
	dist = kmalloc_array(nnodes, nnodes, GFP_KERNEL);
	if (!st->blk || !dist)
		goto out;
	for (i = 0; i < nnodes; i++)
		for (node = 0; node < nnodes; node++)
			dist[i * nnodes + node] = (u8)min(node_distance(i, node), 255);

	/* Allocate round robin over the nodes with memory, random orders. */
	while (put < want) {
		bool any = false;

		for_each_node_state(node, N_MEMORY) {
			unsigned int order = xt_rand(&rng) % (MAX_ORDER_PUT + 1);
			struct page *pg;

			while ((1ULL << order) > want - put)
				order--;
			for (;;) { /* the largest block this node still has, down to one page */
				pg = xt_alloc_pages_node(node, order);
				if (pg || order == 0)
					break;
				order--;
			}
			if (!pg)
				continue;
			any = true;
			st->blk[st->nblk++] = (struct blk){ page_to_pfn(pg), order, node };
			put += 1ULL << order;
			if (put >= want)
				break;
		}
		if (!any)
			break;
	}
	if (!put) {
		snprintf(detail, len, "no pages could be allocated");
		goto out;
	}
	for (i = 0; i < st->nblk; i++) {
		lo = min(lo, st->blk[i].pfn);
		hi = max(hi, st->blk[i].pfn + (1UL << st->blk[i].order));
	}
	st->base = lo;
	st->span = hi - lo;
	st->links = xt_vzalloc(st->span * sizeof(*st->links));
	st->seen = xt_vzalloc(st->span * sizeof(*st->seen));
	st->ssize = xmm_scrub_size(nnodes);
	st->s = xt_vzalloc(st->ssize);
	if (!st->links || !st->seen || !st->s)
		goto out;
	rc = xmm_scrub_init(st->s, nnodes, dist, XMM_SCRUB_CHUNK_DEFAULT / 16, &ops, st);
	if (rc) {
		snprintf(detail, len, "scrub init: %d", rc);
		goto out;
	}
	/* Dirty the pages, then hand them over as the aligned extents they are. */
	for (i = 0; i < st->nblk; i++) {
		struct blk *b = &st->blk[i];

		memset(page_address(pfn_to_page(b->pfn)), 0xa5 ^ (i & 0x7f), PAGE_SIZE << b->order);
	}
	for (i = 0; i < st->nblk; i++) {
		struct blk *b = &st->blk[i];

		rc = xmm_scrub_put(st->s, b->node, b->pfn, 1ULL << b->order);
		if (rc) {
			snprintf(detail, len, "put(node %d, pfn %lu): %d", b->node, b->pfn, rc);
			goto out; /* the pages are ours again: nothing runs on them */
		}
		if (!node_state(b->node, N_CPU))
			put_cpuless += 1ULL << b->order;
	}
	for_each_node_state(node, N_MEMORY) {
		nodes_used++;
		cpuless_nodes += !node_state(node, N_CPU);
	}
	st->deadline = ktime_get_ns() + DEADLINE_S * 1000000000ULL;
	rc = xt_run_threads(num_online_cpus() + 1, worker, st, true, &st->stop);
	if (rc) {
		snprintf(detail, len, "workers: %d (%llu pages still pending)", rc, pending_all(st));
		/* Extents still queued would be freed under the queue: let nothing run again. */
		goto out;
	}
	rc = -EINVAL;
	for (f = 0; f < st->span; f++) {
		int n = atomic_read(&st->seen[f]);

		/* Frames of the span that are not ours are never seen; ours exactly once. */
		if (n > 1) {
			snprintf(detail, len, "pfn %lu came back %d times", st->base + f, n);
			goto out;
		}
	}
	if (atomic64_read(&st->cleaned) + atomic64_read(&st->taken) != put ||
	    atomic64_read(&st->bad) || pending_all(st) || !atomic64_read(&st->take_calls) ||
	    atomic64_read(&st->cleaned_cpuless) != put_cpuless ||
	    (put_cpuless && atomic64_read(&st->stolen) < put_cpuless)) {
		snprintf(detail, len,
			 "put %llu, cleaned %lld + taken %lld (%lld take calls), bad %lld, pending %llu, CPU-less put %llu cleaned %lld, stolen %lld",
			 put, atomic64_read(&st->cleaned), atomic64_read(&st->taken),
			 atomic64_read(&st->take_calls), atomic64_read(&st->bad), pending_all(st), put_cpuless,
			 atomic64_read(&st->cleaned_cpuless), atomic64_read(&st->stolen));
		goto out;
	}
	snprintf(detail, len,
		 "%llu pages in %u aligned extents on %u nodes (%u without CPUs), %u bound workers: %lld scrubbed (%lld by another node's CPUs, %llu of CPU-less nodes), %lld taken by %lld of %lld takes, each once and zero",
		 put, st->nblk, nodes_used, cpuless_nodes, num_online_cpus(),
		 atomic64_read(&st->cleaned), atomic64_read(&st->stolen), put_cpuless,
		 atomic64_read(&st->taken), atomic64_read(&st->takes), atomic64_read(&st->take_calls));
	rc = xt_injected("scrub") ? -EIO : 0;
out:
	if (st->blk)
		for (i = 0; i < st->nblk; i++)
			xt_free_pages(pfn_to_page(st->blk[i].pfn), st->blk[i].order);
	xt_vfree(st->s, st->ssize);
	xt_vfree(st->seen, st->span * sizeof(*st->seen));
	xt_vfree(st->links, st->span * sizeof(*st->links));
	xt_vfree(st->blk, want * sizeof(*st->blk));
	kfree(dist);
	kfree(st);
	return rc;
}
