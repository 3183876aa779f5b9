/* SPDX-License-Identifier: MIT */
/*
 * Stress test of the zero sweep (xmm/zerosweep.h) with real threads: frees
 * noted on several CPUs while a reclaim loop takes offers.
 *
 * Shadow record: a global ticket counter. A noter takes a ticket t before it
 * notes superpage k and keeps the largest such t per superpage; the reclaim
 * loop reads the counter after each next() and keeps, per superpage offered,
 * the largest reading. Once the noters have stopped and the loop has drained
 * what is pending, every superpage noted must have been offered after its last
 * note began (an offer whose reading exceeds the note's ticket): a note is
 * never lost, even when it races with the offer that clears its bit. Offers
 * must also stay in range and aligned, and a drained sweep falls back to the
 * linear pass.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <xmm/errno.h>
#include <xmm/user/zerosweep.h>

#include "common.h"

#define ORDER 9
#define NSP 700 /* superpages: eleven bitmap words, the last partial */
#define NOTERS 2

struct sim {
	struct xmm_zerosweep *s;
	_Atomic uint64_t ticket;
	_Atomic uint64_t last_note[NSP]; /* 1 + largest ticket taken before a note, 0: never */
	uint64_t last_offer[NSP];       /* largest ticket reading after an offer (loop thread only) */
	_Atomic int stop;
	_Atomic unsigned long failures;
	unsigned long offers;
};

static void note_max(_Atomic uint64_t *slot, uint64_t v)
{
	uint64_t cur = atomic_load(slot);

	while (cur < v && !atomic_compare_exchange_weak(slot, &cur, v))
		;
}

static void *noter(void *arg)
{
	struct sim *sim = ((void **)arg)[0];
	uint64_t seed = (uint64_t)(uintptr_t)((void **)arg)[1];
	unsigned long failures = 0;
	struct test_rng r;

	test_rng_seed(&r, seed);
	while (!atomic_load_explicit(&sim->stop, memory_order_relaxed)) {
		/* Clusters of frees, as a balloon driver returns runs of pages. */
		uint64_t k = test_rng_below(&r, NSP);

		for (int i = 0; i < 8; i++) {
			uint64_t t = atomic_fetch_add(&sim->ticket, 1);

			STRESS_CHECK(failures, xmm_zerosweep_note(sim->s, (k << ORDER) + test_rng_below(&r, 1 << ORDER)) == 0,
				     "note of superpage %llu", (unsigned long long)k);
			note_max(&sim->last_note[k], t + 1);
			k = (k + 1 + test_rng_below(&r, 3)) % NSP;
		}
	}
	atomic_fetch_add(&sim->failures, failures);
	return NULL;
}

/* One offer; returns what next() returned and whether the offer came from the notes. */
static int offer(struct sim *sim, unsigned long *failures, bool *from_notes)
{
	struct xmm_zerosweep_stats before, after;
	xmm_pfn_t first;
	int rc;

	xmm_zerosweep_stats(sim->s, &before);
	rc = xmm_zerosweep_next(sim->s, &first);
	xmm_zerosweep_stats(sim->s, &after);
	*from_notes = after.from_notes != before.from_notes;
	if (rc == 0) {
		uint64_t k = first >> ORDER, seen = atomic_load(&sim->ticket);

		STRESS_CHECK(*failures, k < NSP && first == k << ORDER, "offer %llu",
			     (unsigned long long)first);
		if (k < NSP && seen > sim->last_offer[k])
			sim->last_offer[k] = seen;
		sim->offers++;
	} else {
		STRESS_CHECK(*failures, rc == XMM_ENOENT, "next returned %d", rc);
	}
	return rc;
}

int main(void)
{
	static struct sim sim;
	double deadline = test_now() + stress_seconds(2.0);
	void *args[NOTERS][2];
	pthread_t th[NOTERS];
	unsigned long failures = 0, drained = 0, noted = 0;
	bool from_notes;

	if (xmm_zerosweep_create(&sim.s, (uint64_t)NSP << ORDER, ORDER) != 0) {
		fprintf(stderr, "stress_zerosweep: cannot create the sweep\n");
		return 1;
	}
	for (int i = 0; i < NOTERS; i++) {
		args[i][0] = &sim;
		args[i][1] = (void *)(uintptr_t)(test_seed(65) + (uint64_t)i);
		pthread_create(&th[i], NULL, noter, args[i]);
	}
	while (test_now() < deadline)
		for (int i = 0; i < 64; i++)
			offer(&sim, &failures, &from_notes);
	atomic_store(&sim.stop, 1);
	for (int i = 0; i < NOTERS; i++)
		pthread_join(th[i], NULL);

	/* Drain: offers from the notes until the first that is not; at most one per superpage. */
	from_notes = true;
	while (from_notes && drained++ <= NSP + 1)
		offer(&sim, &failures, &from_notes);
	STRESS_CHECK(failures, !from_notes, "still offering from notes after %lu offers", drained);

	for (uint64_t k = 0; k < NSP; k++) {
		uint64_t t = atomic_load(&sim.last_note[k]);

		if (!t)
			continue;
		noted++;
		STRESS_CHECK(failures, sim.last_offer[k] >= t,
			     "superpage %llu noted at ticket %llu, last offered at %llu",
			     (unsigned long long)k, (unsigned long long)t - 1,
			     (unsigned long long)sim.last_offer[k]);
	}
	failures += atomic_load(&sim.failures);
	printf("stress_zerosweep: %llu notes, %lu offers, %lu superpages noted, %lu failures\n",
	       (unsigned long long)atomic_load(&sim.ticket), sim.offers, noted, failures);
	xmm_zerosweep_destroy(sim.s);
	return failures ? 1 : 0;
}
