/* SPDX-License-Identifier: MIT */
/*
 * Reference freestanding platform types (see xmm/platform.h, "Types").
 *
 * Built from the compiler's predefined macros alone, so that the freestanding
 * check compiles the core with -nostdinc, as Linux and Xen do: a core file
 * that reached for a standard header the hosts lack fails that check.
 */
#ifndef XMM_FREESTANDING_PLATFORM_TYPES_H
#define XMM_FREESTANDING_PLATFORM_TYPES_H

typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __INTPTR_TYPE__ intptr_t;
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;

#define UINT32_MAX __UINT32_MAX__
#define UINT64_MAX __UINT64_MAX__
#define SIZE_MAX __SIZE_MAX__
#define CHAR_BIT __CHAR_BIT__

#ifndef __cplusplus
#define bool _Bool
#define true 1
#define false 0
#endif

#define NULL ((void *)0)
#define offsetof(type, member) __builtin_offsetof(type, member)

#endif /* XMM_FREESTANDING_PLATFORM_TYPES_H */
