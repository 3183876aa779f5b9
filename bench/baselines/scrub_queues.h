/* SPDX-License-Identifier: MIT */
/*
 * Queue baselines for seed 001: one put/take pair on a shared MPMC queue,
 * from Concurrency Kit (ck_stack with the generation-counted pop, ck_fifo_mpmc)
 * and liburcu (wfcqueue, whose dequeue takes the head lock). Entries are
 * recycled at once, as a free list would: ck's generation counters and
 * wfcqueue's dequeue lock make that safe.
 */
#ifndef XMM_BENCH_SCRUB_QUEUES_H
#define XMM_BENCH_SCRUB_QUEUES_H

enum queue_kind { Q_CK_STACK, Q_CK_FIFO, Q_WFCQ, Q_KINDS };

extern const char *const queue_name[Q_KINDS];

/* Set up the shared queue of @kind (call before the threads start). */
int queue_setup(enum queue_kind kind);
/* Per-thread state: an entry to enqueue, recycled from what each pair dequeues. */
void *queue_thread_entry(void);
/* One enqueue + dequeue; returns the entry to use next time. */
void *queue_pair(enum queue_kind kind, void *entry);

#endif /* XMM_BENCH_SCRUB_QUEUES_H */
