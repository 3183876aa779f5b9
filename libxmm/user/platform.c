/* SPDX-License-Identifier: MIT */
/* The out-of-line hooks of the user-space platform (libxmm/user/xmm_platform.h). */
#define _GNU_SOURCE
#include <xmm/platform.h>

#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-bp.h>

_Static_assert(sizeof(struct rcu_head) <= sizeof(((struct xmm_rcu_head *)0)->urcu_head),
	       "struct xmm_rcu_head must hold liburcu's struct rcu_head");

uint64_t xmm_pr_clock(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC never goes backwards across CPUs (the kernel checks TSC sync). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void xmm_pr_wake(uint32_t *word)
{
	/* Private: libxmm objects are not shared between processes. */
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void xmm_assert_fail(const char *cond, const char *file, int line)
{
	fprintf(stderr, "libxmm: assertion failed: %s (%s:%d)\n", cond, file, line);
	abort();
}

void xmm_rcu_read_lock(void)
{
	urcu_bp_read_lock();
}

void xmm_rcu_read_unlock(void)
{
	urcu_bp_read_unlock();
}

static void rcu_trampoline(struct rcu_head *rh)
{
	struct xmm_rcu_head *h = (struct xmm_rcu_head *)(void *)rh;

	h->fn(h);
}

void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h))
{
	h->fn = fn;
	urcu_bp_call_rcu((struct rcu_head *)(void *)h->urcu_head, rcu_trampoline);
}

void xmm_rcu_barrier(void)
{
	urcu_bp_barrier();
}

void *xmm_pages_alloc(size_t npages)
{
	if (npages == 0 || npages > SIZE_MAX / XMM_PAGE_SIZE)
		return NULL;
	return aligned_alloc(XMM_PAGE_SIZE, npages * XMM_PAGE_SIZE);
}

void xmm_pages_free(void *p, size_t npages)
{
	(void)npages;
	free(p);
}
