/* SPDX-License-Identifier: MIT */
/*
 * vmm_demo: a toy hypervisor using every libxmm primitive through its public
 * API, end to end, on real memory:
 *
 *   boot      host frames (a scrub arena) are handed to a guest in 2 MiB
 *             superpages; the guest's p2m maps them, with an identity PCI hole;
 *             each allocation asks the flush filter which CPUs must flush
 *   run       the guest writes through its p2m; hypercalls bounce their
 *             arguments through a pinned buffer pool (no system call per call)
 *   reclaim   a populate-on-demand sweep finds superpages the guest left zero,
 *             checking the ones it ballooned out first; they go back to the
 *             host clean, without being cleared again
 *   destroy   the guest's memory goes to the scrub queues in O(extents); the
 *             scrub daemon zeroes it in the background and hands it back
 *
 * Every step checks what the API promises and the program exits non-zero if
 * anything disagrees.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/flush.h>
#include <xmm/user/p2m.h>
#include <xmm/user/pinpool.h>
#include <xmm/user/scrubd.h>
#include <xmm/user/scrub_arena.h>
#include <xmm/user/topo.h>
#include <xmm/zero.h>
#include <xmm/user/zerosweep.h>

#define SP_ORDER 9                        /* 2 MiB superpages */
#define SP_PAGES (1u << SP_ORDER)
#define HOST_SPS 64                       /* 128 MiB of host memory */
#define GUEST_SPS 32                      /* a 64 MiB guest */
#define GUEST_MAX_PFN (1u << 20)          /* 4 GiB of guest-physical space */
#define PCI_HOLE_START (0xc0000000u >> 12) /* identity-mapped [3 GiB, 4 GiB) */

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "vmm_demo: %s: ", #cond);              \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			exit(1);                                                \
		}                                                               \
	} while (0)

enum sp_state { SP_FREE, SP_GUEST, SP_DIRTY };

struct host {
	const struct xmm_topo *topo;
	struct xmm_scrub_arena *arena;     /* host frames and their scrub queues */
	struct xmm_scrubd *scrubd;
	struct xmm_flush_clock *clk;
	xmm_cpumask_t online;
	_Atomic int state[HOST_SPS];
	_Atomic unsigned int clean_pages[HOST_SPS]; /* pages of a dirty superpage zeroed so far */
	xmm_epoch_t stamp[HOST_SPS];       /* one flush stamp per free superpage */
	unsigned int flushes, flush_free;
};

struct guest {
	struct xmm_p2m *p2m;
	struct xmm_zerosweep *sweep;
	unsigned int sps;                  /* superpages of RAM at pfn 0 */
};

/* Scrub callback (daemon threads): a zeroed piece of a dirty superpage. */
static void host_clean(void *arg, unsigned int node, xmm_pfn_t pfn, uint64_t npages)
{
	struct host *h = arg;
	unsigned int sp = (unsigned int)(pfn >> SP_ORDER);

	(void)node;
	/* Release pairs with the acquire load in host_alloc: the zeroes come first. */
	if (atomic_fetch_add_explicit(&h->clean_pages[sp], (unsigned int)npages,
				      memory_order_acq_rel) + npages == SP_PAGES)
		atomic_store_explicit(&h->state[sp], SP_FREE, memory_order_release);
}

/* A clean host superpage for a guest, with the TLB flushes its last unmap needs. */
static xmm_pfn_t host_alloc(struct host *h)
{
	for (unsigned int sp = 0; sp < HOST_SPS; sp++) {
		int free_sp = SP_FREE;

		if (!atomic_compare_exchange_strong(&h->state[sp], &free_sp, SP_GUEST))
			continue;
		/* O(1) when every CPU has flushed since the superpage was last unmapped. */
		if (xmm_flush_any_needed(h->clk, h->stamp[sp])) {
			xmm_cpumask_t mask = h->online;

			xmm_flush_filter(h->clk, &mask, h->stamp[sp]);
			CHECK(!xmm_cpumask_empty(&mask), "a needed flush must name a CPU");
			xmm_epoch_t t = xmm_flush_begin(h->clk);
			/* ... IPI the CPUs in mask and wait for their acks ... */
			xmm_flush_end_mask(h->clk, &mask, t);
			h->flushes++;
		} else {
			h->flush_free++;
		}
		return (xmm_pfn_t)sp << SP_ORDER;
	}
	return XMM_INVALID_MFN;
}

static void host_unmapped(struct host *h, unsigned int sp)
{
	h->stamp[sp] = xmm_flush_stamp(h->clk);
}

static void boot(struct host *h, struct guest *g)
{
	int rc = xmm_p2m_create(&g->p2m, GUEST_MAX_PFN, XMM_P2M_LINEAR);

	CHECK(rc == 0, "p2m: %s", xmm_strerror(rc));
	rc = xmm_zerosweep_create(&g->sweep, (uint64_t)GUEST_SPS * SP_PAGES, SP_ORDER);
	CHECK(rc == 0, "zerosweep: %s", xmm_strerror(rc));
	for (unsigned int i = 0; i < GUEST_SPS; i++) {
		xmm_pfn_t mfn = host_alloc(h);

		CHECK(mfn != XMM_INVALID_MFN, "host out of memory");
		rc = xmm_p2m_set_range(g->p2m, (xmm_pfn_t)i * SP_PAGES, mfn, SP_PAGES);
		CHECK(rc == 0, "p2m set_range: %s", xmm_strerror(rc));
	}
	g->sps = GUEST_SPS;
	rc = xmm_p2m_set_identity(g->p2m, PCI_HOLE_START, GUEST_MAX_PFN);
	CHECK(rc == 0, "p2m identity: %s", xmm_strerror(rc));
	CHECK(xmm_p2m_get(g->p2m, PCI_HOLE_START + 5) == XMM_IDENTITY_FRAME(PCI_HOLE_START + 5),
	      "identity hole");
	CHECK(xmm_p2m_get(g->p2m, (xmm_pfn_t)GUEST_SPS * SP_PAGES) == XMM_INVALID_MFN, "a hole");
	CHECK(xmm_p2m_get(g->p2m, GUEST_MAX_PFN) == XMM_INVALID_MFN, "out of range");
}

static void *guest_va(const struct host *h, const struct guest *g, xmm_pfn_t pfn)
{
	xmm_mfn_t mfn = xmm_p2m_get(g->p2m, pfn);

	return mfn == XMM_INVALID_MFN ? NULL : xmm_scrub_arena_va(h->arena, mfn);
}

/* The guest writes to even superpages and balloons out every fourth one. */
static void run(struct host *h, struct guest *g)
{
	for (unsigned int i = 0; i < g->sps; i += 2)
		for (unsigned int pg = 0; pg < SP_PAGES; pg += 7) {
			char *va = guest_va(h, g, (xmm_pfn_t)i * SP_PAGES + pg);

			CHECK(va != NULL, "guest RAM is mapped");
			snprintf(va, 64, "guest data in superpage %u page %u", i, pg);
		}
	for (unsigned int i = 1; i < g->sps; i += 4)
		CHECK(xmm_zerosweep_note(g->sweep, (xmm_pfn_t)i * SP_PAGES) == 0, "note");
}

/* A hypercall: the hypervisor reads the arguments from locked memory and writes a result. */
struct hcall_args {
	uint64_t op, pfn, result;
};

static void hypervisor_handle(struct hcall_args *a)
{
	a->result = a->op * 1000 + a->pfn;
}

static void hypercalls(void)
{
	struct xmm_pinpool *pool;
	struct xmm_pinpool_stats before, after;
	int rc = xmm_pinpool_create(&pool, NULL);

	CHECK(rc == 0, "pinpool: %s", xmm_strerror(rc));
	for (uint64_t i = 0; i < 100000; i++) {
		struct hcall_args args = { .op = 7, .pfn = i }, *pinned;

		if (i == 1000) /* the pool is warm: from now on no system call at all */
			xmm_pinpool_stats(pool, &before);
		rc = xmm_pin_bounce_in(pool, &args, sizeof(args), (void **)&pinned);
		CHECK(rc == 0, "bounce in: %s", xmm_strerror(rc));
		hypervisor_handle(pinned);
		rc = xmm_pin_bounce_out(pool, pinned, &args, sizeof(args));
		CHECK(rc == 0 && args.result == 7000 + i, "bounce out: %s", xmm_strerror(rc));
	}
	xmm_pinpool_stats(pool, &after);
	CHECK(after.os_calls == before.os_calls, "%llu system calls in steady state",
	      (unsigned long long)(after.os_calls - before.os_calls));
	CHECK(xmm_pin_free(pool, &before) == XMM_EINVAL, "a foreign free is refused");
	printf("hypercalls: 100000 through a pool of %llu KiB locked, %llu system calls in all\n",
	       (unsigned long long)after.bytes_locked >> 10, (unsigned long long)after.os_calls);
	xmm_pinpool_destroy(pool);
}

/* Populate-on-demand reclaim: superpages the guest left zero go back to the host, uncleared. */
static void reclaim(struct host *h, struct guest *g)
{
	uint64_t zero[SP_PAGES / 64];
	unsigned int whole = 0, checked = 0;
	xmm_pfn_t first;

	while (xmm_zerosweep_next(g->sweep, &first) == 0) {
		xmm_mfn_t mfn = xmm_p2m_get(g->p2m, first);
		int64_t n;

		checked++;
		if (mfn == XMM_INVALID_MFN)
			continue;
		n = xmm_zerosweep_check(g->sweep, xmm_scrub_arena_va(h->arena, mfn), zero);
		CHECK(n >= 0, "check: %s", xmm_strerror((int)n));
		if (n != SP_PAGES)
			continue;
		/* Whole superpage zero: unmap it from the guest and give it back clean. */
		CHECK(xmm_p2m_clear(g->p2m, first, first + SP_PAGES) == 0, "p2m clear");
		host_unmapped(h, (unsigned int)(mfn >> SP_ORDER));
		atomic_store(&h->state[mfn >> SP_ORDER], SP_FREE);
		whole++;
	}
	struct xmm_zerosweep_stats st;

	xmm_zerosweep_stats(g->sweep, &st);
	/* The guest wrote to every even superpage: the odd ones are zero. */
	CHECK(whole == GUEST_SPS / 2, "%u superpages reclaimed", whole);
	CHECK(st.from_notes == (GUEST_SPS + 3) / 4, "ballooned superpages are offered first");
	printf("reclaim: %u of %u superpages zero, reclaimed whole without clearing "
	       "(%llu offered from balloon notes first)\n",
	       whole, checked, (unsigned long long)st.from_notes);
}

static void destroy(struct host *h, struct guest *g)
{
	unsigned int extents = 0;

	for (unsigned int i = 0; i < g->sps; i++) {
		xmm_pfn_t pfn = (xmm_pfn_t)i * SP_PAGES;
		xmm_mfn_t mfn = xmm_p2m_get(g->p2m, pfn);

		if (mfn == XMM_INVALID_MFN)
			continue; /* reclaimed already */
		CHECK(xmm_p2m_clear(g->p2m, pfn, pfn + SP_PAGES) == 0, "p2m clear");
		host_unmapped(h, (unsigned int)(mfn >> SP_ORDER));
		atomic_store(&h->clean_pages[mfn >> SP_ORDER], 0);
		atomic_store(&h->state[mfn >> SP_ORDER], SP_DIRTY);
		/* O(1): the daemon scrubs it in the background. */
		CHECK(xmm_scrub_arena_put(h->arena, mfn, SP_PAGES) == 0, "scrub put");
		extents++;
	}
	xmm_p2m_destroy(g->p2m);
	xmm_zerosweep_destroy(g->sweep);
	CHECK(xmm_scrubd_drain(h->scrubd) == 0, "drain");
	for (unsigned int sp = 0; sp < HOST_SPS; sp++) {
		CHECK(atomic_load(&h->state[sp]) == SP_FREE, "superpage %u back", sp);
		CHECK(xmm_is_zero(xmm_scrub_arena_va(h->arena, (xmm_pfn_t)sp * SP_PAGES),
				  (size_t)SP_PAGES * XMM_PAGE_SIZE),
		      "superpage %u zero", sp);
	}
	printf("destroy: %u extents queued in O(1) each, all host memory scrubbed and back\n",
	       extents);
}

int main(void)
{
	static struct host h;
	struct guest g;
	struct xmm_topo *topo;
	int rc = xmm_topo_load(&topo, NULL);

	CHECK(rc == 0, "topology: %s", xmm_strerror(rc));
	h.topo = topo;
	printf("machine: %u CPUs, %u NUMA nodes; zero kernels: %s\n", topo->ncpus, topo->nnodes,
	       xmm_zero_ops_get()->name);
	rc = xmm_flush_clock_create(&h.clk, topo->ncpus, topo->node_of_cpu, 0);
	CHECK(rc == 0, "flush clock: %s", xmm_strerror(rc));
	xmm_cpumask_fill(&h.online, topo->ncpus);
	rc = xmm_scrub_arena_create(&h.arena, &(struct xmm_scrub_arena_cfg){
						      .npages = (uint64_t)HOST_SPS * SP_PAGES,
						      .topo = topo,
						      .clean = host_clean,
						      .arg = &h });
	CHECK(rc == 0, "scrub arena: %s", xmm_strerror(rc));
	rc = xmm_scrubd_start(&h.scrubd, xmm_scrub_arena_scrub(h.arena), topo, 1);
	CHECK(rc == 0, "scrub daemon: %s", xmm_strerror(rc));

	/* First guest: fresh memory, nothing to flush. Second guest: reuses what the first freed. */
	for (int round = 0; round < 2; round++) {
		h.flushes = h.flush_free = 0;
		boot(&h, &g);
		run(&h, &g);
		if (round == 0)
			hypercalls();
		reclaim(&h, &g);
		destroy(&h, &g);
		printf("guest %d: %u superpage allocations needed a TLB flush, %u needed none\n",
		       round + 1, h.flushes, h.flush_free);
		if (round == 1)
			CHECK(h.flushes == 1, "only the first reuse after the teardown flushes");
	}
	xmm_scrubd_stop(h.scrubd);
	xmm_scrub_arena_destroy(h.arena);
	xmm_flush_clock_destroy(h.clk);
	xmm_topo_free(topo);
	printf("vmm_demo: ok\n");
	return 0;
}
