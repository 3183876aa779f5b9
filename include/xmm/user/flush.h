/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/flush.h - the flush clock (xmm/flush.h) in user space:
 * created in its own aligned heap memory (libxmm/user/flush.c).
 */
#ifndef XMM_USER_FLUSH_H
#define XMM_USER_FLUSH_H

#include <xmm/flush.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The clock in aligned heap memory: 0, XMM_EINVAL or XMM_ENOMEM (*out untouched). */
int xmm_flush_clock_create(struct xmm_flush_clock **out, unsigned int ncpus,
			   const uint16_t *group_of_cpu, unsigned int flags);
void xmm_flush_clock_destroy(struct xmm_flush_clock *clk);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_FLUSH_H */
