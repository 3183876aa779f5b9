/* SPDX-License-Identifier: MIT */
/* The peer baseline for seed 003, QEMU's buffer_is_zero technique (see zero_peer.h). */
#include "zero_peer.h"

#include <immintrin.h>

#define PEER_PAGE 4096

/* Step 1: three bytes far apart; most buffers with data are rejected here. */
static inline bool sample3_is_zero(const unsigned char *b, size_t len)
{
	return (b[0] | b[len - 1] | b[len / 2]) == 0;
}

__attribute__((target("avx2"))) static inline bool testz256(__m256i v)
{
	return _mm256_testz_si256(v, v);
}

__attribute__((target("avx2"))) static bool vectors_avx2(const char *buf, size_t len)
{
	const char *end = buf + len;
	/* The aligned blocks start after the head vector and stop before the tail's four. */
	const char *p = (const char *)(((uintptr_t)buf + 32) & ~(uintptr_t)31);
	const char *stop = (const char *)((uintptr_t)end & ~(uintptr_t)31);
	__m256i acc = _mm256_loadu_si256((const __m256i *)(const void *)buf);

	for (; p + 128 <= stop; p += 128) {
		const __m256i *v = (const __m256i *)(const void *)p;
		/* The next block's loads go out before this test, so a taken-not branch costs no wait. */
		__m256i next = _mm256_or_si256(_mm256_or_si256(_mm256_load_si256(v), _mm256_load_si256(v + 1)),
					       _mm256_or_si256(_mm256_load_si256(v + 2), _mm256_load_si256(v + 3)));

		if (!testz256(acc))
			return false;
		acc = next;
	}
	acc = _mm256_or_si256(acc, _mm256_or_si256(
		_mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)(end - 128)),
				_mm256_loadu_si256((const __m256i *)(const void *)(end - 96))),
		_mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)(end - 64)),
				_mm256_loadu_si256((const __m256i *)(const void *)(end - 32)))));
	return testz256(acc);
}

static inline bool testz128(__m128i v)
{
	return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) == 0xffff;
}

static bool vectors_sse2(const char *buf, size_t len)
{
	const char *end = buf + len;
	const char *p = (const char *)(((uintptr_t)buf + 16) & ~(uintptr_t)15);
	const char *stop = (const char *)((uintptr_t)end & ~(uintptr_t)15);
	__m128i acc = _mm_loadu_si128((const __m128i *)(const void *)buf);

	for (; p + 64 <= stop; p += 64) {
		const __m128i *v = (const __m128i *)(const void *)p;
		__m128i next = _mm_or_si128(_mm_or_si128(_mm_load_si128(v), _mm_load_si128(v + 1)),
					    _mm_or_si128(_mm_load_si128(v + 2), _mm_load_si128(v + 3)));

		if (!testz128(acc))
			return false;
		acc = next;
	}
	acc = _mm_or_si128(acc, _mm_or_si128(
		_mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(end - 64)),
			     _mm_loadu_si128((const __m128i *)(const void *)(end - 48))),
		_mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(end - 32)),
			     _mm_loadu_si128((const __m128i *)(const void *)(end - 16)))));
	return testz128(acc);
}

static bool have_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

const char *peer_isa(void)
{
	return have_avx2() ? "avx2" : "sse2";
}

bool peer_is_zero(const void *buf, size_t len)
{
	if (!sample3_is_zero(buf, len))
		return false;
	return have_avx2() ? vectors_avx2(buf, len) : vectors_sse2(buf, len);
}

/* The width is chosen once per call, as QEMU chooses it once at start-up. */
__attribute__((target("avx2"))) static size_t scan_avx2(const char *base, size_t npages)
{
	size_t zero = 0;

	for (size_t i = 0; i < npages; i++) {
		const char *page = base + i * PEER_PAGE;

		zero += sample3_is_zero((const unsigned char *)page, PEER_PAGE) &&
			vectors_avx2(page, PEER_PAGE);
	}
	return zero;
}

static size_t scan_sse2(const char *base, size_t npages)
{
	size_t zero = 0;

	for (size_t i = 0; i < npages; i++) {
		const char *page = base + i * PEER_PAGE;

		zero += sample3_is_zero((const unsigned char *)page, PEER_PAGE) &&
			vectors_sse2(page, PEER_PAGE);
	}
	return zero;
}

size_t peer_zero_scan(const void *base, size_t npages)
{
	return have_avx2() ? scan_avx2(base, npages) : scan_sse2(base, npages);
}
