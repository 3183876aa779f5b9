/* SPDX-License-Identifier: MIT */
/* User space's choice of zero kernels: the arch layer's, overridable by XMM_ZERO_KERNEL. */
#include <xmm/platform.h>
#include <xmm/zero.h>

#include <stdlib.h>
#include <string.h>

#include <xmm/user/log.h>

#include "../arch/xmm_arch.h"
#include "log.h"

size_t xmm_zero_variants(const struct xmm_zero_ops **out, size_t max)
{
	size_t n = max ? xmm_arch_zero_variants(out, max - 1) : 0;

	if (n < max)
		out[n++] = &xmm_zero_portable;
	return n;
}

const struct xmm_zero_ops *xmm_pr_zero_ops(void)
{
	const struct xmm_zero_ops *v[8];
	size_t n = xmm_zero_variants(v, 8);
	const char *want = getenv("XMM_ZERO_KERNEL");

	if (!want || !*want)
		return v[0];
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, want) == 0)
			return v[i];
	xmm_log(XMM_LOG_WARNING, "libxmm: XMM_ZERO_KERNEL=%s is not available here; using %s", want,
		v[0]->name);
	return v[0];
}
