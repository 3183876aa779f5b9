/* SPDX-License-Identifier: MIT */
/*
 * The pinned-buffer pool's core (xmm/pinpool.h) over a host of our own whose
 * commit fails when the input says so (the allocation hook of this
 * primitive), against a model of the live buffers.
 *
 * Single-threaded mode: alloc through a cache or the lists, free, bad frees
 * (interior pointers, double frees, pointers outside the arena), bounce-style
 * length checks, drain, release_chunks. After every step: each live buffer is
 * page aligned, inside the arena, at least as large as asked, overlaps no
 * other and still holds what was written into it; a bad free is XMM_EINVAL
 * and changes nothing; bytes_in_use is the model's sum. Multi-threaded mode:
 * 2-4 threads with a cache each allocate, write, check and free, and hand
 * some buffers to the next thread to free (cross-thread frees).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/pinpool.h>

#include "fuzz.h"

#define PAGE 4096
#define CHUNK (64 * 1024)
#define NCHUNKS 32
#define ARENA ((size_t)CHUNK * NCHUNKS)
#define MAXLIVE 64

struct host {
	pthread_mutex_t lock;
	_Atomic uint64_t fail_bits; /* commit fails on a set low bit (shifted per call) */
	_Atomic uint64_t committed;
};

static int h_commit(void *ctx, void *addr, size_t bytes)
{
	struct host *h = ctx;
	uint64_t b = atomic_load(&h->fail_bits);

	atomic_store(&h->fail_bits, b >> 1);
	if (b & 1)
		return XMM_ENOMEM;
	atomic_fetch_add(&h->committed, bytes);
	memset(addr, 0xc3, bytes); /* not zero: the ZERO flag must really zero */
	return 0;
}

static void h_release(void *ctx, void *addr, size_t bytes)
{
	struct host *h = ctx;

	atomic_fetch_sub(&h->committed, bytes);
	memset(addr, 0xdd, bytes); /* a buffer that lived here would show it */
}

static void h_lock(void *ctx)
{
	pthread_mutex_lock(&((struct host *)ctx)->lock);
}

static void h_unlock(void *ctx)
{
	pthread_mutex_unlock(&((struct host *)ctx)->lock);
}

static const struct xmm_pinpool_ops ops = {
	.commit = h_commit, .release = h_release, .lock = h_lock, .unlock = h_unlock,
};

struct buf {
	unsigned char *p;
	size_t req, size;
	uint8_t tag;
};

static unsigned char *arena;
static void *pool_mem;
static size_t pool_bytes;

static void write_tag(struct buf *b)
{
	b->p[0] = b->tag;
	b->p[b->req - 1] = b->tag;
	b->p[b->size - 1] = b->tag;
}

static void check_tag(const struct buf *b)
{
	FZ_CHECK(b->p[0] == b->tag && b->p[b->req - 1] == b->tag &&
			 b->p[b->size - 1] == b->tag,
		 "buffer %p of %zu bytes was overwritten", (void *)b->p, b->size);
}

static void check_new(struct xmm_pinpool *p, struct buf *b, bool zero)
{
	FZ_CHECK(b->p >= arena && b->p + b->size <= arena + ARENA, "buffer outside the arena");
	FZ_CHECK(!((uintptr_t)b->p & (PAGE - 1)), "buffer not page aligned");
	FZ_CHECK(b->size >= b->req, "buffer of %zu bytes for %zu", b->size, b->req);
	FZ_CHECK(xmm_pinpool_buf_bytes(p, b->p) == b->size, "buf_bytes");
	if (zero)
		FZ_CHECK(b->p[0] == 0 && b->p[b->req - 1] == 0, "XMM_PINPOOL_ZERO buffer not zero");
}

struct thr {
	struct xmm_pinpool *p;
	struct xmm_pin_cache cache;
	struct fz f;
	struct buf live[MAXLIVE];
	unsigned int nlive;
	_Atomic(unsigned char *) handoff; /* a buffer for the next thread to free */
	struct thr *next;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	unsigned char *q;

	xmm_pin_cache_attach(t->p, &t->cache);
	while (fz_more(&t->f)) {
		unsigned int op = fz_u8(&t->f) % 3;

		if (op == 0 && t->nlive < MAXLIVE) {
			struct buf *b = &t->live[t->nlive];

			b->req = 1 + fz_below(&t->f, 3 * CHUNK / 2);
			if (xmm_pin_cache_alloc(t->p, &t->cache, b->req, (void **)&b->p) != 0)
				continue;
			b->size = xmm_pinpool_buf_bytes(t->p, b->p);
			b->tag = fz_u8(&t->f);
			check_new(t->p, b, false);
			write_tag(b);
			t->nlive++;
		} else if (op == 1 && t->nlive) {
			unsigned int i = (unsigned)fz_below(&t->f, t->nlive);

			check_tag(&t->live[i]);
			q = t->live[i].p;
			t->live[i] = t->live[--t->nlive];
			/* Hand it to the next thread, or free it here if its slot is taken. */
			unsigned char *none = NULL;

			if (!atomic_compare_exchange_strong(&t->next->handoff, &none, q))
				FZ_CHECK(xmm_pin_cache_free(t->p, &t->cache, q) == 0, "free");
		} else if ((q = atomic_exchange(&t->handoff, NULL)) != NULL) {
			FZ_CHECK(xmm_pin_cache_free(t->p, &t->cache, q) == 0, "cross-thread free");
		}
	}
	for (unsigned int i = 0; i < t->nlive; i++) {
		check_tag(&t->live[i]);
		FZ_CHECK(xmm_pin_cache_free(t->p, &t->cache, t->live[i].p) == 0, "free at the end");
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t mode = fz_u8(&f);
	unsigned int flags = mode & 4 ? XMM_PINPOOL_ZERO : 0;
	struct host h = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	static struct xmm_pin_cache cache;
	struct buf live[MAXLIVE];
	unsigned int nlive = 0;
	struct xmm_pinpool *p;
	struct xmm_pinpool_stats st;

	if (!arena) {
		arena = aligned_alloc(CHUNK, ARENA);
		pool_bytes = (xmm_pinpool_size(ARENA, CHUNK) + 4095) & ~(size_t)4095;
		pool_mem = aligned_alloc(4096, pool_bytes);
		if (!arena || !pool_mem)
			abort();
	}
	p = pool_mem;
	memset(&cache, 0, sizeof(cache));
	FZ_CHECK(xmm_pinpool_init(p, arena, ARENA, CHUNK, flags, &ops, &h) == 0, "init");
	if (mode & 1) {
		unsigned int nt = 2 + (mode >> 3) % 3;
		static struct thr t[4];
		pthread_t tid[4];
		size_t per = f.n / nt;

		for (unsigned int i = 0; i < nt; i++) {
			memset(&t[i], 0, sizeof(t[i]));
			t[i].p = p;
			t[i].f = fz_split(&f, per);
			t[i].next = &t[(i + 1) % nt];
		}
		for (unsigned int i = 0; i < nt; i++)
			FZ_CHECK(pthread_create(&tid[i], NULL, thr_main, &t[i]) == 0, "thread");
		for (unsigned int i = 0; i < nt; i++)
			pthread_join(tid[i], NULL);
		for (unsigned int i = 0; i < nt; i++) {
			unsigned char *q = atomic_exchange(&t[i].handoff, NULL);

			if (q)
				FZ_CHECK(xmm_pin_cache_free(p, NULL, q) == 0, "leftover handoff");
			xmm_pin_cache_detach(p, &t[i].cache);
		}
		xmm_pinpool_stats(p, &st);
		FZ_CHECK(st.bytes_in_use == 0, "bytes in use after every free: %llu",
			 (unsigned long long)st.bytes_in_use);
		xmm_pinpool_release_chunks(p);
		xmm_pinpool_stats(p, &st);
		FZ_CHECK(st.bytes_locked == 0 && atomic_load(&h.committed) == 0, "chunks left");
		xmm_pinpool_fini(p, NULL, NULL);
		return 0;
	}
	xmm_pin_cache_attach(p, &cache);
	for (int steps = 0; fz_more(&f) && steps < 2000; steps++) {
		unsigned int op = fz_u8(&f) % 7;
		struct xmm_pin_cache *c = fz_u8(&f) & 1 ? &cache : NULL;
		uint64_t want = 0;
		int rc;

		switch (op) {
		case 0:
		case 1: {
			struct buf *b = &live[nlive];
			uint64_t before;

			if (nlive == MAXLIVE)
				break;
			b->req = 1 + fz_below(&f, op ? 2 * CHUNK : 3 * PAGE);
			atomic_store(&h.fail_bits, fz_u8(&f) & 0x80 ? fz_u8(&f) : 0);
			xmm_pinpool_stats(p, &st);
			before = st.bytes_in_use;
			rc = xmm_pin_cache_alloc(p, c, b->req, (void **)&b->p);
			atomic_store(&h.fail_bits, 0);
			if (rc) {
				FZ_CHECK(rc == XMM_ENOMEM || rc == XMM_EPERM, "alloc: %d", rc);
				xmm_pinpool_stats(p, &st);
				FZ_CHECK(st.bytes_in_use == before, "a failed alloc changed bytes_in_use");
				break;
			}
			b->size = xmm_pinpool_buf_bytes(p, b->p);
			b->tag = fz_u8(&f);
			check_new(p, b, flags & XMM_PINPOOL_ZERO);
			for (unsigned int i = 0; i < nlive; i++)
				FZ_CHECK(b->p + b->size <= live[i].p || live[i].p + live[i].size <= b->p,
					 "buffers overlap");
			write_tag(b);
			nlive++;
			break;
		}
		case 2:
			if (nlive) {
				unsigned int i = (unsigned)fz_below(&f, nlive);
				unsigned char *q = live[i].p;

				check_tag(&live[i]);
				FZ_CHECK(xmm_pin_cache_free(p, c, q) == 0, "free");
				live[i] = live[--nlive];
				FZ_CHECK(xmm_pin_cache_free(p, c, q) == XMM_EINVAL, "double free accepted");
				FZ_CHECK(xmm_pinpool_buf_bytes(p, q) == 0, "a freed buffer has bytes");
			}
			break;
		case 3: { /* bad frees: inside a buffer, outside the arena, never allocated */
			unsigned char *q = nlive ? live[fz_below(&f, nlive)].p + 1 + fz_below(&f, PAGE)
					    : arena + fz_below(&f, ARENA);
			bool is_live = false;

			for (unsigned int i = 0; i < nlive; i++)
				is_live |= q == live[i].p;
			if (fz_u8(&f) & 1)
				q = fz_u8(&f) & 1 ? arena - PAGE : arena + ARENA;
			if (!is_live)
				FZ_CHECK(xmm_pin_cache_free(p, c, q) == XMM_EINVAL, "bad free of %p accepted",
					 (void *)q);
			FZ_CHECK(xmm_pin_cache_free(p, c, NULL) == XMM_EINVAL, "free of NULL");
			break;
		}
		case 4:
			xmm_pin_cache_drain(p, &cache);
			break;
		case 5:
			xmm_pinpool_release_chunks(p);
			break;
		case 6:
			{ void *none = NULL; FZ_CHECK(xmm_pin_cache_alloc(p, c, 0, &none) == XMM_EINVAL && !none, "alloc of 0"); }
			break;
		}
		for (unsigned int i = 0; i < nlive; i++) {
			check_tag(&live[i]);
			want += live[i].size;
		}
		xmm_pinpool_stats(p, &st);
		FZ_CHECK(st.bytes_in_use == want, "bytes_in_use %llu, model %llu",
			 (unsigned long long)st.bytes_in_use, (unsigned long long)want);
		FZ_CHECK(st.bytes_locked == atomic_load(&h.committed) && st.bytes_locked <= ARENA,
			 "bytes_locked");
	}
	while (nlive)
		FZ_CHECK(xmm_pin_cache_free(p, &cache, live[--nlive].p) == 0, "free at the end");
	xmm_pin_cache_detach(p, &cache);
	xmm_pinpool_release_chunks(p);
	xmm_pinpool_stats(p, &st);
	FZ_CHECK(st.bytes_in_use == 0 && st.bytes_locked == 0, "everything given back");
	xmm_pinpool_fini(p, NULL, NULL);
	return 0;
}
