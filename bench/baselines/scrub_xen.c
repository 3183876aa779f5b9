/* SPDX-License-Identifier: MIT */
/* Baselines for seed 001 (see scrub_xen.h). */
#include "scrub_xen.h"

#include <stdlib.h>
#include <string.h>

/* Out of line, as Xen's: the loop below cannot become one large memset. */
__attribute__((noinline)) static void scrub_one_page(char *page)
{
	memset(page, 0, 4096);
	__asm__ volatile("" ::"r"(page) : "memory");
}

void xen_scrub_sync(char *base, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++)
		scrub_one_page(base + (i << 12));
}

int xen_scrub_list_init(struct xen_scrub_list *l, char *base, uint64_t npages)
{
	memset(l, 0, sizeof(*l));
	l->next = calloc(npages, sizeof(*l->next));
	if (!l->next)
		return -1;
	l->base = base;
	return pthread_spin_init(&l->lock, PTHREAD_PROCESS_PRIVATE);
}

void xen_scrub_list_fini(struct xen_scrub_list *l)
{
	pthread_spin_destroy(&l->lock);
	free(l->next);
}

void xen_scrub_list_free(struct xen_scrub_list *l, uint64_t pfn, uint64_t npages)
{
	pthread_spin_lock(&l->lock);
	for (uint64_t i = pfn; i < pfn + npages; i++) { /* page_list_add_tail */
		l->next[i] = 0;
		if (l->tail)
			l->next[l->tail - 1] = i + 1;
		else
			l->head = i + 1;
		l->tail = i + 1;
	}
	pthread_spin_unlock(&l->lock);
}

bool xen_scrub_list_scrub_one(struct xen_scrub_list *l)
{
	uint64_t pg;

	pthread_spin_lock(&l->lock);
	pg = l->head;
	if (pg) {
		l->head = l->next[pg - 1];
		if (!l->head)
			l->tail = 0;
	}
	pthread_spin_unlock(&l->lock);
	if (pg)
		scrub_one_page(l->base + ((pg - 1) << 12));
	return pg != 0;
}
