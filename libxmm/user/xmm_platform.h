/* SPDX-License-Identifier: MIT */
/*
 * User-space platform for libxmm (see xmm/platform.h for the contract).
 *
 * Atomics map onto the compiler's __atomic builtins, in every build: the
 * mapping that ships is the one ThreadSanitizer checks, and the compiler sees
 * each access's ordering (a relaxed load is a plain mov it may schedule, where
 * an inline-asm load with a memory clobber forced every caller to reload
 * everything around it). Concurrency Kit stays where it earns its place: the
 * benchmarks' ck_stack and ck_fifo baselines.
 *
 * Reclamation is liburcu's bulletproof flavour: any application thread may
 * call into libxmm without registering with RCU first.
 */
#ifndef XMM_USER_PLATFORM_H
#define XMM_USER_PLATFORM_H

#include <xmm_platform_types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XMM_PLATFORM_NAME "user"

static inline uint32_t xmm_pr_load_relaxed_32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint32_t xmm_pr_load_acquire_32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint64_t xmm_pr_load_relaxed_64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint64_t xmm_pr_load_acquire_64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void xmm_pr_store_relaxed_32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void xmm_pr_store_release_32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void xmm_pr_store_relaxed_64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void xmm_pr_store_release_64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void *xmm_pr_load_acquire_ptr(const void *pp)
{
	return __atomic_load_n((void *const *)pp, __ATOMIC_ACQUIRE);
}

static inline void xmm_pr_store_release_ptr(void *pp, void *v)
{
	__atomic_store_n((void **)pp, v, __ATOMIC_RELEASE);
}

static inline bool xmm_pr_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static inline bool xmm_pr_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static inline bool xmm_pr_cas_ptr(void *pp, void **expected, void *desired)
{
	return __atomic_compare_exchange_n((void **)pp, expected, desired, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static inline uint32_t xmm_pr_faa_32(uint32_t *p, uint32_t v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}

static inline uint64_t xmm_pr_faa_64(uint64_t *p, uint64_t v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL);
}

static inline uint64_t xmm_pr_fas_64(uint64_t *p, uint64_t v)
{
	return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL);
}

static inline uint64_t xmm_pr_for_64(uint64_t *p, uint64_t v)
{
	return __atomic_fetch_or(p, v, __ATOMIC_ACQ_REL);
}

static inline uint64_t xmm_pr_fand_64(uint64_t *p, uint64_t v)
{
	return __atomic_fetch_and(p, v, __ATOMIC_ACQ_REL);
}

/*
 * x86: a locked add to the stack, as Linux's smp_mb() does: a full barrier,
 * cheaper than mfence, and an access TSan understands (it rejects
 * atomic_thread_fence). Elsewhere the C11 fence.
 */
static inline void xmm_pr_fence_full(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint64_t x = 0;

	__atomic_fetch_add(&x, 0, __ATOMIC_SEQ_CST);
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * After a locked RMW, which is already a full barrier on x86, only the
 * compiler must not move later accesses above it (a fence here would wait
 * for every older store to reach the cache). Elsewhere (arm64's RMWs are not
 * fences) a real one. TSan models neither kind of fence, so this choice
 * changes nothing it checks.
 */
static inline void xmm_pr_fence_after_rmw(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#else
	xmm_pr_fence_full();
#endif
}

static inline void xmm_pr_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Implemented in libxmm/user/platform.c. */
uint64_t xmm_pr_clock(void);
void xmm_pr_wake(uint32_t *word); /* FUTEX_WAKE of every waiter */

void xmm_assert_fail(const char *cond, const char *file, int line) __attribute__((noreturn));
#if defined(XMM_DEBUG)
#define XMM_ASSERT(cond)                                                        \
	((cond) ? (void)0 : xmm_assert_fail(#cond, __FILE__, __LINE__))
#else
#define XMM_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

struct xmm_rcu_head {
	void *urcu_head[2]; /* liburcu's struct rcu_head, kept opaque here */
	void (*fn)(struct xmm_rcu_head *h);
};

void xmm_rcu_read_lock(void);
void xmm_rcu_read_unlock(void);
void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h));
void xmm_rcu_barrier(void);

/* libxmm/user/zero.c: the arch kernels this CPU runs, or XMM_ZERO_KERNEL=<name>. */
struct xmm_zero_ops;
const struct xmm_zero_ops *xmm_pr_zero_ops(void);

void *xmm_pages_alloc(size_t npages);
void xmm_pages_free(void *p, size_t npages);

/* Implemented in libxmm/user/vm.c (mmap and madvise). */
int xmm_vm_reserve(size_t bytes, void **va);
void xmm_vm_release(void *va, size_t bytes);
int xmm_vm_populate(void *va, size_t bytes);
void xmm_vm_discard(void *va, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_PLATFORM_H */
