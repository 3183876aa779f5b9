/* SPDX-License-Identifier: MIT */
/*
 * xmm/pinpool.h - pinned hypercall-buffer pool (seed 002).
 *
 * A hypercall buffer must not move or fault while the hypervisor reads it.
 * Locking and unlocking it with mlock()/munlock() on every call costs
 * microseconds and system calls, and on some kernels an inter-processor
 * interrupt to every CPU. This pool locks memory once, in large chunks,
 * carves buffers out of them and recycles them through per-thread caches and
 * lock-free size-class lists, so that in steady state an alloc/free pair
 * makes no system call and shares no written cache line between threads.
 *
 * Two layers:
 *
 *   user space (libxmm/user)    xmm_pinpool_create/destroy, xmm_pin_alloc/free,
 *                               xmm_pin_bounce_in/out, xmm_pinpool_trim, with a
 *                               cache per thread and pool found through TLS
 *   the core (libxmm/core)      the allocator itself, freestanding: it lives in
 *                               caller memory (xmm_pinpool_size/init), gets its
 *                               memory and its slow-path lock from the host through
 *                               struct xmm_pinpool_ops, and takes the caller's
 *                               cache (per thread, per CPU, or none) on every call
 *
 * Arena and chunks. A pool owns one contiguous range of virtual addresses, the
 * arena, of cap bytes, cut into chunks of chunk_bytes (a power of two, 2 MiB
 * by default). A chunk is committed (made resident and locked: ops->commit) the
 * first time it is needed and stays locked until the application trims the
 * pool; the pool never locks more than the arena.
 *
 * Size classes. A request of n pages is served from
 *   small class k:  2^k pages, 2^k >= n, for n up to half a chunk; a chunk is
 *                   carved whole into 2^k-page buffers of one class
 *   large class m:  m whole contiguous chunks, m = ceil(n / chunk pages)
 * so a buffer wastes less than half of itself, or less than one chunk. A
 * chunk's class is fixed while any of its buffers is allocated or cached.
 * When the arena is full (or the host refuses to lock more), chunks whose
 * buffers are all free on the lists are reclaimed for other classes without
 * any system call; xmm_pinpool_shrink/trim hand fully free chunks back.
 *
 * Per-buffer state lives outside the buffers: one metadata line per arena
 * page (a state word and a list link), in the pool object. The caller may
 * write anything anywhere in a buffer, allocated or not, without corrupting
 * the pool. A state word is NONE (not the first page of a buffer), FREE or
 * ALLOC, with the buffer's class; free is a compare-and-swap ALLOC -> FREE, so
 * of two racing frees of one buffer exactly one succeeds, and a pointer the
 * pool never handed out (outside the arena, not page aligned, inside a
 * buffer, already free) is rejected with XMM_EINVAL and changes nothing.
 * (A free of a buffer that has since been allocated again frees the new
 * allocation: no allocator without handles can tell the two apart.) The
 * metadata is one cache line per page so that two threads never write the
 * same line for different buffers: about 1.6% of the arena in ordinary
 * memory, initialized chunk by chunk as chunks are first committed.
 *
 * Lists. Each class has a Treiber stack whose head is one 64-bit word: a
 * 36-bit tag, bumped by every change, and the first buffer's page index + 1
 * (28 bits: arenas up to XMM_PINPOOL_MAX_PAGES = 2^28 - 2 pages, 1 TiB less
 * 8 KiB). Links are page indices in
 * the metadata, so a pop reads a stale link only from metadata that is never
 * freed, and a pop whose head changed meanwhile fails its CAS because the tag
 * moved: ABA-safe with a single-width CAS (no cmpxchg16b), wrong only if one
 * pop is stalled while exactly a multiple of 2^36 changes hit the same list.
 *
 * Caches. struct xmm_pin_cache holds a few free buffers of each class up to
 * 64 pages (16 one-page, 8 two-page, 4 four-page, 2 of the others). An
 * allocation or free that the cache serves writes only the cache and the
 * buffer's own metadata line. A full cache flushes half of a class to its
 * list in one CAS; an empty one pops one buffer from the list. A cache holds
 * at most XMM_PIN_CACHE_MAX_PAGES pages. Caches are attached to the pool so
 * that stats can sum them and fini can hand them back; shrink asks every
 * cache to drain itself at its owner's next call (a drain generation), since
 * only the owner may touch it. Until then, a buffer cached by another thread
 * keeps its chunk from being reclaimed for another class or released: up to
 * one chunk per cached class per idle thread. An allocation that finds the
 * arena full drains its own cache before it reclaims.
 *
 * Protocol (host)
 *   size = xmm_pinpool_size(arena_bytes, chunk_bytes); reserve arena_bytes of
 *   address space; xmm_pinpool_init(p, arena, arena_bytes, chunk_bytes, flags, ops, ctx)
 *   per thread or CPU: xmm_pin_cache_attach(p, c); ... xmm_pin_cache_detach(p, c)
 *   xmm_pinpool_get(p, c, bytes, &buf); ... xmm_pinpool_put(p, c, buf)
 *   xmm_pinpool_fini(p, free_cache, arg)
 *
 * Concurrency (which pairs of calls need external synchronization):
 *
 *                  get   put   buf_bytes  shrink  stats  attach  detach  drain   fini
 *   get             C     C       -         -       -      -       C       C      X
 *   put             C     C       -         -       -      -       C       C      X
 *   buf_bytes       -     -       -         -       -      -       -       -      X
 *   shrink          -     -       -         -       -      -       -       C      X
 *   stats           -     -       -         -       -      -       -       -      X
 *   attach          -     -       -         -       -      -       -       -      X
 *   detach          C     C       -         -       -      -       C       C      X
 *   drain           C     C       -         C       -      -       C       C      X
 *   init/fini      every other call on the pool is ordered after init and before fini
 *
 *   C: calls passing the same cache are serialized (a cache has one owner at a
 *      time: its thread, or its CPU with preemption off); with different
 *      caches, or with a NULL cache, they may run concurrently.
 *   X: fini excludes every other call.
 *
 * Ordering guarantees
 *   - A buffer's contents written by the thread that frees it happen before
 *     the next allocation of that buffer returns, whichever thread allocates
 *     it: the free's CAS of the state word and its release push pair with the
 *     acquire pop (or the same thread's cache).
 *   - ops->commit returns before any buffer of the chunk is handed out; the
 *     chunk's metadata is published with a release store that the free path's
 *     acquire load pairs with, so a free never reads uninitialized metadata.
 *   - Stats read counters with relaxed loads: exact when the pool is quiescent,
 *     a consistent-enough snapshot otherwise.
 *
 * Invariants (asserted where cheap, checked by tests/test_pinpool.c):
 *   I1  every buffer is in exactly one place: allocated (state ALLOC), in one
 *       cache or on its class's list (state FREE); never two.
 *   I2  every byte of a buffer handed out lies in a committed chunk carved for
 *       the buffer's class; buffers never overlap.
 *   I3  bytes locked = committed chunks x chunk bytes <= arena bytes.
 *   I4  no system call (no ops call) on a get served by a cache or a list, nor
 *       on any put.
 */
#ifndef XMM_PINPOOL_H
#define XMM_PINPOOL_H

#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_pinpool;

/* Flags of xmm_pinpool_init (and of the user-space pool's cfg). */
#define XMM_PINPOOL_ZERO 0x1u /* zero the requested bytes on every allocation */

struct xmm_pinpool_stats {
	uint64_t os_calls;     /* system calls the pool made (or host commit/release calls) */
	uint64_t bytes_locked; /* committed chunks: memory locked now */
	uint64_t bytes_in_use; /* buffers handed out and not freed, at their class size */
	uint64_t hits;         /* allocations served by a cache or a list */
	uint64_t misses;       /* allocations that carved a chunk */
	uint64_t allocs;       /* successful allocations: hits + misses */
	uint64_t frees;        /* successful frees */
	uint64_t bad_frees;    /* frees rejected with XMM_EINVAL */
	uint64_t failures;     /* allocations refused: XMM_ENOMEM or XMM_EPERM */
	uint64_t commits;      /* chunks committed since init */
	uint64_t releases;     /* chunks handed back since init */
	uint64_t cap_bytes;    /* the arena: the most the pool will lock */
	uint64_t chunk_bytes;
};

/* What a host gives the core. commit and release are called with the host
 * lock held, lock/unlock around slow paths only (never on a get served by a
 * cache or a list, never on a put). */
struct xmm_pinpool_ops {
	/* Make [addr, addr + bytes) resident, writable and locked: 0, or a negative
	 * XMM_* code (XMM_ENOMEM, XMM_EPERM, ...) that the allocation returns. */
	int (*commit)(void *ctx, void *addr, size_t bytes);
	/* Give [addr, addr + bytes) back; it is committed again before any reuse. */
	void (*release)(void *ctx, void *addr, size_t bytes);
	void (*lock)(void *ctx);   /* serializes slow paths; may sleep */
	void (*unlock)(void *ctx);
	uint64_t (*os_calls)(void *ctx); /* system calls made so far; NULL: count commit+release */
};

/* Per-thread (or per-CPU) cache: a complete type so hosts can embed it.
 * Its fields are private to the core. */
#define XMM_PIN_CACHE_CLASSES 7 /* classes 0..6: buffers of 1..64 pages */
#define XMM_PIN_CACHE_SLOTS 36  /* 16 + 8 + 4 + 2 + 2 + 2 + 2 */
#define XMM_PIN_CACHE_MAX_PAGES (16 + 16 + 16 + 16 + 32 + 64 + 128)

struct xmm_pin_cache {
	uint32_t count[XMM_PIN_CACHE_CLASSES];
	uint32_t gen; /* the pool's drain generation last seen */
	uint32_t slot[XMM_PIN_CACHE_SLOTS];
	/* counters: written by the owner only, read by stats */
	uint64_t allocs, frees, bytes_out, bytes_back;
	struct xmm_pin_cache *next, *prev; /* the pool's attached caches, under its lock */
};

/*
 * The largest arena in pages: a page index + 1 must fit the lists' 28 index
 * bits with one value to spare, 2^28 - 2 pages (1 TiB less 8 KiB). With 2 MiB
 * chunks the largest arena is 1 TiB less one chunk.
 */
#define XMM_PINPOOL_MAX_PAGES ((1ULL << 28) - 2)

/* Alignment of the pool object (its hot words are cache-line separated). */
#define XMM_PINPOOL_ALIGN XMM_CACHELINE

/* Bytes of pool object for an arena; 0 if the geometry is invalid (see init). */
size_t xmm_pinpool_size(size_t arena_bytes, size_t chunk_bytes);

/*
 * Initialize a pool in caller memory of xmm_pinpool_size() bytes aligned to
 * XMM_PINPOOL_ALIGN, over an arena of reserved, not yet committed address
 * space. Returns 0, or XMM_EINVAL: NULL pool, arena or ops (or ops without
 * commit, release, lock or unlock), a misaligned pool or arena, chunk_bytes
 * not a power of two >= 4 KiB, arena_bytes not a non-zero multiple of
 * chunk_bytes or above (2^28 - 1) pages, unknown flags (only XMM_PINPOOL_ZERO).
 */
int xmm_pinpool_init(struct xmm_pinpool *p, void *arena, size_t arena_bytes,
		     size_t chunk_bytes, unsigned int flags, const struct xmm_pinpool_ops *ops,
		     void *ctx);

/*
 * Release every committed chunk (buffers still allocated become invalid) and
 * hand each attached cache to @free_cache (may be NULL) after detaching it.
 */
void xmm_pinpool_fini(struct xmm_pinpool *p,
		      void (*free_cache)(struct xmm_pin_cache *c, void *arg), void *arg);

/* The host context given to init. */
void *xmm_pinpool_ctx(const struct xmm_pinpool *p);

/* The arena: every buffer lies in [arena, arena + *bytes), e.g. to register it
 * once with an IOMMU or a hypervisor. @bytes may be NULL. */
void *xmm_pinpool_arena(const struct xmm_pinpool *p, size_t *bytes);

/*
 * Allocate and free through cache @c (NULL: the lists only): the operations
 * user space's xmm_pin_alloc / xmm_pin_free run with the calling thread's
 * cache. Errors as theirs (xmm/user/pinpool.h).
 */
int xmm_pin_cache_alloc(struct xmm_pinpool *p, struct xmm_pin_cache *c, size_t bytes, void **out);
int xmm_pin_cache_free(struct xmm_pinpool *p, struct xmm_pin_cache *c, void *buf);

/* Usable bytes of an allocated buffer (its class size), 0 if @buf is not one. */
size_t xmm_pinpool_buf_bytes(const struct xmm_pinpool *p, const void *buf);

/*
 * Reclaim the chunks whose buffers are all on the lists and release them;
 * returns the bytes released. Buffers held in caches keep their chunks:
 * drain the caches first (user space's xmm_pinpool_trim drains the caller's).
 */
size_t xmm_pinpool_release_chunks(struct xmm_pinpool *p);

/* A snapshot of @p's counters into @st (struct xmm_pinpool_stats); exact when no call runs. */
void xmm_pinpool_stats(const struct xmm_pinpool *p, struct xmm_pinpool_stats *st);

/* Start using / stop using a cache with @p. Detach drains it first. */
void xmm_pin_cache_attach(struct xmm_pinpool *p, struct xmm_pin_cache *c);
void xmm_pin_cache_detach(struct xmm_pinpool *p, struct xmm_pin_cache *c);
/* Move every buffer of @c to the lists (so xmm_pinpool_release_chunks can release its chunks). */
void xmm_pin_cache_drain(struct xmm_pinpool *p, struct xmm_pin_cache *c);

#ifdef __cplusplus
}
#endif

#endif /* XMM_PINPOOL_H */
