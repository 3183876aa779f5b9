/* SPDX-License-Identifier: MIT */
/*
 * The soak: the scrub daemon, a p2m under writers and readers, and the pinned
 * pool, all at once in one process under an address-space limit (RLIMIT_AS:
 * what the process maps once its threads run, plus XMM_SOAK_HEADROOM_MB,
 * default 4), for
 * XMM_SOAK_SECONDS (default 120; hours by hand). Checked as it goes:
 *   scrub    a putter and a taker share an arena with the daemon's workers;
 *            every page handed back (clean or take) was queued and is zero,
 *            exactly once (a CAS per page); at the end, drained, pending is 0
 *   p2m      2 writers set and clear interleaved pfns of a portable map
 *            (leaves from xmm_pages_alloc, which the limit makes fail: each
 *            XMM_ENOMEM must change no entry), 2 readers check that every get
 *            is a hole or a value written for its pfn; at the end every entry
 *            is its writer's last
 *   pinpool  2 threads allocate up to the cap, write, check and free
 *            (XMM_ENOMEM at the cap is expected); at the end nothing in use
 *   memory   VmRSS sampled every 100 ms must stay under XMM_SOAK_RSS_MB
 *            (default 512); the peak is printed
 * Exits non-zero on the first violated check; prints one summary line.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <xmm/errno.h>
#include <xmm/user/p2m.h>
#include <xmm/user/pinpool.h>
#include <xmm/user/scrub_arena.h>
#include <xmm/user/scrubd.h>

#define CHECK(cond, ...)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "soak: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

static _Atomic bool stop, go;

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* ---- scrub ------------------------------------------------------------------------ */

#define SPAGES 8192 /* 32 MiB of guest memory */
#define PUTTER 0
static struct xmm_scrub_arena *arena;
static _Atomic uint8_t sstate[SPAGES]; /* 0 free (the putter's), 1 queued */
static _Atomic uint64_t s_put, s_back, s_taken;

static void hand_back(xmm_pfn_t pfn, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		const uint64_t *w = xmm_scrub_arena_va(arena, pfn + i);
		uint8_t one = 1;

		CHECK(w[0] == 0 && w[511] == 0, "page %llu handed back dirty", (unsigned long long)(pfn + i));
		CHECK(atomic_compare_exchange_strong(&sstate[pfn + i], &one, 0),
		      "page %llu handed back but not queued", (unsigned long long)(pfn + i));
	}
	atomic_fetch_add(&s_back, n);
}

static void on_clean(void *arg, unsigned int node, xmm_pfn_t pfn, uint64_t n)
{
	(void)arg, (void)node;
	hand_back(pfn, n);
}

static void *putter(void *arg)
{
	uint64_t seed = 88172645463325252ULL;

	(void)arg;
	while (!atomic_load(&go))
		usleep(1000);
	while (!atomic_load(&stop)) {
		xmm_pfn_t pfn = rng(&seed) % SPAGES, n = 1 + rng(&seed) % 64;
		bool free_run = true;

		if (pfn + n > SPAGES)
			n = SPAGES - pfn;
		for (uint64_t i = 0; i < n && free_run; i++)
			free_run = atomic_load(&sstate[pfn + i]) == 0;
		if (!free_run)
			continue; /* pages of ours still queued (double puts are fuzz_scrub's) */
		for (uint64_t i = 0; i < n; i++) {
			uint64_t *w = xmm_scrub_arena_va(arena, pfn + i);

			w[0] = w[511] = 0xdeadbeef;
			atomic_store(&sstate[pfn + i], 1);
		}
		CHECK(xmm_scrub_arena_put(arena, pfn, n) == 0, "put");
		atomic_fetch_add(&s_put, n);
	}
	return NULL;
}

static void *taker(void *arg)
{
	struct xmm_scrub *s = xmm_scrub_arena_scrub(arena);
	uint64_t seed = 1234567;

	(void)arg;
	while (!atomic_load(&go))
		usleep(1000);
	while (!atomic_load(&stop)) {
		uint64_t n = 1ULL << (rng(&seed) % 5);
		xmm_pfn_t p;
		int rc = xmm_scrub_take(s, 0, n, &p);

		if (rc == 0) {
			hand_back(p, n);
			atomic_fetch_add(&s_taken, n);
		} else {
			CHECK(rc == XMM_ENOENT || rc == XMM_ENOMEM, "take: %d", rc);
			usleep(100);
		}
	}
	return NULL;
}

/* ---- p2m ---------------------------------------------------------------------------- */

#define PPFN (1u << 20) /* 4 GiB of guest */
static struct xmm_p2m *p2m;
static uint64_t pmodel[PPFN];
static _Atomic uint64_t p_ops, p_enomem, p_gets;

static void *p2m_writer(void *arg)
{
	unsigned int id = (unsigned)(uintptr_t)arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (id + 1);

	while (!atomic_load(&go))
		usleep(1000);
	while (!atomic_load(&stop)) {
		xmm_pfn_t x = (rng(&seed) % (PPFN / 2)) * 2 + id;
		uint64_t v = rng(&seed) % 4 == 0 ? XMM_INVALID_MFN : (x << 20) | (rng(&seed) & 0xfffff);
		int rc = xmm_p2m_set(p2m, x, v);

		if (rc == 0) {
			pmodel[x] = v;
		} else {
			CHECK(rc == XMM_ENOMEM, "set: %d", rc);
			CHECK(xmm_p2m_get(p2m, x) == pmodel[x], "a failed set changed pfn %llu",
			      (unsigned long long)x);
			atomic_fetch_add(&p_enomem, 1);
		}
		atomic_fetch_add(&p_ops, 1);
	}
	return NULL;
}

static void *p2m_reader(void *arg)
{
	uint64_t seed = 77 + (uintptr_t)arg, n = 0;

	while (!atomic_load(&go))
		usleep(1000);
	while (!atomic_load(&stop)) {
		xmm_pfn_t x = rng(&seed) % PPFN;
		uint64_t v = xmm_p2m_get(p2m, x);

		CHECK(v == XMM_INVALID_MFN || v >> 20 == x, "get of pfn %llu: %llx", (unsigned long long)x,
		      (unsigned long long)v);
		n++;
	}
	atomic_fetch_add(&p_gets, n);
	return NULL;
}

/* ---- pinpool ------------------------------------------------------------------------ */

static struct xmm_pinpool *pool;
static _Atomic uint64_t pin_pairs, pin_enomem;

static void *pin_thread(void *arg)
{
	uint64_t seed = 4242 + (uintptr_t)arg;
	unsigned char *held[32] = { 0 };
	size_t len[32];

	while (!atomic_load(&go))
		usleep(1000);
	while (!atomic_load(&stop)) {
		unsigned int i = rng(&seed) % 32;

		if (held[i]) {
			CHECK(held[i][0] == (uint8_t)i && held[i][len[i] - 1] == (uint8_t)(i ^ 0xff),
			      "pinned buffer overwritten");
			CHECK(xmm_pin_free(pool, held[i]) == 0, "free");
			held[i] = NULL;
			atomic_fetch_add(&pin_pairs, 1);
		} else {
			len[i] = 1 + rng(&seed) % (256 * 1024);
			int rc = xmm_pin_alloc(pool, len[i], (void **)&held[i]);

			if (rc) {
				CHECK(rc == XMM_ENOMEM || rc == XMM_EPERM, "alloc: %d", rc);
				held[i] = NULL;
				atomic_fetch_add(&pin_enomem, 1);
				continue;
			}
			held[i][0] = (uint8_t)i;
			held[i][len[i] - 1] = (uint8_t)(i ^ 0xff);
		}
	}
	for (unsigned int i = 0; i < 32; i++)
		if (held[i])
			CHECK(xmm_pin_free(pool, held[i]) == 0, "free at the end");
	return NULL;
}

/* ---- main --------------------------------------------------------------------------- */

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), "%ld", &v);
	if (f)
		fclose(f);
	return v;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 10) : def;
}

int main(void)
{
	long secs = env_long("XMM_SOAK_SECONDS", 120), headroom = env_long("XMM_SOAK_HEADROOM_MB", 4);
	long rss_limit = env_long("XMM_SOAK_RSS_MB", 512), peak = 0;
	struct xmm_scrub_arena_cfg acfg = { .npages = SPAGES, .chunk_pages = 16, .clean = on_clean };
	struct xmm_pinpool_cfg pcfg = { .cap_bytes = 8 << 20 };
	struct xmm_scrubd *d;
	pthread_t t[8];
	struct rlimit rl;
	struct timespec t0, now;

	CHECK(xmm_scrub_arena_create(&arena, &acfg) == 0, "arena");
	CHECK(xmm_scrubd_start(&d, xmm_scrub_arena_scrub(arena), NULL, 1) == 0, "scrubd");
	CHECK(xmm_p2m_create(&p2m, PPFN, XMM_P2M_PORTABLE) == 0, "p2m");
	CHECK(xmm_pinpool_create(&pool, &pcfg) == 0, "pinpool");
	for (xmm_pfn_t x = 0; x < PPFN; x++)
		pmodel[x] = XMM_INVALID_MFN;
	pthread_create(&t[0], NULL, putter, NULL);
	pthread_create(&t[1], NULL, taker, NULL);
	pthread_create(&t[2], NULL, p2m_writer, (void *)0);
	pthread_create(&t[3], NULL, p2m_writer, (void *)1);
	pthread_create(&t[4], NULL, p2m_reader, (void *)0);
	pthread_create(&t[5], NULL, p2m_reader, (void *)1);
	pthread_create(&t[6], NULL, pin_thread, (void *)0);
	pthread_create(&t[7], NULL, pin_thread, (void *)1);
	/*
	 * The pressure: from now on the process may map only headroom more (the
	 * threads and their stacks exist already). The p2m's leaves need 8 MiB of
	 * page mappings once every leaf has been written: the default headroom
	 * makes their allocations fail, and each failure must change nothing.
	 */
	rl.rlim_cur = rl.rlim_max = (rlim_t)(status_kb("VmSize:") + headroom * 1024) * 1024;
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "RLIMIT_AS");
	atomic_store(&go, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		long rss = status_kb("VmRSS:");

		usleep(100 * 1000);
		if (rss > peak)
			peak = rss;
		CHECK(rss < rss_limit * 1024, "resident memory %ld KiB over %ld MiB", rss, rss_limit);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < secs);
	atomic_store(&stop, true);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	/* Drained: every page put came back exactly once. */
	CHECK(xmm_scrubd_drain(d) == 0, "drain");
	for (unsigned int i = 0; i < SPAGES; i++)
		CHECK(atomic_load(&sstate[i]) == 0, "page %u never handed back", i);
	CHECK(atomic_load(&s_put) == atomic_load(&s_back), "put %llu, handed back %llu",
	      (unsigned long long)s_put, (unsigned long long)s_back);
	for (xmm_pfn_t x = 0; x < PPFN; x++)
		CHECK(xmm_p2m_get(p2m, x) == pmodel[x], "pfn %llu is not its writer's last value",
		      (unsigned long long)x);
	{
		struct xmm_pinpool_stats st;

		xmm_pinpool_stats(pool, &st);
		CHECK(st.bytes_in_use == 0, "pinned bytes in use at the end");
	}
	xmm_scrubd_stop(d);
	xmm_pinpool_destroy(pool);
	xmm_p2m_destroy(p2m);
	xmm_scrub_arena_destroy(arena);
	printf("=== soak: %ld s under RLIMIT_AS (+%ld MiB): scrub %llu pages put, %llu taken, all back once; "
	       "p2m %llu sets (%llu ENOMEM, no entry changed), %llu gets; pinpool %llu pairs "
	       "(%llu ENOMEM at the cap); peak RSS %ld MiB (limit %ld)\n",
	       secs, headroom, (unsigned long long)s_put, (unsigned long long)s_taken,
	       (unsigned long long)p_ops, (unsigned long long)p_enomem, (unsigned long long)p_gets,
	       (unsigned long long)pin_pairs, (unsigned long long)pin_enomem, peak / 1024, rss_limit);
	return 0;
}
