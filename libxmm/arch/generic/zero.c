/* SPDX-License-Identifier: MIT */
/* No architecture-specific kernels: the core's portable ones are used. */
#include "../xmm_arch.h"

size_t xmm_arch_zero_variants(const struct xmm_zero_ops **out, size_t max,
			      enum xmm_zero_prefetch hint)
{
	(void)out;
	(void)max;
	(void)hint;
	return 0;
}

void xmm_arch_zero_prefetch(struct xmm_zero_prefetch_choice *choice)
{
	choice->hint = XMM_ZERO_PF_DEFAULT;
	choice->pages = XMM_ZERO_PF_DEFAULT_PAGES;
	choice->why = "no table for this architecture: the default";
}
