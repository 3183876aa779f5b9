/* SPDX-License-Identifier: MIT */
/* The streaming-read limit for seed 003 (see zero_stream.h). */
#include "zero_stream.h"

#include <immintrin.h>

#define STREAM_INLINE static inline __attribute__((always_inline))
#define STREAM_AHEAD 8192 /* where a prefetching read prefetches: two pages, as the kernels do */

/* The software prefetch of a prefetching read; @pf is a constant where this is inlined. */
STREAM_INLINE void stream_prefetch(const char *p, size_t i, size_t len, enum stream_prefetch pf)
{
	if (pf == STREAM_PF_NONE || i + STREAM_AHEAD >= len)
		return;
	for (size_t k = 0; k < 512; k += 64) {
		if (pf == STREAM_PF_NTA)
			__builtin_prefetch(p + i + STREAM_AHEAD + k, 0, 0);
		else
			__builtin_prefetch(p + i + STREAM_AHEAD + k, 0, 1);
	}
}

/*
 * Eight independent accumulators over 512 bytes a step: no OR waits on the
 * one before, and the loop's own work (an add, a compare, a branch) is spread
 * over eight lines. On the Zen 5 CI host, against the four accumulators of
 * 256 bytes used before, the same within noise (41 GB/s: DRAM limits there),
 * as were two halves read side by side; the unrolling is kept for hosts where
 * the loop's work would show. The prefetching forms are there because the
 * kernels, which prefetch, at times outran the plain read on that host.
 */
__attribute__((target("avx512f"))) STREAM_INLINE uint64_t read_avx512(const char *p, size_t len,
								     enum stream_prefetch pf)
{
	__m512i a[8];

	for (int k = 0; k < 8; k++)
		a[k] = _mm512_setzero_si512();
	for (size_t i = 0; i < len; i += 512) {
		stream_prefetch(p, i, len, pf);
		for (int k = 0; k < 8; k++)
			a[k] = _mm512_or_si512(a[k], _mm512_load_si512(p + i + 64 * k));
	}
	for (int k = 1; k < 8; k++)
		a[0] = _mm512_or_si512(a[0], a[k]);
	return (uint64_t)_mm512_reduce_or_epi64(a[0]);
}

__attribute__((target("avx2"))) STREAM_INLINE uint64_t read_avx2(const char *p, size_t len,
								enum stream_prefetch pf)
{
	__m256i a[8];

	for (int k = 0; k < 8; k++)
		a[k] = _mm256_setzero_si256();
	for (size_t i = 0; i < len; i += 512) {
		stream_prefetch(p, i, len, pf);
		for (int k = 0; k < 8; k++)
			a[k] = _mm256_or_si256(a[k], _mm256_or_si256(
				_mm256_load_si256((const void *)(p + i + 64 * k)),
				_mm256_load_si256((const void *)(p + i + 64 * k + 32))));
	}
	for (int k = 1; k < 8; k++)
		a[0] = _mm256_or_si256(a[0], a[k]);
	return (uint64_t)(_mm256_extract_epi64(a[0], 0) | _mm256_extract_epi64(a[0], 1) |
			  _mm256_extract_epi64(a[0], 2) | _mm256_extract_epi64(a[0], 3));
}

STREAM_INLINE uint64_t read_sse2(const char *p, size_t len, enum stream_prefetch pf)
{
	__m128i a[8];

	for (int k = 0; k < 8; k++)
		a[k] = _mm_setzero_si128();
	for (size_t i = 0; i < len; i += 512) {
		stream_prefetch(p, i, len, pf);
		for (int k = 0; k < 8; k++)
			a[k] = _mm_or_si128(a[k], _mm_or_si128(
				_mm_or_si128(_mm_load_si128((const void *)(p + i + 64 * k)),
					     _mm_load_si128((const void *)(p + i + 64 * k + 16))),
				_mm_or_si128(_mm_load_si128((const void *)(p + i + 64 * k + 32)),
					     _mm_load_si128((const void *)(p + i + 64 * k + 48)))));
	}
	for (int k = 1; k < 8; k++)
		a[0] = _mm_or_si128(a[0], a[k]);
	return (uint64_t)(_mm_cvtsi128_si64(a[0]) | _mm_cvtsi128_si64(_mm_unpackhi_epi64(a[0], a[0])));
}

/* One instance per width and prefetch, each with its loop compiled for its constant. */
#define STREAM_READS(w, attr)                                                                  \
	attr static uint64_t w##_none(const char *p, size_t n)                                 \
	{                                                                                      \
		return read_##w(p, n, STREAM_PF_NONE);                                         \
	}                                                                                      \
	attr static uint64_t w##_nta(const char *p, size_t n)                                  \
	{                                                                                      \
		return read_##w(p, n, STREAM_PF_NTA);                                          \
	}                                                                                      \
	attr static uint64_t w##_t2(const char *p, size_t n)                                   \
	{                                                                                      \
		return read_##w(p, n, STREAM_PF_T2);                                           \
	}
STREAM_READS(sse2, )
STREAM_READS(avx2, __attribute__((target("avx2"))))
STREAM_READS(avx512, __attribute__((target("avx512f"))))

bool stream_width_supported(enum stream_width w)
{
	__builtin_cpu_init();
	switch (w) {
	case STREAM_AVX512:
		return __builtin_cpu_supports("avx512f");
	case STREAM_AVX2:
		return __builtin_cpu_supports("avx2");
	case STREAM_SSE2:
		return true;
	default:
		return false;
	}
}

const char *stream_width_name(enum stream_width w)
{
	static const char *const names[STREAM_WIDTHS] = { "sse2", "avx2", "avx512" };

	return (unsigned int)w < STREAM_WIDTHS ? names[w] : "?";
}

const char *stream_prefetch_name(enum stream_prefetch pf)
{
	static const char *const names[STREAM_PF_KINDS] = { "", "+nta", "+t2" };

	return (unsigned int)pf < STREAM_PF_KINDS ? names[pf] : "?";
}

uint64_t stream_read_width(enum stream_width w, enum stream_prefetch pf, const void *p, size_t len)
{
	static uint64_t (*const reads[STREAM_WIDTHS][STREAM_PF_KINDS])(const char *, size_t) = {
		[STREAM_SSE2] = { sse2_none, sse2_nta, sse2_t2 },
		[STREAM_AVX2] = { avx2_none, avx2_nta, avx2_t2 },
		[STREAM_AVX512] = { avx512_none, avx512_nta, avx512_t2 },
	};

	return reads[w][pf](p, len);
}
