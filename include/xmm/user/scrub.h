/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/scrub.h - the scrub queues (xmm/scrub.h) in user space:
 * created in their own aligned heap memory (libxmm/user/scrub.c). The
 * daemon is xmm/user/scrubd.h, the guest-memory arena xmm/user/scrub_arena.h.
 */
#ifndef XMM_USER_SCRUB_H
#define XMM_USER_SCRUB_H

#include <xmm/scrub.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_SCRUB_H */
