// SPDX-License-Identifier: MIT
/*
 * The out-of-line half of the Linux platform for libxmm (xmm_platform.h):
 * wakeups, the clock, assertions, RCU, pages and the virtual-memory hooks.
 *
 * Virtual memory (the linear p2m's range). xmm_vm_reserve maps the kernel's
 * zero page (vm_map_ram, then write-protected), read-only, at every page of the range, the way Linux's Xen p2m
 * (arch/x86/xen/p2m.c) maps its shared "missing" page into holes: untouched
 * pages read as zero and cost only their page-table entry (8 bytes per 4 KiB
 * of range, i.e. 4 KiB per GiB of guest, paid at reserve time; Linux's own
 * p2m also shares the page-table pages of whole holes, which this does not). xmm_vm_populate replaces zero-page entries with fresh
 * zeroed private pages, xmm_vm_discard puts the zero page back and frees the
 * private ones. Every entry change happens under one spinlock (populates of
 * the same page from two CPUs: the second finds it backed and keeps its
 * contents) and is followed by a TLB shootdown on every CPU before the call
 * returns:
 *   - populate: a CPU may still cache the read-only zero-page translation;
 *     after the shootdown every CPU reads the private page, so a store made
 *     there after populate returns is seen by every later reader;
 *   - discard: the private page is freed only after no CPU can reach it, and
 *     a CPU that reads the zero page afterwards took the shootdown interrupt,
 *     which orders it after every store made before the call (the seam's
 *     ordering rule for xmm_vm_discard).
 * The shootdown is an IPI to each CPU running __flush_tlb_all() (the kernel
 * does not export flush_tlb_kernel_range to modules). Entries are written with
 * set_pte(), which is a paravirt call: under Xen PV it becomes the hypercall
 * (or trapped write) the hypervisor validates. Nothing here sleeps while the
 * lock is held, and discard, which the core may call with one of its own
 * spinning locks held, never sleeps at all.
 */
#include <xmm/errno.h>
#include <xmm/platform.h>

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>

#include <xmm_linux.h>

static atomic_long_t pages_held = ATOMIC_LONG_INIT(0);
static atomic_long_t assert_failures = ATOMIC_LONG_INIT(0);
static atomic_long_t vm_shootdowns = ATOMIC_LONG_INIT(0);

long xmm_linux_pages_held(void)
{
	return atomic_long_read(&pages_held);
}

unsigned long xmm_linux_assert_failures(void)
{
	return (unsigned long)atomic_long_read(&assert_failures);
}

unsigned long xmm_linux_vm_shootdowns(void)
{
	return (unsigned long)atomic_long_read(&vm_shootdowns);
}

void xmm_pr_wake(uint32_t *word)
{
	wake_up_var(word);
}

uint64_t xmm_pr_clock(void)
{
	return ktime_get_ns();
}

void xmm_assert_fail(const char *cond, const char *file, int line)
{
	atomic_long_inc(&assert_failures);
	WARN(1, "libxmm: assertion failed: %s (%s:%d)\n", cond, file, line);
}

void xmm_rcu_read_lock(void)
{
	rcu_read_lock();
}

void xmm_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

static void rcu_trampoline(struct callback_head *rh)
{
	struct xmm_rcu_head *h = container_of(rh, struct xmm_rcu_head, rcu);

	h->fn(h);
}

void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h))
{
	h->fn = fn;
	call_rcu(&h->rcu, rcu_trampoline);
}

void xmm_rcu_barrier(void)
{
	rcu_barrier();
}

/* ---- pages ---------------------------------------------------------------- */

/* Up to the buddy allocator's largest block physically contiguous, above that vmalloc. */
#define EXACT_MAX_PAGES (1UL << (MAX_ORDER - 1))

void *xmm_pages_alloc(size_t npages)
{
	void *p;

	if (npages == 0 || npages > totalram_pages())
		return NULL;
	if (npages <= EXACT_MAX_PAGES)
		p = alloc_pages_exact(npages << PAGE_SHIFT, GFP_KERNEL | __GFP_NOWARN);
	else
		p = vmalloc(npages << PAGE_SHIFT);
	if (p)
		atomic_long_add((long)npages, &pages_held);
	return p;
}

void xmm_pages_free(void *p, size_t npages)
{
	if (!p)
		return;
	if (is_vmalloc_addr(p))
		vfree(p);
	else
		free_pages_exact(p, npages << PAGE_SHIFT);
	atomic_long_sub((long)npages, &pages_held);
}

/* ---- virtual memory --------------------------------------------------------- */

/* Serializes every change of a reserved range's page-table entries. */
static DEFINE_SPINLOCK(vm_lock);

static inline unsigned long hole_pfn(void)
{
	return page_to_pfn(ZERO_PAGE(0));
}

/* The entry of one page of a reserved range (vmap maps 4 KiB pages only). */
static pte_t *vm_pte(unsigned long addr)
{
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (WARN_ON_ONCE(!pte || level != PG_LEVEL_4K))
		return NULL;
	return pte;
}

static bool vm_is_hole(const pte_t *pte)
{
	return pte_pfn(*pte) == hole_pfn();
}

static void flush_this_cpu(void *unused)
{
	__flush_tlb_all();
}

/* Every CPU drops its translations; returns when all have (on_each_cpu waits). */
static void vm_shootdown(void)
{
	atomic_long_inc(&vm_shootdowns);
	on_each_cpu(flush_this_cpu, NULL, 1);
}

static void free_page_list(struct list_head *list)
{
	struct page *pg, *tmp;

	list_for_each_entry_safe(pg, tmp, list, lru) {
		list_del(&pg->lru);
		__free_page(pg);
	}
}

int xmm_vm_reserve(size_t bytes, void **va)
{
	unsigned long n = bytes >> PAGE_SHIFT, i;
	struct page **pages;
	void *p;

	/* The entries cost 8 bytes a page: refuse ranges whose page tables would
	 * take more than a sixteenth of RAM (a 512 GiB PV dom0 p2m takes 2 MiB). */
	if (n == 0 || (bytes & ~PAGE_MASK) || n > UINT_MAX ||
	    n / PTRS_PER_PTE > totalram_pages() / 16)
		return XMM_ENOMEM;
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL | __GFP_NOWARN);
	if (!pages)
		return XMM_ENOMEM;
	for (i = 0; i < n; i++)
		pages[i] = ZERO_PAGE(0);
	/* vm_map_ram, not vmap: vmap refuses more pages than the machine has RAM,
	 * and a sparse map is mostly holes. It maps PAGE_KERNEL, so every entry is
	 * made read-only before anyone knows the range. */
	p = vm_map_ram(pages, (unsigned int)n, NUMA_NO_NODE);
	kvfree(pages);
	if (!p)
		return XMM_ENOMEM;
	arch_enter_lazy_mmu_mode(); /* Xen PV: one batch of hypercalls */
	for (i = 0; i < n; i++) {
		pte_t *pte = vm_pte((unsigned long)p + (i << PAGE_SHIFT));

		if (pte)
			set_pte(pte, mk_pte(ZERO_PAGE(0), PAGE_KERNEL_RO));
	}
	arch_leave_lazy_mmu_mode();
	vm_shootdown();
	*va = p;
	return 0;
}

void xmm_vm_release(void *va, size_t bytes)
{
	unsigned long start = (unsigned long)va, n = bytes >> PAGE_SHIFT, i;
	LIST_HEAD(privates);
	long freed = 0;

	for (i = 0; i < n; i++) {
		pte_t *pte = vm_pte(start + (i << PAGE_SHIFT));

		if (pte && !vm_is_hole(pte)) {
			list_add(&pte_page(*pte)->lru, &privates);
			freed++;
		}
	}
	vm_unmap_ram(va, (unsigned int)n);
	/* vm_unmap_ram's own flush is lazy: make sure no CPU still reaches the pages. */
	vm_shootdown();
	free_page_list(&privates);
	atomic_long_sub(freed, &pages_held);
}

int xmm_vm_populate(void *va, size_t bytes)
{
	unsigned long start = (unsigned long)va, n = bytes >> PAGE_SHIFT, i;
	bool retry = true, changed = false;

	while (retry) {
		unsigned long need = 0;
		long installed = 0;
		LIST_HEAD(fresh);

		retry = false;
		/* Allocate outside the lock (it may sleep); a hole that another populate
		 * backs meanwhile just leaves a spare page. */
		for (i = 0; i < n; i++) {
			pte_t *pte = vm_pte(start + (i << PAGE_SHIFT));

			if (!pte)
				return XMM_ENOMEM;
			need += vm_is_hole(pte);
		}
		for (i = 0; i < need; i++) {
			struct page *pg = alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);

			if (!pg) {
				free_page_list(&fresh);
				if (changed)
					vm_shootdown();
				return XMM_ENOMEM;
			}
			list_add(&pg->lru, &fresh);
		}
		spin_lock(&vm_lock);
		for (i = 0; i < n; i++) {
			pte_t *pte = vm_pte(start + (i << PAGE_SHIFT));
			struct page *pg;

			if (!vm_is_hole(pte))
				continue; /* backed already: keeps its contents */
			pg = list_first_entry_or_null(&fresh, struct page, lru);
			if (!pg) {
				retry = true; /* more holes than we counted: go round again */
				break;
			}
			list_del(&pg->lru);
			/* The page's zeroes before the entry that exposes it (pairs with the
			 * address dependency of every access through the new entry). */
			smp_wmb();
			set_pte(pte, mk_pte(pg, PAGE_KERNEL));
			installed++;
		}
		spin_unlock(&vm_lock);
		atomic_long_add(installed, &pages_held);
		changed |= installed > 0;
		free_page_list(&fresh);
	}
	if (changed)
		vm_shootdown();
	return 0;
}

void xmm_vm_discard(void *va, size_t bytes)
{
	unsigned long start = (unsigned long)va, n = bytes >> PAGE_SHIFT, i;
	LIST_HEAD(privates);
	long freed = 0;

	spin_lock(&vm_lock);
	for (i = 0; i < n; i++) {
		pte_t *pte = vm_pte(start + (i << PAGE_SHIFT));

		if (!pte || vm_is_hole(pte))
			continue;
		list_add(&pte_page(*pte)->lru, &privates);
		set_pte(pte, mk_pte(ZERO_PAGE(0), PAGE_KERNEL_RO));
		freed++;
	}
	spin_unlock(&vm_lock);
	if (!freed)
		return;
	vm_shootdown();
	free_page_list(&privates);
	atomic_long_sub(freed, &pages_held);
}
