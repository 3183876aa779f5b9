/* SPDX-License-Identifier: MIT */
/* The dense flat p2m array baseline (see p2m_dense.h). */
#include "p2m_dense.h"

#include <string.h>
#include <sys/mman.h>

#include <xmm/errno.h>

int p2m_dense_init(struct p2m_dense *d, xmm_pfn_t max_pfn)
{
	size_t bytes = max_pfn * sizeof(uint64_t);
	void *a = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED)
		return XMM_ENOMEM;
	(void)madvise(a, bytes, MADV_NOHUGEPAGE);
	memset(a, 0xff, bytes); /* XMM_INVALID_MFN everywhere */
	d->a = a;
	d->max_pfn = max_pfn;
	return 0;
}

void p2m_dense_fini(struct p2m_dense *d)
{
	munmap(d->a, d->max_pfn * sizeof(uint64_t));
	d->a = NULL;
}

int p2m_dense_set_range(struct p2m_dense *d, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n)
{
	if (pfn >= d->max_pfn || n > d->max_pfn - pfn)
		return XMM_ERANGE;
	for (uint64_t i = 0; i < n; i++)
		xmm_pr_store_relaxed_64(&d->a[pfn + i], mfn + i);
	return 0;
}

int p2m_dense_set_identity(struct p2m_dense *d, xmm_pfn_t start, xmm_pfn_t end)
{
	if (start > end || end > d->max_pfn)
		return XMM_ERANGE;
	for (xmm_pfn_t x = start; x < end; x++)
		xmm_pr_store_relaxed_64(&d->a[x], XMM_IDENTITY_FRAME(x));
	return 0;
}
