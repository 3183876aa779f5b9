/* SPDX-License-Identifier: MIT */
/* User-space conveniences for the scrub queues: heap placement. */
#include <xmm/errno.h>
#include <xmm/user/scrub.h>

#include <stdlib.h>

#include "heap.h"

int xmm_scrub_create(struct xmm_scrub **out, unsigned int nnodes, const uint8_t *distance,
		     uint64_t chunk_pages, const struct xmm_scrub_ops *ops, void *ctx)
{
	size_t sz = xmm_scrub_size(nnodes);
	struct xmm_scrub *s;
	int rc;

	if (!out || sz == 0)
		return XMM_EINVAL;
	s = xmm_heap_object(XMM_SCRUB_ALIGN, sz);
	if (!s)
		return XMM_ENOMEM;
	rc = xmm_scrub_init(s, nnodes, distance, chunk_pages, ops, ctx);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void xmm_scrub_destroy(struct xmm_scrub *s)
{
	free(s);
}
