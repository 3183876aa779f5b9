/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/zerosweep.h - the superpage sweep (xmm/zerosweep.h) in user
 * space: created in its own heap memory (libxmm/user/zerosweep.c).
 */
#ifndef XMM_USER_ZEROSWEEP_H
#define XMM_USER_ZEROSWEEP_H

#include <xmm/zerosweep.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A sweep in heap memory: 0, XMM_EINVAL or XMM_ENOMEM (*out untouched). */
int xmm_zerosweep_create(struct xmm_zerosweep **out, uint64_t npages, unsigned int order);
void xmm_zerosweep_destroy(struct xmm_zerosweep *s);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_ZEROSWEEP_H */
