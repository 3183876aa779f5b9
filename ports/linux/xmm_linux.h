/* SPDX-License-Identifier: MIT */
/*
 * What the Linux platform (xmm_platform.c) offers beyond the seam: counters a
 * self-test or a leak check can read. Not used by the core.
 */
#ifndef XMM_LINUX_H
#define XMM_LINUX_H

/* Pages the platform holds now for the core: xmm_pages_alloc'd plus populated vm pages. */
long xmm_linux_pages_held(void);

/* XMM_ASSERT failures seen since the module was loaded. */
unsigned long xmm_linux_assert_failures(void);

/* Populate/discard calls that changed mappings, and TLB shootdowns they issued. */
unsigned long xmm_linux_vm_shootdowns(void);

#endif /* XMM_LINUX_H */
