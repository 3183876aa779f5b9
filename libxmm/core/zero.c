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

/* Bytes ahead of the body scan, for every kernel set; relaxed: any value is correct, only speed differs. */
uint64_t xmm_zk_prefetch_bytes = XMM_ZERO_PF_DEFAULT_PAGES * XMM_ZERO_PAGE;

unsigned int xmm_zero_prefetch_pages(void)
{
	return (unsigned int)(xmm_pr_load_relaxed_64(&xmm_zk_prefetch_bytes) / XMM_ZERO_PAGE);
}

void xmm_zero_prefetch_pages_set(unsigned int pages)
{
	if (pages < 1)
		pages = 1;
	if (pages > XMM_ZERO_PF_MAX_PAGES)
		pages = XMM_ZERO_PF_MAX_PAGES;
	xmm_pr_store_relaxed_64(&xmm_zk_prefetch_bytes, (uint64_t)pages * XMM_ZERO_PAGE);
}

static const char *const prefetch_names[XMM_ZERO_PF_HINTS] = {
	[XMM_ZERO_PF_NONE] = "none", [XMM_ZERO_PF_NTA] = "nta", [XMM_ZERO_PF_T0] = "t0",
	[XMM_ZERO_PF_T1] = "t1",     [XMM_ZERO_PF_T2] = "t2",
};

const char *xmm_zero_prefetch_name(enum xmm_zero_prefetch hint)
{
	return (unsigned int)hint < XMM_ZERO_PF_HINTS ? prefetch_names[hint] : NULL;
}

int xmm_zero_prefetch_parse(const char *s, enum xmm_zero_prefetch *hint, unsigned int *pages)
{
	unsigned int h, n = XMM_ZERO_PF_DEFAULT_PAGES;
	size_t len = 0;

	if (!s || !hint || !pages)
		return XMM_EINVAL;
	while (s[len] && s[len] != ':')
		len++;
	for (h = 0; h < XMM_ZERO_PF_HINTS; h++) {
		const char *name = prefetch_names[h];
		size_t i = 0;

		while (i < len && name[i] == s[i])
			i++;
		if (i == len && name[i] == '\0')
			break;
	}
	if (len == 0 || h == XMM_ZERO_PF_HINTS)
		return XMM_EINVAL;
	if (s[len] == ':') {
		const char *d = s + len + 1;

		/* At most two digits: anything longer is out of range anyway, and cannot overflow. */
		if (d[0] < '0' || d[0] > '9')
			return XMM_EINVAL;
		n = (unsigned int)(d[0] - '0');
		if (d[1] >= '0' && d[1] <= '9')
			n = n * 10 + (unsigned int)(d[1] - '0'), d++;
		if (d[1] != '\0' || n < 1 || n > XMM_ZERO_PF_MAX_PAGES)
			return XMM_EINVAL;
	}
	*hint = (enum xmm_zero_prefetch)h;
	*pages = n;
	return 0;
}

#define PORTABLE_KERNELS(hint, value)                                                          \
	bool xmm_zk_is_zero_portable_##hint(const void *p, size_t len)                         \
	{                                                                                      \
		return zk_is_zero(p, len, zk_line_nz_words, zk_block_nz_words,                  \
				  zk_prefetch_##hint);                                          \
	}                                                                                      \
	size_t xmm_zk_zero_scan_portable_##hint(const void *base, size_t npages,               \
						uint64_t *bitmap)                              \
	{                                                                                      \
		return zk_zero_scan(base, npages, bitmap, zk_line_nz_words, zk_block_nz_words,  \
				    zk_prefetch_##hint);                                        \
	}
ZK_FOR_EACH_HINT(PORTABLE_KERNELS)

#define PORTABLE_SET(hint, value)                                                              \
	[value] = { .name = "portable",                                                        \
		    .clear = clear_portable,                                                   \
		    .is_zero = xmm_zk_is_zero_portable_##hint,                                 \
		    .zero_scan = xmm_zk_zero_scan_portable_##hint,                             \
		    .prefetch = value },
const struct xmm_zero_ops xmm_zero_portable_sets[XMM_ZERO_PF_HINTS] = { ZK_FOR_EACH_HINT(PORTABLE_SET) };

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
