/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/p2m.h - the sparse p2m (xmm/p2m.h) in user space:
 * created in its own heap memory (libxmm/user/p2m.c), with the inline get.
 */
#ifndef XMM_USER_P2M_H
#define XMM_USER_P2M_H

#include <xmm/p2m.h>
#include <xmm/static/p2m.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The map in heap memory: 0, XMM_EINVAL, XMM_ENOMEM or XMM_ENOTSUP (*out untouched). */
int xmm_p2m_create(struct xmm_p2m **out, xmm_pfn_t max_pfn, unsigned int flags);
void xmm_p2m_destroy(struct xmm_p2m *p); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_P2M_H */
