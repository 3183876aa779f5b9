/* SPDX-License-Identifier: MIT */
/*
 * The pinned pool in user space: create/destroy, a cache per thread and pool,
 * trim and the bounce helpers (see xmm/pinpool.h).
 *
 * Each pool has a pthread key; a thread's first call on the pool allocates its
 * cache (cache-line aligned, so no two threads' caches share a line) and
 * attaches it. The key's destructor drains and detaches the cache when the
 * thread exits, so buffers it cached go back to the lists; destroy deletes the
 * key first (no destructor runs for the pool after that) and frees every
 * cache still attached. Should a cache not be allocatable, the thread works
 * on the lists directly.
 */
#define _GNU_SOURCE
#include <xmm/errno.h>
#include <xmm/user/pinpool.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pinpool_os.h"

struct pin_host {
	struct xmm_pin_os os;
	pthread_mutex_t lock;
	pthread_key_t key;
	size_t pool_bytes; /* the mapping holding the core object */
};

struct pin_tcache {
	struct xmm_pin_cache c;
	struct xmm_pinpool *pool;
} XMM_ALIGNED(XMM_CACHELINE);

/* ---- ops --------------------------------------------------------------------------- */

static int host_commit(void *ctx, void *addr, size_t bytes)
{
	return xmm_pin_os_commit(&((struct pin_host *)ctx)->os, addr, bytes);
}

static void host_release(void *ctx, void *addr, size_t bytes)
{
	xmm_pin_os_release(&((struct pin_host *)ctx)->os, addr, bytes);
}

static void host_lock(void *ctx)
{
	pthread_mutex_lock(&((struct pin_host *)ctx)->lock);
}

static void host_unlock(void *ctx)
{
	pthread_mutex_unlock(&((struct pin_host *)ctx)->lock);
}

/* Called by stats with the lock held, which every counted call also holds. */
static uint64_t host_os_calls(void *ctx)
{
	return ((struct pin_host *)ctx)->os.calls;
}

static const struct xmm_pinpool_ops host_ops = {
	.commit = host_commit,
	.release = host_release,
	.lock = host_lock,
	.unlock = host_unlock,
	.os_calls = host_os_calls,
};

/* ---- create / destroy ---------------------------------------------------------------- */

static void tcache_exit(void *arg)
{
	struct pin_tcache *t = arg;

	xmm_pin_cache_detach(t->pool, &t->c);
	free(t);
}

static void tcache_free(struct xmm_pin_cache *c, void *arg)
{
	(void)arg;
	free((struct pin_tcache *)(void *)c); /* c is the first member */
}

int xmm_pinpool_create(struct xmm_pinpool **out, const struct xmm_pinpool_cfg *cfg)
{
	static const struct xmm_pinpool_cfg defaults = { 0 };
	size_t cap, chunk, arena, size;
	struct xmm_pinpool *p = NULL;
	struct pin_host *h;
	int rc;

	if (!out)
		return XMM_EINVAL;
	if (!cfg)
		cfg = &defaults;
	cap = cfg->cap_bytes ? cfg->cap_bytes : XMM_PINPOOL_DEFAULT_CAP;
	chunk = cfg->chunk_bytes ? cfg->chunk_bytes : XMM_PINPOOL_DEFAULT_CHUNK;
	if (cap < XMM_PAGE_SIZE || chunk < XMM_PAGE_SIZE || (chunk & (chunk - 1)))
		return XMM_EINVAL;
	if ((cfg->backend != XMM_PINPOOL_ANON && cfg->backend != XMM_PINPOOL_FD) ||
	    (cfg->flags & ~(XMM_PINPOOL_ZERO | XMM_PINPOOL_FD_PINNED)) ||
	    ((cfg->flags & XMM_PINPOOL_FD_PINNED) && cfg->backend != XMM_PINPOOL_FD))
		return XMM_EINVAL;
	while (chunk > cap)
		chunk /= 2;
	arena = cap / chunk * chunk;
	size = xmm_pinpool_size(arena, chunk);
	if (size == 0)
		return XMM_EINVAL; /* over the largest arena */
	size = (size + XMM_PAGE_SIZE - 1) & ~(XMM_PAGE_SIZE - 1);

	h = calloc(1, sizeof(*h));
	if (!h)
		return XMM_ENOMEM;
	rc = xmm_pin_os_open(&h->os, cfg, arena);
	if (rc)
		goto fail_host;
	rc = XMM_ENOMEM;
	p = xmm_pin_os_map(&h->os, size);
	if (!p)
		goto fail_os;
	h->pool_bytes = size;
	if (pthread_mutex_init(&h->lock, NULL) != 0)
		goto fail_map;
	rc = xmm_pinpool_init(p, h->os.base, arena, chunk, cfg->flags & XMM_PINPOOL_ZERO,
			      &host_ops, h);
	if (rc)
		goto fail_mutex;
	if (pthread_key_create(&h->key, tcache_exit) != 0) {
		rc = XMM_EAGAIN;
		goto fail_mutex;
	}
	*out = p;
	return 0;
fail_mutex:
	pthread_mutex_destroy(&h->lock);
fail_map:
	xmm_pin_os_unmap(&h->os, p, size);
fail_os:
	xmm_pin_os_close(&h->os);
fail_host:
	free(h);
	return rc;
}

void xmm_pinpool_destroy(struct xmm_pinpool *p)
{
	struct pin_host *h;

	if (!p)
		return;
	h = xmm_pinpool_ctx(p);
	pthread_key_delete(h->key);
	xmm_pinpool_fini(p, tcache_free, NULL);
	xmm_pin_os_unmap(&h->os, p, h->pool_bytes);
	xmm_pin_os_close(&h->os);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* ---- the calling thread's cache ---------------------------------------------------------- */

static struct xmm_pin_cache *tcache_new(struct xmm_pinpool *p, struct pin_host *h)
{
	struct pin_tcache *t = aligned_alloc(XMM_CACHELINE, sizeof(*t));

	if (!t)
		return NULL;
	t->pool = p;
	xmm_pin_cache_attach(p, &t->c);
	if (pthread_setspecific(h->key, t) != 0) {
		xmm_pin_cache_detach(p, &t->c);
		free(t);
		return NULL;
	}
	return &t->c;
}

static inline struct xmm_pin_cache *tcache(struct xmm_pinpool *p)
{
	struct pin_host *h = xmm_pinpool_ctx(p);
	struct pin_tcache *t = pthread_getspecific(h->key);

	return XMM_LIKELY(t != NULL) ? &t->c : tcache_new(p, h);
}

int xmm_pin_alloc(struct xmm_pinpool *p, size_t bytes, void **out)
{
	if (!p)
		return XMM_EINVAL;
	return xmm_pin_cache_alloc(p, tcache(p), bytes, out);
}

int xmm_pin_free(struct xmm_pinpool *p, void *buf)
{
	if (!p)
		return XMM_EINVAL;
	return xmm_pin_cache_free(p, tcache(p), buf);
}

size_t xmm_pinpool_trim(struct xmm_pinpool *p)
{
	struct pin_host *h;
	struct pin_tcache *t;

	if (!p)
		return 0;
	h = xmm_pinpool_ctx(p);
	t = pthread_getspecific(h->key);
	if (t)
		xmm_pin_cache_drain(p, &t->c);
	return xmm_pinpool_release_chunks(p);
}

/* ---- bounce helpers ------------------------------------------------------------------------ */

int xmm_pin_bounce_in(struct xmm_pinpool *p, const void *src, size_t len, void **out)
{
	void *buf;
	int rc;

	if (!out)
		return XMM_EINVAL;
	rc = xmm_pin_alloc(p, len, &buf);
	if (rc)
		return rc;
	if (src)
		memcpy(buf, src, len);
	else
		memset(buf, 0, len);
	*out = buf;
	return 0;
}

int xmm_pin_bounce_out(struct xmm_pinpool *p, void *buf, void *dst, size_t len)
{
	size_t have;

	if (!p)
		return XMM_EINVAL;
	have = xmm_pinpool_buf_bytes(p, buf);
	if (have == 0)
		return xmm_pin_free(p, buf); /* not a buffer of ours: rejected and counted there */
	if (len > have)
		return XMM_EINVAL;
	if (dst && len)
		memcpy(dst, buf, len);
	return xmm_pin_free(p, buf);
}
