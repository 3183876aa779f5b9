/* SPDX-License-Identifier: MIT */
/*
 * User-space platform types for libxmm (see xmm/platform.h, "Types").
 *
 * A hosted C library has the standard headers, so the vocabulary the core
 * needs comes straight from them.
 */
#ifndef XMM_USER_PLATFORM_TYPES_H
#define XMM_USER_PLATFORM_TYPES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#endif /* XMM_USER_PLATFORM_TYPES_H */
