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

/* The object in aligned heap memory: 0, XMM_EINVAL or XMM_ENOMEM (*out untouched). */
int xmm_scrub_create(struct xmm_scrub **out, unsigned int nnodes, const uint8_t *distance,
		     uint64_t chunk_pages, const struct xmm_scrub_ops *ops, void *ctx);
void xmm_scrub_destroy(struct xmm_scrub *s);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_SCRUB_H */
