/* SPDX-License-Identifier: MIT */
/*
 * The scrub daemon (xmm/scrubd.h): worker threads per NUMA node that scrub
 * while there is work and sleep on the scrub object's wake word (a futex)
 * when there is none.
 *
 * A worker's loop:  run a bounded budget; if it scrubbed nothing, announce
 * itself sleepy (xmm_scrub_idle_begin: the no-lost-wakeup handshake with put),
 * tell drainers, and sleep until the wake word moves. stop sets the stop flag
 * and bumps the wake word (xmm_scrub_wake), so a worker either sees the flag
 * before sleeping or is woken.
 *
 * drain sleeps on the daemon's idle word, which workers bump whenever they
 * run out of work, and re-reads the pending counts; a timeout covers the case
 * where the last pages were handed back by take while every worker slept.
 */
#define _GNU_SOURCE
#include <xmm/errno.h>
#include <xmm/platform.h>
#include <xmm/user/scrubd.h>

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Runs between two looks at the stop flag: a few claims' worth. */
#define RUN_CLAIMS 4
/* How long drain sleeps at most before it looks at the pending counts again. */
#define DRAIN_POLL_NS 1000000L

struct worker {
	struct xmm_scrubd *d;
	unsigned int node;
	pthread_t thread;
};

struct xmm_scrubd {
	struct xmm_scrub *s;
	const struct xmm_topo *topo;
	unsigned int nworkers;
	uint32_t stop;     /* set once by stop */
	uint32_t idle_seq; /* bumped by workers running out of work; drainers wait on it */
	struct worker w[];
};

static void futex_wait(uint32_t *word, uint32_t seen, long timeout_ns)
{
	struct timespec ts = { timeout_ns / 1000000000L, timeout_ns % 1000000000L };

	/* Returns at once if *word != seen: the value check is atomic with going to sleep. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, timeout_ns ? &ts : NULL, NULL, 0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct xmm_scrubd *d = w->d;
	struct xmm_scrub *s = d->s;
	const uint64_t budget = xmm_scrub_chunk_pages(s) * XMM_SCRUB_CLAIM_CHUNKS * RUN_CLAIMS;

	/* Best effort: synthetic topologies cannot bind (XMM_ENOTSUP); the work is the same. */
	if (d->topo)
		(void)xmm_topo_bind_thread(d->topo, w->node);
	/* Acquire pairs with the release in stop (through xmm_scrub_wake's acq_rel). */
	while (!xmm_pr_load_acquire_32(&d->stop)) {
		uint32_t seq;

		if (xmm_scrub_run(s, w->node, budget))
			continue;
		if (!xmm_scrub_idle_begin(s, &seq))
			continue; /* work appeared since run looked */
		/* Let drainers look at the pending counts (release: our cleans before it). */
		xmm_pr_faa_32(&d->idle_seq, 1);
		xmm_pr_wake(&d->idle_seq);
		/*
		 * seq was read after we raised the sleepy flag: a put since then
		 * changed the word (futex_wait returns at once) or wakes us. stop
		 * stores its flag before it bumps the word, so we see one or the other.
		 */
		if (!xmm_pr_load_acquire_32(&d->stop))
			futex_wait(xmm_scrub_wake_word(s), seq, 0);
	}
	return NULL;
}

static bool node_has_cpus(const struct xmm_topo *t, unsigned int node)
{
	for (unsigned int cpu = 0; cpu < t->ncpus; cpu++)
		if (t->node_of_cpu[cpu] == node)
			return true;
	return false;
}

static void stop_workers(struct xmm_scrubd *d, unsigned int n)
{
	/* Release: the flag before the wake word moves (pairs with the workers' acquire). */
	xmm_pr_store_release_32(&d->stop, 1);
	xmm_scrub_wake(d->s);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(d->w[i].thread, NULL);
}

int xmm_scrubd_start(struct xmm_scrubd **out, struct xmm_scrub *s, const struct xmm_topo *topo,
		     unsigned int workers_per_node)
{
	unsigned int nnodes, nworkers = 0, i = 0;
	struct xmm_scrubd *d;

	if (!out || !s || workers_per_node == 0 || workers_per_node > 1024)
		return XMM_EINVAL;
	nnodes = topo ? topo->nnodes : 1;
	if (xmm_scrub_nnodes(s) != nnodes)
		return XMM_EINVAL;
	for (unsigned int n = 0; n < nnodes; n++)
		if (!topo || node_has_cpus(topo, n))
			nworkers += workers_per_node;
	if (nworkers == 0)
		return XMM_EINVAL;
	d = calloc(1, sizeof(*d) + nworkers * sizeof(d->w[0]));
	if (!d)
		return XMM_ENOMEM;
	d->s = s;
	d->topo = topo;
	for (unsigned int n = 0; n < nnodes; n++) {
		if (topo && !node_has_cpus(topo, n))
			continue;
		for (unsigned int k = 0; k < workers_per_node; k++, i++) {
			d->w[i].d = d;
			d->w[i].node = n;
			if (pthread_create(&d->w[i].thread, NULL, worker_main, &d->w[i]) != 0) {
				stop_workers(d, i);
				free(d);
				return XMM_EAGAIN;
			}
		}
	}
	d->nworkers = nworkers;
	*out = d;
	return 0;
}

static bool all_clean(struct xmm_scrub *s)
{
	for (unsigned int n = 0; n < xmm_scrub_nnodes(s); n++)
		if (xmm_scrub_pending(s, n))
			return false;
	return true;
}

int xmm_scrubd_drain(struct xmm_scrubd *d)
{
	if (!d)
		return XMM_EINVAL;
	for (;;) {
		/* Read before the counts: a worker going idle after our look changes it. */
		uint32_t seen = xmm_pr_load_acquire_32(&d->idle_seq);

		if (all_clean(d->s))
			return 0;
		futex_wait(&d->idle_seq, seen, DRAIN_POLL_NS);
	}
}

void xmm_scrubd_stop(struct xmm_scrubd *d)
{
	if (!d)
		return;
	stop_workers(d, d->nworkers);
	free(d);
}

unsigned int xmm_scrubd_workers(const struct xmm_scrubd *d)
{
	return d->nworkers;
}
