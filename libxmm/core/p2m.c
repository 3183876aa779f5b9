/* SPDX-License-Identifier: MIT */
/*
 * Sparse linear p2m map: see xmm/p2m.h for the contract.
 *
 * Layout (one block of caller memory, xmm_p2m_size() bytes):
 *
 *   line 0   struct xmm_p2m_head: what the inline get reads, written by init only
 *   line 1   the writers' line: lock, generation, counters
 *   tail     portable: the directory, one leaf pointer per leaf
 *            linear:   identity_bits, then private_bits, one bit per leaf each
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
 *
 * The linear hole path. An entry reads zero for a hole, for any entry of an
 * untouched identity leaf, and in the window where a leaf changes kind. The
 * kind changes are ordered so that reading the identity word (acquire) and
 * then the entry again gives an old or new value:
 *   identity -> private   fill the identity values, then clear the bit (release):
 *                         a reader that sees the bit clear sees the fill.
 *   private  -> identity  set the bit (release), then discard: a reader that
 *                         reads the zero page sees the bit (xmm_vm_discard).
 *   hole <-> identity     flip the bit; every entry is zero throughout.
 *   private  -> hole      discard; the bit stays clear throughout.
 */
#include <xmm/errno.h>
#include <xmm/p2m.h>
#include <xmm/platform.h>

#include "utils.h"

#define LEAF_SHIFT XMM_P2M_LEAF_SHIFT
#define LEAF_ENTRIES ((uint64_t)XMM_P2M_LEAF_ENTRIES)
#define LEAF_BYTES (LEAF_ENTRIES * sizeof(uint64_t))

_Static_assert(LEAF_BYTES == XMM_PAGE_SIZE, "a leaf is one page");
_Static_assert(sizeof(struct xmm_p2m_head) <= XMM_CACHELINE, "get reads one cache line");
_Static_assert(XMM_P2M_POISON == (XMM_P2M_POISON & 0xff) * 0x0101010101010101ULL,
	       "the poison is one byte repeated");

enum kind { HOLE, IDENTITY, PRIVATE };

struct xmm_p2m {
	struct xmm_p2m_head head; /* line 0 */
	/* line 1: written by writers only */
	uint64_t lock XMM_ALIGNED(XMM_CACHELINE); /* serializes structural updates */
	uint64_t generation;
	uint64_t leaves;          /* private leaves */
	uint64_t identity_leaves; /* shared identity leaves */
	uint64_t nleaves;
	uint64_t flip;            /* stored entry = mfn ^ flip: ~0 linear, 0 portable */
	uint64_t *identity_bits;  /* linear; head.identity_bits is the same words */
	uint64_t *private_bits;   /* linear */
	size_t size;
	/* the directory or the bitmaps follow, on their own cache line */
	uint64_t tail[] XMM_ALIGNED(XMM_CACHELINE);
};

/*
 * The two shared leaves, all XMM_INVALID_MFN (the identity leaf is told apart
 * by its address): one object, so that no linker can fold them into one.
 */
#define R8(x) x, x, x, x, x, x, x, x
#define R512(x) R8(R8(R8(x)))
static const uint64_t shared_leaves[2][XMM_P2M_LEAF_ENTRIES] XMM_ALIGNED(XMM_PAGE_SIZE) = {
	{ R512(XMM_INVALID_MFN) },
	{ R512(XMM_INVALID_MFN) },
};
#define HOLE_LEAF (shared_leaves[HOLE])
#define IDENTITY_LEAF (shared_leaves[IDENTITY])


static inline bool linear(const struct xmm_p2m *p)
{
	return p->head.backend == XMM_P2M_LINEAR;
}

static inline uint64_t nleaves_of(xmm_pfn_t max_pfn)
{
	return (max_pfn + LEAF_ENTRIES - 1) >> LEAF_SHIFT;
}

/* Bytes of one bitmap of the linear backend, padded to a cache line. */
static inline size_t bitmap_bytes(uint64_t nleaves)
{
	return xmm_line_up((nleaves + 63) / 64 * sizeof(uint64_t));
}

static inline const uint64_t **slots(struct xmm_p2m *p)
{
	return (const uint64_t **)(void *)p->tail;
}

static inline const uint64_t *const *slots_c(const struct xmm_p2m *p)
{
	return (const uint64_t *const *)(const void *)p->tail;
}

/* ---- size, init, fini ---------------------------------------------------- */

size_t xmm_p2m_size(xmm_pfn_t max_pfn, unsigned int flags)
{
	uint64_t n = nleaves_of(max_pfn);

	if (max_pfn == 0 || max_pfn > XMM_P2M_MAX_PFN || (flags & ~XMM_P2M_PORTABLE))
		return 0;
	if (flags & XMM_P2M_PORTABLE)
		return xmm_line_up(sizeof(struct xmm_p2m) + n * sizeof(const uint64_t *));
	return sizeof(struct xmm_p2m) + 2 * bitmap_bytes(n);
}

int xmm_p2m_init(struct xmm_p2m *p, xmm_pfn_t max_pfn, unsigned int flags)
{
	size_t size = xmm_p2m_size(max_pfn, flags);
	uint64_t n = nleaves_of(max_pfn);
	void *va;
	int rc;

	if (!p || size == 0 || ((uintptr_t)p & (XMM_P2M_ALIGN - 1)))
		return XMM_EINVAL;
	__builtin_memset(p, 0, sizeof(*p));
	p->head.max_pfn = max_pfn;
	p->head.backend = flags & XMM_P2M_PORTABLE;
	p->nleaves = n;
	p->size = size;
	if (flags & XMM_P2M_PORTABLE) {
		for (uint64_t l = 0; l < n; l++)
			slots(p)[l] = HOLE_LEAF;
		p->head.dir = slots_c(p);
		p->head.identity_leaf = IDENTITY_LEAF;
		return 0;
	}
	p->flip = ~0ULL;
	p->identity_bits = p->tail;
	p->private_bits = (uint64_t *)(void *)((char *)p->tail + bitmap_bytes(n));
	__builtin_memset(p->tail, 0, 2 * bitmap_bytes(n));
	rc = xmm_vm_reserve(n * LEAF_BYTES, &va);
	if (rc)
		return rc;
	p->head.entries = va;
	p->head.linear_max = max_pfn;
	p->head.identity_bits = p->identity_bits;
	return 0;
}

void xmm_p2m_fini(struct xmm_p2m *p)
{
	if (linear(p)) {
		xmm_vm_release(p->head.entries, p->nleaves * LEAF_BYTES);
		return;
	}
	for (uint64_t l = 0; l < p->nleaves; l++)
		if (slots(p)[l] != HOLE_LEAF && slots(p)[l] != IDENTITY_LEAF)
			xmm_pages_free((void *)(uintptr_t)slots(p)[l], 1);
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

/* Under the lock, with the generation odd. Release: pairs with the acquire loads in stats. */
static void counter_add(uint64_t *c, int64_t d)
{
	xmm_counter_add_release(c, (uint64_t)d);
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
	/* Acquire pairs with the release stores in counter_add. */
	st->leaves = xmm_pr_load_acquire_64(&p->leaves);
	st->identity_leaves = xmm_pr_load_acquire_64(&p->identity_leaves);
	st->bytes = p->size + st->leaves * LEAF_BYTES;
	st->generation = xmm_p2m_generation(p);
}

/* ---- leaves -------------------------------------------------------------- */

static inline bool bit_test(const uint64_t *words, uint64_t i, bool acquire)
{
	uint64_t w = acquire ? xmm_pr_load_acquire_64(&words[i / 64])
			     : xmm_pr_load_relaxed_64(&words[i / 64]);

	return (w >> (i % 64)) & 1;
}

/* Under the lock (the only writer of the bitmaps). Release: what the writer did
 * to the leaf before is visible to whoever acquires the word and sees the bit. */
static void bit_assign(uint64_t *words, uint64_t i, bool v)
{
	uint64_t w = xmm_pr_load_relaxed_64(&words[i / 64]), m = 1ULL << (i % 64);

	xmm_pr_store_release_64(&words[i / 64], v ? w | m : w & ~m);
}

static enum kind kind_of(const struct xmm_p2m *p, uint64_t l)
{
	const uint64_t *leaf;

	if (linear(p)) {
		/* Acquire pairs with bit_assign in batch_commit: a setter that sees the
		 * leaf private stores after the installer's identity fill. */
		if (bit_test(p->private_bits, l, true))
			return PRIVATE;
		return bit_test(p->identity_bits, l, false) ? IDENTITY : HOLE;
	}
	/* Acquire pairs with the release store that published the leaf (batch_commit). */
	leaf = xmm_pr_load_acquire_ptr(&slots_c(p)[l]);
	return leaf == HOLE_LEAF ? HOLE : leaf == IDENTITY_LEAF ? IDENTITY : PRIVATE;
}

/* The stored words of a private leaf. */
static uint64_t *leaf_words(struct xmm_p2m *p, uint64_t l)
{
	if (linear(p))
		return &p->head.entries[l << LEAF_SHIFT];
	return (uint64_t *)(uintptr_t)xmm_pr_load_acquire_ptr(&slots(p)[l]);
}

/* Entries of leaf l below max_pfn. */
static inline uint64_t leaf_len(const struct xmm_p2m *p, uint64_t l)
{
	uint64_t left = p->head.max_pfn - (l << LEAF_SHIFT);

	return left < LEAF_ENTRIES ? left : LEAF_ENTRIES;
}

/* Store the values of the shared leaf of @kind into words [from, to) of leaf l.
 * Single atomic stores: gets may be reading them. */
static void leaf_fill(const struct xmm_p2m *p, uint64_t *w, uint64_t l, enum kind kind,
		      uint64_t from, uint64_t to)
{
	xmm_pfn_t base = l << LEAF_SHIFT;

	for (uint64_t i = from; i < to; i++)
		xmm_pr_store_relaxed_64(&w[i], (kind == IDENTITY ? XMM_IDENTITY_FRAME(base + i)
								 : XMM_INVALID_MFN) ^ p->flip);
}

/* Whether private leaf l holds only holes or only identity entries (its own writer reads it). */
static enum kind leaf_content(struct xmm_p2m *p, uint64_t l)
{
	const uint64_t *w = leaf_words(p, l);
	xmm_pfn_t base = l << LEAF_SHIFT;
	uint64_t n = leaf_len(p, l), e = xmm_pr_load_relaxed_64(&w[0]) ^ p->flip;

	if (e == XMM_INVALID_MFN) {
		for (uint64_t i = 1; i < n; i++)
			if ((xmm_pr_load_relaxed_64(&w[i]) ^ p->flip) != XMM_INVALID_MFN)
				return PRIVATE;
		return HOLE;
	}
	if (e != XMM_IDENTITY_FRAME(base))
		return PRIVATE;
	for (uint64_t i = 1; i < n; i++)
		if ((xmm_pr_load_relaxed_64(&w[i]) ^ p->flip) != XMM_IDENTITY_FRAME(base + i))
			return PRIVATE;
	return IDENTITY;
}

/* ---- install: private copies of shared leaves ----------------------------- */

#define BATCH 32

/* A run of consecutive shared leaves to install, prepared outside the lock. */
struct batch {
	uint64_t first;
	unsigned int n;
	uint8_t kind[BATCH];     /* each leaf's shared kind when prepared */
	uint64_t *page[BATCH];   /* portable: the filled copies; NULL once published */
};

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

/*
 * Outside the lock: back the leaves with memory holding the values they have
 * now. A linear populate that fails halfway leaves pages backed but unused
 * (they read zero, as before); they are not discarded here, since another
 * setter may have installed and written one of them meanwhile. The next clear
 * or set_identity over them gives them back.
 */
static int batch_prepare(struct xmm_p2m *p, struct batch *b)
{
	if (linear(p))
		return xmm_vm_populate(&p->head.entries[b->first << LEAF_SHIFT], b->n * LEAF_BYTES);
	for (unsigned int i = 0; i < b->n; i++) {
		b->page[i] = xmm_pages_alloc(1);
		if (!b->page[i]) {
			while (i--)
				xmm_pages_free(b->page[i], 1);
			return XMM_ENOMEM;
		}
		leaf_fill(p, b->page[i], b->first + i, (enum kind)b->kind[i], 0, LEAF_ENTRIES);
	}
	return 0;
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
		if (linear(p)) {
			if (k == IDENTITY) {
				/* I1: the identity values go in before the bit goes (see the hole path). */
				leaf_fill(p, &p->head.entries[l << LEAF_SHIFT], l, IDENTITY, 0,
					  LEAF_ENTRIES);
				bit_assign(p->identity_bits, l, false);
			}
			bit_assign(p->private_bits, l, true);
		} else {
			/* Release pairs with the acquire loads of the slot in get and kind_of. */
			xmm_pr_store_release_ptr(&slots(p)[l], b->page[i]);
			b->page[i] = NULL;
		}
		if (k == IDENTITY)
			counter_add(&p->identity_leaves, -1);
		counter_add(&p->leaves, 1);
	}
}

/* After commit or instead of it: free the copies that were not published. */
static void batch_release(struct xmm_p2m *p, struct batch *b)
{
	if (linear(p))
		return;
	for (unsigned int i = 0; i < b->n; i++)
		if (b->page[i])
			xmm_pages_free(b->page[i], 1);
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
			xmm_pr_store_relaxed_64(&w[x - base], (mfn + (x - pfn)) ^ p->flip);
	}
	return 0;
}

int xmm_p2m_set(struct xmm_p2m *p, xmm_pfn_t pfn, xmm_mfn_t mfn)
{
	if (pfn >= p->head.max_pfn)
		return XMM_ERANGE;
	if (XMM_LIKELY(kind_of(p, pfn >> LEAF_SHIFT) == PRIVATE)) {
		xmm_pr_store_relaxed_64(&leaf_words(p, pfn >> LEAF_SHIFT)[pfn & (LEAF_ENTRIES - 1)],
					mfn ^ p->flip);
		return 0;
	}
	return xmm_p2m_set_range(p, pfn, mfn, 1);
}

/* ---- give back: clear and set_identity ----------------------------------- */

/*
 * Portable leaves given back wait for a grace period in retire pages: the
 * leaves themselves cannot carry the link, since gets may still read every
 * word of them. The pages are allocated before the update, so that it cannot
 * fail halfway.
 */
struct retire {
	struct xmm_rcu_head head; /* first: the callback gets the page back from it */
	struct retire *next;
	uint64_t n;
	uint64_t *leaf[];
};
#define RETIRE_CAP ((XMM_PAGE_SIZE - sizeof(struct retire)) / sizeof(uint64_t *))

static void retire_run(struct xmm_rcu_head *h)
{
	struct retire *r = (struct retire *)(void *)h;

	for (uint64_t i = 0; i < r->n; i++) {
		__builtin_memset(r->leaf[i], XMM_P2M_POISON & 0xff, LEAF_BYTES);
		xmm_pages_free(r->leaf[i], 1);
	}
	xmm_pages_free(r, 1);
}

static void retire_free(struct retire *r)
{
	while (r) {
		struct retire *next = r->next;

		xmm_pages_free(r, 1);
		r = next;
	}
}

/* Room for n leaves. */
static int retire_reserve(struct retire **list, uint64_t n)
{
	*list = NULL;
	for (uint64_t room = 0; room < n; room += RETIRE_CAP) {
		struct retire *r = xmm_pages_alloc(1);

		if (!r) {
			retire_free(*list);
			*list = NULL;
			return XMM_ENOMEM;
		}
		r->next = *list;
		r->n = 0;
		*list = r;
	}
	return 0;
}

/* After the update, outside the lock: queue the pages that hold leaves, free the rest. */
static void retire_submit(struct retire *r)
{
	while (r) {
		struct retire *next = r->next;

		if (r->n)
			xmm_rcu_call(&r->head, retire_run);
		else
			xmm_pages_free(r, 1);
		r = next;
	}
}

/*
 * What a give-back pass accumulates. Linear: the run of leaves, ending at the
 * current one, that are shared after the update, and whether one of them was
 * private. Every shared leaf reads all zero and no other writer runs (the
 * callers' exclusion), so one discard may span the run: a whole clear costs
 * one TLB shootdown, not one per leaf. Portable: the retire page being filled.
 */
struct giveback {
	uint64_t discard_first, discard_n;
	bool discard_needed;
	struct retire *retire;
};

static void discard_flush(struct xmm_p2m *p, struct giveback *g)
{
	if (g->discard_needed)
		xmm_vm_discard(&p->head.entries[g->discard_first << LEAF_SHIFT],
			       g->discard_n * LEAF_BYTES);
	g->discard_n = 0;
	g->discard_needed = false;
}

/* Linear, after leaf l (the leaf after the run) was updated. */
static void discard_next(struct xmm_p2m *p, struct giveback *g, uint64_t l, bool was_private)
{
	if (kind_of(p, l) == PRIVATE) {
		discard_flush(p, g);
		return;
	}
	if (!g->discard_n)
		g->discard_first = l;
	g->discard_n++;
	g->discard_needed = g->discard_needed || was_private;
}

/* Under the lock, the generation odd: leaf l becomes the shared leaf of @kind. */
static void make_shared(struct xmm_p2m *p, uint64_t l, enum kind kind, struct giveback *g)
{
	enum kind k = kind_of(p, l);

	if (k == kind)
		return;
	if (linear(p)) {
		/* The bit now, the discard (discard_flush) later: it orders the bit for
		 * readers of the zero page. */
		if (kind == IDENTITY || k == IDENTITY)
			bit_assign(p->identity_bits, l, kind == IDENTITY);
		if (k == PRIVATE)
			bit_assign(p->private_bits, l, false);
	} else {
		const uint64_t *old = slots(p)[l];

		/* Release pairs with the acquire load of the slot in get. */
		xmm_pr_store_release_ptr(&slots(p)[l], (void *)(uintptr_t)(kind == IDENTITY
									    ? IDENTITY_LEAF
									    : HOLE_LEAF));
		if (k == PRIVATE) {
			/* retire_reserve gave room for every private leaf of the range. */
			XMM_ASSERT(g->retire);
			if (g->retire->n == RETIRE_CAP)
				g->retire = g->retire->next;
			XMM_ASSERT(g->retire && g->retire->n < RETIRE_CAP);
			g->retire->leaf[g->retire->n++] = (uint64_t *)(uintptr_t)old;
		}
	}
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
	struct giveback g = { 0, 0, false, NULL };
	struct retire *retire = NULL;
	unsigned int nends = 0;
	uint64_t retirees = 0;
	int rc = 0;

	/*
	 * Outside the lock, everything that can fail: private copies of the partly
	 * covered end leaves that are shared of the other kind, and room to queue
	 * the portable leaves that may be given back.
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
	if (!linear(p)) {
		for (uint64_t l = l0; l < l1; l++)
			retirees += kind_of(p, l) == PRIVATE;
		rc = retire_reserve(&retire, retirees + nends);
		if (rc)
			goto fail;
		g.retire = retire;
	}

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
		if (linear(p))
			discard_next(p, &g, l, was_private);
	}
	discard_flush(p, &g);
	gen_end(p);
	unlock(p);
	retire_submit(retire);
	for (unsigned int i = 0; i < nends; i++)
		batch_release(p, &ends[i]);
	return 0;

fail:
	/* Nothing was published: give the prepared memory back. */
	while (nends--) {
		if (linear(p))
			xmm_vm_discard(&p->head.entries[ends[nends].first << LEAF_SHIFT], LEAF_BYTES);
		batch_release(p, &ends[nends]);
	}
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

/* ---- the linear hole path -------------------------------------------------- */

xmm_mfn_t xmm_p2m_get_hole(const struct xmm_p2m *p, xmm_pfn_t pfn)
{
	uint64_t l = pfn >> LEAF_SHIFT, bits, e;

	XMM_ASSERT(pfn < p->head.max_pfn && linear(p));
	/*
	 * The entry read zero. Acquire pairs with bit_assign's release: if the bit
	 * reads clear after an identity -> private install, the entry read again
	 * below sees the identity fill that preceded it; if it reads set, a zero
	 * entry is identity whichever side of the change we are on.
	 */
	bits = xmm_pr_load_acquire_64(&p->head.identity_bits[l / 64]);
	e = xmm_pr_load_relaxed_64(&p->head.entries[pfn]);
	if (e)
		return ~e;
	return (bits >> (l % 64)) & 1 ? XMM_IDENTITY_FRAME(pfn) : XMM_INVALID_MFN;
}
