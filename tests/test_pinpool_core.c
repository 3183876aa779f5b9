/* SPDX-License-Identifier: MIT */
/*
 * The pinned-buffer pool's freestanding core on a host of its own (no cache,
 * a counting host), and the model-based test against a reference model.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <xmm/errno.h>
#include <xmm/user/pinpool.h>

#include "common.h"

#include "pinpool_helpers.h"

/* ---- the core with a host of its own: no cache, counting host ----------------------------- */

struct fake_host {
	char *arena;
	int commits, releases, locks, fail;
	bool locked;
};

static int fake_commit(void *ctx, void *addr, size_t bytes)
{
	struct fake_host *h = ctx;

	cr_assert(h->locked, "commit outside the lock");
	if (h->fail)
		return h->fail;
	memset(addr, 0xCC, bytes); /* garbage: the core must not trust chunk contents */
	h->commits++;
	return 0;
}

static void fake_release(void *ctx, void *addr, size_t bytes)
{
	struct fake_host *h = ctx;

	(void)addr;
	(void)bytes;
	h->releases++;
}

static void fake_lock(void *ctx)
{
	struct fake_host *h = ctx;

	cr_assert_not(h->locked);
	h->locked = true;
	h->locks++;
}

static void fake_unlock(void *ctx)
{
	((struct fake_host *)ctx)->locked = false;
}

static void count_cache(struct xmm_pin_cache *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
}

Test(pinpool, core_init_and_host_ops)
{
	static const struct xmm_pinpool_ops ops = { fake_commit, fake_release, fake_lock,
						    fake_unlock, NULL };
	static const struct xmm_pinpool_ops no_lock = { fake_commit, fake_release, NULL,
							fake_unlock, NULL };
	const size_t arena_bytes = 1 * MiB, chunk = 64 * KiB;
	size_t sz = xmm_pinpool_size(arena_bytes, chunk);
	struct fake_host h = { .arena = aligned_alloc(PAGE, arena_bytes) };
	char *mem = aligned_alloc(XMM_PINPOOL_ALIGN, sz + XMM_PINPOOL_ALIGN);
	struct xmm_pinpool *p = (struct xmm_pinpool *)(void *)mem;
	void *b[4];

	memset(mem, 0xAB, sz); /* caller memory holds garbage before init */
	cr_expect_eq(xmm_pinpool_size(0, chunk), 0);
	cr_expect_eq(xmm_pinpool_size(arena_bytes, 3 * PAGE), 0);
	cr_expect_eq(xmm_pinpool_size(arena_bytes + PAGE, chunk), 0);
	cr_expect_eq(xmm_pinpool_init(NULL, h.arena, arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, NULL, arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena + 8, arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init((struct xmm_pinpool *)(void *)(mem + 8), h.arena,
				      arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, 0, NULL, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, 0, &no_lock, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, XMM_PINPOOL_FD_PINNED, &ops,
				      &h), XMM_EINVAL);
	cr_assert_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, 0, &ops, &h), 0);
	cr_expect_eq(xmm_pinpool_ctx(p), &h);

	/* No cache: every get and put goes through the lists. */
	h.fail = XMM_EPERM;
	cr_expect_eq(xmm_pin_cache_alloc(p, NULL, PAGE, &b[0]), XMM_EPERM, "the host's error");
	cr_expect_eq(h.commits, 0);
	h.fail = 0;
	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, PAGE, &b[0]), 0);
	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, 3 * PAGE, &b[1]), 0);
	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, 128 * KiB, &b[2]), 0);
	cr_expect_eq(h.commits, 3, "one ops call per run of chunks");
	int locks = h.locks;

	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, PAGE, &b[3]), 0);
	cr_expect_eq(h.locks, locks, "a list hit takes no lock");
	for (int i = 0; i < 4; i++)
		cr_expect_eq(xmm_pin_cache_free(p, NULL, b[i]), 0);
	cr_expect_eq(h.locks, locks, "puts take no lock");
	cr_expect_eq(xmm_pin_cache_free(p, NULL, b[0]), XMM_EINVAL);

	struct xmm_pinpool_stats st;

	xmm_pinpool_stats(p, &st);
	cr_expect_eq(st.os_calls, 2 + 3, "without an os_calls op: commit calls, failed ones too");
	cr_expect_eq(st.allocs, 4);
	cr_expect_eq(st.frees, 4);
	cr_expect_eq(st.bad_frees, 1);
	cr_expect_eq(st.failures, 1);
	cr_expect_eq(st.bytes_locked, 4 * chunk);
	cr_expect_eq(xmm_pinpool_release_chunks(p), 4 * chunk);
	cr_expect_eq(h.releases, 1, "one ops call for the run of four free chunks");

	/* A cache attached by the host: fini detaches it and hands it back. */
	struct xmm_pin_cache c;
	int freed = 0;

	xmm_pin_cache_attach(p, &c);
	cr_assert_eq(xmm_pin_cache_alloc(p, &c, PAGE, &b[0]), 0);
	xmm_pinpool_fini(p, count_cache, &freed);
	cr_expect_eq(freed, 1);
	cr_expect_eq(h.releases, 2, "fini releases the chunk committed again");
	free(mem);
	free(h.arena);
}

/* ---- the model-based test ----------------------------------------------------------------- */

struct live {
	char *buf;
	size_t len, have;
	uint64_t tag;
};

struct model {
	struct xmm_pinpool *p;
	char *arena;
	size_t arena_bytes, chunk;
	struct live live[512];
	size_t nlive;
	uint64_t allocs, frees, bad_frees, failures, lck0;
	bool fd;
};

/* Whether some run of @n chunks holds no live buffer: then an allocation must succeed. */
static bool room_for(const struct model *m, size_t n)
{
	size_t nchunks = m->arena_bytes / m->chunk, run = 0;

	for (size_t c = 0; c < nchunks; c++) {
		char *lo = m->arena + c * m->chunk, *hi = lo + m->chunk;
		bool used = false;

		for (size_t i = 0; i < m->nlive && !used; i++)
			used = m->live[i].buf < hi && m->live[i].buf + m->live[i].have > lo;
		run = used ? 0 : run + 1;
		if (run >= n)
			return true;
	}
	return false;
}

static void model_alloc(struct model *m, struct test_rng *rng, uint64_t step)
{
	uint64_t r = test_rng_below(rng, 100);
	size_t len = r < 60 ? test_rng_below(rng, 8 * PAGE) + 1
		   : r < 90 ? test_rng_below(rng, 300 * PAGE) + 1
		   : r < 98 ? test_rng_below(rng, 3 * m->chunk) + 1
			    : test_rng_below(rng, m->arena_bytes) + 1;
	size_t need = (len + m->chunk - 1) / m->chunk;
	void *b = NULL;
	int rc;

	if (m->nlive == 512)
		return;
	rc = xmm_pin_alloc(m->p, len, &b);
	if (rc) {
		cr_assert_eq(rc, XMM_ENOMEM, "step %lu: %s", (unsigned long)step, xmm_strerror(rc));
		/* Refusing is allowed only when no run of free chunks could serve it. */
		cr_assert_not(room_for(m, need), "step %lu: %zu bytes refused with room", (unsigned long)step, len);
		m->failures++;
		return;
	}
	struct live *l = &m->live[m->nlive];

	l->buf = b;
	l->len = len;
	l->have = xmm_pinpool_buf_bytes(m->p, b);
	l->tag = step;
	cr_assert_geq(l->have, len);
	cr_assert(l->buf >= m->arena && l->buf + l->have <= m->arena + m->arena_bytes);
	for (size_t i = 0; i < m->nlive; i++)
		cr_assert(l->buf + l->have <= m->live[i].buf ||
			  l->buf >= m->live[i].buf + m->live[i].have,
			  "step %lu: overlaps a live buffer", (unsigned long)step);
	tag_fill(l->buf, l->have, l->tag);
	m->nlive++;
	m->allocs++;
}

static void model_free(struct model *m, struct test_rng *rng)
{
	size_t i = test_rng_below(rng, m->nlive);
	struct live l = m->live[i];

	cr_assert(tag_check(l.buf, l.have, l.tag), "buffer of step %lu corrupted", (unsigned long)l.tag);
	cr_assert_eq(xmm_pin_free(m->p, l.buf), 0);
	m->live[i] = m->live[--m->nlive];
	m->frees++;
	if (test_rng_below(rng, 4) == 0) { /* and again: a double free */
		cr_assert_eq(xmm_pin_free(m->p, l.buf), XMM_EINVAL);
		m->bad_frees++;
	}
}

static void model_bad_free(struct model *m, struct test_rng *rng)
{
	char *a;

	switch (test_rng_below(rng, 3)) {
	case 0: /* inside a live buffer */
		if (!m->nlive)
			return;
		a = m->live[test_rng_below(rng, m->nlive)].buf;
		a += test_rng_below(rng, xmm_pinpool_buf_bytes(m->p, a) - 1) + 1;
		break;
	case 1: /* any page of the arena that does not start a live buffer */
		a = m->arena + test_rng_below(rng, m->arena_bytes / PAGE) * PAGE;
		for (size_t i = 0; i < m->nlive; i++)
			if (m->live[i].buf == a)
				return;
		break;
	default: /* just outside */
		a = test_rng_below(rng, 2) ? m->arena - PAGE : m->arena + m->arena_bytes;
		break;
	}
	cr_assert_eq(xmm_pin_free(m->p, a), XMM_EINVAL);
	m->bad_frees++;
}

static void model_check(struct model *m, uint64_t step, bool deep)
{
	struct xmm_pinpool_stats st = stats(m->p);
	uint64_t in_use = 0;

	for (size_t i = 0; i < m->nlive; i++)
		in_use += m->live[i].have;
	cr_assert_eq(st.allocs, m->allocs, "step %lu", (unsigned long)step);
	cr_assert_eq(st.frees, m->frees);
	cr_assert_eq(st.bad_frees, m->bad_frees);
	cr_assert_eq(st.failures, m->failures);
	cr_assert_eq(st.hits + st.misses, st.allocs);
	cr_assert_eq(st.bytes_in_use, in_use);
	cr_assert_geq(st.bytes_locked, in_use);
	cr_assert_leq(st.bytes_locked, m->arena_bytes);
	cr_assert_eq(st.bytes_locked % m->chunk, 0);
	cr_assert_eq(st.bytes_locked, (st.commits - st.releases) * m->chunk);
	if (!deep)
		return;
	cr_assert_eq(vmlck() - m->lck0, st.bytes_locked, "step %lu: VmLck", (unsigned long)step);
	static struct vma v[8192];
	size_t n = read_vmas(v, 8192);

	for (size_t i = 0; i < m->nlive; i++) {
		cr_assert(covered(v, n, m->live[i].buf, m->live[i].have, true),
			  "step %lu: a live buffer outside locked memory", (unsigned long)step);
		cr_assert(tag_check(m->live[i].buf, m->live[i].have, m->live[i].tag));
	}
}

static void model_run(uint64_t seed, size_t cap, size_t chunk, bool fd, unsigned int steps)
{
	static struct model m;
	struct xmm_pinpool_cfg cfg = { .cap_bytes = cap, .chunk_bytes = chunk };
	struct test_rng rng;
	int memfd = -1;

	memset(&m, 0, sizeof(m));
	if (fd) {
		memfd = new_memfd(cap);
		cfg.backend = XMM_PINPOOL_FD;
		cfg.fd = memfd;
	}
	m.lck0 = vmlck();
	cr_assert_eq(xmm_pinpool_create(&m.p, &cfg), 0);
	m.arena = xmm_pinpool_arena(m.p, &m.arena_bytes);
	m.chunk = chunk;
	test_rng_seed(&rng, seed);
	for (unsigned int step = 0; step < steps; step++) {
		uint64_t op = test_rng_below(&rng, 1000);
		/* Alloc more when few are live and free more when many are: the live
		 * set wanders between empty and a good part of the arena. */
		uint64_t allocs = 480u + (m.nlive < 64 ? 200u : 0u) - (m.nlive > 200 ? 200u : 0u);

		if (op < allocs)
			model_alloc(&m, &rng, step);
		else if (op < 960 && m.nlive)
			model_free(&m, &rng);
		else if (op < 990)
			model_bad_free(&m, &rng);
		else
			cr_assert_leq(xmm_pinpool_trim(m.p), m.arena_bytes);
		model_check(&m, step, step % 997 == 0);
	}
	while (m.nlive)
		model_free(&m, &rng);
	model_check(&m, steps, true);
	xmm_pinpool_trim(m.p);
	cr_assert_eq(stats(m.p).bytes_locked, 0);
	cr_assert_eq(vmlck(), m.lck0);
	xmm_pinpool_destroy(m.p);
	if (memfd >= 0)
		close(memfd);
}

Test(pinpool, model_small_chunks)
{
	model_run(test_seed(1), 4 * MiB, 64 * KiB, false, 20000 * test_scale());
}

Test(pinpool, model_default_chunks)
{
	model_run(test_seed(2), 32 * MiB, 2 * MiB, false, 10000 * test_scale());
}

Test(pinpool, model_memfd)
{
	model_run(test_seed(3), 8 * MiB, 256 * KiB, true, 10000 * test_scale());
}
