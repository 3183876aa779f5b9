/* SPDX-License-Identifier: MIT */
/*
 * xmm/platform.h - the seam between the freestanding core and its host.
 *
 * The core never includes a host header. Everything host-specific comes from
 * <xmm_platform.h>, which the build finds on its include path:
 *
 *   libxmm/user/xmm_platform.h          user space (__atomic builtins, liburcu-bp, libc)
 *   ports/freestanding/xmm_platform.h   reference: every hook an extern xmm_* function
 *
 * A platform header must provide all of the following (functions or macros):
 *
 * Types, in a second header <xmm_platform_types.h> found on the same path
 * (xmm/types.h includes it, so public headers need no other platform code).
 * Kernels build with -nostdinc, so the core never includes a standard header:
 *   uint8_t uint16_t uint32_t uint64_t int8_t int16_t int32_t int64_t
 *   uintptr_t intptr_t size_t ptrdiff_t bool true false NULL offsetof
 *   UINT32_MAX UINT64_MAX SIZE_MAX CHAR_BIT
 *
 * Identification
 *   XMM_PLATFORM_NAME                       a string literal
 *
 * Atomics. C11 vocabulary: every access names its ordering, so hosts and
 * sanitizers see what is meant. All accesses are to naturally aligned objects.
 *   uint32_t xmm_pr_load_relaxed_32(const uint32_t *p)
 *   uint32_t xmm_pr_load_acquire_32(const uint32_t *p)
 *   uint64_t xmm_pr_load_relaxed_64(const uint64_t *p)
 *   uint64_t xmm_pr_load_acquire_64(const uint64_t *p)
 *   void    *xmm_pr_load_acquire_ptr(const void *pp)       pp: address of a pointer
 *   void     xmm_pr_store_relaxed_32(uint32_t *p, uint32_t v)
 *   void     xmm_pr_store_release_32(uint32_t *p, uint32_t v)
 *   void     xmm_pr_store_relaxed_64(uint64_t *p, uint64_t v)
 *   void     xmm_pr_store_release_64(uint64_t *p, uint64_t v)
 *   void     xmm_pr_store_release_ptr(void *pp, void *v)
 *   bool     xmm_pr_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired)
 *   bool     xmm_pr_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired)
 *   bool     xmm_pr_cas_ptr(void *pp, void **expected, void *desired)
 *            strong compare-and-swap; acq_rel on success, acquire on failure,
 *            where *expected receives the value found.
 *   uint32_t xmm_pr_faa_32(uint32_t *p, uint32_t v)        fetch-add, acq_rel, returns old
 *   uint64_t xmm_pr_faa_64(uint64_t *p, uint64_t v)
 *   uint64_t xmm_pr_fas_64(uint64_t *p, uint64_t v)        exchange, acq_rel, returns old
 *   uint64_t xmm_pr_for_64(uint64_t *p, uint64_t v)        fetch-or, acq_rel, returns old
 *   uint64_t xmm_pr_fand_64(uint64_t *p, uint64_t v)       fetch-and, acq_rel, returns old
 *   void     xmm_pr_fence_full(void)                       seq_cst fence: orders earlier
 *                                                          stores before later loads too
 *   void     xmm_pr_fence_after_rmw(void)                  xmm_pr_fence_full, for use right
 *                                                          after an RMW above: a compiler
 *                                                          barrier where RMWs are full
 *                                                          barriers already (x86's locked
 *                                                          instructions; Linux's
 *                                                          smp_mb__after_atomic)
 *   void     xmm_pr_relax(void)                            spin-wait hint (pause)
 *
 * Waking sleepers
 *   void     xmm_pr_wake(uint32_t *word)   wake every thread the host put to sleep
 *                                          until *word changes (a futex in user
 *                                          space, wake_up_var in Linux); may do
 *                                          nothing where idle workers poll (Xen's
 *                                          idle loop). Called with no lock held,
 *                                          only when someone announced it sleeps.
 *
 * Time
 *   uint64_t xmm_pr_clock(void)     a clock that never goes backwards as seen from
 *                                   any CPU (e.g. a synchronized invariant TSC).
 *
 * Assertions
 *   XMM_ASSERT(cond)                checked in debug builds, may compile to nothing
 *                                   otherwise; never has side effects the core needs.
 *
 * Deferred reclamation (RCU)
 *   struct xmm_rcu_head             a complete type the core embeds in objects
 *   void xmm_rcu_read_lock(void)
 *   void xmm_rcu_read_unlock(void)
 *   void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h))
 *                                   run fn(h) after every read-side critical section
 *                                   that was running when xmm_rcu_call was called has ended
 *   void xmm_rcu_barrier(void)      wait until every callback queued so far has run
 *
 * CPU-specific kernels
 *   const struct xmm_zero_ops *xmm_pr_zero_ops(void)
 *                                   the fastest zeroing/zero-detection kernels this
 *                                   CPU and context allow (xmm/zero.h), or NULL for
 *                                   the portable ones; called once, at first use
 *
 * Memory (for structures that grow; most objects live in caller memory)
 *   void *xmm_pages_alloc(size_t npages)              page aligned, contents undefined,
 *                                                     NULL on failure; never called with
 *                                                     a lock of the core held
 *   void  xmm_pages_free(void *p, size_t npages)
 *
 * Virtual memory (for structures whose holes must cost nothing, e.g. the linear
 * p2m; a platform without it returns XMM_ENOTSUP from xmm_vm_reserve). Ranges
 * and lengths are page aligned.
 *   int   xmm_vm_reserve(size_t bytes, void **va)   reserve a range whose pages read
 *                                     as zero until populated, at no memory cost;
 *                                     0, XMM_ENOMEM or XMM_ENOTSUP
 *   void  xmm_vm_release(void *va, size_t bytes)     the whole range, as reserved
 *   int   xmm_vm_populate(void *va, size_t bytes)    back pages with private writable
 *                                     memory: pages already backed keep their
 *                                     contents, new ones read zero; 0 or XMM_ENOMEM.
 *                                     Safe beside reads and other populates of the
 *                                     same pages; never called with a lock of the
 *                                     core held
 *   void  xmm_vm_discard(void *va, size_t bytes)     give the pages' memory back: they
 *                                     read as zero again. A CPU that reads such a zero
 *                                     also sees every store made before the call (the
 *                                     TLB shootdown orders them); may be called with a
 *                                     lock of the core held
 *
 * Plus memset, memcpy and memmove, which every kernel provides; the core uses
 * them through the compiler builtins.
 */
#ifndef XMM_PLATFORM_H
#define XMM_PLATFORM_H

#include <xmm/types.h>

#include <xmm_platform.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef XMM_PLATFORM_NAME
#error "<xmm_platform.h> must define XMM_PLATFORM_NAME and the hooks listed in xmm/platform.h"
#endif

#ifdef __cplusplus
}
#endif

#endif /* XMM_PLATFORM_H */
