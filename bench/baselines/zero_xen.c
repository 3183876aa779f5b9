/* SPDX-License-Identifier: MIT */
/* Baselines for seed 003 (see zero_xen.h). General registers only. */
#include "zero_xen.h"

#define WORDS (XEN_PAGE / 8)
#define QUICK_WORDS 16

/* Index of the first non-zero word of the page from word @from on, or WORDS. */
static inline unsigned int first_nonzero(const uint64_t *w, unsigned int from)
{
	unsigned int j;

	for (j = from; j < WORDS; j++)
		if (w[j] != 0)
			break;
	return j;
}

bool xen_scalar_page_is_zero(const void *page, struct xen_zero_count *c)
{
	unsigned int j = first_nonzero(page, 0);

	if (c) {
		c->words += j < WORDS ? j + 1 : WORDS;
		c->lines += (j < WORDS ? j : WORDS - 1) / 8 + 1;
	}
	return j == WORDS;
}

size_t xen_scalar_scan(const void *base, size_t npages)
{
	const char *p = base;
	size_t n = 0;

	for (size_t i = 0; i < npages; i++)
		n += xen_scalar_page_is_zero(p + i * XEN_PAGE, NULL);
	return n;
}

/* The quick look: are the first 16 words zero? */
static inline bool quick_is_zero(const uint64_t *w, struct xen_zero_count *c)
{
	unsigned int j;

	for (j = 0; j < QUICK_WORDS; j++)
		if (w[j] != 0)
			break;
	if (c) {
		c->words += j < QUICK_WORDS ? j + 1 : QUICK_WORDS;
		c->lines += j < QUICK_WORDS ? j / 8 + 1 : QUICK_WORDS / 8;
	}
	return j == QUICK_WORDS;
}

bool xen_page_is_zero(const void *page, struct xen_zero_count *c)
{
	struct xen_zero_count quick = { 0, 0, 0 };
	bool zero;

	if (!quick_is_zero(page, c ? &quick : NULL)) {
		if (c) {
			c->words += quick.words;
			c->lines += quick.lines;
		}
		return false;
	}
	/* The full check starts again from the first word: lines touched are the full check's. */
	zero = xen_scalar_page_is_zero(page, c);
	if (c)
		c->words += quick.words;
	return zero;
}

bool xen_superpage_is_zero(const void *sp, struct xen_zero_count *c)
{
	const char *p = sp;

	for (unsigned int i = 0; i < XEN_SUPERPAGE_PAGES; i++)
		if (!quick_is_zero((const uint64_t *)(const void *)(p + i * XEN_PAGE), c))
			return false;
	for (unsigned int i = 0; i < XEN_SUPERPAGE_PAGES; i++) {
		/* Lines were counted by the quick look already for the first two of each page. */
		struct xen_zero_count full = { 0, 0, 0 };
		bool zero = xen_scalar_page_is_zero(p + i * XEN_PAGE, c ? &full : NULL);

		if (c) {
			c->words += full.words;
			c->lines += full.lines > QUICK_WORDS / 8 ? full.lines - QUICK_WORDS / 8 : 0;
		}
		if (!zero)
			return false;
	}
	return true;
}

void xen_clear_page(void *page, struct xen_zero_count *c)
{
	uint64_t *w = page;

	for (unsigned int j = 0; j < WORDS; j += 4)
		__asm__ volatile("movnti %1, 0(%0)\n\t"
				 "movnti %1, 8(%0)\n\t"
				 "movnti %1, 16(%0)\n\t"
				 "movnti %1, 24(%0)"
				 :
				 : "r"(w + j), "r"((uint64_t)0)
				 : "memory");
	__asm__ volatile("sfence" ::: "memory");
	if (c)
		c->bytes_written += XEN_PAGE;
}

uint64_t xen_pod_sweep(void *image, uint64_t nsp, uint8_t *whole, uint64_t *reclaimed,
		       struct xen_zero_count *c)
{
	char *base = image;
	uint64_t pages = 0;

	for (uint64_t k = 0; k < nsp; k++) {
		char *sp = base + k * XEN_SUPERPAGE_PAGES * XEN_PAGE;
		uint64_t first = k * XEN_SUPERPAGE_PAGES;

		whole[k] = xen_superpage_is_zero(sp, c);
		for (unsigned int i = 0; i < XEN_SUPERPAGE_PAGES; i++) {
			char *page = sp + i * XEN_PAGE;

			/* A failed superpage is shattered and its pages checked again one by one. */
			if (!whole[k] && !xen_page_is_zero(page, c))
				continue;
			xen_clear_page(page, c);
			reclaimed[(first + i) / 64] |= 1ULL << ((first + i) % 64);
			pages++;
		}
	}
	return pages;
}
