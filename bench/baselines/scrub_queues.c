/* SPDX-License-Identifier: MIT */
/* Queue baselines for seed 001 (see scrub_queues.h). */
#define _LGPL_SOURCE /* liburcu's inline wfcqueue: no extra library */
#include "scrub_queues.h"

#include <stdlib.h>

#include <ck_fifo.h>
#include <ck_stack.h>
#include <urcu/wfcqueue.h>

const char *const queue_name[Q_KINDS] = { "ck_stack", "ck_fifo_mpmc", "wfcqueue" };

/* One entry type serves all three queues. */
union entry {
	ck_stack_entry_t stack;
	ck_fifo_mpmc_entry_t fifo;
	struct cds_wfcq_node wfcq;
} __attribute__((aligned(16)));

static ck_stack_t stack __attribute__((aligned(16)));
static ck_fifo_mpmc_t fifo __attribute__((aligned(64)));
static struct cds_wfcq_head wfcq_head;
static struct cds_wfcq_tail wfcq_tail;

int queue_setup(enum queue_kind kind)
{
	union entry *stub;

	switch (kind) {
	case Q_CK_STACK:
		ck_stack_init(&stack);
		return 0;
	case Q_CK_FIFO:
		stub = aligned_alloc(16, sizeof(*stub));
		if (!stub)
			return -1;
		ck_fifo_mpmc_init(&fifo, &stub->fifo);
		return 0;
	case Q_WFCQ:
		cds_wfcq_init(&wfcq_head, &wfcq_tail);
		return 0;
	default:
		return -1;
	}
}

void *queue_thread_entry(void)
{
	union entry *e = aligned_alloc(16, sizeof(*e));

	if (e)
		cds_wfcq_node_init(&e->wfcq);
	return e;
}

void *queue_pair(enum queue_kind kind, void *entry)
{
	union entry *e = entry;
	ck_fifo_mpmc_entry_t *garbage;
	void *value;

	switch (kind) {
	case Q_CK_STACK:
		ck_stack_push_upmc(&stack, &e->stack);
		/* Never empty here: every thread pushes before it pops. */
		return ck_stack_pop_mpmc(&stack);
	case Q_CK_FIFO:
		ck_fifo_mpmc_enqueue(&fifo, &e->fifo, e);
		/*
		 * Never empty here either, but a dequeue that read a node another
		 * thread recycled meanwhile can say so: retry, as a user would.
		 */
		while (!ck_fifo_mpmc_dequeue(&fifo, &value, &garbage))
			ck_pr_stall();
		return garbage; /* the old stub: ours to enqueue next */
	case Q_WFCQ:
		cds_wfcq_node_init(&e->wfcq);
		cds_wfcq_enqueue(&wfcq_head, &wfcq_tail, &e->wfcq);
		return cds_wfcq_dequeue_blocking(&wfcq_head, &wfcq_tail);
	default:
		return NULL;
	}
}
