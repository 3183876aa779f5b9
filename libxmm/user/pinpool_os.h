/* SPDX-License-Identifier: MIT */
/*
 * The pinned pool's system side (libxmm/user/pinpool_os.c): address-space
 * reservation and the two backends' commit/release. Internal to libxmm.
 */
#ifndef XMM_USER_PINPOOL_OS_H
#define XMM_USER_PINPOOL_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xmm/user/pinpool.h>

struct xmm_pin_os {
	enum xmm_pinpool_backend backend;
	bool mlock;      /* lock committed chunks (all but XMM_PINPOOL_FD_PINNED) */
	bool regular;    /* the fd is a regular file: punch released chunks out of it */
	int fd;
	uint64_t fd_offset;
	char *base;      /* the arena */
	size_t arena_bytes;
	uint64_t calls;  /* system calls made, for stats.os_calls */
};

/* Check the backend's fd (if any) and reserve the arena. 0 or XMM_EINVAL / XMM_ENOMEM. */
int xmm_pin_os_open(struct xmm_pin_os *os, const struct xmm_pinpool_cfg *cfg, size_t arena_bytes);
void xmm_pin_os_close(struct xmm_pin_os *os);

/* ops->commit / ops->release for the arena's range [addr, addr + bytes). */
int xmm_pin_os_commit(struct xmm_pin_os *os, void *addr, size_t bytes);
void xmm_pin_os_release(struct xmm_pin_os *os, void *addr, size_t bytes);

/* Page-granular memory for the pool object: zero pages until touched. */
void *xmm_pin_os_map(struct xmm_pin_os *os, size_t bytes);
void xmm_pin_os_unmap(struct xmm_pin_os *os, void *p, size_t bytes);

#endif /* XMM_USER_PINPOOL_OS_H */
