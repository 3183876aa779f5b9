/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the pinned-buffer pool's tests (test_pinpool*.c): pools,
 * buffers with a tag pattern, and what the kernel says about this process's
 * memory (VmLck, the VmFlags of /proc/self/smaps).
 */
#ifndef XMM_TEST_PINPOOL_HELPERS_H
#define XMM_TEST_PINPOOL_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xmm/errno.h>
#include <xmm/user/pinpool.h>

#define PAGE ((size_t)XMM_PAGE_SIZE)
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

struct vma {
	uintptr_t lo, hi;
	bool locked, dontcopy;
};

struct xmm_pinpool *new_pool(size_t cap, size_t chunk, unsigned int flags);
struct xmm_pinpool_stats stats(struct xmm_pinpool *p);
void *get(struct xmm_pinpool *p, size_t bytes);
uint64_t vmlck(void);
size_t read_vmas(struct vma *v, size_t max);
bool covered(const struct vma *v, size_t n, const void *p, size_t len, bool locked);
bool buffer_locked(const void *p, size_t len);
void tag_fill(void *buf, size_t len, uint64_t tag);
bool tag_check(const void *buf, size_t len, uint64_t tag);
int new_memfd(size_t bytes);

#endif /* XMM_TEST_PINPOOL_HELPERS_H */
