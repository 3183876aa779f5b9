/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/scrubd.h - user space around the scrub queues (seed 001): a daemon of
 * scrub workers per NUMA node, and a guest-memory arena that owns real
 * memory and its frame table, so a program can put and take memory without
 * writing scrub ops of its own (the arena: xmm/user/scrub_arena.h).
 *
 * Daemon. xmm_scrubd_start starts @workers_per_node threads for every node
 * of @topo that has CPUs, each bound to its node's CPUs (and, where the
 * machine has NUMA, its memory) with hwloc. A worker runs
 * xmm_scrub_run(s, node, ...) while there is work (its node first, then the
 * nearest nodes: nodes without CPUs are scrubbed by their neighbours), and
 * sleeps on the scrub object's wake word when there is none; put wakes it
 * (xmm_scrub_idle_begin and xmm_pr_wake: a futex, no polling, and a put pays
 * one fence and one load when nobody sleeps). A topology that is not this
 * machine (synthetic or XML) runs its workers unbound.
 *
 * xmm_scrubd_drain waits until every page put is clean (pending 0 on every
 * node); xmm_scrubd_stop ends the workers without draining: what is still
 * queued stays queued, for a later daemon (start again) or run/take.
 *
 * Concurrency: put, take and run may be called from any thread while a
 * daemon runs, and drain from any number of threads; start and stop of one
 * daemon must not run concurrently with each other or with drain on it. At
 * most one daemon per scrub object at a time.
 */
#ifndef XMM_USER_SCRUBD_H
#define XMM_USER_SCRUBD_H

#include <xmm/user/scrub.h>
#include <xmm/user/topo.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_scrubd;

/*
 * Start the workers. @topo: NULL for one node and unbound workers; otherwise
 * its nnodes must equal the scrub object's and one node at least must have
 * CPUs. @workers_per_node: 1 to 1024. Returns 0 and *out, XMM_EINVAL (bad
 * arguments, *out untouched), XMM_ENOMEM, or XMM_EAGAIN when a thread could
 * not be created (none is left running).
 */
int xmm_scrubd_start(struct xmm_scrubd **out, struct xmm_scrub *s, const struct xmm_topo *topo,
		     unsigned int workers_per_node);
/* Wait until every page put on the scrub object is clean. 0, or XMM_EINVAL for NULL. */
int xmm_scrubd_drain(struct xmm_scrubd *d);
/* Stop and join the workers and free the daemon (NULL: nothing). */
void xmm_scrubd_stop(struct xmm_scrubd *d);
/* Worker threads running. */
unsigned int xmm_scrubd_workers(const struct xmm_scrubd *d);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_SCRUBD_H */
