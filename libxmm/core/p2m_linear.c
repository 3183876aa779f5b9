/* SPDX-License-Identifier: MIT */
/*
 * The linear backend of the sparse p2m (p2m_backend.h): the entries of every
 * pfn are one virtual range from the platform's xmm_vm_* hooks, whose
 * untouched pages read zero at no memory cost; two bitmaps, one bit per
 * leaf, say which leaves are identity and which are private.
 *
 * The hole path. An entry reads zero for a hole, for any entry of an
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
#include "p2m_backend.h"

/* Bytes of one bitmap, padded to a cache line. */
static inline size_t bitmap_bytes(uint64_t nleaves)
{
	return xmm_line_up((nleaves + 63) / 64 * sizeof(uint64_t));
}

/* Under the lock (the only writer of the bitmaps). Release: what the writer did
 * to the leaf before is visible to whoever acquires the word and sees the bit. */
static void bit_assign(uint64_t *words, uint64_t i, bool v)
{
	uint64_t w = xmm_pr_load_relaxed_64(&words[i / 64]), m = 1ULL << (i % 64);

	xmm_pr_store_release_64(&words[i / 64], v ? w | m : w & ~m);
}

size_t xmm_p2m_linear_tail_bytes(uint64_t nleaves)
{
	return 2 * bitmap_bytes(nleaves);
}

int xmm_p2m_linear_init(struct xmm_p2m *p)
{
	void *va;
	int rc;

	p->flip = ~0ULL;
	p->identity_bits = p->tail;
	p->private_bits = (uint64_t *)(void *)((char *)p->tail + bitmap_bytes(p->nleaves));
	__builtin_memset(p->tail, 0, 2 * bitmap_bytes(p->nleaves));
	rc = xmm_vm_reserve(p->nleaves * LEAF_BYTES, &va);
	if (rc)
		return rc;
	p->head.entries = va;
	p->head.linear_max = p->head.max_pfn;
	p->head.identity_bits = p->identity_bits;
	return 0;
}

void xmm_p2m_linear_fini(struct xmm_p2m *p)
{
	xmm_vm_release(p->head.entries, p->nleaves * LEAF_BYTES);
}

/*
 * A populate that fails halfway leaves pages backed but unused (they read
 * zero, as before); they are not discarded here, since another setter may
 * have installed and written one of them meanwhile. The next clear or
 * set_identity over them gives them back.
 */
int xmm_p2m_linear_prepare(struct xmm_p2m *p, struct batch *b)
{
	return xmm_vm_populate(&p->head.entries[b->first << LEAF_SHIFT], b->n * LEAF_BYTES);
}

void xmm_p2m_linear_publish(struct xmm_p2m *p, uint64_t l, enum kind k, struct batch *b,
			    unsigned int i)
{
	(void)b;
	(void)i;
	if (k == IDENTITY) {
		/* I1: the identity values go in before the bit goes (the hole path). */
		leaf_fill(p, &p->head.entries[l << LEAF_SHIFT], l, IDENTITY, 0, LEAF_ENTRIES);
		bit_assign(p->identity_bits, l, false);
	}
	bit_assign(p->private_bits, l, true);
}

void xmm_p2m_linear_release(struct xmm_p2m *p, struct batch *b)
{
	(void)p;
	(void)b;
}

/* Nothing was published: the backed pages read their old values; give them back. */
void xmm_p2m_linear_unprepare(struct xmm_p2m *p, struct batch *b)
{
	xmm_vm_discard(&p->head.entries[b->first << LEAF_SHIFT], b->n * LEAF_BYTES);
}

int xmm_p2m_linear_giveback_begin(struct xmm_p2m *p, uint64_t l0, uint64_t l1, uint64_t extra,
				  struct giveback *g)
{
	(void)p;
	(void)l0;
	(void)l1;
	(void)extra;
	(void)g;
	return 0;
}

void xmm_p2m_linear_unshare(struct xmm_p2m *p, uint64_t l, enum kind k, enum kind kind,
			    struct giveback *g)
{
	(void)g;
	/* The bit now, the discard (giveback_next/locked_end) later: it orders the bit
	 * for readers of the zero page. */
	if (kind == IDENTITY || k == IDENTITY)
		bit_assign(p->identity_bits, l, kind == IDENTITY);
	if (k == PRIVATE)
		bit_assign(p->private_bits, l, false);
}

void xmm_p2m_linear_giveback_locked_end(struct xmm_p2m *p, struct giveback *g)
{
	if (g->discard_needed)
		xmm_vm_discard(&p->head.entries[g->discard_first << LEAF_SHIFT],
			       g->discard_n * LEAF_BYTES);
	g->discard_n = 0;
	g->discard_needed = false;
}

/* After leaf l (the leaf after the run) was updated: extend the run, or discard it. */
void xmm_p2m_linear_giveback_next(struct xmm_p2m *p, struct giveback *g, uint64_t l,
				  bool was_private)
{
	if (kind_of(p, l) == PRIVATE) {
		xmm_p2m_linear_giveback_locked_end(p, g);
		return;
	}
	if (!g->discard_n)
		g->discard_first = l;
	g->discard_n++;
	g->discard_needed = g->discard_needed || was_private;
}

void xmm_p2m_linear_giveback_end(struct xmm_p2m *p, struct giveback *g)
{
	(void)p;
	(void)g;
}

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
		return entry_decode(p, e);
	return (bits >> (l % 64)) & 1 ? XMM_IDENTITY_FRAME(pfn) : XMM_INVALID_MFN;
}
