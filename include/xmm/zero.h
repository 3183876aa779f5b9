/* SPDX-License-Identifier: MIT */
/*
 * xmm/zero.h - zeroing and zero detection (seeds 001 and 003).
 *
 * Kernels are chosen once, at the first call, from what the platform offers
 * for this CPU (xmm_pr_zero_ops(), e.g. AVX2 non-temporal stores in user
 * space); the portable C versions below are always there and always give
 * identical results. All functions are thread-safe and take any length and
 * alignment, including 0.
 *
 * Zero detection reads memory in 64-byte lines, in this order (the same for
 * every kernel set, so that they differ only in speed):
 *
 *   1. a quick sample: the first line of the range, the last, then the middle
 *      one, stopping at the first that is not zero. Guest pages that are not
 *      zero usually have data at their start (heap, page cache) or at their
 *      end (stacks grow down), so most are rejected after one or two lines;
 *   2. the full scan of the 64-byte-aligned body, in groups of 16 lines
 *      (1 KiB) whose loads are issued together and tested with one branch,
 *      stopping at the first group that is not zero; a remainder under 1 KiB
 *      goes in blocks of four lines, then lines. (A branch per line costs
 *      about a tenth of the bandwidth from DRAM, a branch per four lines still
 *      a few percent on some CPUs; a group reads at most 15 lines more than
 *      stopping at the line.) An unaligned head or tail is covered by the
 *      first or last sample.
 *
 * Ranges shorter than 64 bytes are read with overlapping word loads. A page is
 * thus read at most once from memory: the sampled lines are still in L1 when
 * the scan passes them again.
 *
 * The memory read must not change during a call if the answer is to mean
 * anything: a hypervisor checks guest pages after taking them away from the
 * guest (p2m entry made populate-on-demand and the TLBs flushed, as Xen does),
 * or checks again afterwards.
 */
#ifndef XMM_ZERO_H
#define XMM_ZERO_H

#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of one 4 KiB page, the unit of the bitmaps below. */
#define XMM_ZERO_PAGE XMM_PAGE_SIZE

/* The largest superpage xmm_superpage_check takes: order 18, 1 GiB of 4 KiB pages. */
#define XMM_SUPERPAGE_MAX_ORDER 18

/* Words of a bitmap for @npages pages. */
#define XMM_ZERO_BITMAP_WORDS(npages) (((npages) + 63) / 64)

/*
 * Zero @len bytes at @p, the fastest way for the size: cached stores for
 * small ranges, non-temporal stores (which neither read the lines first nor
 * evict the caller's working set) for large ones. On return the zeroes are
 * ordered before any later store of the caller (non-temporal stores are
 * fenced), so the memory may be handed on at once.
 */
void xmm_clear(void *p, size_t len);

/* True when all @len bytes at @p are zero (true for len 0). Early exit as described above. */
bool xmm_is_zero(const void *p, size_t len);

/*
 * Check @npages consecutive 4 KiB pages from @base (any alignment: page i is
 * the 4096 bytes at base + i * 4096) and return how many are entirely zero.
 * Each page is read as by xmm_is_zero, so a page that is not zero usually
 * costs one line. With @zero_bitmap, writes its XMM_ZERO_BITMAP_WORDS(npages)
 * words: bit i (word i / 64, bit i % 64) set when page i is zero, bits from
 * npages on cleared. @zero_bitmap may be NULL to count only.
 */
size_t xmm_zero_scan(const void *base, size_t npages, uint64_t *zero_bitmap);

/*
 * Is the superpage of 2^@order 4 KiB pages at @sp entirely zero? Returns 1 if
 * so, 0 if not, XMM_EINVAL for a NULL @sp or @order above
 * XMM_SUPERPAGE_MAX_ORDER.
 *
 * With @zero_bitmap, every page is checked in the same single pass and the
 * bitmap filled as by xmm_zero_scan, so that a superpage that is not entirely
 * zero needs no second scan to find which of its pages are: the caller can
 * reclaim the superpage whole, or exactly these pages. Without (NULL), the
 * check stops at the first line that is not zero.
 */
int xmm_superpage_check(const void *sp, unsigned int order, uint64_t *zero_bitmap);

/*
 * The software prefetch of the body scan (step 2 above): a hint and a
 * distance, chosen once per CPU with the kernels, because no single hint is
 * right for every host. Measured (libxmm/arch/x86_64/zero.c has the table):
 * on Zen 4 prefetchnta is fastest, on an Intel Xeon the same prefetchnta
 * fills L1 only, the L2 streamer never engages and the scan loses 60%, and
 * without any prefetch the portable kernel loses half on Zen 5. A host the
 * table does not know takes the hint that lost least on every host measured.
 *
 * User space: XMM_ZERO_PREFETCH=<hint>[:<pages>] forces the choice, so any
 * host can be measured (bench_zero measures every hint in one run), e.g.
 * XMM_ZERO_PREFETCH=t2 or XMM_ZERO_PREFETCH=nta:1; XMM_ZERO_KERNEL=<name>
 * (one of the names below) forces the kernel set. A value that does not
 * parse is reported on stderr and the CPU's choice is kept. Both are read
 * once, at the first call.
 */
enum xmm_zero_prefetch {
	XMM_ZERO_PF_NONE, /* "none": no software prefetch, the hardware prefetchers only */
	XMM_ZERO_PF_NTA,  /* "nta": prefetchnta (x86), non-temporal */
	XMM_ZERO_PF_T0,   /* "t0": prefetcht0, into every level */
	XMM_ZERO_PF_T1,   /* "t1": prefetcht1, L2 and outward */
	XMM_ZERO_PF_T2,   /* "t2": prefetcht2, L2 (or L3) and outward */
	XMM_ZERO_PF_HINTS
};

/* What a platform uses when it knows nothing of the CPU: the safest measured hint. */
#define XMM_ZERO_PF_DEFAULT XMM_ZERO_PF_T2
/* Default distance ahead of the scan, and the largest accepted, in 4 KiB pages. */
#define XMM_ZERO_PF_DEFAULT_PAGES 2
#define XMM_ZERO_PF_MAX_PAGES 16

struct xmm_zero_prefetch_choice {
	enum xmm_zero_prefetch hint;
	unsigned int pages; /* distance ahead of the scan, 1..XMM_ZERO_PF_MAX_PAGES */
	const char *why;    /* the host class that decided it, or "XMM_ZERO_PREFETCH" */
};

/* "none", "nta", "t0", "t1", "t2"; NULL for a value out of range. */
const char *xmm_zero_prefetch_name(enum xmm_zero_prefetch hint);

/*
 * Parse "<hint>[:<pages>]" (the syntax of XMM_ZERO_PREFETCH): a hint name as
 * above, then optionally a colon and a decimal distance of 1 to
 * XMM_ZERO_PF_MAX_PAGES pages (default XMM_ZERO_PF_DEFAULT_PAGES). Returns 0
 * and fills @hint and @pages, or XMM_EINVAL (NULL, empty, unknown hint, bad or
 * out-of-range distance, trailing characters) leaving them untouched.
 * Freestanding, so a hypervisor can take the same syntax on its command line.
 */
int xmm_zero_prefetch_parse(const char *s, enum xmm_zero_prefetch *hint, unsigned int *pages);

/*
 * The prefetch distance in pages that every kernel set uses (the hint is part
 * of the set, below). Set by the platform when it chooses the kernels; for
 * tests and benchmarks. Values out of 1..XMM_ZERO_PF_MAX_PAGES are clamped.
 */
unsigned int xmm_zero_prefetch_pages(void);
void xmm_zero_prefetch_pages_set(unsigned int pages);

/*
 * A set of kernels: one per operation, all with the semantics documented
 * above. (xmm_superpage_check is xmm_zero_scan or is_zero over the whole
 * superpage, so it needs no kernel of its own.) Every kernel set exists once
 * per prefetch hint; they differ only in speed.
 */
struct xmm_zero_ops {
	const char *name; /* "portable", "x86-gpr", "sse2", "avx2", "avx512" */
	void (*clear)(void *p, size_t len);
	bool (*is_zero)(const void *p, size_t len);
	size_t (*zero_scan)(const void *base, size_t npages, uint64_t *zero_bitmap);
	enum xmm_zero_prefetch prefetch; /* the hint its body scan issues */
};

/* The portable C kernels (freestanding; what a host built without SIMD runs), one per hint. */
extern const struct xmm_zero_ops xmm_zero_portable_sets[XMM_ZERO_PF_HINTS];
/* The portable set with the default hint (a platform that knows the CPU offers a better one). */
#define xmm_zero_portable (xmm_zero_portable_sets[XMM_ZERO_PF_DEFAULT])

/* The kernels in use (chosen at the first call if none was set). */
const struct xmm_zero_ops *xmm_zero_ops_get(void);
/* Use @ops from now on (NULL: the platform's choice again). For tests and benchmarks. */
void xmm_zero_ops_set(const struct xmm_zero_ops *ops);

/*
 * User space: every kernel set this CPU can run, fastest first, portable
 * last, all with the prefetch hint chosen for this CPU (or XMM_ZERO_PREFETCH).
 */
size_t xmm_zero_variants(const struct xmm_zero_ops **out, size_t max);
/* The same sets with @hint instead (none for a @hint out of range). */
size_t xmm_zero_variants_hint(const struct xmm_zero_ops **out, size_t max,
			      enum xmm_zero_prefetch hint);
/* User space: the prefetch chosen for this CPU, after XMM_ZERO_PREFETCH. */
void xmm_zero_prefetch_choice(struct xmm_zero_prefetch_choice *c);

#ifdef __cplusplus
}
#endif

#endif /* XMM_ZERO_H */
