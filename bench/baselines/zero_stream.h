/* SPDX-License-Identifier: MIT */
/*
 * The bandwidth limit for seed 003: a plain streaming read of memory with the
 * widest loads this CPU has (AVX-512, AVX2 or SSE2), eight lines per step into
 * eight independent accumulators, no early exit and no software prefetch (a
 * prefetch only competes with the hardware prefetchers on a linear stream).
 * bench_zero takes as the limit the faster of this and the peer baseline
 * (zero_peer.h), which checks page by page.
 */
#ifndef XMM_BENCH_ZERO_STREAM_H
#define XMM_BENCH_ZERO_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* The name of the width in use ("avx512", "avx2", "sse2"). */
const char *stream_read_isa(void);

/* Read @len bytes at @p (64-byte aligned, len a multiple of 512); returns the OR of all words. */
uint64_t stream_read(const void *p, size_t len);

#endif /* XMM_BENCH_ZERO_STREAM_H */
