/* SPDX-License-Identifier: MIT */
/*
 * libxmm platform for the Xen hypervisor (x86-64): every hook of
 * xmm/platform.h mapped onto Xen's own primitives.
 *
 * Only xen/common/libxmm/ (libxmm's core and the Xen glue) includes this
 * header; the rest of Xen sees libxmm through <xen/libxmm.h>, which uses
 * Xen's types only.
 *
 * Ordering on x86 (TSO): plain aligned loads are acquire loads and plain
 * aligned stores release stores, so acquire/release need only a compiler
 * barrier around read_atomic()/write_atomic(). Locked RMWs (cmpxchg, xadd,
 * xchg) are full barriers, hence xmm_pr_fence_after_rmw is barrier().
 */
#ifndef XMM_XEN_PLATFORM_H
#define XMM_XEN_PLATFORM_H

#include <xmm_platform_types.h>
#include <xmm/errno.h>

#include <xen/lib.h>
#include <xen/mm.h>
#include <xen/rcupdate.h>
#include <xen/time.h>
#include <asm/atomic.h>
#include <asm/processor.h>
#include <asm/system.h>

/*
 * The core prefixes its helpers (xmm_ilog2) and spells attributes __x__, so
 * Xen's own ilog2 and always_inline macros cannot meet it. A new clash shows
 * up as a build error in common/libxmm/core.
 */

#define XMM_PLATFORM_NAME "xen"

static inline uint32_t xmm_pr_load_relaxed_32(const uint32_t *p) { return read_atomic(p); }
static inline uint64_t xmm_pr_load_relaxed_64(const uint64_t *p) { return read_atomic(p); }

static inline uint32_t xmm_pr_load_acquire_32(const uint32_t *p)
{
	uint32_t v = read_atomic(p);

	barrier(); /* TSO: loads are not reordered with later accesses */
	return v;
}

static inline uint64_t xmm_pr_load_acquire_64(const uint64_t *p)
{
	uint64_t v = read_atomic(p);

	barrier();
	return v;
}

static inline void *xmm_pr_load_acquire_ptr(const void *pp)
{
	void *v = read_atomic((void *const *)pp);

	barrier();
	return v;
}

static inline void xmm_pr_store_relaxed_32(uint32_t *p, uint32_t v) { write_atomic(p, v); }
static inline void xmm_pr_store_relaxed_64(uint64_t *p, uint64_t v) { write_atomic(p, v); }

static inline void xmm_pr_store_release_32(uint32_t *p, uint32_t v)
{
	barrier(); /* TSO: stores are not reordered with earlier accesses */
	write_atomic(p, v);
}

static inline void xmm_pr_store_release_64(uint64_t *p, uint64_t v)
{
	barrier();
	write_atomic(p, v);
}

static inline void xmm_pr_store_release_ptr(void *pp, void *v)
{
	barrier();
	write_atomic((void **)pp, v);
}

static inline bool xmm_pr_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
{
	uint32_t old = cmpxchg(p, *expected, desired);

	if (old == *expected)
		return true;
	*expected = old;
	return false;
}

static inline bool xmm_pr_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
	uint64_t old = cmpxchg(p, *expected, desired);

	if (old == *expected)
		return true;
	*expected = old;
	return false;
}

static inline bool xmm_pr_cas_ptr(void *pp, void **expected, void *desired)
{
	void *old = cmpxchg((void **)pp, *expected, desired);

	if (old == *expected)
		return true;
	*expected = old;
	return false;
}

static inline uint32_t xmm_pr_faa_32(uint32_t *p, uint32_t v) { return arch_fetch_and_add(p, v); }
static inline uint64_t xmm_pr_faa_64(uint64_t *p, uint64_t v) { return arch_fetch_and_add(p, v); }
static inline uint64_t xmm_pr_fas_64(uint64_t *p, uint64_t v) { return xchg(p, v); }

/* Xen has no fetch-or/fetch-and returning the old value: a cmpxchg loop (locked, so full). */
static inline uint64_t xmm_pr_for_64(uint64_t *p, uint64_t v)
{
	uint64_t old = read_atomic(p), seen;

	while ((seen = cmpxchg(p, old, old | v)) != old)
		old = seen;
	return old;
}

static inline uint64_t xmm_pr_fand_64(uint64_t *p, uint64_t v)
{
	uint64_t old = read_atomic(p), seen;

	while ((seen = cmpxchg(p, old, old & v)) != old)
		old = seen;
	return old;
}

static inline void xmm_pr_fence_full(void) { smp_mb(); }
static inline void xmm_pr_fence_after_rmw(void) { barrier(); /* the locked RMW was the fence */ }
static inline void xmm_pr_relax(void) { cpu_relax(); }

/* Xen's scrubbers are idle vCPUs that poll in the idle loop: nobody sleeps on the word. */
static inline void xmm_pr_wake(uint32_t *word) { (void)word; }

/* System time in ns: monotonic and synchronised across CPUs by Xen's time code. */
static inline uint64_t xmm_pr_clock(void) { return (uint64_t)NOW(); }

#define XMM_ASSERT(cond) ASSERT(cond)

/* Xen's RCU, with a trampoline so that the core's callback gets its own head back. */
struct xmm_rcu_head {
	struct rcu_head xen;
	void (*fn)(struct xmm_rcu_head *h);
};

extern rcu_read_lock_t xmm_xen_rcu_lock;
void xmm_xen_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h));

static inline void xmm_rcu_read_lock(void) { rcu_read_lock(&xmm_xen_rcu_lock); }
static inline void xmm_rcu_read_unlock(void) { rcu_read_unlock(&xmm_xen_rcu_lock); }
static inline void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h))
{
	xmm_xen_rcu_call(h, fn);
}
static inline void xmm_rcu_barrier(void) { rcu_barrier(); }

/* The portable kernels: memset is Xen's own (rep stosb where fast). */
struct xmm_zero_ops;
static inline const struct xmm_zero_ops *xmm_pr_zero_ops(void) { return NULL; }

/* Structures that grow come from the xenheap (always mapped). */
static inline void *xmm_pages_alloc(size_t npages)
{
	return alloc_xenheap_pages(get_order_from_pages(npages), 0);
}

static inline void xmm_pages_free(void *p, size_t npages)
{
	free_xenheap_pages(p, get_order_from_pages(npages));
}

/* No reserve-then-populate VM here; the hypervisor uses no core piece that needs it. */
static inline int xmm_vm_reserve(size_t bytes, void **va)
{
	(void)bytes;
	*va = NULL;
	return XMM_ENOTSUP;
}
static inline void xmm_vm_release(void *va, size_t bytes) { (void)va; (void)bytes; }
static inline int xmm_vm_populate(void *va, size_t bytes) { (void)va; (void)bytes; return XMM_ENOMEM; }
static inline void xmm_vm_discard(void *va, size_t bytes) { (void)va; (void)bytes; }

#endif /* XMM_XEN_PLATFORM_H */
