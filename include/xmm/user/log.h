/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/log.h - where user-space libxmm's diagnostics go. The library never
 * writes to stderr (or anywhere) on its own: what it has to say (an
 * XMM_ZERO_KERNEL that names no kernel of this CPU, a failed assertion in a
 * debug build just before it aborts) goes to the hook set here, and nowhere
 * when none is set. Errors that a call can return are returned, never logged.
 */
#ifndef XMM_USER_LOG_H
#define XMM_USER_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/* Levels, with syslog's numbers. */
#define XMM_LOG_ERR 3
#define XMM_LOG_WARNING 4

/* @msg is one line without its newline; it lives until the hook returns. */
typedef void (*xmm_log_fn)(void *arg, int level, const char *msg);

/*
 * Send diagnostics to @fn(@arg, level, msg); NULL (the default) drops them.
 * The hook may be called from any thread that calls into libxmm, also
 * concurrently; set it before other threads use the library.
 */
void xmm_log_set(xmm_log_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_LOG_H */
