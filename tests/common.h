/* SPDX-License-Identifier: MIT */
/* Helpers shared by the tests: a seeded PRNG and small utilities. */
#ifndef XMM_TESTS_COMMON_H
#define XMM_TESTS_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* xorshift64*: deterministic per seed, good enough for test sequences. */
struct test_rng {
	uint64_t s;
};

static inline void test_rng_seed(struct test_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ULL + 1;
}

static inline uint64_t test_rng_next(struct test_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t test_rng_below(struct test_rng *r, uint64_t n)
{
	return test_rng_next(r) % n;
}

/* The seed of a randomized test: XMM_TEST_SEED from the environment, else @dflt. */
static inline uint64_t test_seed(uint64_t dflt)
{
	const char *e = getenv("XMM_TEST_SEED");

	return e ? strtoull(e, NULL, 0) : dflt;
}

/* Scale for long-running loops: XMM_TEST_SCALE (default 1). */
static inline unsigned int test_scale(void)
{
	const char *e = getenv("XMM_TEST_SCALE");
	unsigned int s = e ? (unsigned int)strtoul(e, NULL, 0) : 1;

	return s ? s : 1;
}

/* Seconds a stress phase runs: XMM_STRESS_SECONDS (default @dflt). */
static inline double stress_seconds(double dflt)
{
	const char *e = getenv("XMM_STRESS_SECONDS");

	return e ? strtod(e, NULL) : dflt;
}

/* For stress tests (plain executables): report and count a failure. */
#define STRESS_CHECK(failures, cond, ...)                                       \
	do {                                                                    \
		if (!(cond)) {                                                  \
			if ((failures)++ < 20) {                                \
				fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
				fprintf(stderr, __VA_ARGS__);                   \
				fputc('\n', stderr);                            \
			}                                                       \
		}                                                               \
	} while (0)

/* Monotonic seconds, for time-bounded stress loops. */
static inline double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif /* XMM_TESTS_COMMON_H */
