/* SPDX-License-Identifier: MIT */
/* Failure injection into the platform's allocation hooks (fuzz.h). */
#include <stddef.h>
#include <stdint.h>

#include <xmm/errno.h>

#include "fuzz.h"

_Thread_local uint64_t fz_inject_bits;
_Thread_local uint64_t fz_injected;

void *__real_xmm_pages_alloc(size_t npages);
int __real_xmm_vm_populate(void *va, size_t bytes);
void *__wrap_xmm_pages_alloc(size_t npages);
int __wrap_xmm_vm_populate(void *va, size_t bytes);

static bool fail_now(void)
{
	bool fail = fz_inject_bits & 1;

	fz_inject_bits >>= 1;
	fz_injected += fail;
	return fail;
}

void *__wrap_xmm_pages_alloc(size_t npages)
{
	return fail_now() ? NULL : __real_xmm_pages_alloc(npages);
}

int __wrap_xmm_vm_populate(void *va, size_t bytes)
{
	return fail_now() ? XMM_ENOMEM : __real_xmm_vm_populate(va, bytes);
}
