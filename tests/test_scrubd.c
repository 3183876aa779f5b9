/* SPDX-License-Identifier: MIT */
/* Unit tests of the guest-memory arena and the scrub daemon (xmm/scrubd.h). */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/scrubd.h>
#include <xmm/user/scrub_arena.h>

#include "common.h"

struct tally {
	_Atomic uint64_t pages;
	_Atomic uint64_t calls;
	_Atomic uint64_t per_node[4];
	_Atomic uint64_t misaligned;
};

static void count_clean(void *arg, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	struct tally *t = arg;

	atomic_fetch_add(&t->pages, n);
	atomic_fetch_add(&t->calls, 1);
	atomic_fetch_add(&t->per_node[node], n);
	if ((n & (n - 1)) || pfn % n)
		atomic_fetch_add(&t->misaligned, 1);
}

static struct xmm_scrub_arena *arena(uint64_t npages, const struct xmm_topo *topo, struct tally *t)
{
	struct xmm_scrub_arena *a = NULL;
	struct xmm_scrub_arena_cfg cfg = { .npages = npages, .topo = topo, .chunk_pages = 16,
					   .clean = count_clean, .arg = t };

	cr_assert_eq(xmm_scrub_arena_create(&a, &cfg), 0);
	return a;
}

static void fill(struct xmm_scrub_arena *a, xmm_pfn_t pfn, uint64_t n)
{
	memset(xmm_scrub_arena_va(a, pfn), 0xc3, n * XMM_PAGE_SIZE);
}

static bool is_zero(struct xmm_scrub_arena *a, xmm_pfn_t pfn, uint64_t n)
{
	const uint64_t *w = xmm_scrub_arena_va(a, pfn);

	for (uint64_t i = 0; i < n * XMM_PAGE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* Three nodes, CPUs on 0 and 2 only: node 1's memory must be scrubbed by stealing. */
static const uint16_t cpu_node[2] = { 0, 2 };
static const uint8_t three_dist[9] = { 10, 20, 30, 20, 10, 20, 30, 20, 10 };
static const struct xmm_topo three = {
	.ncpus = 2, .nnodes = 3, .node_of_cpu = cpu_node, .distance = three_dist,
	.this_machine = false, .hwloc = NULL,
};

Test(scrubd, arena_rejects_bad_arguments)
{
	struct xmm_scrub_arena *a = (struct xmm_scrub_arena *)0x1;
	struct xmm_scrub_arena_cfg cfg = { .npages = 0 };

	cr_expect_eq(xmm_scrub_arena_create(NULL, &cfg), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_arena_create(&a, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_arena_create(&a, &cfg), XMM_EINVAL, "npages 0");
	cfg.npages = XMM_SCRUB_MAX_PFN + 1;
	cr_expect_eq(xmm_scrub_arena_create(&a, &cfg), XMM_EINVAL);
	cr_expect_eq(a, (struct xmm_scrub_arena *)0x1, "untouched on error");
	xmm_scrub_arena_destroy(NULL);
}

Test(scrubd, arena_frames_nodes_and_put)
{
	struct tally t = { 0 };
	struct xmm_scrub_arena *a = arena(3000, &three, &t);
	struct xmm_scrub *s = xmm_scrub_arena_scrub(a);

	cr_expect_eq(xmm_scrub_arena_npages(a), 3000);
	cr_expect_eq(xmm_scrub_nnodes(s), 3);
	cr_expect_eq(xmm_scrub_chunk_pages(s), 16);
	cr_expect_eq((uintptr_t)xmm_scrub_arena_va(a, 0) % (2 << 20), 0, "2 MiB aligned");
	cr_expect_eq((char *)xmm_scrub_arena_va(a, 7) - (char *)xmm_scrub_arena_va(a, 0),
		     7 * XMM_PAGE_SIZE);
	cr_expect_null(xmm_scrub_arena_va(a, 3000));
	/* 3000 pages over 3 nodes: 1024 each (2 MiB multiples), the last one shorter. */
	cr_expect_eq(xmm_scrub_arena_node(a, 0), 0);
	cr_expect_eq(xmm_scrub_arena_node(a, 1023), 0);
	cr_expect_eq(xmm_scrub_arena_node(a, 1024), 1);
	cr_expect_eq(xmm_scrub_arena_node(a, 2999), 2);

	cr_expect_eq(xmm_scrub_arena_put(a, 0, 0), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_arena_put(a, 3000, 1), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_arena_put(a, 2990, 11), XMM_EINVAL);
	cr_expect_eq(xmm_scrub_arena_put(a, 1, UINT64_MAX), XMM_EINVAL);
	for (unsigned int n = 0; n < 3; n++)
		cr_expect_eq(xmm_scrub_pending(s, n), 0, "nothing put");

	fill(a, 0, 3000);
	cr_assert_eq(xmm_scrub_arena_put(a, 1000, 2000), 0, "spans all three nodes");
	cr_expect_eq(xmm_scrub_pending(s, 0), 24);
	cr_expect_eq(xmm_scrub_pending(s, 1), 1024);
	cr_expect_eq(xmm_scrub_pending(s, 2), 952);

	xmm_pfn_t p;

	cr_expect_eq(xmm_scrub_take(s, 1, 256, &p), 0);
	cr_expect(p >= 1024 && p < 2048 && p % 256 == 0);
	cr_expect(is_zero(a, p, 256));
	while (xmm_scrub_run(s, 0, UINT64_MAX))
		;
	cr_expect_eq(atomic_load(&t.pages), 2000 - 256);
	cr_expect_eq(atomic_load(&t.per_node[1]), 1024 - 256);
	cr_expect_eq(atomic_load(&t.misaligned), 0);
	cr_expect(is_zero(a, 1000, 2000));
	cr_expect_eq(*(unsigned char *)xmm_scrub_arena_va(a, 999), 0xc3, "outside: untouched");
	xmm_scrub_arena_destroy(a);
}

static bool yield_always(void *arg)
{
	(*(int *)arg)++;
	return true;
}

Test(scrubd, arena_passes_should_yield_on)
{
	struct xmm_scrub_arena *a = NULL;
	int calls = 0;
	struct xmm_scrub_arena_cfg cfg = { .npages = 512, .chunk_pages = 8,
					   .should_yield = yield_always, .arg = &calls };

	cr_assert_eq(xmm_scrub_arena_create(&a, &cfg), 0);
	cr_assert_eq(xmm_scrub_arena_put(a, 0, 512), 0);
	cr_expect_eq(xmm_scrub_run(xmm_scrub_arena_scrub(a), 0, UINT64_MAX), 8, "one chunk, then yield");
	cr_expect_eq(calls, 1);
	cr_expect_eq(xmm_scrub_pending(xmm_scrub_arena_scrub(a), 0), 504);
	xmm_scrub_arena_destroy(a);
}

Test(scrubd, start_rejects_bad_arguments)
{
	struct tally t = { 0 };
	struct xmm_scrub_arena *a = arena(512, NULL, &t);
	struct xmm_scrubd *d = (struct xmm_scrubd *)0x1;
	static const uint16_t none[1] = { 0 };
	const struct xmm_topo no_cpu = { .ncpus = 0, .nnodes = 1, .node_of_cpu = none };

	cr_expect_eq(xmm_scrubd_start(NULL, xmm_scrub_arena_scrub(a), NULL, 1), XMM_EINVAL);
	cr_expect_eq(xmm_scrubd_start(&d, NULL, NULL, 1), XMM_EINVAL);
	cr_expect_eq(xmm_scrubd_start(&d, xmm_scrub_arena_scrub(a), NULL, 0), XMM_EINVAL);
	cr_expect_eq(xmm_scrubd_start(&d, xmm_scrub_arena_scrub(a), &three, 1), XMM_EINVAL,
		     "3-node topology, 1-node scrub object");
	cr_expect_eq(xmm_scrubd_start(&d, xmm_scrub_arena_scrub(a), &no_cpu, 1), XMM_EINVAL,
		     "no node with CPUs");
	cr_expect_eq(d, (struct xmm_scrubd *)0x1, "untouched on error");
	cr_expect_eq(xmm_scrubd_drain(NULL), XMM_EINVAL);
	xmm_scrubd_stop(NULL);
	xmm_scrub_arena_destroy(a);
}

/* Start, put, drain, stop, restart; memory of the CPU-less node is scrubbed too. */
Test(scrubd, start_put_drain_stop_restart, .timeout = 60)
{
	struct tally t = { 0 };
	struct xmm_scrub_arena *a = arena(3072, &three, &t);
	struct xmm_scrub *s = xmm_scrub_arena_scrub(a);
	struct xmm_scrubd *d = NULL;

	cr_assert_eq(xmm_scrubd_start(&d, s, &three, 2), 0);
	cr_expect_eq(xmm_scrubd_workers(d), 4, "2 per node with CPUs");
	cr_expect_eq(xmm_scrubd_drain(d), 0, "nothing pending: returns at once");
	for (int round = 0; round < 3; round++) {
		uint64_t before = atomic_load(&t.pages);

		fill(a, 0, 3072);
		for (xmm_pfn_t p = 0; p < 3072; p += 512)
			cr_assert_eq(xmm_scrub_arena_put(a, p, 512), 0);
		cr_assert_eq(xmm_scrubd_drain(d), 0);
		for (unsigned int n = 0; n < 3; n++)
			cr_expect_eq(xmm_scrub_pending(s, n), 0);
		cr_expect_eq(atomic_load(&t.pages) - before, 3072);
		cr_expect(is_zero(a, 0, 3072));
		xmm_scrubd_stop(d);
		d = NULL;
		/* Stopped: memory put now waits for the next daemon. */
		fill(a, 0, 64);
		cr_assert_eq(xmm_scrub_arena_put(a, 0, 64), 0);
		cr_expect_eq(xmm_scrub_pending(s, 0), 64);
		cr_assert_eq(xmm_scrubd_start(&d, s, &three, 1 + round % 2), 0);
		cr_assert_eq(xmm_scrubd_drain(d), 0);
		cr_expect(is_zero(a, 0, 64));
	}
	cr_expect_gt(atomic_load(&t.per_node[1]), 0, "the node without CPUs was scrubbed");
	cr_expect_eq(atomic_load(&t.misaligned), 0);
	xmm_scrubd_stop(d);
	xmm_scrub_arena_destroy(a);
}

/* This machine's topology: workers bound with hwloc, one node or more. */
Test(scrubd, this_machine, .timeout = 60)
{
	struct xmm_topo *topo = NULL;
	struct tally t = { 0 };
	struct xmm_scrubd *d = NULL;

	cr_assert_eq(xmm_topo_load(&topo, NULL), 0);
	if (topo->nnodes > 4) {
		xmm_topo_free(topo);
		cr_skip_test("more nodes than the tally holds");
	}
	struct xmm_scrub_arena *a = arena(4096, topo, &t);

	cr_assert_eq(xmm_scrubd_start(&d, xmm_scrub_arena_scrub(a), topo, 1), 0);
	fill(a, 0, 4096);
	cr_assert_eq(xmm_scrub_arena_put(a, 0, 4096), 0);
	cr_assert_eq(xmm_scrubd_drain(d), 0);
	cr_expect_eq(atomic_load(&t.pages), 4096);
	cr_expect(is_zero(a, 0, 4096));
	xmm_scrubd_stop(d);
	xmm_scrub_arena_destroy(a);
	xmm_topo_free(topo);
}
