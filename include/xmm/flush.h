/* SPDX-License-Identifier: MIT */
/*
 * xmm/flush.h - epoch-based TLB-flush filter (seed 000).
 *
 * When a page loses its last mapping, a CPU may still hold a stale TLB entry
 * for it, so before the page is reused every CPU that has not flushed its TLB
 * since must flush. Recording, per page, *when* it was unmapped (a stamp) and,
 * per CPU, when it last flushed (an epoch) turns "which CPUs must flush?" into
 * comparisons. Xen does this with a 32-bit clock that forces a global flush at
 * every wrap, and reads every online CPU's flush time on every allocation.
 * Here epochs are 64 bits and never wrap, and a filter is answered:
 *
 *   in O(1)            when every CPU has flushed since the stamp (a global
 *                      watermark: the common case for memory freed a while ago),
 *   per group          when all CPUs of a group (e.g. a NUMA node) have,
 *   per CPU            only for groups that straddle the stamp, over densely
 *                      packed per-CPU epochs (eight per cache line).
 *
 * The watermarks are lower bounds maintained by the filters themselves (CAS
 * to the max of what a scan saw); flushes never write them, so a filter
 * answered by the watermark reads one cache line that flushing CPUs do not
 * keep stealing.
 *
 * Protocol
 *   unmap a page:  remove the mapping; s = xmm_flush_stamp(clk); keep s with the page
 *   flush a CPU:   t = xmm_flush_begin(clk); flush the TLB; xmm_flush_end(clk, cpu, t)
 *   flush by IPI:  t = xmm_flush_begin(clk); IPI, wait for acks; xmm_flush_end_mask(clk, mask, t)
 *   reuse pages:   acc = 0; for each page: xmm_flush_stamp_max(&acc, s);
 *                  mask = online; xmm_flush_filter(clk, &mask, acc); flush mask if not empty
 *
 * An allocator that keeps one stamp per free chunk (the max of its parts when
 * buddies merge) filters in O(1) per allocation whatever its order.
 *
 * Semantics. After init the clock reads 1 and every CPU counts as having
 * flushed at epoch 1, so stamp 0 ("never mapped") never needs a flush.
 * xmm_flush_needed(cpu, s) is true exactly when cpu has not completed a flush
 * whose token is greater than s. xmm_flush_filter never removes a CPU that
 * needs a flush (safety), and when no flush is in flight removes every one
 * that does not (precision). CPUs at or above ncpus are out of range: they are
 * always reported as needing a flush, never silently dropped, and assert in
 * debug builds.
 *
 * Concurrency (which pairs of calls need external synchronization):
 *
 *                  stamp  begin  end  end_mask  needed  filter  stamp32/expand32
 *   stamp            -      -     -      -        -       -           -
 *   begin            -      -     -      -        -       -           -
 *   end              -      -     X*     -        -       -           -
 *   end_mask         -      -     -      -        -       -           -
 *   needed           -      -     -      -        -       -           -
 *   filter           -      -     -      -        -       -           -
 *   init/size      every call on the clock must be ordered after init
 *
 *   X*: calls to xmm_flush_end for the same CPU are serialized (each CPU ends
 *       its own flushes); end for different CPUs, and end_mask against
 *       anything, may run concurrently.
 *
 * Ordering guarantees
 *   - xmm_flush_stamp orders every earlier memory access of the caller (the
 *     page-table write that removed the mapping) before its clock read, with a
 *     full fence: a flush whose begin returns a token > s cannot have started
 *     before that write was visible.
 *   - xmm_flush_end publishes with release; needed/filter read epochs and
 *     watermarks with acquire, so a CPU is dropped only after its flush, and
 *     everything the flushing CPU did before end, happened.
 *
 * Clock source. By default the clock is a shared counter that begin
 * increments. A platform whose xmm_pr_clock() is synchronized across CPUs
 * (an invariant TSC) can be chosen with XMM_FLUSH_PLATFORM_CLOCK: begin then
 * writes nothing shared at all, and tokens and stamps are clock readings.
 */
#ifndef XMM_FLUSH_H
#define XMM_FLUSH_H

#include <xmm/cpumask.h>
#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_flush_clock;

/* Flags for xmm_flush_clock_init_flags(). */
#define XMM_FLUSH_PLATFORM_CLOCK 0x1u /* epochs from xmm_pr_clock() instead of a counter */

/* Alignment the clock's memory must have (its hot fields are cache-line separated). */
#define XMM_FLUSH_CLOCK_ALIGN XMM_CACHELINE

/* Bytes needed for a clock of @ncpus CPUs; 0 if ncpus is 0 or above XMM_MAX_CPUS. */
size_t xmm_flush_clock_size(unsigned int ncpus);

/*
 * Initialize a clock in caller memory of xmm_flush_clock_size(ncpus) bytes,
 * aligned to XMM_FLUSH_CLOCK_ALIGN. @group_of_cpu gives each CPU's group
 * (e.g. its NUMA node), values below ncpus; NULL means one group per 64 CPUs.
 * Returns 0, or XMM_EINVAL for ncpus 0 or above XMM_MAX_CPUS, a misaligned
 * clock, a group id out of range or unknown flags.
 */
int xmm_flush_clock_init(struct xmm_flush_clock *clk, unsigned int ncpus,
			 const uint16_t *group_of_cpu);
int xmm_flush_clock_init_flags(struct xmm_flush_clock *clk, unsigned int ncpus,
			       const uint16_t *group_of_cpu, unsigned int flags);

/* The CPUs and the flush groups @clk was initialized with. */
unsigned int xmm_flush_clock_ncpus(const struct xmm_flush_clock *clk);
unsigned int xmm_flush_clock_ngroups(const struct xmm_flush_clock *clk);

/* The current time of the clock (the token the latest begin returned, or later). */
xmm_epoch_t xmm_flush_now(const struct xmm_flush_clock *clk);

/* Record when a page's last mapping went; call after the unmapping write. */
xmm_epoch_t xmm_flush_stamp(const struct xmm_flush_clock *clk);

/* Before a CPU flushes its TLB; returns the token to pass to end. */
xmm_epoch_t xmm_flush_begin(struct xmm_flush_clock *clk);

/*
 * After @cpu completed the flush begun with @token. Returns 0; XMM_EINVAL,
 * writing nothing, for a token from the future (above xmm_flush_now: no begin
 * returned it), in release and debug builds alike, since accepting it would
 * let later filters drop a CPU that needs a flush; XMM_ERANGE for a CPU out of
 * range (nothing written; debug builds assert). Callers that pass the token
 * their begin returned can ignore the result.
 */
int xmm_flush_end(struct xmm_flush_clock *clk, unsigned int cpu, xmm_epoch_t token);

/* After every CPU in @cpus completed the flush begun with @token. Returns 0, or
 * XMM_EINVAL (nothing written) for a token from the future, as end; CPUs at or
 * above ncpus are ignored. */
int xmm_flush_end_mask(struct xmm_flush_clock *clk, const xmm_cpumask_t *cpus,
		       xmm_epoch_t token);

/* Whether @cpu may hold a TLB entry older than @stamp. */
bool xmm_flush_needed(const struct xmm_flush_clock *clk, unsigned int cpu, xmm_epoch_t stamp);

/* Remove from @mask every CPU that has flushed since @stamp. It writes the
 * clock: a scan raises the watermarks to what it saw (so do any_needed's). */
void xmm_flush_filter(struct xmm_flush_clock *clk, xmm_cpumask_t *mask, xmm_epoch_t stamp);

/* Whether any CPU in [0, ncpus) may still need a flush for @stamp: O(1) when
 * the watermark answers, so an allocator can skip building a mask at all. */
bool xmm_flush_any_needed(struct xmm_flush_clock *clk, xmm_epoch_t stamp);

/* Accumulate the newest stamp of many pages: one filter covers them all. */
static inline void xmm_flush_stamp_max(xmm_epoch_t *acc, xmm_epoch_t stamp)
{
	if (stamp > *acc)
		*acc = stamp;
}

/*
 * 32-bit stamps for hosts whose page metadata has 32 bits (Xen's
 * tlbflush_timestamp). xmm_flush_expand32 returns the most recent epoch not
 * after now whose low 32 bits are @s32: never older than the true stamp, so
 * filtering with it is always safe and no wrap ever forces a global flush.
 * (A stamp older than 2^32 epochs just becomes conservative.)
 */
uint32_t xmm_flush_stamp32(const struct xmm_flush_clock *clk);
xmm_epoch_t xmm_flush_expand32(const struct xmm_flush_clock *clk, uint32_t s32);

/* The pure arithmetic of xmm_flush_expand32, given the current time @now. */
static inline xmm_epoch_t xmm_epoch_expand32(xmm_epoch_t now, uint32_t s32)
{
	xmm_epoch_t e = (now & ~(xmm_epoch_t)0xffffffffu) | s32;

	if (e <= now)
		return e;
	/* Low bits ahead of now's: the epoch is in the previous 2^32 window, if there is one. */
	return now >= ((xmm_epoch_t)1 << 32) ? e - ((xmm_epoch_t)1 << 32) : now;
}

#ifdef __cplusplus
}
#endif

#endif /* XMM_FLUSH_H */
