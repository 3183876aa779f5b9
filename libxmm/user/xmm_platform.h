/* SPDX-License-Identifier: MIT */
/*
 * User-space platform for libxmm (see xmm/platform.h for the contract).
 *
 * Atomics map onto Concurrency Kit's ck_pr. ThreadSanitizer does not model
 * ck's fence-plus-plain-access idiom (it reports a correct ck_pr message pass
 * as a race), so a TSan build (XMM_TSAN, set by the tsan preset) maps the
 * same vocabulary onto the compiler's __atomic builtins instead. On x86-64
 * both compile to the same instructions.
 *
 * Reclamation is liburcu's bulletproof flavour: any application thread may
 * call into libxmm without registering with RCU first.
 */
#ifndef XMM_USER_PLATFORM_H
#define XMM_USER_PLATFORM_H

#include <xmm_platform_types.h>

#define XMM_PLATFORM_NAME "user"

#if defined(XMM_TSAN)

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

/* TSan does not support atomic_thread_fence; a locked RMW is a full fence on x86 too. */
static inline void xmm_pr_fence_full(void)
{
	uint64_t x = 0;

	__atomic_fetch_add(&x, 0, __ATOMIC_SEQ_CST);
}

/* TSan does not model the locked-RMW-as-fence idiom: a real (TSan-visible) fence. */
static inline void xmm_pr_fence_after_rmw(void)
{
	xmm_pr_fence_full();
}

static inline void xmm_pr_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#else /* !XMM_TSAN: Concurrency Kit */

#include <ck_pr.h>

/*
 * ck_pr accesses are atomic but unordered; the fences give them their C11
 * meaning. On x86-64 (TSO) every fence below but fence_memory is only a
 * compiler barrier.
 */
static inline uint32_t xmm_pr_load_relaxed_32(const uint32_t *p)
{
	return ck_pr_load_32(p);
}

static inline uint32_t xmm_pr_load_acquire_32(const uint32_t *p)
{
	uint32_t v = ck_pr_load_32(p);

	ck_pr_fence_acquire();
	return v;
}

static inline uint64_t xmm_pr_load_relaxed_64(const uint64_t *p)
{
	return ck_pr_load_64(p);
}

static inline uint64_t xmm_pr_load_acquire_64(const uint64_t *p)
{
	uint64_t v = ck_pr_load_64(p);

	ck_pr_fence_acquire();
	return v;
}

static inline void *xmm_pr_load_acquire_ptr(const void *pp)
{
	void *v = ck_pr_load_ptr((void *const *)pp);

	ck_pr_fence_acquire();
	return v;
}

static inline void xmm_pr_store_relaxed_32(uint32_t *p, uint32_t v)
{
	ck_pr_store_32(p, v);
}

static inline void xmm_pr_store_release_32(uint32_t *p, uint32_t v)
{
	ck_pr_fence_release();
	ck_pr_store_32(p, v);
}

static inline void xmm_pr_store_relaxed_64(uint64_t *p, uint64_t v)
{
	ck_pr_store_64(p, v);
}

static inline void xmm_pr_store_release_64(uint64_t *p, uint64_t v)
{
	ck_pr_fence_release();
	ck_pr_store_64(p, v);
}

static inline void xmm_pr_store_release_ptr(void *pp, void *v)
{
	ck_pr_fence_release();
	ck_pr_store_ptr((void **)pp, v);
}

/* Read-modify-writes: release before, acquire after, for acq_rel. */
static inline bool xmm_pr_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
{
	bool ok;

	ck_pr_fence_release();
	ok = ck_pr_cas_32_value(p, *expected, desired, expected);
	ck_pr_fence_acquire();
	return ok;
}

static inline bool xmm_pr_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	bool ok;

	ck_pr_fence_release();
	ok = ck_pr_cas_64_value(p, *expected, desired, expected);
	ck_pr_fence_acquire();
	return ok;
}

static inline bool xmm_pr_cas_ptr(void *pp, void **expected, void *desired)
{
	bool ok;

	ck_pr_fence_release();
	ok = ck_pr_cas_ptr_value(pp, *expected, desired, expected);
	ck_pr_fence_acquire();
	return ok;
}

#define XMM_PR_RMW(name, ckop, bits)                                            \
	static inline uint##bits##_t xmm_pr_##name##_##bits(uint##bits##_t *p, uint##bits##_t v) \
	{                                                                       \
		uint##bits##_t old;                                             \
		ck_pr_fence_release();                                          \
		old = ck_pr_##ckop##_##bits(p, v);                              \
		ck_pr_fence_acquire();                                          \
		return old;                                                     \
	}
XMM_PR_RMW(faa, faa, 32)
XMM_PR_RMW(faa, faa, 64)
XMM_PR_RMW(fas, fas, 64)
#undef XMM_PR_RMW

static inline uint64_t xmm_pr_for_64(uint64_t *p, uint64_t v)
{
	uint64_t old = ck_pr_load_64(p);

	ck_pr_fence_release();
	while (!ck_pr_cas_64_value(p, old, old | v, &old))
		;
	ck_pr_fence_acquire();
	return old;
}

static inline uint64_t xmm_pr_fand_64(uint64_t *p, uint64_t v)
{
	uint64_t old = ck_pr_load_64(p);

	ck_pr_fence_release();
	while (!ck_pr_cas_64_value(p, old, old & v, &old))
		;
	ck_pr_fence_acquire();
	return old;
}

static inline void xmm_pr_fence_full(void)
{
	ck_pr_fence_memory();
}

/*
 * A locked instruction is a full barrier on x86 (and mfence after one costs
 * a full store-miss latency: it waits for older stores to reach the cache).
 */
static inline void xmm_pr_fence_after_rmw(void)
{
#if defined(__x86_64__) || defined(__i386__)
	ck_pr_barrier();
#else
	ck_pr_fence_memory();
#endif
}

static inline void xmm_pr_relax(void)
{
	ck_pr_stall();
}

#endif /* XMM_TSAN */

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

#endif /* XMM_USER_PLATFORM_H */
