/* SPDX-License-Identifier: MIT */
/*
 * Linux kernel platform for libxmm (see xmm/platform.h for the contract).
 *
 * The atomics are the kernel's own: READ_ONCE/WRITE_ONCE for relaxed
 * accesses, smp_load_acquire/smp_store_release, cmpxchg/xchg and the
 * atomic(64)_fetch_* operations for read-modify-writes. Value-returning
 * kernel RMWs are fully ordered, which is at least the acq_rel the seam
 * asks for; a failed cmpxchg is not ordered at all, so the failure path of
 * xmm_pr_cas_* adds smp_acquire__after_ctrl_dep() for its acquire.
 *
 * Only light headers are included here, because this file is seen by every
 * core file and kernel headers define many short macros (min, current, ...).
 * Everything that needs the scheduler, RCU, page allocator or vmalloc lives
 * out of line in ports/linux/xmm_platform.c.
 */
#ifndef XMM_LINUX_PLATFORM_H
#define XMM_LINUX_PLATFORM_H

#include <xmm_platform_types.h>

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <asm/barrier.h>
#include <asm/vdso/processor.h>

#define XMM_PLATFORM_NAME "linux"

static inline uint32_t xmm_pr_load_relaxed_32(const uint32_t *p)
{
	return READ_ONCE(*p);
}

static inline uint32_t xmm_pr_load_acquire_32(const uint32_t *p)
{
	return smp_load_acquire(p);
}

static inline uint64_t xmm_pr_load_relaxed_64(const uint64_t *p)
{
	return READ_ONCE(*p);
}

static inline uint64_t xmm_pr_load_acquire_64(const uint64_t *p)
{
	return smp_load_acquire(p);
}

static inline void *xmm_pr_load_acquire_ptr(const void *pp)
{
	return smp_load_acquire((void *const *)pp);
}

static inline void xmm_pr_store_relaxed_32(uint32_t *p, uint32_t v)
{
	WRITE_ONCE(*p, v);
}

static inline void xmm_pr_store_release_32(uint32_t *p, uint32_t v)
{
	smp_store_release(p, v);
}

static inline void xmm_pr_store_relaxed_64(uint64_t *p, uint64_t v)
{
	WRITE_ONCE(*p, v);
}

static inline void xmm_pr_store_release_64(uint64_t *p, uint64_t v)
{
	smp_store_release(p, v);
}

static inline void xmm_pr_store_release_ptr(void *pp, void *v)
{
	smp_store_release((void **)pp, v);
}

/*
 * A successful cmpxchg is fully ordered. A failed one orders nothing: the
 * control dependency on its result plus smp_acquire__after_ctrl_dep() makes
 * the load it did an acquire (the seam's acquire on failure).
 */
static inline bool xmm_pr_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
{
	uint32_t old = *expected, cur = cmpxchg(p, old, desired);

	if (cur == old)
		return true;
	smp_acquire__after_ctrl_dep();
	*expected = cur;
	return false;
}

static inline bool xmm_pr_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	uint64_t old = *expected, cur = cmpxchg(p, old, desired);

	if (cur == old)
		return true;
	smp_acquire__after_ctrl_dep();
	*expected = cur;
	return false;
}

static inline bool xmm_pr_cas_ptr(void *pp, void **expected, void *desired)
{
	void *old = *expected, *cur = cmpxchg((void **)pp, old, desired);

	if (cur == old)
		return true;
	smp_acquire__after_ctrl_dep();
	*expected = cur;
	return false;
}

/* atomic_t and atomic64_t are one int / s64: the core's words are used in place. */
static inline uint32_t xmm_pr_faa_32(uint32_t *p, uint32_t v)
{
	return (uint32_t)atomic_fetch_add((int)v, (atomic_t *)(void *)p);
}

static inline uint64_t xmm_pr_faa_64(uint64_t *p, uint64_t v)
{
	return (uint64_t)atomic64_fetch_add((s64)v, (atomic64_t *)(void *)p);
}

static inline uint64_t xmm_pr_fas_64(uint64_t *p, uint64_t v)
{
	return xchg(p, v);
}

static inline uint64_t xmm_pr_for_64(uint64_t *p, uint64_t v)
{
	return (uint64_t)atomic64_fetch_or((s64)v, (atomic64_t *)(void *)p);
}

static inline uint64_t xmm_pr_fand_64(uint64_t *p, uint64_t v)
{
	return (uint64_t)atomic64_fetch_and((s64)v, (atomic64_t *)(void *)p);
}

static inline void xmm_pr_fence_full(void)
{
	smp_mb();
}

/* The RMWs above are fully ordered already; on x86 this is a compiler barrier. */
static inline void xmm_pr_fence_after_rmw(void)
{
	smp_mb__after_atomic();
}

static inline void xmm_pr_relax(void)
{
	cpu_relax();
}

/* The rest is out of line, in ports/linux/xmm_platform.c. */

/* wake_up_var(word): sleepers wait with wait_var_event(word, ...). */
void xmm_pr_wake(uint32_t *word);

/* ktime_get_ns(): CLOCK_MONOTONIC, never backwards as seen from any CPU. */
uint64_t xmm_pr_clock(void);

/* Logs the failure with a stack trace (WARN) and counts it; never panics. */
void xmm_assert_fail(const char *cond, const char *file, int line);
#if defined(XMM_DEBUG)
#define XMM_ASSERT(cond)                                                        \
	(__builtin_expect(!!(cond), 1) ? (void)0 : xmm_assert_fail(#cond, __FILE__, __LINE__))
#else
#define XMM_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

/* call_rcu on the embedded callback_head (struct rcu_head; <linux/types.h> defines it). */
struct xmm_rcu_head {
	struct callback_head rcu;
	void (*fn)(struct xmm_rcu_head *h);
};

void xmm_rcu_read_lock(void);
void xmm_rcu_read_unlock(void);
void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h));
void xmm_rcu_barrier(void);

/* The portable kernels: SSE/AVX registers are off limits in kernel code without
 * kernel_fpu_begin(), and the kernel's memset is what the portable clear calls. */
struct xmm_zero_ops;
static inline const struct xmm_zero_ops *xmm_pr_zero_ops(void)
{
	return NULL;
}

/* alloc_pages_exact/free_pages_exact (GFP_KERNEL): may sleep. */
void *xmm_pages_alloc(size_t npages);
void xmm_pages_free(void *p, size_t npages);

/* A vmap'd range of the kernel's zero page (read-only); populate installs
 * private pages, discard puts the zero page back (see xmm_platform.c). */
int xmm_vm_reserve(size_t bytes, void **va);
void xmm_vm_release(void *va, size_t bytes);
int xmm_vm_populate(void *va, size_t bytes);
void xmm_vm_discard(void *va, size_t bytes);

#endif /* XMM_LINUX_PLATFORM_H */
