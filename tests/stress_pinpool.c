/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the pinned-buffer pool (xmm/pinpool.h) with real threads,
 * runnable under ThreadSanitizer.
 *
 * Every buffer carries its owner's stamp: the first and last word of each page
 * hold a tag unique to the allocation, the first page's second word its
 * length. An owner checks the stamp before it frees; a buffer handed to another
 * thread through a mailbox is checked and freed there. Two owners of one
 * buffer (a list handing it out twice, a free list corrupted by a bad free)
 * overwrite each other's stamps and fail the check.
 *
 *   phase 1  user API: per-thread caches, sizes from 1 page to 3 chunks in a
 *            tight arena (refills, reclaims and XMM_ENOMEM happen), hand-offs
 *            between threads, interior-pointer frees, a thread trimming and
 *            reading stats all the time
 *   phase 2  the core without caches: twice as many threads as phase 1 on the
 *            same one-page list, holding buffers only briefly, so that some are
 *            preempted between reading a list head and swapping it (the ABA
 *            pattern the head's tag must stop; without the tag this phase
 *            finds a buffer with two owners within a few seconds)
 *   phase 3  two threads free the same buffer at the same time: exactly one wins
 *
 * At the end every buffer is back, the counters balance, and once the workers
 * have exited (their caches drained) trim gives every chunk back.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmm/errno.h>
#include <xmm/user/pinpool.h>

#include "common.h"

#define PAGE ((size_t)XMM_PAGE_SIZE)
#define WORKERS 8 /* at most */
#define HELD 8
#define MAILBOXES 32
#define CHUNK ((size_t)256 << 10)
#define CAP ((size_t)6 << 20)

struct rig {
	struct xmm_pinpool *p;
	bool cached; /* phase 1: xmm_pin_*; phase 2: the core with no cache */
	double deadline;
	void *_Atomic mailbox[MAILBOXES];
	atomic_int stop;
	atomic_ulong failures, allocs, frees, bad_frees, enomem, handoffs, trims;
};

static atomic_ulong next_tag = 1;

static void stamp(char *b, size_t len, uint64_t tag)
{
	for (size_t off = 0; off < len; off += PAGE) {
		memcpy(b + off, &tag, 8);
		memcpy(b + off + PAGE - 8, &tag, 8);
	}
	memcpy(b + 8, &len, 8);
}

/* The length of a stamped buffer, or 0 if the stamp is broken. */
static size_t stamp_check(const char *b)
{
	uint64_t tag, t1, t2;
	size_t len;

	memcpy(&tag, b, 8);
	memcpy(&len, b + 8, 8);
	if (len == 0 || len > 3 * CHUNK || len % PAGE)
		return 0;
	for (size_t off = 0; off < len; off += PAGE) {
		memcpy(&t1, b + off, 8);
		memcpy(&t2, b + off + PAGE - 8, 8);
		if (t1 != tag || t2 != tag)
			return 0;
	}
	return len;
}

static int pool_alloc(struct rig *r, size_t len, void **out)
{
	return r->cached ? xmm_pin_alloc(r->p, len, out) : xmm_pin_cache_alloc(r->p, NULL, len, out);
}

static int pool_free(struct rig *r, void *b)
{
	return r->cached ? xmm_pin_free(r->p, b) : xmm_pin_cache_free(r->p, NULL, b);
}

static void check_and_free(struct rig *r, char *b)
{
	unsigned long f = 0;
	size_t len = stamp_check(b);
	int rc;

	STRESS_CHECK(f, len != 0, "buffer %p: stamp overwritten (two owners?)", (void *)b);
	memset(b, 0, 16); /* a stale second owner would now fail its check */
	rc = pool_free(r, b);
	STRESS_CHECK(f, rc == 0, "free of an owned buffer: %s", xmm_strerror(rc));
	atomic_fetch_add(&r->frees, rc == 0);
	atomic_fetch_add(&r->failures, f);
}

static size_t pick_len(struct test_rng *rng, bool small_only)
{
	uint64_t k = test_rng_below(rng, 100);

	if (small_only) /* everyone on the same list */
		return PAGE;
	if (k < 70)
		return (test_rng_below(rng, 4) + 1) * PAGE;
	if (k < 95)
		return (test_rng_below(rng, 60) + 5) * PAGE;
	return (test_rng_below(rng, 3 * CHUNK / PAGE - 64) + 65) * PAGE;
}

static void *worker(void *arg)
{
	struct rig *r = ((void **)arg)[0];
	unsigned int id = (unsigned int)(uintptr_t)((void **)arg)[1];
	char *held[HELD];
	unsigned int nheld = 0;
	struct test_rng rng;

	test_rng_seed(&rng, test_seed(5) * 31 + id);
	while (test_now() < r->deadline) {
		uint64_t op = test_rng_below(&rng, 100);

		if (op < 45 && nheld < HELD) {
			size_t len = pick_len(&rng, !r->cached);
			void *b;
			int rc = pool_alloc(r, len, &b);

			if (rc == XMM_ENOMEM) {
				atomic_fetch_add(&r->enomem, 1);
				if (nheld)
					check_and_free(r, held[--nheld]);
				continue;
			}
			if (rc) {
				unsigned long f = 0;

				STRESS_CHECK(f, rc == 0, "alloc %zu: %s", len, xmm_strerror(rc));
				atomic_fetch_add(&r->failures, f);
				continue;
			}
			stamp(b, len, atomic_fetch_add(&next_tag, 1));
			held[nheld++] = b;
			atomic_fetch_add(&r->allocs, 1);
		} else if (op < 80 && nheld) {
			unsigned int i = (unsigned int)test_rng_below(&rng, nheld);

			if (!r->cached) /* hold briefly: others pop and push meanwhile */
				for (volatile int k = (int)test_rng_below(&rng, 256); k > 0; k--)
					;
			check_and_free(r, held[i]);
			held[i] = held[--nheld];
		} else if (op < 90 && nheld) {
			void *expected = NULL;
			unsigned int slot = (unsigned int)test_rng_below(&rng, MAILBOXES);

			if (atomic_compare_exchange_strong(&r->mailbox[slot], &expected, held[nheld - 1])) {
				nheld--;
				atomic_fetch_add(&r->handoffs, 1);
			}
		} else if (op < 97) {
			char *b = atomic_exchange(&r->mailbox[test_rng_below(&rng, MAILBOXES)], NULL);

			if (b)
				check_and_free(r, b);
		} else if (nheld) {
			/* A pointer inside a held buffer: rejected, the buffer untouched. */
			char *b = held[test_rng_below(&rng, nheld)];
			size_t len = stamp_check(b);
			unsigned long f = 0;
			int rc = pool_free(r, b + 8 + test_rng_below(&rng, len - 8) / 8 * 8);

			STRESS_CHECK(f, rc == XMM_EINVAL, "interior free: %d", rc);
			STRESS_CHECK(f, stamp_check(b) == len, "interior free changed the buffer");
			atomic_fetch_add(&r->bad_frees, 1);
			atomic_fetch_add(&r->failures, f);
		}
	}
	while (nheld)
		check_and_free(r, held[--nheld]);
	return NULL;
}

static void *trimmer(void *arg)
{
	struct rig *r = arg;

	while (!atomic_load(&r->stop)) {
		struct xmm_pinpool_stats st;
		unsigned long f = 0;

		xmm_pinpool_trim(r->p);
		xmm_pinpool_stats(r->p, &st);
		STRESS_CHECK(f, st.bytes_locked <= st.cap_bytes && st.bytes_locked % CHUNK == 0,
			     "bytes locked %llu", (unsigned long long)st.bytes_locked);
		atomic_fetch_add(&r->failures, f);
		atomic_fetch_add(&r->trims, 1);
		usleep(300);
	}
	return NULL;
}

static unsigned long run_phase(bool cached, unsigned int workers, double seconds)
{
	static struct rig r;
	struct xmm_pinpool_cfg cfg = { .cap_bytes = CAP, .chunk_bytes = CHUNK };
	pthread_t w[WORKERS], trim;
	void *args[WORKERS][2];
	struct xmm_pinpool_stats st;
	unsigned long f = 0;

	memset(&r, 0, sizeof(r));
	r.cached = cached;
	r.deadline = test_now() + seconds;
	if (xmm_pinpool_create(&r.p, &cfg) != 0) {
		fprintf(stderr, "cannot create the pool\n");
		return 1;
	}
	for (unsigned int i = 0; i < workers; i++) {
		args[i][0] = &r;
		args[i][1] = (void *)(uintptr_t)i;
		pthread_create(&w[i], NULL, worker, args[i]);
	}
	pthread_create(&trim, NULL, trimmer, &r);
	for (unsigned int i = 0; i < workers; i++)
		pthread_join(w[i], NULL);
	atomic_store(&r.stop, 1);
	pthread_join(trim, NULL);
	for (unsigned int i = 0; i < MAILBOXES; i++) {
		char *b = atomic_exchange(&r.mailbox[i], NULL);

		if (b)
			check_and_free(&r, b);
	}
	f = atomic_load(&r.failures);
	xmm_pinpool_stats(r.p, &st);
	STRESS_CHECK(f, st.allocs == atomic_load(&r.allocs) && st.frees == atomic_load(&r.frees),
		     "stats: %llu allocs %llu frees, counted %lu and %lu",
		     (unsigned long long)st.allocs, (unsigned long long)st.frees,
		     atomic_load(&r.allocs), atomic_load(&r.frees));
	STRESS_CHECK(f, st.allocs == st.frees && st.bytes_in_use == 0, "%llu bytes still in use",
		     (unsigned long long)st.bytes_in_use);
	STRESS_CHECK(f, st.bad_frees == atomic_load(&r.bad_frees), "bad frees %llu, made %lu",
		     (unsigned long long)st.bad_frees, atomic_load(&r.bad_frees));
	STRESS_CHECK(f, st.failures == atomic_load(&r.enomem), "failures %llu, saw %lu",
		     (unsigned long long)st.failures, atomic_load(&r.enomem));
	/* The workers exited (caches drained); this thread's cache drains in trim. */
	xmm_pinpool_trim(r.p);
	xmm_pinpool_stats(r.p, &st);
	STRESS_CHECK(f, st.bytes_locked == 0, "%llu bytes still locked after trim",
		     (unsigned long long)st.bytes_locked);
	STRESS_CHECK(f, atomic_load(&r.allocs) > 1000, "only %lu allocations", atomic_load(&r.allocs));
	printf("%s: %lu allocs, %lu hand-offs, %lu interior frees, %lu ENOMEM, %lu trims, "
	       "%llu commits, %llu releases, %lu failures\n",
	       cached ? "caches" : "lists only", atomic_load(&r.allocs), atomic_load(&r.handoffs),
	       atomic_load(&r.bad_frees), atomic_load(&r.enomem), atomic_load(&r.trims),
	       (unsigned long long)st.commits, (unsigned long long)st.releases, f);
	xmm_pinpool_destroy(r.p);
	return f;
}

/* ---- phase 3: racing frees of one buffer ---------------------------------------------------- */

struct race {
	struct xmm_pinpool *p;
	void *_Atomic buf;
	atomic_uint arrived;
	atomic_int wins;
	atomic_uint rounds; /* lowered by the first thread for the last round */
};

static void spin_barrier(atomic_uint *arrived, unsigned int target)
{
	atomic_fetch_add(arrived, 1);
	for (unsigned int spins = 0; atomic_load(arrived) < target; spins++)
		if (spins % 1024 == 1023)
			sched_yield();
}

static void *race_second(void *arg)
{
	struct race *r = arg;

	for (unsigned int round = 0; round < atomic_load(&r->rounds); round++) {
		spin_barrier(&r->arrived, 4 * round + 2);
		if (xmm_pin_free(r->p, atomic_load(&r->buf)) == 0)
			atomic_fetch_add(&r->wins, 1);
		spin_barrier(&r->arrived, 4 * round + 4);
	}
	return NULL;
}

static unsigned long run_race(double seconds)
{
	static struct race r;
	pthread_t t;
	unsigned long f = 0;
	double end = test_now() + seconds;
	unsigned int round;

	memset(&r, 0, sizeof(r));
	atomic_store(&r.rounds, 1u << 30);
	if (xmm_pinpool_create(&r.p, NULL) != 0)
		return 1;
	pthread_create(&t, NULL, race_second, &r);
	for (round = 0; round < atomic_load(&r.rounds); round++) {
		void *b;

		if (xmm_pin_alloc(r.p, PAGE, &b) != 0) {
			f++;
			b = NULL;
		}
		atomic_store(&r.buf, b);
		atomic_store(&r.wins, 0);
		/* The last round: tell the other thread before it waits again. */
		if (test_now() > end)
			atomic_store(&r.rounds, round + 1);
		spin_barrier(&r.arrived, 4 * round + 2);
		if (xmm_pin_free(r.p, atomic_load(&r.buf)) == 0)
			atomic_fetch_add(&r.wins, 1);
		spin_barrier(&r.arrived, 4 * round + 4);
		STRESS_CHECK(f, atomic_load(&r.wins) == 1, "round %u: %d winners", round,
			     atomic_load(&r.wins));
	}
	pthread_join(t, NULL);
	printf("racing frees: %u rounds, %lu failures\n", round, f);
	xmm_pinpool_destroy(r.p);
	return f;
}

int main(void)
{
	double seconds = stress_seconds(2.0);
	unsigned long failures = 0;

	failures += run_phase(true, 4, seconds);
	failures += run_phase(false, 4, seconds);
	failures += run_race(seconds / 2);
	if (failures) {
		fprintf(stderr, "stress_pinpool: FAILED\n");
		return 1;
	}
	printf("stress_pinpool: ok\n");
	return 0;
}
