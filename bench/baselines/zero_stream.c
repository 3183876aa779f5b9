/* SPDX-License-Identifier: MIT */
/* The streaming-read limit for seed 003 (see zero_stream.h). */
#include "zero_stream.h"

#include <immintrin.h>

/*
 * Eight independent accumulators over 512 bytes a step: no OR waits on the
 * one before, and the loop's own work (an add, a compare, a branch) is spread
 * over eight lines. On the Zen 5 CI host, against the four accumulators of
 * 256 bytes used before, the same within noise (41 GB/s: DRAM limits there),
 * as were two halves read side by side and prefetcht0 two pages ahead (3-4%
 * slower); the unrolling is kept for hosts where the loop's work would show.
 */
__attribute__((target("avx512f"))) static uint64_t read_avx512(const char *p, size_t len)
{
	__m512i a[8];

	for (int k = 0; k < 8; k++)
		a[k] = _mm512_setzero_si512();
	for (size_t i = 0; i < len; i += 512)
		for (int k = 0; k < 8; k++)
			a[k] = _mm512_or_si512(a[k], _mm512_load_si512(p + i + 64 * k));
	for (int k = 1; k < 8; k++)
		a[0] = _mm512_or_si512(a[0], a[k]);
	return (uint64_t)_mm512_reduce_or_epi64(a[0]);
}

__attribute__((target("avx2"))) static uint64_t read_avx2(const char *p, size_t len)
{
	__m256i a[8];

	for (int k = 0; k < 8; k++)
		a[k] = _mm256_setzero_si256();
	for (size_t i = 0; i < len; i += 512)
		for (int k = 0; k < 8; k++)
			a[k] = _mm256_or_si256(a[k], _mm256_or_si256(
				_mm256_load_si256((const void *)(p + i + 64 * k)),
				_mm256_load_si256((const void *)(p + i + 64 * k + 32))));
	for (int k = 1; k < 8; k++)
		a[0] = _mm256_or_si256(a[0], a[k]);
	return (uint64_t)(_mm256_extract_epi64(a[0], 0) | _mm256_extract_epi64(a[0], 1) |
			  _mm256_extract_epi64(a[0], 2) | _mm256_extract_epi64(a[0], 3));
}

static uint64_t read_sse2(const char *p, size_t len)
{
	__m128i a[8];

	for (int k = 0; k < 8; k++)
		a[k] = _mm_setzero_si128();
	for (size_t i = 0; i < len; i += 512)
		for (int k = 0; k < 8; k++)
			a[k] = _mm_or_si128(a[k], _mm_or_si128(
				_mm_or_si128(_mm_load_si128((const void *)(p + i + 64 * k)),
					     _mm_load_si128((const void *)(p + i + 64 * k + 16))),
				_mm_or_si128(_mm_load_si128((const void *)(p + i + 64 * k + 32)),
					     _mm_load_si128((const void *)(p + i + 64 * k + 48)))));
	for (int k = 1; k < 8; k++)
		a[0] = _mm_or_si128(a[0], a[k]);
	return (uint64_t)(_mm_cvtsi128_si64(a[0]) | _mm_cvtsi128_si64(_mm_unpackhi_epi64(a[0], a[0])));
}

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

uint64_t stream_read_width(enum stream_width w, const void *p, size_t len)
{
	switch (w) {
	case STREAM_AVX512:
		return read_avx512(p, len);
	case STREAM_AVX2:
		return read_avx2(p, len);
	default:
		return read_sse2(p, len);
	}
}
