/* SPDX-License-Identifier: MIT */
/* The out-of-line hooks of the user-space platform (libxmm/user/xmm_platform.h). */
#define _GNU_SOURCE
#include <xmm/platform.h>

#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-bp.h>
#include <xmm/user/log.h>

#include "log.h"

#if defined(XMM_TSAN)
#include <sanitizer/tsan_interface.h>
/*
 * ThreadSanitizer cannot see liburcu's grace periods (the library is not
 * instrumented), so it would report every access a reader made before a
 * deferred free as a race with that free, and the callback's reads of what
 * the caller of call_rcu wrote. Each read-side unlock and each call_rcu
 * releases this address, and each callback acquires it before running: an
 * access inside a read-side section happens before every callback that runs
 * after the section ends. (It also orders sections that began after the
 * call_rcu, which a grace period does not wait for; an access after the
 * unlock that follows it still races with the callback, which is what catches
 * a reader outside its section.) liburcu's own barrier is still reported
 * (urcu_bp_barrier callocs what its worker frees), so TSan runs avoid
 * xmm_rcu_barrier.
 */
static char rcu_tsan_sync;
#define RCU_TSAN_RELEASE() __tsan_release(&rcu_tsan_sync)
#define RCU_TSAN_ACQUIRE() __tsan_acquire(&rcu_tsan_sync)
#else
#define RCU_TSAN_RELEASE() ((void)0)
#define RCU_TSAN_ACQUIRE() ((void)0)
#endif

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
	xmm_log(XMM_LOG_ERR, "libxmm: assertion failed: %s (%s:%d)", cond, file, line);
	abort();
}

void xmm_rcu_read_lock(void)
{
	urcu_bp_read_lock();
}

void xmm_rcu_read_unlock(void)
{
	RCU_TSAN_RELEASE();
	urcu_bp_read_unlock();
}

static void rcu_trampoline(struct rcu_head *rh)
{
	struct xmm_rcu_head *h = (struct xmm_rcu_head *)(void *)rh;

	RCU_TSAN_ACQUIRE();
	h->fn(h);
}

void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h))
{
	h->fn = fn;
	RCU_TSAN_RELEASE();
	urcu_bp_call_rcu((struct rcu_head *)(void *)h->urcu_head, rcu_trampoline);
}

void xmm_rcu_barrier(void)
{
	urcu_bp_barrier();
}

/*
 * Whole pages from the kernel, returned to it on free. (glibc's
 * aligned_alloc(4096, 4096) takes 8 KiB of heap per page and keeps it after
 * free: 8192 single pages measured 64 MiB resident, before and after freeing.)
 */
void *xmm_pages_alloc(size_t npages)
{
	void *p;

	if (npages == 0 || npages > SIZE_MAX / XMM_PAGE_SIZE)
		return NULL;
	p = mmap(NULL, npages * XMM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void xmm_pages_free(void *p, size_t npages)
{
	if (p)
		munmap(p, npages * XMM_PAGE_SIZE);
}
