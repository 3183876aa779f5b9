/* SPDX-License-Identifier: MIT */
/*
 * The peer baseline for seed 003: a zero check in the technique of QEMU's
 * buffer_is_zero (util/bufferiszero.c, QEMU 9), written for libxmm from a
 * description of it, not copied. For a buffer of 256 bytes or more:
 *
 *  1. a sample of three bytes, the first, the last and the middle one, OR-ed
 *     (what buffer_is_zero does before its vector loop);
 *  2. the vector loop (AVX2, or the same shape in SSE2 where the CPU has no
 *     AVX2): an unaligned head vector, then aligned blocks of four vectors
 *     OR-reduced, each block's loads issued before the previous block's
 *     accumulator is tested, and the last four vectors of the buffer, loaded
 *     unaligned, for the tail. No software prefetch.
 *
 * bench_zero calls it page by page, as a VMM checks guest pages (QEMU's RAM
 * migration does so per target page).
 */
#ifndef XMM_BENCH_ZERO_PEER_H
#define XMM_BENCH_ZERO_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The width in use ("avx2", "sse2"). */
const char *peer_isa(void);

/* Is [buf, buf + len) zero? Any alignment; len >= 256. */
bool peer_is_zero(const void *buf, size_t len);

/* peer_is_zero on each of @npages 4 KiB pages from @base: how many are zero. */
size_t peer_zero_scan(const void *base, size_t npages);

#endif /* XMM_BENCH_ZERO_PEER_H */
