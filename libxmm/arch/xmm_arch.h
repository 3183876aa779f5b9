/* SPDX-License-Identifier: MIT */
/*
 * The architecture layer: CPU-specific kernels with run-time selection, for
 * platforms to offer to the core (see xmm_pr_zero_ops() in xmm/platform.h).
 * One directory per architecture; CMake compiles the one matching the target
 * (generic/ when none does).
 */
#ifndef XMM_ARCH_H
#define XMM_ARCH_H

#include <xmm/zero.h>

/* Kernel sets this CPU can run with @hint, fastest first; the portable set is not included. */
size_t xmm_arch_zero_variants(const struct xmm_zero_ops **out, size_t max,
			      enum xmm_zero_prefetch hint);

/* The zero scan's prefetch hint and distance for this CPU, from a measured table. */
void xmm_arch_zero_prefetch(struct xmm_zero_prefetch_choice *choice);

#endif /* XMM_ARCH_H */
