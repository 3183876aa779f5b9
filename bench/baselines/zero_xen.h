/* SPDX-License-Identifier: MIT */
/*
 * Baselines for seed 003, written for libxmm from the seed's description and
 * Xen's documented behaviour of populate-on-demand reclaim (not copied from
 * Xen). Compiled with general registers only, as a hypervisor built without
 * SSE runs them (see bench/CMakeLists.txt):
 *
 *  - the scalar zero check: eight bytes per load, stop at the first non-zero
 *    word (Xen's full zero check);
 *  - the 4 KiB page check: a quick look at the first 16 words, then the scalar
 *    check of the whole page from its first word again (p2m_pod_zero_check);
 *  - the superpage check: the quick look at every page of the superpage first,
 *    then the scalar check page after page, stopping at the first page that is
 *    not zero (p2m_pod_zero_check_superpage);
 *  - the sweep: every superpage checked as a superpage; when that fails, each
 *    of its pages checked again as a 4 KiB page; every page reclaimed is
 *    cleared (p2m_pod_cache_add clears what it takes in) with non-temporal
 *    eight-byte stores, as Xen's clear_page does.
 *
 * Counters, when asked for, say what was read (words loaded, distinct cache
 * lines touched) and written; they cost one add per page.
 */
#ifndef XMM_BENCH_ZERO_XEN_H
#define XMM_BENCH_ZERO_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XEN_PAGE 4096
#define XEN_SUPERPAGE_ORDER 9
#define XEN_SUPERPAGE_PAGES (1u << XEN_SUPERPAGE_ORDER)

struct xen_zero_count {
	uint64_t words;         /* eight-byte loads */
	uint64_t lines;         /* distinct 64-byte lines touched, per page */
	uint64_t bytes_written; /* cleared */
};

/* The scalar check of one page; a non-NULL @c counts. */
bool xen_scalar_page_is_zero(const void *page, struct xen_zero_count *c);
/* The scalar check of @npages pages: how many are zero. */
size_t xen_scalar_scan(const void *base, size_t npages);

/* The 4 KiB page check: quick look at 16 words, then the scalar check. */
bool xen_page_is_zero(const void *page, struct xen_zero_count *c);

/* The superpage check of XEN_SUPERPAGE_PAGES pages at @sp. */
bool xen_superpage_is_zero(const void *sp, struct xen_zero_count *c);

/* Xen's clear_page: non-temporal eight-byte stores, then a store fence. */
void xen_clear_page(void *page, struct xen_zero_count *c);

/*
 * Sweep @nsp superpages from @image for zero memory to reclaim, the Xen way.
 * Records what is reclaimed: whole[k] = 1 for a superpage reclaimed whole,
 * and bit p of @reclaimed (a bitmap over the image's pages) for every page
 * reclaimed, whole superpages included. Returns the pages reclaimed.
 */
uint64_t xen_pod_sweep(void *image, uint64_t nsp, uint8_t *whole, uint64_t *reclaimed,
		       struct xen_zero_count *c);

#endif /* XMM_BENCH_ZERO_XEN_H */
