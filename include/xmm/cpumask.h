/* SPDX-License-Identifier: MIT */
/*
 * xmm/cpumask.h - fixed-size CPU bitmaps.
 *
 * XMM_MAX_CPUS bits stored as uint64_t words; CPU i is bit (i % 64) of word
 * (i / 64), the layout Xen's cpumask_t and Linux's struct cpumask use, so a
 * port can convert by copying words. Plain (non-atomic) operations: a mask is
 * owned by one thread at a time.
 */
#ifndef XMM_CPUMASK_H
#define XMM_CPUMASK_H

#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef XMM_MAX_CPUS
#define XMM_MAX_CPUS 4096
#endif
#if XMM_MAX_CPUS <= 0 || XMM_MAX_CPUS % 64 != 0
#error "XMM_MAX_CPUS must be a positive multiple of 64"
#endif

#define XMM_CPUMASK_WORDS (XMM_MAX_CPUS / 64)

typedef struct xmm_cpumask {
	uint64_t bits[XMM_CPUMASK_WORDS];
} xmm_cpumask_t;

static inline void xmm_cpumask_zero(xmm_cpumask_t *m)
{
	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		m->bits[w] = 0;
}

/* Set exactly CPUs [0, n); n is clamped to XMM_MAX_CPUS. */
static inline void xmm_cpumask_fill(xmm_cpumask_t *m, unsigned int n)
{
	if (n > XMM_MAX_CPUS)
		n = XMM_MAX_CPUS;
	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++) {
		unsigned int lo = w * 64;
		m->bits[w] = n >= lo + 64 ? ~0ULL : n > lo ? (1ULL << (n - lo)) - 1 : 0;
	}
}

static inline void xmm_cpumask_set(xmm_cpumask_t *m, unsigned int cpu)
{
	if (cpu < XMM_MAX_CPUS)
		m->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void xmm_cpumask_clear(xmm_cpumask_t *m, unsigned int cpu)
{
	if (cpu < XMM_MAX_CPUS)
		m->bits[cpu / 64] &= ~(1ULL << (cpu % 64));
}

static inline bool xmm_cpumask_test(const xmm_cpumask_t *m, unsigned int cpu)
{
	return cpu < XMM_MAX_CPUS && (m->bits[cpu / 64] >> (cpu % 64) & 1);
}

/* dst = a & b */
static inline void xmm_cpumask_and(xmm_cpumask_t *dst, const xmm_cpumask_t *a,
				   const xmm_cpumask_t *b)
{
	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		dst->bits[w] = a->bits[w] & b->bits[w];
}

/* dst = a | b */
static inline void xmm_cpumask_or(xmm_cpumask_t *dst, const xmm_cpumask_t *a,
				  const xmm_cpumask_t *b)
{
	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		dst->bits[w] = a->bits[w] | b->bits[w];
}

/* dst = a & ~b */
static inline void xmm_cpumask_andnot(xmm_cpumask_t *dst, const xmm_cpumask_t *a,
				      const xmm_cpumask_t *b)
{
	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		dst->bits[w] = a->bits[w] & ~b->bits[w];
}

static inline bool xmm_cpumask_empty(const xmm_cpumask_t *m)
{
	uint64_t any = 0;

	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		any |= m->bits[w];
	return any == 0;
}

static inline bool xmm_cpumask_equal(const xmm_cpumask_t *a, const xmm_cpumask_t *b)
{
	uint64_t diff = 0;

	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		diff |= a->bits[w] ^ b->bits[w];
	return diff == 0;
}

/*
 * Population count without __builtin_popcountll: under -mgeneral-regs-only
 * and no -mpopcnt that builtin becomes a call to libgcc's __popcountdi2,
 * which a freestanding core must not reference.
 */
static inline unsigned int xmm_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned int)((x * 0x0101010101010101ULL) >> 56);
}

static inline unsigned int xmm_cpumask_weight(const xmm_cpumask_t *m)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < XMM_CPUMASK_WORDS; w++)
		n += xmm_popcount64(m->bits[w]);
	return n;
}

/* The first CPU >= @cpu in @m, or XMM_MAX_CPUS if none. */
static inline unsigned int xmm_cpumask_next(const xmm_cpumask_t *m, unsigned int cpu)
{
	if (cpu >= XMM_MAX_CPUS)
		return XMM_MAX_CPUS;
	unsigned int w = cpu / 64;
	uint64_t word = m->bits[w] & (~0ULL << (cpu % 64));

	for (;;) {
		if (word)
			return w * 64 + (unsigned int)__builtin_ctzll(word);
		if (++w == XMM_CPUMASK_WORDS)
			return XMM_MAX_CPUS;
		word = m->bits[w];
	}
}

#define xmm_cpumask_first(m) xmm_cpumask_next((m), 0)

/* for (cpu = first; cpu < XMM_MAX_CPUS; cpu = next(cpu + 1)) */
#define xmm_cpumask_for_each(cpu, m)                                            \
	for ((cpu) = xmm_cpumask_first(m); (cpu) < XMM_MAX_CPUS;                \
	     (cpu) = xmm_cpumask_next((m), (cpu) + 1))

#ifdef __cplusplus
}
#endif

#endif /* XMM_CPUMASK_H */
