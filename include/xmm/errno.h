/* SPDX-License-Identifier: MIT */
/*
 * xmm/errno.h - error codes.
 *
 * Every libxmm call that can fail returns an int: 0 on success or one of
 * these negative codes. Their values equal the Linux errno values, so a
 * kernel port can pass them through unchanged.
 */
#ifndef XMM_ERRNO_H
#define XMM_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

#define XMM_OK 0
#define XMM_EPERM (-1)      /* operation not permitted (e.g. memlock limit) */
#define XMM_ENOENT (-2)     /* nothing there (e.g. no dirty memory to take) */
#define XMM_EAGAIN (-11)    /* temporarily unavailable; retry */
#define XMM_ENOMEM (-12)    /* out of memory, or over a configured cap */
#define XMM_EBUSY (-16)     /* resource in use (reserved: a double put of a queued extent) */
#define XMM_ENODEV (-19)    /* no such device / backend unavailable */
#define XMM_EINVAL (-22)    /* invalid argument */
#define XMM_ERANGE (-34)    /* index out of range */
#define XMM_EOVERFLOW (-75) /* arithmetic overflow in an extent */
#define XMM_ENOTSUP (-95)   /* not supported on this platform */

/*
 * A short English description of @err. Accepts negative codes (as returned)
 * and their positive magnitudes; unknown codes give "unknown error".
 * Never returns NULL; the string is static.
 */
const char *xmm_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* XMM_ERRNO_H */
