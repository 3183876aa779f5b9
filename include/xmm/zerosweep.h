/* SPDX-License-Identifier: MIT */
/*
 * xmm/zerosweep.h - which superpages a populate-on-demand reclaim checks
 * first, and what it may take from each (seed 003).
 *
 * With populate-on-demand a guest boots with less memory than it believes it
 * has; when the hypervisor runs short it reclaims memory the guest has left
 * zero, best as whole superpages so that their p2m mappings need not be
 * shattered. Xen sweeps guest memory linearly, checks a superpage page by
 * page and, when that fails, checks its pages again one by one, then clears
 * every page it reclaimed although it has just read it as zero.
 *
 * A zero sweep covers a guest of npages 4 KiB pages as superpages of 2^order
 * pages (order 9: 2 MiB), superpage k being pfns [k << order, (k + 1) << order);
 * pfns past the last whole superpage are not covered. Frees the guest makes
 * (decrease_reservation, a balloon driver returning memory) are noted; the
 * reclaim loop asks for the next superpage to check and gets the noted ones
 * first, the rest in a linear pass after them:
 *
 *   on a free:     xmm_zerosweep_note(s, pfn)
 *   to reclaim:    while (more memory is wanted && xmm_zerosweep_next(s, &first) == 0) {
 *                          take the superpage from the guest (p2m entry to PoD, flush
 *                          TLBs) and map it at sp;    // the caller's business
 *                          n = xmm_zerosweep_check(s, sp, zero);
 *                          n == 1 << order:  reclaim the superpage whole
 *                          0 < n < 1 << order: reclaim the pages whose bit is set in
 *                                           zero, give the others back to the guest
 *                          n == 0:           give it all back
 *                  }
 *
 * Every page a check reports zero was read as zero in full: hand it to the
 * populate-on-demand cache as clean, so that nobody clears it again (Xen's
 * p2m_pod_cache_add clears every page it takes in). A check reads each page
 * once, at most one line of a page that is not zero in the common case (see
 * xmm/zero.h), and writes nothing but the caller's bitmap.
 *
 * Order of next(): superpages noted since they were last offered come first,
 * in address order round robin from where the previous one was found; when
 * none is pending, the linear pass offers the next superpage not yet offered
 * in this pass. When the linear pass reaches the end, next() returns
 * XMM_ENOENT once ("every superpage has been offered since the pass began")
 * and the following call starts a new pass. So a superpage is offered once
 * per pass, plus once more after each note that comes after it was offered.
 *
 * Concurrency (which pairs of calls need external synchronization):
 *
 *              note   next   check   stats
 *   note         -      -      -       -
 *   next         -      X      X       -
 *   check        -      X      X       -
 *   stats        -      -      -       -
 *   init/size    every call on the sweep must be ordered after init
 *
 *   note may run on any CPU at any time, concurrently with everything (a few
 *   atomic read-modify-writes, no lock); next and check belong to the reclaim
 *   loop and run under its lock (Xen's PoD lock). stats values are each read
 *   atomically, but not as one snapshot.
 *
 * Ordering guarantee: a note that happens before a call of next() (through
 * whatever orders them: the p2m lock, a hypercall return) is seen by that
 * call, which then offers a noted superpage rather than one of the linear
 * pass. A note racing with next() is seen by it or by a later call; none is
 * lost (test_zerosweep.c checks the first, stress_zerosweep.c the second).
 */
#ifndef XMM_ZEROSWEEP_H
#define XMM_ZEROSWEEP_H

#include <xmm/types.h>
#include <xmm/zero.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_zerosweep;

/* Alignment of the sweep's memory (its bitmaps are written with atomics). */
#define XMM_ZEROSWEEP_ALIGN XMM_CACHELINE

struct xmm_zerosweep_stats {
	uint64_t noted;      /* notes that made a superpage pending */
	uint64_t offered;    /* superpages next() returned */
	uint64_t from_notes; /* ... of which were pending from notes */
	uint64_t checked;    /* superpages checked */
	uint64_t whole;      /* ... found entirely zero */
	uint64_t zero_pages; /* pages proved zero, whole superpages included */
};

/*
 * Bytes needed for a guest of @npages pages in superpages of 2^@order pages;
 * 0 when @order is 0 or above XMM_SUPERPAGE_MAX_ORDER, or the guest holds no
 * whole superpage.
 */
size_t xmm_zerosweep_size(uint64_t npages, unsigned int order);

/*
 * Initialize a sweep in caller memory of xmm_zerosweep_size(npages, order)
 * bytes aligned to XMM_ZEROSWEEP_ALIGN: nothing pending, a linear pass about
 * to start at superpage 0. Returns 0, or XMM_EINVAL when the size would be 0
 * or @s is NULL or misaligned.
 */
int xmm_zerosweep_init(struct xmm_zerosweep *s, uint64_t npages, unsigned int order);

/* Pages per superpage (2^order) and superpages covered. */
uint64_t xmm_zerosweep_superpage_pages(const struct xmm_zerosweep *s);
uint64_t xmm_zerosweep_superpages(const struct xmm_zerosweep *s);

/*
 * The guest freed @pfn: make its superpage pending, to be offered by next()
 * before the linear pass goes on. Returns 0, or XMM_ERANGE for a pfn past the
 * last whole superpage (nothing changes).
 */
int xmm_zerosweep_note(struct xmm_zerosweep *s, xmm_pfn_t pfn);

/*
 * The next superpage to check: its first pfn in *@first. Returns 0, or
 * XMM_ENOENT when the linear pass has just ended (the next call begins a new
 * one), or XMM_EINVAL for a NULL @first.
 */
int xmm_zerosweep_next(struct xmm_zerosweep *s, xmm_pfn_t *first);

/*
 * Check the superpage mapped at @sp (2^order pages; any alignment) in one
 * pass: fill @zero (XMM_ZERO_BITMAP_WORDS(2^order) words, bit i for page
 * first + i, as xmm_zero_scan) and return how many pages are zero: 2^order
 * means reclaim the superpage whole; fewer, the pages whose bits are set.
 * Returns XMM_EINVAL for a NULL @sp or @zero.
 */
int64_t xmm_zerosweep_check(struct xmm_zerosweep *s, const void *sp, uint64_t *zero);

/* A snapshot of @s's counters into @st (struct xmm_zerosweep_stats). */
void xmm_zerosweep_stats(const struct xmm_zerosweep *s, struct xmm_zerosweep_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* XMM_ZEROSWEEP_H */
