/* SPDX-License-Identifier: MIT */
/*
 * x86-64 zeroing and zero-detection kernels (xmm/zero.h), selected at run
 * time from CPUID.
 *
 *            clear                         zero detection
 *   x86-gpr  rep stosb + movnti            portable (general registers only)
 *   sse2     rep stosb + movnti            16-byte loads, pcmpeqb + pmovmskb
 *   avx2     rep stosb + 32-byte vmovntdq  32-byte loads, vptest
 *   avx512   rep stosb + 64-byte vmovntdq  64-byte loads, vptestmq
 *
 * x86-gpr and sse2 use no vector state beyond what every x86-64 CPU has; a
 * kernel may use x86-gpr without saving vector registers at all (what Xen's
 * clear_page does). Zero detection follows libxmm/core/zero_kernel.h: every
 * set gives the same answers and reads the same lines; only the width of
 * its loads differs. From DRAM every set reaches the bandwidth of a plain
 * streaming read on one core; from cache the width tells (CI machine, zero
 * scan of 512 KiB in L2: avx512 235, avx2 192, sse2 110, portable 82 GB/s),
 * hence the order of preference below.
 *
 * Clear crossover, measured on this project's CI machine (AMD EPYC, Zen 5 class,
 * 2026-11; GB/s zeroing buffers of the given size, "cold" sweeping 1 GiB so
 * every line misses, "hot" rewriting 1 MiB that stays in L2):
 *
 *            cold: rep stosb  movnti  nt-avx2    hot: rep stosb  nt-avx2
 *     4 KiB          24.7      23.6     26.3            101.7      26.5
 *     8 KiB          31.2      32.9     40.7            120.8      42.4
 *    16 KiB          38.6      41.5     56.9            133.4      58.2
 *    64 KiB          43.4      50.7     75.8            145.6      78.0
 *     1 GiB          93.5      56.0     93.1              -          -
 *
 * Non-temporal stores skip the read-for-ownership and leave the cache alone,
 * but their final sfence waits for the write-combining buffers to drain
 * (~150 ns), which is what a 4 KiB call pays. Memory being scrubbed is cold,
 * and a large clear should not evict the caller's working set, so ranges of
 * XMM_X86_NT_MIN (16 KiB) and more use non-temporal stores, smaller ones rep
 * stosb (fast strings: ERMS/FSRM; memset where the CPU lacks ERMS).
 */
#include <cpuid.h>
#include <immintrin.h>

#include "../../core/zero_kernel.h"
#include "../xmm_arch.h"

#define XMM_X86_NT_MIN (16u << 10)

static void stosb(void *p, size_t len)
{
	__asm__ volatile("rep stosb" : "+D"(p), "+c"(len) : "a"(0) : "memory");
}

/* Set before any kernel set is handed out; racing selections store the same value. */
static bool have_erms;

/* Cached-store zeroing for small ranges and the unaligned edges of large ones. */
static inline void clear_small(void *p, size_t len)
{
	if (__atomic_load_n(&have_erms, __ATOMIC_RELAXED))
		stosb(p, len);
	else
		__builtin_memset(p, 0, len);
}

/* Non-temporal stores of whole 64-byte lines over [c, c + n), c line aligned. */
typedef void (*nt_lines_fn)(char *c, size_t n);

/*
 * Small ranges with cached stores; large ones as an unaligned head and tail
 * with cached stores around a line-aligned body of non-temporal stores.
 */
static inline void clear_with(void *p, size_t len, nt_lines_fn nt_lines)
{
	char *c = p;
	size_t head, lines;

	if (len < XMM_X86_NT_MIN) {
		clear_small(p, len);
		return;
	}
	head = (size_t)(-(uintptr_t)c & 63);
	lines = (len - head) & ~(size_t)63;
	clear_small(c, head);
	nt_lines(c + head, lines);
	clear_small(c + head + lines, len - head - lines);
	/* Non-temporal stores are weakly ordered: fence them before the memory is handed on. */
	_mm_sfence();
}

static void nt_lines_gpr(char *c, size_t n)
{
	for (size_t i = 0; i < n; i += 64)
		for (size_t w = 0; w < 64; w += 8)
			_mm_stream_si64((long long *)(void *)(c + i + w), 0);
}

__attribute__((target("avx2"))) static void nt_lines_avx2(char *c, size_t n)
{
	__m256i z = _mm256_setzero_si256();

	for (size_t i = 0; i < n; i += 64) {
		_mm256_stream_si256((__m256i *)(void *)(c + i), z);
		_mm256_stream_si256((__m256i *)(void *)(c + i + 32), z);
	}
}

__attribute__((target("avx512f"))) static void nt_lines_avx512(char *c, size_t n)
{
	__m512i z = _mm512_setzero_si512();

	for (size_t i = 0; i < n; i += 64)
		_mm512_stream_si512((void *)(c + i), z);
}

static void clear_gpr(void *p, size_t len)
{
	clear_with(p, len, nt_lines_gpr);
}

static void clear_avx2(void *p, size_t len)
{
	clear_with(p, len, nt_lines_avx2);
}

static void clear_avx512(void *p, size_t len)
{
	clear_with(p, len, nt_lines_avx512);
}

/*
 * Zero-detection predicates (see libxmm/core/zero_kernel.h). Loads are
 * unaligned ones: a line sample may start anywhere, and on aligned addresses
 * they cost the same as aligned loads.
 */
static inline bool line_nz_sse2(const char *p)
{
	__m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
				 _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
	__m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)),
				 _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));

	return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(a, b), _mm_setzero_si128())) != 0xffff;
}

static inline __m128i or_line_sse2(const char *p)
{
	return _mm_or_si128(_mm_or_si128(_mm_load_si128((const __m128i *)(const void *)p),
					 _mm_load_si128((const __m128i *)(const void *)(p + 16))),
			    _mm_or_si128(_mm_load_si128((const __m128i *)(const void *)(p + 32)),
					 _mm_load_si128((const __m128i *)(const void *)(p + 48))));
}

static inline bool block_nz_sse2(const char *p)
{
	__m128i x = _mm_or_si128(_mm_or_si128(or_line_sse2(p), or_line_sse2(p + 64)),
				 _mm_or_si128(or_line_sse2(p + 128), or_line_sse2(p + 192)));

	return _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) != 0xffff;
}

__attribute__((target("avx2"))) static inline __m256i or_line_avx2(const char *p)
{
	return _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)p),
			       _mm256_loadu_si256((const __m256i *)(const void *)(p + 32)));
}

__attribute__((target("avx2"))) static inline bool line_nz_avx2(const char *p)
{
	__m256i x = or_line_avx2(p);

	return !_mm256_testz_si256(x, x);
}

__attribute__((target("avx2"))) static inline bool block_nz_avx2(const char *p)
{
	__m256i x = _mm256_or_si256(_mm256_or_si256(or_line_avx2(p), or_line_avx2(p + 64)),
				    _mm256_or_si256(or_line_avx2(p + 128), or_line_avx2(p + 192)));

	return !_mm256_testz_si256(x, x);
}

__attribute__((target("avx512f"))) static inline bool line_nz_avx512(const char *p)
{
	__m512i x = _mm512_loadu_si512(p);

	return _mm512_test_epi64_mask(x, x) != 0;
}

__attribute__((target("avx512f"))) static inline bool block_nz_avx512(const char *p)
{
	__m512i x = _mm512_or_si512(_mm512_or_si512(_mm512_load_si512(p), _mm512_load_si512(p + 64)),
				    _mm512_or_si512(_mm512_load_si512(p + 128),
						    _mm512_load_si512(p + 192)));

	return _mm512_test_epi64_mask(x, x) != 0;
}

#define X86_ZERO_KERNELS(isa, attr, hint)                                                      \
	attr static bool is_zero_##isa##_##hint(const void *p, size_t len)                     \
	{                                                                                      \
		return zk_is_zero(p, len, line_nz_##isa, block_nz_##isa, zk_prefetch_##hint);  \
	}                                                                                      \
	attr static size_t zero_scan_##isa##_##hint(const void *base, size_t npages,           \
						   uint64_t *bitmap)                           \
	{                                                                                      \
		return zk_zero_scan(base, npages, bitmap, line_nz_##isa, block_nz_##isa,        \
				    zk_prefetch_##hint);                                        \
	}
#define SSE2_KERNELS(hint, value) X86_ZERO_KERNELS(sse2, , hint)
#define AVX2_KERNELS(hint, value) X86_ZERO_KERNELS(avx2, __attribute__((target("avx2"))), hint)
#define AVX512_KERNELS(hint, value) X86_ZERO_KERNELS(avx512, __attribute__((target("avx512f"))), hint)
ZK_FOR_EACH_HINT(SSE2_KERNELS)
ZK_FOR_EACH_HINT(AVX2_KERNELS)
ZK_FOR_EACH_HINT(AVX512_KERNELS)

/* One set per hint, indexed by enum xmm_zero_prefetch. */
#define X86_SET(label, clr, zero, scan, hint, value)                                           \
	[value] = { .name = label, .clear = clr, .is_zero = zero, .zero_scan = scan, .prefetch = value },
#define GPR_SET(hint, value)                                                                   \
	X86_SET("x86-gpr", clear_gpr, xmm_zk_is_zero_portable_##hint,                          \
		xmm_zk_zero_scan_portable_##hint, hint, value)
/* movnti is SSE2's non-temporal store; no wider one exists */
#define SSE2_SET(hint, value)                                                                  \
	X86_SET("sse2", clear_gpr, is_zero_sse2_##hint, zero_scan_sse2_##hint, hint, value)
#define AVX2_SET(hint, value)                                                                  \
	X86_SET("avx2", clear_avx2, is_zero_avx2_##hint, zero_scan_avx2_##hint, hint, value)
#define AVX512_SET(hint, value)                                                                \
	X86_SET("avx512", clear_avx512, is_zero_avx512_##hint, zero_scan_avx512_##hint, hint, value)

static const struct xmm_zero_ops x86_gpr[XMM_ZERO_PF_HINTS] = { ZK_FOR_EACH_HINT(GPR_SET) };
static const struct xmm_zero_ops x86_sse2[XMM_ZERO_PF_HINTS] = { ZK_FOR_EACH_HINT(SSE2_SET) };
static const struct xmm_zero_ops x86_avx2[XMM_ZERO_PF_HINTS] = { ZK_FOR_EACH_HINT(AVX2_SET) };
static const struct xmm_zero_ops x86_avx512[XMM_ZERO_PF_HINTS] = { ZK_FOR_EACH_HINT(AVX512_SET) };

size_t xmm_arch_zero_variants(const struct xmm_zero_ops **out, size_t max,
			      enum xmm_zero_prefetch hint)
{
	unsigned int a, b, c, d;
	size_t n = 0;

	if ((unsigned int)hint >= XMM_ZERO_PF_HINTS)
		return 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		__atomic_store_n(&have_erms, (b >> 9) & 1, __ATOMIC_RELAXED); /* CPUID.(7,0):EBX.ERMS */
	__builtin_cpu_init();
	if (n < max && __builtin_cpu_supports("avx512f"))
		out[n++] = &x86_avx512[hint];
	if (n < max && __builtin_cpu_supports("avx2"))
		out[n++] = &x86_avx2[hint];
	if (n < max)
		out[n++] = &x86_sse2[hint];
	if (n < max)
		out[n++] = &x86_gpr[hint];
	return n;
}

/*
 * The prefetch of the zero scan, per CPU (see xmm/zero.h and zero_kernel.h),
 * from CPUID vendor, family and model. Measured with bench_zero: the scan of
 * 1 GiB of zero pages as a fraction of the limit in the same run (the fastest
 * streaming read or the peer; before 2026-12, the AVX-512 streaming read),
 * medians of interleaved rounds, every hint in the same run; KVM guests with
 * 2 vCPUs:
 *
 *   Zen 5, EPYC family 26 model 2 (this project's CI host, 2026-12-01; 11
 *   runs while other jobs loaded both CPUs: medians of the runs)
 *     avx512    nta 1.00 (runs 0.86-1.03)  t2 0.99  t0 0.98  t1 0.98  none 0.96
 *     portable  nta 0.98 of the read  t0 0.97  t2 0.96  t1 0.95  none 0.69
 *     cold reject, ns/page against the peer: nta 1.17x, t2 1.08x, t0 1.05x
 *     nta at 1 and 4 pages: 1.00 and 0.98, the same as at 2 within noise
 *     -> nta, 2 pages (what it ran before the table: L2-resident scans the
 *        same within 1%, DRAM figures the same within the noise)
 *   Zen 4, EPYC 9004 family 25 model 17 (2026-11, commit 22a31d6; see
 *   zero_kernel.h; t0 measured with a branch per block, before the 1 KiB
 *   groups)
 *     avx512    nta 0.84-0.97  t0 0.86-0.89;  portable nta 1.0
 *     -> nta, 2 pages
 *   Intel Xeon with AVX-512 (issue 10's measurements, made on that host, not
 *   here; its model was not recorded)
 *     every set nta 0.41-0.48;  t0 or t2 0.97-1.00;  none 0.97-1.03
 *     portable  t2 0.82;  sweep 3.4-3.7x Xen's with t0/t2
 *     -> t2, 2 pages
 *
 * A host not in the table takes t2 at 2 pages (XMM_ZERO_PF_DEFAULT), the hint
 * that lost least on every host measured: nta loses 59% on the Xeon, none 30%
 * of the portable scan on Zen 5, t2 (t0 on Zen 4, where t2 was not run) at
 * most 5% against the best hint of each host. A row covers the
 * models of the measured one's server line (Zen 4 models 16-31, Zen 5 models
 * 0-31); Zen 3 and the other Zen 4 and Zen 5 models, and Intel without
 * AVX-512, are unmeasured and take the default. XMM_ZERO_PREFETCH overrides
 * the table.
 */
enum x86_vendor { X86_OTHER, X86_AMD, X86_INTEL };

static const struct x86_zero_host {
	const char *name;
	enum x86_vendor vendor;
	unsigned int family, model_lo, model_hi;
	bool avx512; /* only where AVX-512F is there (how it was measured) */
	enum xmm_zero_prefetch hint;
	unsigned int pages;
} x86_zero_hosts[] = {
	{ "AMD Zen 5 (family 26, models 0-31)", X86_AMD, 0x1a, 0x00, 0x1f, false, XMM_ZERO_PF_NTA, 2 },
	{ "AMD Zen 4 (family 25, models 16-31)", X86_AMD, 0x19, 0x10, 0x1f, false, XMM_ZERO_PF_NTA, 2 },
	{ "Intel with AVX-512 (family 6)", X86_INTEL, 0x6, 0x00, 0xff, true, XMM_ZERO_PF_T2, 2 },
};

void xmm_arch_zero_prefetch(struct xmm_zero_prefetch_choice *choice)
{
	unsigned int a, b, c, d, family, model;
	enum x86_vendor vendor = X86_OTHER;

	choice->hint = XMM_ZERO_PF_DEFAULT;
	choice->pages = XMM_ZERO_PF_DEFAULT_PAGES;
	choice->why = "x86, not measured: the safest measured default";
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return;
	/* The vendor string is EBX, EDX, ECX: "Auth" "enti" "cAMD", "Genu" "ineI" "ntel". */
	if (b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163)
		vendor = X86_AMD;
	else if (b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e)
		vendor = X86_INTEL;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return;
	/* CPUID.1:EAX: the extended family adds on at base family 15, the extended model at 6 and 15. */
	family = (a >> 8) & 0xf;
	model = (a >> 4) & 0xf;
	if (family == 0xf || family == 0x6)
		model |= ((a >> 16) & 0xf) << 4;
	if (family == 0xf)
		family += (a >> 20) & 0xff;
	__builtin_cpu_init();
	for (size_t i = 0; i < sizeof(x86_zero_hosts) / sizeof(x86_zero_hosts[0]); i++) {
		const struct x86_zero_host *h = &x86_zero_hosts[i];

		if (h->vendor == vendor && h->family == family && model >= h->model_lo &&
		    model <= h->model_hi && (!h->avx512 || __builtin_cpu_supports("avx512f"))) {
			choice->hint = h->hint;
			choice->pages = h->pages;
			choice->why = h->name;
			return;
		}
	}
}
