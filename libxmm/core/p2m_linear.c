/* SPDX-License-Identifier: MIT */
/*
 * The linear backend of the sparse p2m (p2m_backend.h): the entries of every
 * pfn are one virtual range from the platform's xmm_vm_* hooks, whose
 * untouched pages read zero at no memory cost; two bitmaps, one bit per
 * leaf, say which leaves are identity and which are private. The bitmaps
 * live in the same reservation, after the entries, so they too cost nothing
 * until a bit is set: a writer populates a bitmap page (outside the lock,
 * where it may fail) before it can set a bit in it. Bits are cleared only
 * where they were set, in pages already backed. (They were in the object's
 * tail, zeroed at init: 512 MiB resident for max_pfn 2^40 before any set.)
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

/* Bytes of one bitmap, padded to whole pages (it is mapped like the entries). */
static inline size_t bitmap_bytes(uint64_t nleaves)
{
	return ((nleaves + 63) / 64 * sizeof(uint64_t) + XMM_PAGE_SIZE - 1) &
	       ~(size_t)(XMM_PAGE_SIZE - 1);
}

/* The reservation: the entries, then the identity bitmap, then the private one. */
static inline size_t reserve_bytes(uint64_t nleaves)
{
	return nleaves * LEAF_BYTES + 2 * bitmap_bytes(nleaves);
}

/* Back the pages of @words holding the bits of leaves [l0, l1): outside the lock. */
static int bits_populate(uint64_t *words, uint64_t l0, uint64_t l1)
{
	uintptr_t a = (uintptr_t)&words[l0 / 64], b = (uintptr_t)&words[(l1 - 1) / 64 + 1];

	a &= ~(uintptr_t)(XMM_PAGE_SIZE - 1);
	b = (b + XMM_PAGE_SIZE - 1) & ~(uintptr_t)(XMM_PAGE_SIZE - 1);
	return xmm_vm_populate((void *)a, b - a);
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
	(void)nleaves;
	return 0; /* the bitmaps are in the reservation */
}

int xmm_p2m_linear_init(struct xmm_p2m *p)
{
	void *va;
	int rc;

	p->flip = ~0ULL;
	rc = xmm_vm_reserve(reserve_bytes(p->nleaves), &va);
	if (rc)
		return rc;
	p->identity_bits = (uint64_t *)(void *)((char *)va + p->nleaves * LEAF_BYTES);
	p->private_bits = (uint64_t *)(void *)((char *)p->identity_bits + bitmap_bytes(p->nleaves));
	p->head.entries = va;
	p->head.linear_max = p->head.max_pfn;
	p->head.identity_bits = p->identity_bits;
	return 0;
}

void xmm_p2m_linear_fini(struct xmm_p2m *p)
{
	xmm_vm_release(p->head.entries, reserve_bytes(p->nleaves));
}

/*
 * A populate that fails halfway leaves pages backed but unused (they read
 * zero, as before); they are not discarded here, since another setter may
 * have installed and written one of them meanwhile. The next clear or
 * set_identity over them gives them back.
 */
int xmm_p2m_linear_prepare(struct xmm_p2m *p, struct batch *b)
{
	int rc = xmm_vm_populate(&p->head.entries[b->first << LEAF_SHIFT], b->n * LEAF_BYTES);

	/* publish sets the leaves' private bits (identity bits it clears were set: backed). */
	return rc ? rc : bits_populate(p->private_bits, b->first, b->first + b->n);
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

/*
 * The identity bits that giving back may set: every leaf's for set_identity,
 * the two partly covered end leaves' for clear (a private end leaf whose
 * values become all identity goes back as identity, I4). Bits cleared were set.
 */
int xmm_p2m_linear_giveback_begin(struct xmm_p2m *p, uint64_t l0, uint64_t l1, enum kind kind,
				  uint64_t extra, struct giveback *g)
{
	int rc;

	(void)extra;
	(void)g;
	if (kind == IDENTITY)
		return bits_populate(p->identity_bits, l0, l1);
	rc = bits_populate(p->identity_bits, l0, l0 + 1);
	return rc ? rc : bits_populate(p->identity_bits, l1 - 1, l1);
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
