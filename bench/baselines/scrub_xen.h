/* SPDX-License-Identifier: MIT */
/*
 * Baselines for seed 001, written for libxmm from the seed's description
 * (not copied from Xen):
 *
 *  - synchronous: the destroy path zeroes every 4 KiB page of the guest
 *    before it returns (scrub_one_page: a memset of the page);
 *  - the RFC patch posted with the seed: the destroy path parks every page on
 *    one spinlocked list (the lock held across the pages of each freed
 *    extent), and a tasklet on every CPU spins on that list, taking one page
 *    at a time under the lock and zeroing it.
 */
#ifndef XMM_BENCH_SCRUB_XEN_H
#define XMM_BENCH_SCRUB_XEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Zero pages [0, npages) of @base one 4 KiB page at a time. */
void xen_scrub_sync(char *base, uint64_t npages);

struct xen_scrub_list {
	pthread_spinlock_t lock;
	uint64_t head, tail; /* page index + 1; 0: none */
	uint64_t *next;      /* per page: the next page's index + 1 (page_info's list link) */
	char *base;
};

int xen_scrub_list_init(struct xen_scrub_list *l, char *base, uint64_t npages);
void xen_scrub_list_fini(struct xen_scrub_list *l);
/* The destroy path: park the pages of one freed extent. */
void xen_scrub_list_free(struct xen_scrub_list *l, uint64_t pfn, uint64_t npages);
/* A tasklet's step: take one page and zero it; false when the list was empty. */
bool xen_scrub_list_scrub_one(struct xen_scrub_list *l);

#endif /* XMM_BENCH_SCRUB_XEN_H */
