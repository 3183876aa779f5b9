/* SPDX-License-Identifier: MIT */
/* User-space conveniences for the flush clock: heap placement. */
#include <xmm/errno.h>
#include <xmm/user/flush.h>

#include <stdlib.h>

#include "heap.h"

int xmm_flush_clock_create(struct xmm_flush_clock **out, unsigned int ncpus,
			   const uint16_t *group_of_cpu, unsigned int flags)
{
	size_t sz = xmm_flush_clock_size(ncpus);
	struct xmm_flush_clock *clk;
	int rc;

	if (!out || sz == 0)
		return XMM_EINVAL;
	clk = xmm_heap_object(XMM_FLUSH_CLOCK_ALIGN, sz);
	if (!clk)
		return XMM_ENOMEM;
	rc = xmm_flush_clock_init_flags(clk, ncpus, group_of_cpu, flags);
	if (rc) {
		free(clk);
		return rc;
	}
	*out = clk;
	return 0;
}

void xmm_flush_clock_destroy(struct xmm_flush_clock *clk)
{
	free(clk);
}
