/* SPDX-License-Identifier: MIT */
/*
 * The bandwidth limit for seed 003: a plain streaming read of memory, eight
 * lines per step into eight independent accumulators, no early exit, in every
 * width the CPU has (the widest is not always the fastest from DRAM: some
 * Intel cores lower their clock for 512-bit work), without software prefetch
 * and, in the widest, also with prefetchnta or prefetcht2 two pages ahead, as
 * the kernels prefetch (which helps or hurts by host). bench_zero takes as
 * the limit the fastest of these and the peer baseline (zero_peer.h), which
 * checks page by page.
 */
#ifndef XMM_BENCH_ZERO_STREAM_H
#define XMM_BENCH_ZERO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum stream_width { STREAM_SSE2, STREAM_AVX2, STREAM_AVX512, STREAM_WIDTHS };

enum stream_prefetch { STREAM_PF_NONE, STREAM_PF_NTA, STREAM_PF_T2, STREAM_PF_KINDS };

bool stream_width_supported(enum stream_width w);
const char *stream_width_name(enum stream_width w);        /* "sse2", "avx2", "avx512" */
const char *stream_prefetch_name(enum stream_prefetch pf); /* "", "+nta", "+t2" */

/* Read @len bytes at @p (64-byte aligned, len a multiple of 512); returns the OR of all words. */
uint64_t stream_read_width(enum stream_width w, enum stream_prefetch pf, const void *p, size_t len);

#endif /* XMM_BENCH_ZERO_STREAM_H */
