/* SPDX-License-Identifier: MIT */
/*
 * Sparse linear p2m map, the common part: see xmm/p2m.h for the contract,
 * p2m_backend.h for the interface to the two backends (p2m_linear.c,
 * p2m_portable.c).
 *
 * Layout (one block of caller memory, xmm_p2m_size() bytes):
 *
 *   line 0   struct xmm_p2m_head: what the inline get reads, written by init only
 *   line 1   the writers' line: lock, generation, counters
 *   tail     portable: the directory, one leaf pointer per leaf
 *            linear:   none (its bitmaps follow the entries in its reservation)
 *
 * A leaf is of one of three kinds: the shared hole leaf, the shared identity
 * leaf, or private. Mutations go through two steps:
 *
 *   install   a shared leaf gets a private copy holding the same values, so
 *             nothing a get can see changes. What can fail (populating the
 *             linear page, allocating and filling the portable copy) happens
 *             outside the lock; publishing happens under it, where a leaf that
 *             another writer installed meanwhile is left to that writer.
 *   give back a private leaf becomes shared again (clear, set_identity only,
 *             which callers serialize against every other mutation): linear
 *             leaves are discarded on the spot, portable ones unpublished and
 *             freed after a grace period.
 */
#include "p2m_backend.h"

_Static_assert(LEAF_BYTES == XMM_PAGE_SIZE, "a leaf is one page");
_Static_assert(sizeof(struct xmm_p2m_head) <= XMM_CACHELINE, "get reads one cache line");
_Static_assert(XMM_P2M_POISON == (XMM_P2M_POISON & 0xff) * 0x0101010101010101ULL,
	       "the poison is one byte repeated");

/* ---- size, init, fini ---------------------------------------------------- */

size_t xmm_p2m_size(xmm_pfn_t max_pfn, unsigned int flags)
{
	uint64_t n = nleaves_of(max_pfn);

	if (max_pfn == 0 || max_pfn > XMM_P2M_MAX_PFN || (flags & ~XMM_P2M_PORTABLE))
		return 0;
	return xmm_line_up(sizeof(struct xmm_p2m) + (flags & XMM_P2M_PORTABLE
						     ? xmm_p2m_portable_tail_bytes(n)
						     : xmm_p2m_linear_tail_bytes(n)));
}

int xmm_p2m_init(struct xmm_p2m *p, xmm_pfn_t max_pfn, unsigned int flags)
{
	size_t size = xmm_p2m_size(max_pfn, flags);

	if (!p || size == 0 || ((uintptr_t)p & (XMM_P2M_ALIGN - 1)))
		return XMM_EINVAL;
	__builtin_memset(p, 0, sizeof(*p));
	p->head.max_pfn = max_pfn;
	p->head.backend = flags & XMM_P2M_PORTABLE;
	p->nleaves = nleaves_of(max_pfn);
	p->size = size;
	return P2M_BACKEND(p, init, p);
}

void xmm_p2m_fini(struct xmm_p2m *p)
{
	P2M_BACKEND(p, fini, p);
}

/* ---- lock, generation, counters ------------------------------------------ */

static void lock(struct xmm_p2m *p)
{
	uint64_t unlocked = 0;

	/* Acquire (on success) pairs with the release store in unlock. */
	while (!xmm_pr_cas_64(&p->lock, &unlocked, 1)) {
		while (xmm_pr_load_relaxed_64(&p->lock))
			xmm_pr_relax();
		unlocked = 0;
	}
}

static void unlock(struct xmm_p2m *p)
{
	xmm_pr_store_release_64(&p->lock, 0);
}

/* Under the lock. The acq_rel fetch-add keeps the structural stores that follow
 * from becoming visible before the odd value (pairs with the fence in
 * xmm_p2m_generation_changed). */
static void gen_begin(struct xmm_p2m *p)
{
	uint64_t g = xmm_pr_faa_64(&p->generation, 1);

	XMM_ASSERT(!(g & 1));
	(void)g;
}

/* Release: a reader that sees the even value sees every structural store before it. */
static void gen_end(struct xmm_p2m *p)
{
	xmm_counter_add_release(&p->generation, 1);
}

uint64_t xmm_p2m_generation(const struct xmm_p2m *p)
{
	/* Acquire pairs with the release store in gen_end. */
	return xmm_pr_load_acquire_64(&p->generation);
}

bool xmm_p2m_generation_changed(const struct xmm_p2m *p, uint64_t g)
{
	/* The reader's loads complete before the generation is read again (the
	 * seqlock's acquire fence; pairs with the acq_rel fetch-add in gen_begin). */
	xmm_pr_fence_full();
	return (g & 1) || xmm_pr_load_relaxed_64(&p->generation) != g;
}

void xmm_p2m_stats(const struct xmm_p2m *p, struct xmm_p2m_stats *st)
{
	st->max_pfn = p->head.max_pfn;
	st->backend = p->head.backend;
	/* Acquire pairs with the release stores in counter_add (p2m_backend.h). */
	st->leaves = xmm_pr_load_acquire_64(&p->leaves);
	st->identity_leaves = xmm_pr_load_acquire_64(&p->identity_leaves);
	st->bytes = p->size + st->leaves * LEAF_BYTES;
	st->generation = xmm_p2m_generation(p);
}

/* ---- leaves and install ---------------------------------------------------- */

/* Whether private leaf l holds only holes or only identity entries (its own writer reads it). */
static enum kind leaf_content(struct xmm_p2m *p, uint64_t l)
{
	const uint64_t *w = leaf_words(p, l);
	xmm_pfn_t base = l << LEAF_SHIFT;
	uint64_t n = leaf_len(p, l), e = entry_decode(p, xmm_pr_load_relaxed_64(&w[0]));

	if (e == XMM_INVALID_MFN) {
		for (uint64_t i = 1; i < n; i++)
			if (entry_decode(p, xmm_pr_load_relaxed_64(&w[i])) != XMM_INVALID_MFN)
				return PRIVATE;
		return HOLE;
	}
	if (e != XMM_IDENTITY_FRAME(base))
		return PRIVATE;
	for (uint64_t i = 1; i < n; i++)
		if (entry_decode(p, xmm_pr_load_relaxed_64(&w[i])) != XMM_IDENTITY_FRAME(base + i))
			return PRIVATE;
	return IDENTITY;
}

/* The run of leaves from l (below end) that are shared and not of kind @keep. */
static void batch_collect(const struct xmm_p2m *p, struct batch *b, uint64_t l, uint64_t end,
			  enum kind keep)
{
	b->first = l;
	b->n = 0;
	for (; l < end && b->n < BATCH; l++) {
		enum kind k = kind_of(p, l);

		if (k == PRIVATE || k == keep)
			break;
		b->kind[b->n++] = (uint8_t)k;
	}
}

/* Outside the lock: back the leaves with memory holding the values they have now. */
static int batch_prepare(struct xmm_p2m *p, struct batch *b)
{
	return P2M_BACKEND(p, prepare, p, b);
}

/* Under the lock, the generation odd: publish the copies. */
static void batch_commit(struct xmm_p2m *p, struct batch *b)
{
	for (unsigned int i = 0; i < b->n; i++) {
		uint64_t l = b->first + i;
		enum kind k = kind_of(p, l);

		if (k == PRIVATE)
			continue; /* another writer installed it meanwhile */
		/* Shared kinds change only in clear/set_identity, which exclude writers. */
		XMM_ASSERT(k == b->kind[i]);
		P2M_BACKEND(p, publish, p, l, k, b, i);
		if (k == IDENTITY)
			counter_add(&p->identity_leaves, -1);
		counter_add(&p->leaves, 1);
	}
}

/* After commit or instead of it: free the copies that were not published. */
static void batch_release(struct xmm_p2m *p, struct batch *b)
{
	P2M_BACKEND(p, release, p, b);
}

/* Make every leaf of [l, end) that is shared and not of kind @keep private. */
static int install_range(struct xmm_p2m *p, uint64_t l, uint64_t end, enum kind keep)
{
	struct batch b;
	int rc;

	while (l < end) {
		batch_collect(p, &b, l, end, keep);
		if (b.n == 0) {
			l++;
			continue;
		}
		rc = batch_prepare(p, &b);
		if (rc)
			return rc;
		lock(p);
		gen_begin(p);
		batch_commit(p, &b);
		gen_end(p);
		unlock(p);
		batch_release(p, &b);
		l = b.first + b.n;
	}
	return 0;
}

/* ---- set ------------------------------------------------------------------ */

int xmm_p2m_set_range(struct xmm_p2m *p, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n)
{
	uint64_t l0, l1;
	enum kind keep;
	int rc;

	if (n == 0)
		return 0;
	if (pfn >= p->head.max_pfn || n > p->head.max_pfn - pfn)
		return XMM_ERANGE;
	if (n - 1 > XMM_INVALID_MFN - mfn)
		return XMM_EOVERFLOW;
	/* Values that are what a shared leaf already holds need no private leaf there. */
	keep = mfn == XMM_INVALID_MFN ? HOLE : mfn == XMM_IDENTITY_FRAME(pfn) ? IDENTITY : PRIVATE;
	l0 = pfn >> LEAF_SHIFT;
	l1 = ((pfn + n - 1) >> LEAF_SHIFT) + 1;
	rc = install_range(p, l0, l1, keep);
	if (rc)
		return rc; /* only installs happened: no value changed */
	for (uint64_t l = l0; l < l1; l++) {
		xmm_pfn_t base = l << LEAF_SHIFT;
		xmm_pfn_t from = pfn > base ? pfn : base;
		xmm_pfn_t to = pfn + n < base + LEAF_ENTRIES ? pfn + n : base + LEAF_ENTRIES;
		uint64_t *w;

		if (kind_of(p, l) != PRIVATE) {
			XMM_ASSERT(keep != PRIVATE);
			continue; /* a shared leaf of the values' kind */
		}
		w = leaf_words(p, l);
		for (xmm_pfn_t x = from; x < to; x++)
			xmm_pr_store_relaxed_64(&w[x - base], entry_encode(p, mfn + (x - pfn)));
	}
	return 0;
}

int xmm_p2m_set(struct xmm_p2m *p, xmm_pfn_t pfn, xmm_mfn_t mfn)
{
	if (pfn >= p->head.max_pfn)
		return XMM_ERANGE;
	if (XMM_LIKELY(kind_of(p, pfn >> LEAF_SHIFT) == PRIVATE)) {
		xmm_pr_store_relaxed_64(&leaf_words(p, pfn >> LEAF_SHIFT)[pfn & (LEAF_ENTRIES - 1)],
					entry_encode(p, mfn));
		return 0;
	}
	return xmm_p2m_set_range(p, pfn, mfn, 1);
}

/* ---- give back: clear and set_identity ----------------------------------- */

/* Under the lock, the generation odd: leaf l becomes the shared leaf of @kind. */
static void make_shared(struct xmm_p2m *p, uint64_t l, enum kind kind, struct giveback *g)
{
	enum kind k = kind_of(p, l);

	if (k == kind)
		return;
	P2M_BACKEND(p, unshare, p, l, k, kind, g);
	if (k == PRIVATE)
		counter_add(&p->leaves, -1);
	if (k == IDENTITY)
		counter_add(&p->identity_leaves, -1);
	if (kind == IDENTITY)
		counter_add(&p->identity_leaves, 1);
}

static inline bool covers(const struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end, uint64_t l)
{
	xmm_pfn_t base = l << LEAF_SHIFT;

	return start <= base && end >= base + leaf_len(p, l);
}

/* [start, end) becomes @kind (HOLE or IDENTITY). Callers exclude every other mutation. */
static int fill_shared(struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end, enum kind kind)
{
	uint64_t l0 = start >> LEAF_SHIFT, l1 = ((end - 1) >> LEAF_SHIFT) + 1;
	struct batch ends[2];
	struct giveback g = { 0, 0, false, NULL, NULL };
	unsigned int nends = 0;
	int rc = 0;

	/*
	 * Outside the lock, everything that can fail: private copies of the partly
	 * covered end leaves that are shared of the other kind, and what the
	 * backend needs to give leaves back (portable: room to queue them).
	 */
	for (unsigned int i = 0; i < (l1 - 1 > l0 ? 2u : 1u); i++) {
		uint64_t e = i ? l1 - 1 : l0;
		enum kind k = kind_of(p, e);

		if (covers(p, start, end, e) || k == PRIVATE || k == kind)
			continue;
		ends[nends].first = e;
		ends[nends].n = 1;
		ends[nends].kind[0] = (uint8_t)k;
		rc = batch_prepare(p, &ends[nends]);
		if (rc)
			goto fail;
		nends++;
	}
	rc = P2M_BACKEND(p, giveback_begin, p, l0, l1, kind, nends, &g);
	if (rc)
		goto fail;

	lock(p);
	gen_begin(p);
	for (unsigned int i = 0; i < nends; i++)
		batch_commit(p, &ends[i]);
	for (uint64_t l = l0; l < l1; l++) {
		xmm_pfn_t base = l << LEAF_SHIFT;
		bool was_private = kind_of(p, l) == PRIVATE;
		enum kind k;

		if (covers(p, start, end, l)) {
			make_shared(p, l, kind, &g);
		} else if (was_private) {
			leaf_fill(p, leaf_words(p, l), l, kind, (start > base ? start : base) - base,
				  (end < base + LEAF_ENTRIES ? end : base + LEAF_ENTRIES) - base);
			k = leaf_content(p, l);
			if (k != PRIVATE)
				make_shared(p, l, k, &g); /* I4 */
		} /* else: already the shared leaf of @kind */
		P2M_BACKEND(p, giveback_next, p, &g, l, was_private);
	}
	P2M_BACKEND(p, giveback_locked_end, p, &g);
	gen_end(p);
	unlock(p);
	P2M_BACKEND(p, giveback_end, p, &g);
	for (unsigned int i = 0; i < nends; i++)
		batch_release(p, &ends[i]);
	return 0;

fail:
	/* Nothing was published: give the prepared memory back. */
	while (nends--)
		P2M_BACKEND(p, unprepare, p, &ends[nends]);
	return rc;
}

static int check_span(const struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end)
{
	if (start > end)
		return XMM_EINVAL;
	if (end > p->head.max_pfn)
		return XMM_ERANGE;
	return 0;
}

int xmm_p2m_set_identity(struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end)
{
	int rc = check_span(p, start, end);

	if (rc || start == end)
		return rc;
	return fill_shared(p, start, end, IDENTITY);
}

int xmm_p2m_clear(struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end)
{
	int rc = check_span(p, start, end);

	if (rc || start == end)
		return rc;
	return fill_shared(p, start, end, HOLE);
}

/* The exported get, for callers without <xmm/static/p2m.h> (the parentheses keep its macro off). */
xmm_mfn_t(xmm_p2m_get)(const struct xmm_p2m *p, xmm_pfn_t pfn)
{
	return xmm_p2m_get_inline(p, pfn);
}
