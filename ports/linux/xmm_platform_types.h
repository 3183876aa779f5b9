/* SPDX-License-Identifier: MIT */
/*
 * Linux kernel platform types for libxmm (see xmm/platform.h, "Types").
 *
 * The kernel builds with -nostdinc: <stdint.h>, <stdbool.h>, <stddef.h> and
 * <limits.h> are not there. <linux/types.h> and <linux/stddef.h> give most of
 * the vocabulary (u64-based fixed-width types, bool, true, false, NULL,
 * offsetof); the few names the kernel spells otherwise are defined here.
 */
#ifndef XMM_LINUX_PLATFORM_TYPES_H
#define XMM_LINUX_PLATFORM_TYPES_H

#include <linux/limits.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* The kernel has uintptr_t but no intptr_t. */
typedef long intptr_t;

#ifndef UINT32_MAX
#define UINT32_MAX U32_MAX
#endif
#ifndef UINT64_MAX
#define UINT64_MAX U64_MAX
#endif
#ifndef CHAR_BIT
#define CHAR_BIT 8
#endif

#endif /* XMM_LINUX_PLATFORM_TYPES_H */
