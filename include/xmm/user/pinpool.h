/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/pinpool.h - the pinned buffer pool (xmm/pinpool.h) in user
 * space (libxmm/user/pinpool.c): locked anonymous memory or a device's
 * mapping, per-thread caches, and the bounce pattern of hypercall wrappers.
 */
#ifndef XMM_USER_PINPOOL_H
#define XMM_USER_PINPOOL_H

#include <xmm/pinpool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XMM_PINPOOL_DEFAULT_CAP ((size_t)64 << 20)  /* 64 MiB */
#define XMM_PINPOOL_DEFAULT_CHUNK ((size_t)2 << 20) /* 2 MiB */

enum xmm_pinpool_backend {
	/*
	 * Anonymous private memory, locked and excluded from fork (MADV_DONTFORK),
	 * without transparent huge pages. The arena is reserved PROT_NONE once;
	 * a chunk is committed with mprotect + mlock, which, unlike MAP_LOCKED,
	 * fails when the pages cannot be made resident instead of faulting later.
	 * Locked pages do not swap; a kernel may still migrate them (compaction),
	 * which is why a Xen host gives hypercall buffers through a device.
	 */
	XMM_PINPOOL_ANON = 0,
	/*
	 * mmap(MAP_SHARED) of cfg->fd, as /dev/xen/hypercall gives buffers the
	 * hypervisor may use. Chunk i is mapped at file offset fd_offset + i x
	 * chunk bytes (a device such as privcmd-buf ignores the offset; a regular
	 * file such as a memfd must be at least fd_offset + cap long). The
	 * mapping is excluded from fork and, unless XMM_PINPOOL_FD_PINNED, locked.
	 * Trim unmaps the chunk, and punches it out of a regular file.
	 */
	XMM_PINPOOL_FD = 1,
};

/* Flags of struct xmm_pinpool_cfg, besides XMM_PINPOOL_ZERO (xmm/pinpool.h). */
#define XMM_PINPOOL_FD_PINNED 0x2u /* the device pins its pages itself: no mlock */

struct xmm_pinpool_cfg {
	size_t cap_bytes;   /* 0: XMM_PINPOOL_DEFAULT_CAP; see xmm_pinpool_create */
	size_t chunk_bytes; /* 0: XMM_PINPOOL_DEFAULT_CHUNK; a power of two >= 4 KiB */
	enum xmm_pinpool_backend backend;
	unsigned int flags;
	int fd;             /* XMM_PINPOOL_FD: open read-write; the pool does not close it */
	uint64_t fd_offset; /* XMM_PINPOOL_FD: page aligned */
};

/*
 * Create a pool; @cfg NULL gives anonymous locked memory with a 64 MiB cap.
 * The chunk is cfg->chunk_bytes, lowered to the largest power of two not above
 * the cap; the cap is rounded down to a whole number of chunks (read it back
 * from xmm_pinpool_stats). Nothing is locked yet. Returns 0, XMM_EINVAL (no
 * @out, a cap below 4 KiB, a cap whose whole chunks come to more than
 * XMM_PINPOOL_MAX_PAGES pages (every cap of 1 TiB or more; with 4 KiB chunks
 * also 1 TiB - 4 KiB), a chunk not a power of two >= 4 KiB,
 * unknown backend or flags, an fd that is not open read-write on a regular
 * file or a character device, a misaligned offset, a regular file shorter than
 * fd_offset + cap), XMM_ENOMEM (no address space or memory for the pool), or
 * XMM_EAGAIN (no thread-specific key left). @out is untouched on error.
 */
int xmm_pinpool_create(struct xmm_pinpool **out, const struct xmm_pinpool_cfg *cfg);

/*
 * Unlock and unmap everything, including buffers still allocated. No other
 * call on the pool may run concurrently, and no thread that used the pool may
 * be exiting meanwhile (join them first): their caches are freed here.
 *
 * Fork: the child has no arena at all (MADV_DONTFORK), so it must not use its
 * parent's pools; it may create its own.
 */
void xmm_pinpool_destroy(struct xmm_pinpool *p);

/*
 * A page-aligned, locked buffer of at least @bytes, through the calling
 * thread's cache. Returns 0, XMM_EINVAL (@bytes 0 or no @out), XMM_ENOMEM
 * (over the cap, the arena full, or the system out of memory) or XMM_EPERM
 * (RLIMIT_MEMLOCK stops the pool from locking another chunk; buffers already
 * handed out stay valid). No system call unless a chunk must be committed.
 */
int xmm_pin_alloc(struct xmm_pinpool *p, size_t bytes, void **out);

/* Free a buffer of @p (any thread). XMM_EINVAL, changing nothing, for a pointer
 * that is not an allocated buffer of @p (NULL included). No system call (a
 * thread's first call on a pool, alloc or free, mallocs its cache). */
int xmm_pin_free(struct xmm_pinpool *p, void *buf);

/*
 * The bounce pattern of hypercall wrappers: copy @len bytes of a caller's
 * buffer into pinned memory before the call (@src NULL: zero-filled), and
 * back out after it. bounce_out copies @len bytes to @dst (NULL: no copy, for
 * buffers the hypervisor only reads) and frees @buf; it checks first that @buf
 * is an allocated buffer of at least @len bytes, and otherwise returns
 * XMM_EINVAL with nothing copied or freed. Errors as xmm_pin_alloc/free.
 */
int xmm_pin_bounce_in(struct xmm_pinpool *p, const void *src, size_t len, void **out);
int xmm_pin_bounce_out(struct xmm_pinpool *p, void *buf, void *dst, size_t len);

/*
 * Give back every chunk that holds no allocated buffer: drains the calling
 * thread's cache (xmm_pin_cache_drain) and hands fully free chunks back to
 * the system (xmm_pinpool_release_chunks). Other
 * threads' caches drain at their next call or when they exit, so memory they
 * cache is given back by a later trim. Returns the bytes unlocked.
 */
size_t xmm_pinpool_trim(struct xmm_pinpool *p);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_PINPOOL_H */
