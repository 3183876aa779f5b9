/* SPDX-License-Identifier: MIT */
/* User-space conveniences for the zero sweep: heap placement. */
#include <xmm/errno.h>
#include <xmm/user/zerosweep.h>

#include <stdlib.h>

#include "heap.h"

int xmm_zerosweep_create(struct xmm_zerosweep **out, uint64_t npages, unsigned int order)
{
	size_t sz = xmm_zerosweep_size(npages, order);
	struct xmm_zerosweep *s;
	int rc;

	if (!out || sz == 0)
		return XMM_EINVAL;
	s = xmm_heap_object(XMM_ZEROSWEEP_ALIGN, sz);
	if (!s)
		return XMM_ENOMEM;
	rc = xmm_zerosweep_init(s, npages, order);
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void xmm_zerosweep_destroy(struct xmm_zerosweep *s)
{
	free(s);
}
