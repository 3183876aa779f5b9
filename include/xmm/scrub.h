/* SPDX-License-Identifier: MIT */
/*
 * xmm/scrub.h - NUMA-aware lock-free scrub queues (seed 001).
 *
 * Memory freed by a dying guest is dirty: it may hold the guest's secrets
 * until it is zeroed. Zeroing it all before the destroy returns (Xen's
 * original path) made destroying a 1 TB guest take ten minutes. Here the
 * destroy path hands each dirty extent to a per-node lock-free queue in O(1)
 * (xmm_scrub_put), workers zero the queued memory in bounded chunks at memory
 * bandwidth and give each chunk back as soon as it is zero (ops->clean), and
 * an allocator short of clean memory takes dirty memory and gets it zeroed on
 * the spot (xmm_scrub_take).
 *
 * Protocol
 *   destroy:   for each extent of the guest: xmm_scrub_put(s, node, pfn, npages)
 *   workers:   n = xmm_scrub_run(s, node, budget) in a loop or an idle loop;
 *              clean(ctx, node, pfn, npages) is called per zeroed piece
 *   allocate:  short of clean memory on a node: xmm_scrub_take(s, node, npages, &pfn)
 *   sleeping:  xmm_scrub_idle_begin, then wait while xmm_scrub_wake_word is unchanged
 *              (the user-space daemon, xmm/scrubd.h, does this)
 *
 * Dirty memory is never read. The queue link of an extent lives in storage
 * the caller owns for its first frame (ops->link, e.g. a field of Xen's
 * page_info), never in the memory itself: a guest may have written anything
 * there. The library reads nothing from, and decides nothing on, the contents
 * of dirty memory; it only writes zeroes to it (xmm_clear: non-temporal stores
 * for large pieces, fenced before clean is called).
 *
 * Pieces and alignment. Every piece handed to clean or returned by take is a
 * naturally aligned power-of-two block (its pfn is a multiple of its size),
 * cut from the front of an extent as the largest such block that fits. So
 * extents put as naturally aligned power-of-two blocks (as a buddy allocator
 * frees them) come back as aligned blocks: take of 2^k pages returns a 2^k-
 * aligned block, clean gets aligned blocks of at most the chunk size, and
 * whatever is left of a split extent goes back to the queue as aligned blocks
 * (its buddy decomposition). Extents need not be aligned to be put; their
 * pieces are still aligned blocks, only smaller near unaligned edges.
 *
 * Queues. Each node has XMM_SCRUB_ORDERS lock-free LIFO stacks, one per size
 * class (class b holds extents of [2^b, 2^(b+1)) pages), and a bitmap of the
 * classes that may be non-empty. Workers claim at most XMM_SCRUB_CLAIM_CHUNKS
 * chunks at a time, the rest going back at once (so memory a worker is about
 * to scrub stays visible to take), from the best-fitting class (the claim's,
 * else the smallest larger, else the largest smaller: large blocks stay whole
 * for take as long as smaller ones last), own node first, then the other nodes nearest first by @distance: memory of a node
 * without CPUs of its own is scrubbed by its neighbours' workers. take looks
 * only at its node, in class k first (an aligned 2^k block at the top fits),
 * then in larger classes, smallest first (any of them holds an aligned 2^k
 * block), and only then searches class k.
 *
 * Chunks and preemption. run zeroes at most chunk_pages (rounded down to a
 * power of two) between two calls of ops->should_yield, which it calls after
 * every chunk; when it says yes, or the budget is spent, or map fails, run
 * puts the unscrubbed rest back and returns. map is never asked for more
 * than chunk_pages pages, by run or by take.
 *
 * Frames are indices: the stacks' head words hold a 40-bit frame index and a
 * 24-bit tag, so no double-width compare-and-swap is needed (kernels may not
 * have cmpxchg16b). Limits that follow:
 *   - pfn + npages <= XMM_SCRUB_MAX_PFN (2^40 - 1 frames: 4 PiB of 4 KiB pages);
 *   - ABA: a pop that reads a head and stalls while 2^24 (16.7 million) pushes
 *     and pops hit the same size class of the same node, and then finds the very same
 *     frame on top, could corrupt that stack. A kernel runs the pop with
 *     preemption off (a window of nanoseconds); in user space a thread would
 *     have to be descheduled for seconds in a window of a few instructions
 *     while another thread popped tens of millions of extents of one class.
 *
 * Pending. pending(node) counts the pages put on node and not yet handed back
 * (through clean, or by a take that returned), including pages being scrubbed
 * at the time: it is exact when no call is in progress, and 0 means every
 * page put on that node is clean.
 *
 * Concurrency (which pairs of calls need external synchronization):
 *
 *                 put  run  take  pending  idle_begin  wake
 *   put            -    -    -      -         -         -
 *   run            -    -    -      -         -         -
 *   take           -    -    -      -         -         -
 *   pending        -    -    -      -         -         -
 *   idle_begin     -    -    -      -         -         -
 *   wake           -    -    -      -         -         -
 *   size/init      every other call on @s must be ordered after init
 *
 *   Any number of callers of every function, on any nodes, at once. The ops
 *   are called concurrently from all of them: clean for disjoint pieces, link
 *   for any frames (also the same frame). No callback is called with anything
 *   of the library held that would block another caller: a stalled clean
 *   delays only the pages of its own claim.
 *
 * Ordering guarantees
 *   - put publishes with release (the compare-and-swap of the stack head) the
 *     link it wrote; pops read heads with acquire. Everything the caller did
 *     before put (e.g. unmapping the guest's memory) happens before the
 *     library writes the extent's first zero.
 *   - The zeroes are ordered before clean is called and before take returns
 *     (xmm_clear fences its non-temporal stores), so memory handed on is
 *     zero to every CPU that sees the hand-over.
 *   - pending is decremented (acq_rel) after clean returns: a caller that
 *     reads pending(node) == 0 sees every clean of that node completed.
 *   - put, and take or run putting back a rest, issue a full fence after the
 *     push and then read the sleepy flag; idle_begin raises the flag, issues
 *     a full fence and then looks at every stack. So either the idle caller
 *     sees the new extent, or a pusher sees the flag and bumps the wake word
 *     and calls xmm_pr_wake(): no wakeup is lost.
 *
 * Invariants (asserted in debug builds where cheap):
 *   I1 every page put is handed back exactly once, through clean or take,
 *      zeroed; no page is lost, duplicated or handed out dirty.
 *   I2 each page put is, at any time, in exactly one place: inside one
 *      queued extent, or owned by exactly one run or take call.
 *   I3 a queued extent of n pages is on the stack of class floor(log2 n) of
 *      the node it was put on, and its link holds n and the next extent.
 *   I4 a class with a non-empty stack has its bit set in its node's bitmap
 *      whenever no call is in progress (a set bit may be stale: pops clear it
 *      when they find the stack empty, then look again).
 *   I5 pending(node) = pages put on node - pages handed back from it.
 *   I6 a link is all zero exactly when no queued or in-flight extent starts
 *      at its frame (and, in debug builds, none covers it).
 *
 * Links start zero. Callers zero each frame's link before the frame is first
 * put, as embedded list nodes are initialized (a zeroed page_info or frame
 * table does it), and must not write it afterwards: the library leaves every
 * link it used zero again before it hands the pages back (before clean is
 * called, before take returns). A link that is not zero means "queued".
 *
 * What a caller error costs:
 *   - a put of a frame that starts a queued or in-flight extent (a double
 *     free): XMM_EBUSY and nothing changes, in every build, in O(1), also
 *     when two puts of the frame race (one compare-and-swap on the link);
 *   - a put that overlaps a queued or in-flight extent without starting at
 *     its first frame: XMM_EBUSY and nothing changes in debug builds
 *     (XMM_DEBUG_CHECKS: put then claims every frame's link, O(npages));
 *     undetected in release builds, where the pages are then handed back
 *     twice (I1 no longer holds for them);
 *   - bad arguments (node, npages 0, frames beyond the limit): XMM_EINVAL.
 */
#ifndef XMM_SCRUB_H
#define XMM_SCRUB_H

#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The queue link of one extent, in caller-owned storage (one per frame that may start an extent). */
/* Zero before the frame's first put; zero whenever the library hands the frame back (I6). */
struct xmm_scrub_link {
	uint64_t next;   /* library-private: the next extent's frame index + 1, 0 at the end */
	uint64_t npages; /* library-private: the extent's length, 0 when not queued */
};

struct xmm_scrub_ops {
	/*
	 * The link for the extent that starts at @pfn. Called for every pfn put
	 * and for the pfns at which the library splits extents, which can be any
	 * page of an extent: give every frame its own link. The link must stay
	 * mapped while @s is in use: a pop that loses a race may read (never
	 * write) the link of an extent that was just handed back, and discards
	 * what it read. The caller must not write a link while its extent is
	 * queued or being scrubbed.
	 */
	struct xmm_scrub_link *(*link)(void *ctx, xmm_pfn_t pfn);
	/* Make [pfn, pfn + npages) addressable (npages <= chunk); NULL: not now (the pages go back). */
	void *(*map)(void *ctx, xmm_pfn_t pfn, uint64_t npages);
	/* Undo map; may be NULL (e.g. a direct map). */
	void (*unmap)(void *ctx, void *va, uint64_t npages);
	/* [pfn, pfn + npages) of @node's memory is zero and yours again: an aligned block. */
	void (*clean)(void *ctx, unsigned int node, xmm_pfn_t pfn, uint64_t npages);
	/* A preemption point between chunks of run; true stops run. May be NULL. */
	bool (*should_yield)(void *ctx);
};

#define XMM_SCRUB_PFN_BITS 40
/* pfn + npages of every extent must not exceed this. */
#define XMM_SCRUB_MAX_PFN ((1ULL << XMM_SCRUB_PFN_BITS) - 1)
/* Size classes per node: class b holds extents of [2^b, 2^(b+1)) pages. */
#define XMM_SCRUB_ORDERS XMM_SCRUB_PFN_BITS
#define XMM_SCRUB_MAX_NODES 1024
/* Alignment the object's memory must have: its hot fields are cache-line separated. */
#define XMM_SCRUB_ALIGN XMM_CACHELINE
/*
 * The default chunk: 256 pages, 1 MiB: under a 100 us preemption budget as
 * long as one core zeroes at 10.5 GB/s or more, and long enough that the work
 * around a chunk (queues, map, clean, yield check) stays under 0.5% of it.
 * The measurements behind it are in the README (Scrub queues).
 */
#define XMM_SCRUB_CHUNK_DEFAULT 256
/* A worker claims at most this many chunks from a queue at a time. */
#define XMM_SCRUB_CLAIM_CHUNKS 16

struct xmm_scrub;

/* Bytes for an object of @nnodes nodes; 0 if nnodes is 0 or above XMM_SCRUB_MAX_NODES. */
size_t xmm_scrub_size(unsigned int nnodes);

/*
 * Initialize @s in caller memory of xmm_scrub_size(nnodes) bytes aligned to
 * XMM_SCRUB_ALIGN. @distance: nnodes * nnodes bytes, row-major, the ACPI SLIT
 * scale (10 local), used only to order stealing; NULL: every other node is
 * equally far. @chunk_pages: the most run zeroes between two should_yield
 * checks (rounded down to a power of two). @ops is copied; link, map and
 * clean are required. Returns 0, or XMM_EINVAL for a NULL or misaligned @s,
 * nnodes 0 or too large, chunk_pages 0, or missing ops.
 */
int xmm_scrub_init(struct xmm_scrub *s, unsigned int nnodes, const uint8_t *distance,
		   uint64_t chunk_pages, const struct xmm_scrub_ops *ops, void *ctx);

/*
 * Queue the dirty extent [pfn, pfn + npages) of @node: O(1), lock-free, no
 * allocation, never touches the memory (O(npages) link writes in debug
 * builds). Returns 0; XMM_EINVAL (nothing queued) for npages 0, node out of
 * range, or pfn + npages above XMM_SCRUB_MAX_PFN; XMM_EBUSY (nothing queued,
 * nothing changed) when @pfn already starts a queued or in-flight extent (its
 * link is not zero: I6), and in debug builds when the extent overlaps one.
 * The extent must not overlap one already queued or in flight (the caller
 * owns the frames it puts): see "What a caller error costs" above.
 */
int xmm_scrub_put(struct xmm_scrub *s, unsigned int node, xmm_pfn_t pfn, uint64_t npages);

/*
 * Scrub up to @budget_pages queued pages: @node's first, then other nodes'
 * nearest first. Each zeroed piece goes to clean as soon as it is zero. Stops
 * early, putting the rest of its claim back, when should_yield says so or map
 * fails. Returns the pages scrubbed (0: nothing queued anywhere, or node out
 * of range).
 */
uint64_t xmm_scrub_run(struct xmm_scrub *s, unsigned int node, uint64_t budget_pages);

/*
 * The allocation path: claim @npages contiguous dirty pages of @node's queue
 * (a naturally aligned block when npages is a power of two), zero them
 * synchronously and return their first frame in *pfn_out; the rest of the
 * extent they came from goes back to the queue. Does not call clean or
 * should_yield. Returns 0, XMM_ENOENT when the node has no queued extent
 * that holds such a block (exact when no other call is in progress; under
 * concurrency memory claimed by others at that moment is not seen),
 * XMM_ENOMEM when map failed (the block goes back, dirty), or XMM_EINVAL for
 * npages 0 or above XMM_SCRUB_MAX_PFN, node out of range or a NULL pfn_out.
 */
int xmm_scrub_take(struct xmm_scrub *s, unsigned int node, uint64_t npages, xmm_pfn_t *pfn_out);

/* Pages put on @node and not yet handed back (0 for a node out of range). */
uint64_t xmm_scrub_pending(const struct xmm_scrub *s, unsigned int node);

/* The nodes @s was initialized with. */
unsigned int xmm_scrub_nnodes(const struct xmm_scrub *s);
/* The chunk in effect: chunk_pages rounded down to a power of two. */
uint64_t xmm_scrub_chunk_pages(const struct xmm_scrub *s);

/*
 * Sleeping workers. A worker whose run returned 0 calls idle_begin: if it
 * returns true, nothing was queued anywhere after it raised the sleepy flag,
 * and it may sleep until the 32-bit wake word differs from *seq (a futex in
 * user space); if it returns false, work appeared: run again. The first push
 * (put, or a rest going back) that finds the flag raised takes it down,
 * bumps the wake word and calls xmm_pr_wake() on it, waking every sleeper;
 * other pushes pay one fence and two loads. idle_begin looks at every stack
 * (nnodes * XMM_SCRUB_ORDERS loads): a cost for the idle path only.
 * xmm_scrub_wake bumps the word and wakes every sleeper unconditionally
 * (e.g. to stop them).
 */
bool xmm_scrub_idle_begin(struct xmm_scrub *s, uint32_t *seq);
uint32_t *xmm_scrub_wake_word(struct xmm_scrub *s);
void xmm_scrub_wake(struct xmm_scrub *s);

#ifdef __cplusplus
}
#endif

#endif /* XMM_SCRUB_H */
