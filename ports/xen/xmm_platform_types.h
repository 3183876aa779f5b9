/* SPDX-License-Identifier: MIT */
/*
 * libxmm platform types for the Xen hypervisor (see xmm/platform.h, "Types").
 *
 * Xen builds with -nostdinc: the fixed-width integers, bool, NULL and the
 * *_MAX limits come from <xen/types.h>, offsetof from <xen/compiler.h>. What
 * Xen lacks (intptr_t, ptrdiff_t, UINT64_MAX, SIZE_MAX, CHAR_BIT) is built
 * from the compiler's predefined macros. size_t is asm/types.h's.
 */
#ifndef XMM_XEN_PLATFORM_TYPES_H
#define XMM_XEN_PLATFORM_TYPES_H

#include <xen/compiler.h>
#include <xen/types.h>
#include <xen/config.h>

typedef __INTPTR_TYPE__ intptr_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;

#ifndef UINT64_MAX
#define UINT64_MAX __UINT64_MAX__
#endif
#ifndef SIZE_MAX
#define SIZE_MAX __SIZE_MAX__
#endif
#ifndef CHAR_BIT
#define CHAR_BIT __CHAR_BIT__
#endif

/*
 * libxmm's CPU masks hold exactly Xen's NR_CPUS (rounded up to whole 64-bit
 * words), so xmm_cpumask_t and cpumask_t convert by copying words.
 */
#define XMM_MAX_CPUS (((NR_CPUS) + 63) / 64 * 64)

#endif /* XMM_XEN_PLATFORM_TYPES_H */
