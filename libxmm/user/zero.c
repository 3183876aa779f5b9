/* SPDX-License-Identifier: MIT */
/*
 * User space's choice of zero kernels: the arch layer's, with the prefetch
 * its table gives this CPU; XMM_ZERO_KERNEL=<name> forces the kernel set,
 * XMM_ZERO_PREFETCH=<hint>[:<pages>] the prefetch (see xmm/zero.h).
 */
#include <xmm/platform.h>
#include <xmm/zero.h>

#include <stdlib.h>
#include <string.h>

#include <xmm/user/log.h>

#include "../arch/xmm_arch.h"
#include "log.h"

void xmm_zero_prefetch_choice(struct xmm_zero_prefetch_choice *c)
{
	const char *want = getenv("XMM_ZERO_PREFETCH");
	enum xmm_zero_prefetch hint;
	unsigned int pages;

	xmm_arch_zero_prefetch(c);
	if (!want || !*want)
		return;
	if (xmm_zero_prefetch_parse(want, &hint, &pages) != 0) {
		xmm_log(XMM_LOG_WARNING,
			"libxmm: XMM_ZERO_PREFETCH=%s is not <none|nta|t0|t1|t2>[:<1-%d pages>]; "
			"using %s:%u (%s)",
			want, XMM_ZERO_PF_MAX_PAGES, xmm_zero_prefetch_name(c->hint), c->pages, c->why);
		return;
	}
	c->hint = hint;
	c->pages = pages;
	c->why = "XMM_ZERO_PREFETCH";
}

size_t xmm_zero_variants_hint(const struct xmm_zero_ops **out, size_t max,
			      enum xmm_zero_prefetch hint)
{
	size_t n;

	if ((unsigned int)hint >= XMM_ZERO_PF_HINTS || !max)
		return 0;
	n = xmm_arch_zero_variants(out, max - 1, hint);
	out[n++] = &xmm_zero_portable_sets[hint];
	return n;
}

size_t xmm_zero_variants(const struct xmm_zero_ops **out, size_t max)
{
	struct xmm_zero_prefetch_choice c;

	xmm_zero_prefetch_choice(&c);
	return xmm_zero_variants_hint(out, max, c.hint);
}

const struct xmm_zero_ops *xmm_pr_zero_ops(void)
{
	const struct xmm_zero_ops *v[8];
	struct xmm_zero_prefetch_choice c;
	const char *want = getenv("XMM_ZERO_KERNEL");
	size_t n;

	xmm_zero_prefetch_choice(&c);
	xmm_zero_prefetch_pages_set(c.pages);
	n = xmm_zero_variants_hint(v, 8, c.hint);
	if (!want || !*want)
		return v[0];
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, want) == 0)
			return v[i];
	xmm_log(XMM_LOG_WARNING, "libxmm: XMM_ZERO_KERNEL=%s is not available here; using %s", want,
		v[0]->name);
	return v[0];
}
