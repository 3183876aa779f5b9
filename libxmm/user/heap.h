/* SPDX-License-Identifier: MIT */
/* Heap placement for objects that live in caller memory (the xmm_X_size/xmm_X_init pattern). */
#ifndef XMM_USER_HEAP_H
#define XMM_USER_HEAP_H

#include <stdlib.h>

/* @size bytes aligned to @align (a power of two), rounded up as C11 aligned_alloc requires. */
static inline void *xmm_heap_object(size_t align, size_t size)
{
	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

#endif /* XMM_USER_HEAP_H */
