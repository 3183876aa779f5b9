/* SPDX-License-Identifier: MIT */
/* Zeroing and zero detection: portable kernels and the dispatch (see xmm/zero.h). */
#include <xmm/platform.h>
#include <xmm/zero.h>

/* The kernel's own memset is the best portable zeroing there is. */
static void clear_portable(void *p, size_t len)
{
	__builtin_memset(p, 0, len);
}

const struct xmm_zero_ops xmm_zero_portable = {
	.name = "portable",
	.clear = clear_portable,
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
