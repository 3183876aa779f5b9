/* SPDX-License-Identifier: MIT */
/*
 * The portable backend of the sparse p2m (p2m_backend.h): a directory of
 * leaf pointers, one per leaf, each the shared hole leaf, the shared
 * identity leaf or a private page. No VM tricks, for any host. A private
 * leaf given back is unpublished under the lock and freed after a grace
 * period (gets may still read every word of it).
 */
#include "p2m_backend.h"

/* One object, so that no linker can fold the two leaves into one. */
#define R8(x) x, x, x, x, x, x, x, x
#define R512(x) R8(R8(R8(x)))
const uint64_t xmm_p2m_shared_leaves[2][XMM_P2M_LEAF_ENTRIES] XMM_ALIGNED(XMM_PAGE_SIZE) = {
	{ R512(XMM_INVALID_MFN) },
	{ R512(XMM_INVALID_MFN) },
};

size_t xmm_p2m_portable_tail_bytes(uint64_t nleaves)
{
	return nleaves * sizeof(const uint64_t *);
}

int xmm_p2m_portable_init(struct xmm_p2m *p)
{
	for (uint64_t l = 0; l < p->nleaves; l++)
		slots(p)[l] = HOLE_LEAF;
	p->head.dir = slots_c(p);
	p->head.identity_leaf = IDENTITY_LEAF;
	return 0;
}

void xmm_p2m_portable_fini(struct xmm_p2m *p)
{
	for (uint64_t l = 0; l < p->nleaves; l++)
		if (slots(p)[l] != HOLE_LEAF && slots(p)[l] != IDENTITY_LEAF)
			xmm_pages_free((void *)(uintptr_t)slots(p)[l], 1);
}

int xmm_p2m_portable_prepare(struct xmm_p2m *p, struct batch *b)
{
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

void xmm_p2m_portable_publish(struct xmm_p2m *p, uint64_t l, enum kind k, struct batch *b,
			      unsigned int i)
{
	(void)k;
	/* Release pairs with the acquire loads of the slot in get and kind_of. */
	xmm_pr_store_release_ptr(&slots(p)[l], b->page[i]);
	b->page[i] = NULL;
}

void xmm_p2m_portable_release(struct xmm_p2m *p, struct batch *b)
{
	(void)p;
	for (unsigned int i = 0; i < b->n; i++)
		if (b->page[i])
			xmm_pages_free(b->page[i], 1);
}

void xmm_p2m_portable_unprepare(struct xmm_p2m *p, struct batch *b)
{
	xmm_p2m_portable_release(p, b);
}

/*
 * Leaves given back wait for a grace period in retire pages: the leaves
 * themselves cannot carry the link, since gets may still read every word of
 * them. The pages are allocated before the update, so that it cannot fail
 * halfway.
 */
struct xmm_p2m_retire {
	struct xmm_rcu_head head; /* first: the callback gets the page back from it */
	struct xmm_p2m_retire *next;
	uint64_t n;
	uint64_t *leaf[];
};
#define RETIRE_CAP ((XMM_PAGE_SIZE - sizeof(struct xmm_p2m_retire)) / sizeof(uint64_t *))

static void retire_run(struct xmm_rcu_head *h)
{
	struct xmm_p2m_retire *r = (struct xmm_p2m_retire *)(void *)h;

	for (uint64_t i = 0; i < r->n; i++) {
		__builtin_memset(r->leaf[i], XMM_P2M_POISON & 0xff, LEAF_BYTES);
		xmm_pages_free(r->leaf[i], 1);
	}
	xmm_pages_free(r, 1);
}

static void retire_free(struct xmm_p2m_retire *r)
{
	while (r) {
		struct xmm_p2m_retire *next = r->next;

		xmm_pages_free(r, 1);
		r = next;
	}
}

/* Room for every private leaf of [l0, l1) and @extra more (end leaves installed first). */
int xmm_p2m_portable_giveback_begin(struct xmm_p2m *p, uint64_t l0, uint64_t l1, enum kind kind,
				    uint64_t extra, struct giveback *g)
{
	uint64_t n = extra;

	(void)kind;
	for (uint64_t l = l0; l < l1; l++)
		n += kind_of(p, l) == PRIVATE;
	g->retire = NULL;
	for (uint64_t room = 0; room < n; room += RETIRE_CAP) {
		struct xmm_p2m_retire *r = xmm_pages_alloc(1);

		if (!r) {
			retire_free(g->retire);
			g->retire = NULL;
			return XMM_ENOMEM;
		}
		r->next = g->retire;
		r->n = 0;
		g->retire = r;
	}
	g->fill = g->retire;
	return 0;
}

void xmm_p2m_portable_unshare(struct xmm_p2m *p, uint64_t l, enum kind k, enum kind kind,
			      struct giveback *g)
{
	const uint64_t *old = slots(p)[l];

	/* Release pairs with the acquire load of the slot in get. */
	xmm_pr_store_release_ptr(&slots(p)[l],
				 (void *)(uintptr_t)(kind == IDENTITY ? IDENTITY_LEAF : HOLE_LEAF));
	if (k != PRIVATE)
		return;
	/* giveback_begin gave room for every private leaf of the range. */
	XMM_ASSERT(g->fill);
	if (g->fill->n == RETIRE_CAP)
		g->fill = g->fill->next;
	XMM_ASSERT(g->fill && g->fill->n < RETIRE_CAP);
	g->fill->leaf[g->fill->n++] = (uint64_t *)(uintptr_t)old;
}

void xmm_p2m_portable_giveback_next(struct xmm_p2m *p, struct giveback *g, uint64_t l,
				    bool was_private)
{
	(void)p;
	(void)g;
	(void)l;
	(void)was_private;
}

void xmm_p2m_portable_giveback_locked_end(struct xmm_p2m *p, struct giveback *g)
{
	(void)p;
	(void)g;
}

/* After the update, outside the lock: queue the pages that hold leaves, free the rest. */
void xmm_p2m_portable_giveback_end(struct xmm_p2m *p, struct giveback *g)
{
	struct xmm_p2m_retire *r = g->retire;

	(void)p;
	while (r) {
		struct xmm_p2m_retire *next = r->next;

		if (r->n)
			xmm_rcu_call(&r->head, retire_run);
		else
			xmm_pages_free(r, 1);
		r = next;
	}
	g->retire = g->fill = NULL;
}
