/* SPDX-License-Identifier: MIT */
/*
 * The bandwidth limit for seed 003: a plain streaming read of memory, eight
 * lines per step into eight independent accumulators, no early exit and no
 * software prefetch (on a linear stream a prefetch only competes with the
 * hardware prefetchers), in every width the CPU has: the widest is not always
 * the fastest from DRAM (some Intel cores lower their clock for 512-bit work).
 * bench_zero takes as the limit the fastest of these and the peer baseline
 * (zero_peer.h), which checks page by page.
 */
#ifndef XMM_BENCH_ZERO_STREAM_H
#define XMM_BENCH_ZERO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum stream_width { STREAM_SSE2, STREAM_AVX2, STREAM_AVX512, STREAM_WIDTHS };

bool stream_width_supported(enum stream_width w);
const char *stream_width_name(enum stream_width w); /* "sse2", "avx2", "avx512" */

/* Read @len bytes at @p (64-byte aligned, len a multiple of 512); returns the OR of all words. */
uint64_t stream_read_width(enum stream_width w, const void *p, size_t len);

#endif /* XMM_BENCH_ZERO_STREAM_H */
