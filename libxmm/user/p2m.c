/* SPDX-License-Identifier: MIT */
/* User-space conveniences for the p2m map: heap placement. */
#include <xmm/errno.h>
#include <xmm/user/p2m.h>

#include <stdlib.h>

#include "heap.h"

int xmm_p2m_create(struct xmm_p2m **out, xmm_pfn_t max_pfn, unsigned int flags)
{
	size_t sz = xmm_p2m_size(max_pfn, flags);
	struct xmm_p2m *p;
	int rc;

	if (!out || sz == 0)
		return XMM_EINVAL;
	p = xmm_heap_object(XMM_P2M_ALIGN, sz);
	if (!p)
		return XMM_ENOMEM;
	rc = xmm_p2m_init(p, max_pfn, flags);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void xmm_p2m_destroy(struct xmm_p2m *p)
{
	if (!p)
		return;
	xmm_p2m_fini(p);
	free(p);
}
