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

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_ZEROSWEEP_H */
