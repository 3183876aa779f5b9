/* SPDX-License-Identifier: MIT */
/*
 * The user-space virtual-memory hooks (xmm_vm_*, see xmm/platform.h): a
 * reserved anonymous range whose untouched pages read as the kernel's shared
 * zero page, populated and discarded page by page with madvise.
 */
#define _GNU_SOURCE
#include <xmm/errno.h>
#include <xmm/platform.h>

#include <errno.h>
#include <sys/mman.h>

int xmm_vm_reserve(size_t bytes, void **va)
{
	void *p;

	/* MADV_POPULATE_WRITE (Linux 5.14) is how populate reports ENOMEM instead of an OOM kill. */
	if (madvise(NULL, 0, MADV_POPULATE_WRITE) != 0)
		return XMM_ENOTSUP;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return XMM_ENOMEM;
	/*
	 * 4 KiB pages only: a transparent huge page would back 2 MiB of the range
	 * on the first write into any of it (THP "always" does that), and a read
	 * of a hole would map the huge zero page instead of sharing page tables.
	 */
	(void)madvise(p, bytes, MADV_NOHUGEPAGE);
	*va = p;
	return 0;
}

void xmm_vm_release(void *va, size_t bytes)
{
	munmap(va, bytes);
}

int xmm_vm_populate(void *va, size_t bytes)
{
	/* Faults the pages in writable without writing them: backed pages keep their contents. */
	return madvise(va, bytes, MADV_POPULATE_WRITE) == 0 ? 0 : XMM_ENOMEM;
}

void xmm_vm_discard(void *va, size_t bytes)
{
	/*
	 * The kernel unmaps the pages and shoots down every TLB that may cache
	 * them before returning; a later read faults in the zero page. A CPU that
	 * reads that zero went through the fault or the shootdown interrupt, both
	 * of which order it after our earlier stores.
	 */
	(void)madvise(va, bytes, MADV_DONTNEED);
}
