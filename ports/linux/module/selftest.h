/* SPDX-License-Identifier: MIT */
/* xmm_selftest: the libxmm core's self-tests inside a Linux kernel (shared declarations). */
#ifndef XMM_SELFTEST_H
#define XMM_SELFTEST_H

#define pr_fmt(fmt) "xmm_selftest: " fmt

#include <linux/kernel.h>
#include <linux/types.h>

/* Module parameters (validated in main.c before any test runs). */
extern unsigned int xt_flush_ops;   /* operations of the random flush sequence */
extern unsigned int xt_flush_ms;    /* duration of the concurrent flush check */
extern unsigned int xt_scrub_pages; /* pages the scrub test allocates, fills and scrubs */
extern unsigned int xt_p2m_pfns;    /* max_pfn of the p2m differential test */
extern unsigned int xt_p2m_ops;     /* mutations of the p2m differential test */
extern unsigned int xt_zero_pages;  /* pages of the zero-detection test */
extern unsigned int xt_lookups;     /* timed random lookups of the dom0 comparison */
extern char *xt_inject;             /* a test name: make that test fail after its setup */

/* A result line: "<name>: pass|FAIL|skip (<detail>)". */
#define XT_PASS 0
#define XT_SKIP 1

/* Whether the inject parameter names this test (it then fails after allocating everything). */
bool xt_injected(const char *test);

/* xorshift64*: a small deterministic generator, seeded per test. */
static inline u64 xt_rand(u64 *s)
{
	u64 x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Allocations the tests make, counted so that the summary can show none is left. */
void *xt_vzalloc(size_t bytes);
void xt_vfree(void *p, size_t bytes);
struct page *xt_alloc_pages_node(int node, unsigned int order);
void xt_free_pages(struct page *pg, unsigned int order);

/*
 * Run @n kthreads fn(arg, i), thread i bound to the i-th online CPU modulo
 * their number when @bind; returns when all have finished, the first
 * non-zero return value (or -ENOMEM if a thread could not be created, after
 * stopping the others through *stop).
 */
int xt_run_threads(unsigned int n, int (*fn)(void *arg, unsigned int i), void *arg, bool bind,
		   int *stop);

/* Each test: fills @detail (one line) and returns 0, XT_SKIP or a negative errno. */
int xt_flush_random(char *detail, size_t len);
int xt_flush_concurrent(char *detail, size_t len);
int xt_scrub(char *detail, size_t len);
int xt_p2m_linear(char *detail, size_t len);
int xt_p2m_portable(char *detail, size_t len);
int xt_zero(char *detail, size_t len);
int xt_dom0_p2m(char *detail, size_t len);

#endif /* XMM_SELFTEST_H */
