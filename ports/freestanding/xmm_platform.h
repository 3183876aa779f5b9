/* SPDX-License-Identifier: MIT */
/*
 * Reference freestanding platform for libxmm (see xmm/platform.h).
 *
 * Every hook is a plain extern function named xmm_*, so that compiling the
 * core against this header with -ffreestanding -nostdlib shows, in the
 * objects' undefined symbols, exactly what a port has to supply. CI checks
 * that nothing else (no libc, no libgcc helper) is referenced, apart from
 * memset/memcpy/memmove.
 */
#ifndef XMM_FREESTANDING_PLATFORM_H
#define XMM_FREESTANDING_PLATFORM_H

#include <xmm_platform_types.h>

#define XMM_PLATFORM_NAME "freestanding"

uint32_t xmm_pr_load_relaxed_32(const uint32_t *p);
uint32_t xmm_pr_load_acquire_32(const uint32_t *p);
uint64_t xmm_pr_load_relaxed_64(const uint64_t *p);
uint64_t xmm_pr_load_acquire_64(const uint64_t *p);
void *xmm_pr_load_acquire_ptr(const void *pp);
void xmm_pr_store_relaxed_32(uint32_t *p, uint32_t v);
void xmm_pr_store_release_32(uint32_t *p, uint32_t v);
void xmm_pr_store_relaxed_64(uint64_t *p, uint64_t v);
void xmm_pr_store_release_64(uint64_t *p, uint64_t v);
void xmm_pr_store_release_ptr(void *pp, void *v);
bool xmm_pr_cas_32(uint32_t *p, uint32_t *expected, uint32_t desired);
bool xmm_pr_cas_64(uint64_t *p, uint64_t *expected, uint64_t desired);
bool xmm_pr_cas_ptr(void *pp, void **expected, void *desired);
uint32_t xmm_pr_faa_32(uint32_t *p, uint32_t v);
uint64_t xmm_pr_faa_64(uint64_t *p, uint64_t v);
uint64_t xmm_pr_fas_64(uint64_t *p, uint64_t v);
uint64_t xmm_pr_for_64(uint64_t *p, uint64_t v);
uint64_t xmm_pr_fand_64(uint64_t *p, uint64_t v);
void xmm_pr_fence_full(void);
void xmm_pr_fence_after_rmw(void);
void xmm_pr_relax(void);

void xmm_pr_wake(uint32_t *word);

uint64_t xmm_pr_clock(void);

void xmm_assert_fail(const char *cond, const char *file, int line);
#define XMM_ASSERT(cond) ((cond) ? (void)0 : xmm_assert_fail(#cond, __FILE__, __LINE__))

struct xmm_rcu_head {
	struct xmm_rcu_head *next;
	void (*fn)(struct xmm_rcu_head *h);
};

void xmm_rcu_read_lock(void);
void xmm_rcu_read_unlock(void);
void xmm_rcu_call(struct xmm_rcu_head *h, void (*fn)(struct xmm_rcu_head *h));
void xmm_rcu_barrier(void);

struct xmm_zero_ops;
const struct xmm_zero_ops *xmm_pr_zero_ops(void);

void *xmm_pages_alloc(size_t npages);
void xmm_pages_free(void *p, size_t npages);

int xmm_vm_reserve(size_t bytes, void **va);
void xmm_vm_release(void *va, size_t bytes);
int xmm_vm_populate(void *va, size_t bytes);
void xmm_vm_discard(void *va, size_t bytes);

#endif /* XMM_FREESTANDING_PLATFORM_H */
