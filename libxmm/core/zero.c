/* SPDX-License-Identifier: MIT */
/* Zeroing and zero detection: portable kernels and the dispatch (see xmm/zero.h). */
#include <xmm/errno.h>
#include <xmm/platform.h>
#include <xmm/zero.h>

#include "zero_kernel.h"

/* The kernel's own memset is the best portable zeroing there is. */
static void clear_portable(void *p, size_t len)
{
	__builtin_memset(p, 0, len);
}

bool xmm_zk_is_zero_portable(const void *p, size_t len)
{
	return zk_range_is_zero(p, len, (const char *)p + len, zk_line_nz_words, zk_block_nz_words,
				zk_prefetch);
}

size_t xmm_zk_zero_scan_portable(const void *base, size_t npages, uint64_t *bitmap)
{
	return zk_zero_scan(base, npages, bitmap, zk_line_nz_words, zk_block_nz_words,
			    zk_prefetch);
}

const struct xmm_zero_ops xmm_zero_portable = {
	.name = "portable",
	.clear = clear_portable,
	.is_zero = xmm_zk_is_zero_portable,
	.zero_scan = xmm_zk_zero_scan_portable,
};

/* NULL until the first call picks the platform's kernels. */
static const struct xmm_zero_ops *zero_active;

const struct xmm_zero_ops *xmm_zero_ops_get(void)
{
	/* Acquire pairs with the release below: the table is complete before we call through it. */
	const struct xmm_zero_ops *ops = xmm_pr_load_acquire_ptr(&zero_active);

	if (XMM_UNLIKELY(!ops)) {
		/* Racing first calls all store the same choice. */
		ops = xmm_pr_zero_ops();
		if (!ops)
			ops = &xmm_zero_portable;
		xmm_pr_store_release_ptr(&zero_active, (void *)ops);
	}
	return ops;
}

void xmm_zero_ops_set(const struct xmm_zero_ops *ops)
{
	xmm_pr_store_release_ptr(&zero_active, (void *)ops);
}

void xmm_clear(void *p, size_t len)
{
	xmm_zero_ops_get()->clear(p, len);
}

bool xmm_is_zero(const void *p, size_t len)
{
	return xmm_zero_ops_get()->is_zero(p, len);
}

size_t xmm_zero_scan(const void *base, size_t npages, uint64_t *zero_bitmap)
{
	return xmm_zero_ops_get()->zero_scan(base, npages, zero_bitmap);
}

int xmm_superpage_check(const void *sp, unsigned int order, uint64_t *zero_bitmap)
{
	const struct xmm_zero_ops *ops = xmm_zero_ops_get();
	size_t npages;

	if (!sp || order > XMM_SUPERPAGE_MAX_ORDER)
		return XMM_EINVAL;
	npages = (size_t)1 << order;
	if (zero_bitmap)
		return ops->zero_scan(sp, npages, zero_bitmap) == npages;
	return ops->is_zero(sp, npages * XMM_ZERO_PAGE);
}
