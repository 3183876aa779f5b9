/* SPDX-License-Identifier: MIT */
/*
 * vmm_demo: a toy hypervisor using libxmm's public API end to end.
 *
 * It loads this machine's topology, keeps guest memory as free chunks that
 * carry one flush stamp each (the max of their pages' stamps), and on every
 * allocation asks the flush filter which CPUs must flush their TLBs before
 * the memory is reused. Exits non-zero if anything disagrees with what the
 * API promises.
 */
#include <stdio.h>
#include <stdlib.h>

#include <xmm/errno.h>
#include <xmm/flush.h>
#include <xmm/topo.h>

#define NCHUNKS 64

struct chunk {
	xmm_epoch_t stamp; /* newest unmap stamp of the chunk's pages; 0: never mapped */
	bool free;
};

static int flush_demo(const struct xmm_topo *topo)
{
	struct xmm_flush_clock *clk;
	struct chunk chunks[NCHUNKS] = { 0 };
	unsigned int flushes = 0, skipped = 0;
	xmm_cpumask_t online, mask;
	int rc;

	rc = xmm_flush_clock_create(&clk, topo->ncpus, topo->node_of_cpu, 0);
	if (rc) {
		fprintf(stderr, "flush clock: %s\n", xmm_strerror(rc));
		return 1;
	}
	xmm_cpumask_fill(&online, topo->ncpus);
	for (int i = 0; i < NCHUNKS; i++)
		chunks[i].free = true;

	for (int round = 0; round < 4; round++) {
		/* A guest maps every chunk, then the toolstack tears it down: unmap, stamp, free. */
		for (int i = 0; i < NCHUNKS; i++) {
			chunks[i].free = false;
			chunks[i].stamp = xmm_flush_stamp(clk);
			chunks[i].free = true;
		}
		/* Halfway, every CPU happens to flush (a context switch, say). */
		if (round % 2) {
			xmm_epoch_t t = xmm_flush_begin(clk);

			xmm_flush_end_mask(clk, &online, t);
		}
		/* The next guest allocates: one O(1) check per chunk, a mask only when needed. */
		for (int i = 0; i < NCHUNKS; i++) {
			if (!xmm_flush_any_needed(clk, chunks[i].stamp)) {
				skipped++;
				continue;
			}
			mask = online;
			xmm_flush_filter(clk, &mask, chunks[i].stamp);
			if (xmm_cpumask_empty(&mask))
				continue;
			/* "IPI" the CPUs in mask: each flushes; then record it. */
			xmm_epoch_t t = xmm_flush_begin(clk);

			xmm_flush_end_mask(clk, &mask, t);
			flushes++;
			if (xmm_flush_any_needed(clk, chunks[i].stamp)) {
				fprintf(stderr, "a CPU still needs a flush after flushing every CPU\n");
				return 1;
			}
		}
	}
	printf("flush: %u CPUs in %u groups; %u allocations flushed, %u needed no flush\n",
	       xmm_flush_clock_ncpus(clk), xmm_flush_clock_ngroups(clk), flushes, skipped);
	xmm_flush_clock_destroy(clk);
	/* Rounds 0 and 2 free stamped memory nobody flushed since: their first chunk flushes
	 * every CPU, after which the remaining chunks of that round need nothing. */
	return flushes == 2 && skipped == 4 * NCHUNKS - 2 ? 0 : 1;
}

int main(void)
{
	struct xmm_topo *topo;
	int rc = xmm_topo_load(&topo, NULL);

	if (rc) {
		fprintf(stderr, "topology: %s\n", xmm_strerror(rc));
		return 1;
	}
	printf("machine: %u CPUs, %u NUMA nodes\n", topo->ncpus, topo->nnodes);
	rc = flush_demo(topo);
	xmm_topo_free(topo);
	return rc;
}
