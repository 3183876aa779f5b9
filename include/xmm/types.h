/* SPDX-License-Identifier: MIT */
/*
 * xmm/types.h - the basic vocabulary shared by every libxmm primitive.
 *
 * Freestanding: the fixed-width integers, bool, size_t and NULL come from
 * <xmm_platform_types.h>, which each platform supplies beside its
 * <xmm_platform.h> (user space: the C standard headers; Linux and Xen: their
 * own types headers, since both build with -nostdinc).
 */
#ifndef XMM_TYPES_H
#define XMM_TYPES_H

#include <xmm_platform_types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Guest-physical frame number and machine frame number. */
typedef uint64_t xmm_pfn_t;
typedef uint64_t xmm_mfn_t;

/* Flush-clock epoch: 64 bits, never wraps (2^64 flushes at 1 GHz is 584 years). */
typedef uint64_t xmm_epoch_t;

#define XMM_PAGE_SHIFT 12
#define XMM_PAGE_SIZE (1UL << XMM_PAGE_SHIFT)

/* Cache-line size every layout in libxmm pads to. */
#define XMM_CACHELINE 64

/* The mfn of a hole: all ones, as Xen's INVALID_MFN and Linux's INVALID_P2M_ENTRY. */
#define XMM_INVALID_MFN (~(xmm_mfn_t)0)

/* Identity frames (pfn == mfn, e.g. PCI holes of a PV dom0) carry bit 62, as Linux's IDENTITY_FRAME. */
#define XMM_IDENTITY_FRAME_BIT (1ULL << 62)
#define XMM_IDENTITY_FRAME(pfn) ((xmm_mfn_t)(pfn) | XMM_IDENTITY_FRAME_BIT)

#if defined(__GNUC__)
#define XMM_LIKELY(x) __builtin_expect(!!(x), 1)
#define XMM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define XMM_ALIGNED(n) __attribute__((__aligned__(n)))
#else
#define XMM_LIKELY(x) (x)
#define XMM_UNLIKELY(x) (x)
#define XMM_ALIGNED(n)
#endif

#ifdef __cplusplus
}
#endif

#endif /* XMM_TYPES_H */
