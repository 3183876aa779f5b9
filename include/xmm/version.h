/* SPDX-License-Identifier: MIT */
/*
 * xmm/version.h - the version of the libxmm headers. CMake reads the
 * project's version from the three numbers below, so they are the one place
 * it is written. xmm_version() gives the library's own (libxmm/core/version.c),
 * so a program can tell when it runs against another build than it was
 * compiled with. The soname's number moves separately (README, ABI).
 */
#ifndef XMM_VERSION_H
#define XMM_VERSION_H

#define XMM_VERSION_MAJOR 0
#define XMM_VERSION_MINOR 2
#define XMM_VERSION_PATCH 0

/* MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons. */
#define XMM_VERSION (XMM_VERSION_MAJOR * 10000 + XMM_VERSION_MINOR * 100 + XMM_VERSION_PATCH)

#define XMM_STR_(x) #x
#define XMM_STR(x) XMM_STR_(x)
#define XMM_VERSION_STRING                                                              \
	XMM_STR(XMM_VERSION_MAJOR) "." XMM_STR(XMM_VERSION_MINOR) "." XMM_STR(XMM_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, as XMM_VERSION computes it. */
unsigned int xmm_version(void);
/* The same as a string, e.g. "0.2.0". */
const char *xmm_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* XMM_VERSION_H */
