/* SPDX-License-Identifier: MIT */
/* The streaming-read limit for seed 003 (see zero_stream.h). */
#include "zero_stream.h"

#include <immintrin.h>

__attribute__((target("avx512f"))) static uint64_t read_avx512(const char *p, size_t len)
{
	__m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;

	for (size_t i = 0; i < len; i += 256) {
		a = _mm512_or_si512(a, _mm512_load_si512(p + i));
		b = _mm512_or_si512(b, _mm512_load_si512(p + i + 64));
		c = _mm512_or_si512(c, _mm512_load_si512(p + i + 128));
		d = _mm512_or_si512(d, _mm512_load_si512(p + i + 192));
	}
	return (uint64_t)_mm512_reduce_or_epi64(_mm512_or_si512(_mm512_or_si512(a, b),
								 _mm512_or_si512(c, d)));
}

__attribute__((target("avx2"))) static uint64_t read_avx2(const char *p, size_t len)
{
	__m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;

	for (size_t i = 0; i < len; i += 256) {
		a = _mm256_or_si256(a, _mm256_or_si256(_mm256_load_si256((const void *)(p + i)),
						       _mm256_load_si256((const void *)(p + i + 32))));
		b = _mm256_or_si256(b, _mm256_or_si256(_mm256_load_si256((const void *)(p + i + 64)),
						       _mm256_load_si256((const void *)(p + i + 96))));
		c = _mm256_or_si256(c, _mm256_or_si256(_mm256_load_si256((const void *)(p + i + 128)),
						       _mm256_load_si256((const void *)(p + i + 160))));
		d = _mm256_or_si256(d, _mm256_or_si256(_mm256_load_si256((const void *)(p + i + 192)),
						       _mm256_load_si256((const void *)(p + i + 224))));
	}
	a = _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d));
	return (uint64_t)(_mm256_extract_epi64(a, 0) | _mm256_extract_epi64(a, 1) |
			  _mm256_extract_epi64(a, 2) | _mm256_extract_epi64(a, 3));
}

static uint64_t read_sse2(const char *p, size_t len)
{
	__m128i a = _mm_setzero_si128(), b = a, c = a, d = a;

	for (size_t i = 0; i < len; i += 256)
		for (size_t l = 0; l < 256; l += 64) {
			a = _mm_or_si128(a, _mm_load_si128((const void *)(p + i + l)));
			b = _mm_or_si128(b, _mm_load_si128((const void *)(p + i + l + 16)));
			c = _mm_or_si128(c, _mm_load_si128((const void *)(p + i + l + 32)));
			d = _mm_or_si128(d, _mm_load_si128((const void *)(p + i + l + 48)));
		}
	a = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
	return (uint64_t)(_mm_cvtsi128_si64(a) | _mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a)));
}

enum isa { SSE2, AVX2, AVX512 };

static enum isa best_isa(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") ? AVX512 : __builtin_cpu_supports("avx2") ? AVX2 : SSE2;
}

const char *stream_read_isa(void)
{
	static const char *const names[] = { "sse2", "avx2", "avx512" };

	return names[best_isa()];
}

uint64_t stream_read(const void *p, size_t len)
{
	switch (best_isa()) {
	case AVX512:
		return read_avx512(p, len);
	case AVX2:
		return read_avx2(p, len);
	default:
		return read_sse2(p, len);
	}
}
