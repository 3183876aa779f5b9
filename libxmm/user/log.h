/* SPDX-License-Identifier: MIT */
/* Internal: how user-space libxmm reports a diagnostic (to the hook of xmm/user/log.h). */
#ifndef XMM_USER_LOG_INTERNAL_H
#define XMM_USER_LOG_INTERNAL_H

void xmm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* XMM_USER_LOG_INTERNAL_H */
