/* SPDX-License-Identifier: MIT */
/*
 * The zero-detection algorithm of xmm/zero.h, written once and instantiated
 * by every kernel set: libxmm/core/zero.c (portable), libxmm/arch/<arch>/zero.c
 * (SIMD), and bench/zero.c (an instrumented set that counts the lines read).
 * Internal, freestanding, not installed.
 *
 * A kernel set supplies two predicates, which must be inlinable into the
 * wrappers that instantiate the templates (same or wider target attributes):
 *
 *   line_nz(p)   any non-zero byte in p[0, 64); p of any alignment
 *   block_nz(p)  any non-zero byte in p[0, ZK_BLOCK); p 64-byte aligned
 *
 * and a prefetch (one of the zk_prefetch_* below, or NULL for none), issued
 * a distance ahead of the body scan (xmm_zero_prefetch_pages()). The templates
 * decide which memory these see and in
 * which order (see xmm/zero.h): sample the first, last and middle lines, then
 * scan the aligned body a group of blocks at a time.
 */
#ifndef XMM_CORE_ZERO_KERNEL_H
#define XMM_CORE_ZERO_KERNEL_H

#include <xmm/platform.h>
#include <xmm/zero.h>

#define ZK_LINE 64
#define ZK_BLOCK (4 * ZK_LINE)
#define ZK_INLINE static inline __attribute__((__always_inline__))

/*
 * The body is read ZK_GROUP bytes at a time: the blocks of a group are tested
 * together, one branch per group, with a software prefetch a distance ahead
 * issued beside each block's loads. Page by page, the scan does not stream as
 * the hardware prefetchers expect: each page starts with three samples far
 * apart, and the prefetchers stop at 4 KiB boundaries.
 *
 * Measured on this project's CI machines, xmm_zero_scan of 1 GiB of zero
 * pages as a fraction of a streaming read in the same run (avx512):
 *   Zen 5 class, 36-38 GB/s, a branch per block: no prefetch 0.90, one page
 *     ahead 0.97 (portable 0.48 -> 0.90); two pages ahead measured the same.
 *   Zen 4 (EPYC 9004), 27-31 GB/s, in a harness of variants run in
 *     rotation: one page ahead, a branch per 256-byte block 0.74-0.80; two
 *     pages ahead 0.86-0.89; prefetchnta 0.90-0.93; one branch per 1 KiB
 *     0.94-0.97 (a burst of 16 prefetches before the group's loads instead of
 *     beside them: 0.75). In bench_zero: avx512 0.84-0.94, avx2 0.91-0.97,
 *     sse2 and portable 1.0; three or four pages ahead measured worse.
 * Which hint is best depends on the CPU (see xmm/zero.h): the choice is made
 * per CPU at dispatch, with its own table (libxmm/arch/x86_64/zero.c). A group
 * ends early at most 768 bytes later than a block would; the samples, not the
 * body, reject most pages.
 */
#define ZK_GROUP (4 * ZK_BLOCK)

typedef bool (*zk_pred)(const char *p);
typedef void (*zk_prefetch_fn)(const char *p);

/* The hints of enum xmm_zero_prefetch (GCC's locality 0..3 are nta, t2, t1, t0 on x86). */
ZK_INLINE void zk_prefetch_nta(const char *p)
{
	__builtin_prefetch(p, 0, 0);
}

ZK_INLINE void zk_prefetch_t2(const char *p)
{
	__builtin_prefetch(p, 0, 1);
}

ZK_INLINE void zk_prefetch_t1(const char *p)
{
	__builtin_prefetch(p, 0, 2);
}

ZK_INLINE void zk_prefetch_t0(const char *p)
{
	__builtin_prefetch(p, 0, 3);
}

#define zk_prefetch_none ((zk_prefetch_fn)0)

/* X(suffix, enum value) for every hint: kernel sets instantiate themselves once per hint. */
#define ZK_FOR_EACH_HINT(X)                                                                    \
	X(none, XMM_ZERO_PF_NONE)                                                              \
	X(nta, XMM_ZERO_PF_NTA)                                                                \
	X(t0, XMM_ZERO_PF_T0)                                                                  \
	X(t1, XMM_ZERO_PF_T1)                                                                  \
	X(t2, XMM_ZERO_PF_T2)

/* The distance in bytes, shared by every set (xmm_zero_prefetch_pages_set); read once per call. */
extern uint64_t xmm_zk_prefetch_bytes;

ZK_INLINE size_t zk_prefetch_distance(void)
{
	return (size_t)xmm_pr_load_relaxed_64(&xmm_zk_prefetch_bytes);
}

/* Unaligned loads without aliasing trouble; each compiles to one plain load. */
ZK_INLINE uint64_t zk_load64(const char *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

ZK_INLINE uint32_t zk_load32(const char *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

ZK_INLINE uint16_t zk_load16(const char *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* The portable predicates: eight words per line, OR-ed as a tree so the loads stay independent. */
ZK_INLINE uint64_t zk_line_or(const char *p)
{
	return ((zk_load64(p) | zk_load64(p + 8)) | (zk_load64(p + 16) | zk_load64(p + 24))) |
	       ((zk_load64(p + 32) | zk_load64(p + 40)) | (zk_load64(p + 48) | zk_load64(p + 56)));
}

ZK_INLINE bool zk_line_nz_words(const char *p)
{
	return zk_line_or(p) != 0;
}

ZK_INLINE bool zk_block_nz_words(const char *p)
{
	return ((zk_line_or(p) | zk_line_or(p + 64)) | (zk_line_or(p + 128) | zk_line_or(p + 192))) != 0;
}

/* Fewer than 64 bytes: overlapping loads of the widest size that fits. */
ZK_INLINE bool zk_small_is_zero(const char *p, size_t len)
{
	uint64_t acc;

	if (len >= 8) {
		acc = zk_load64(p + len - 8);
		for (size_t i = 0; i + 8 <= len; i += 8)
			acc |= zk_load64(p + i);
		return acc == 0;
	}
	if (len >= 4)
		return (zk_load32(p) | zk_load32(p + len - 4)) == 0;
	if (len >= 2)
		return (zk_load16(p) | zk_load16(p + len - 2)) == 0;
	return len == 0 || *(const unsigned char *)p == 0;
}

/*
 * Is [p, p + len) zero? Prefetches run @dist bytes ahead of the scan but never
 * past @pf_end, the end of what the caller will read anyway.
 */
ZK_INLINE bool zk_range_is_zero(const char *p, size_t len, const char *pf_end, zk_pred line_nz,
				zk_pred block_nz, zk_prefetch_fn prefetch, size_t dist)
{
	const char *lo, *hi;

	if (len < ZK_LINE)
		return zk_small_is_zero(p, len);
	if (line_nz(p) || line_nz(p + len - ZK_LINE))
		return false;
	/* The aligned body; [p, lo) lies in the first sample, [hi, p + len) in the last. */
	lo = (const char *)(((uintptr_t)p + ZK_LINE - 1) & ~(uintptr_t)(ZK_LINE - 1));
	hi = (const char *)(((uintptr_t)p + len) & ~(uintptr_t)(ZK_LINE - 1));
	if (hi <= lo)
		return true;
	if (line_nz(lo + (((size_t)(hi - lo) / 2) & ~(size_t)(ZK_LINE - 1))))
		return false;
	for (; (size_t)(hi - lo) >= ZK_GROUP; lo += ZK_GROUP) {
		bool pf = prefetch && (uintptr_t)lo + dist + ZK_GROUP <= (uintptr_t)pf_end;
		bool nz = false;

		for (size_t b = 0; b < ZK_GROUP; b += ZK_BLOCK) {
			if (pf)
				for (size_t l = 0; l < ZK_BLOCK; l += ZK_LINE)
					prefetch(lo + dist + b + l);
			nz |= block_nz(lo + b);
		}
		if (nz)
			return false;
	}
	for (; (size_t)(hi - lo) >= ZK_BLOCK; lo += ZK_BLOCK) {
		if (prefetch && (uintptr_t)lo + dist + ZK_BLOCK <= (uintptr_t)pf_end)
			for (size_t l = 0; l < ZK_BLOCK; l += ZK_LINE)
				prefetch(lo + dist + l);
		if (block_nz(lo))
			return false;
	}
	for (; lo < hi; lo += ZK_LINE)
		if (line_nz(lo))
			return false;
	return true;
}

ZK_INLINE size_t zk_zero_scan(const char *base, size_t npages, uint64_t *bitmap, zk_pred line_nz,
			      zk_pred block_nz, zk_prefetch_fn prefetch)
{
	const char *end = base + npages * XMM_ZERO_PAGE;
	size_t count = 0, dist = prefetch ? zk_prefetch_distance() : 0;

	for (size_t w = 0; w < XMM_ZERO_BITMAP_WORDS(npages); w++) {
		size_t n = npages - w * 64 < 64 ? npages - w * 64 : 64;
		const char *page = base + w * 64 * XMM_ZERO_PAGE;
		uint64_t bits = 0;

		for (size_t i = 0; i < n; i++, page += XMM_ZERO_PAGE)
			if (zk_range_is_zero(page, XMM_ZERO_PAGE, end, line_nz, block_nz, prefetch,
					     dist)) {
				bits |= 1ULL << i;
				count++;
			}
		if (bitmap)
			bitmap[w] = bits;
	}
	return count;
}

/* A whole range: the prefetch may run up to its end. */
ZK_INLINE bool zk_is_zero(const char *p, size_t len, zk_pred line_nz, zk_pred block_nz,
			  zk_prefetch_fn prefetch)
{
	return zk_range_is_zero(p, len, p + len, line_nz, block_nz, prefetch,
				prefetch ? zk_prefetch_distance() : 0);
}

/* The portable instantiations (libxmm/core/zero.c), for arch sets that have nothing better. */
#define ZK_DECLARE_PORTABLE(hint, value)                                                       \
	bool xmm_zk_is_zero_portable_##hint(const void *p, size_t len);                        \
	size_t xmm_zk_zero_scan_portable_##hint(const void *base, size_t npages, uint64_t *bitmap);
ZK_FOR_EACH_HINT(ZK_DECLARE_PORTABLE)

#endif /* XMM_CORE_ZERO_KERNEL_H */
