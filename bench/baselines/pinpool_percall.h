/* SPDX-License-Identifier: MIT */
/*
 * Baselines for seed 002: locking a hypercall buffer on every call, as device
 * models did before buffer caches (written for libxmm from the seed's
 * description):
 *
 *  - mmap: a fresh anonymous MAP_LOCKED mapping per buffer, munmap to free it
 *    (the kernel faults in, zeroes and locks the pages, then unmaps them and
 *    flushes the TLBs of every CPU running the process);
 *  - mlock: the caller's own heap memory, mlock before the call and munlock
 *    after it (the seed's pattern).
 *
 * Each function counts the system calls it makes in *calls.
 */
#ifndef XMM_BENCH_PINPOOL_PERCALL_H
#define XMM_BENCH_PINPOOL_PERCALL_H

#include <stddef.h>
#include <stdint.h>

void *percall_mmap_alloc(size_t bytes, uint64_t *calls);  /* NULL on failure */
void percall_mmap_free(void *p, size_t bytes, uint64_t *calls);
int percall_mlock(void *p, size_t bytes, uint64_t *calls);  /* 0 or -errno */
void percall_munlock(void *p, size_t bytes, uint64_t *calls);

#endif /* XMM_BENCH_PINPOOL_PERCALL_H */
