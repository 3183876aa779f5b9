/* SPDX-License-Identifier: MIT */
/*
 * xmm/p2m.h - sparse linear pfn-to-mfn map (seed 004).
 *
 * A guest of up to max_pfn frames; each pfn maps to an mfn, to a hole
 * (XMM_INVALID_MFN) or to itself (XMM_IDENTITY_FRAME(pfn), e.g. a PCI hole of
 * a PV dom0). Entries are grouped in leaves of 512 (one 4 KiB page, 2 MiB of
 * guest). A leaf that is all hole or all identity costs no memory: it is a
 * shared leaf. The first write into a shared leaf installs a private one.
 * xmm_p2m_get is an inline bounds check plus one load (linear) or two loads
 * (portable), never faults and never allocates.
 *
 * Backends (the flags of create/init):
 *
 *   XMM_P2M_LINEAR    the entries are one virtual range, indexed by pfn. The
 *                     platform reserves it (xmm_vm_reserve): untouched pages
 *                     read as zero at no cost, so an entry holds the
 *                     complement of its mfn and all-zero is a hole. A side
 *                     bitmap, read only when an entry is zero, says which
 *                     leaves are identity; it and a bitmap of the private
 *                     leaves follow the entries in the same reserved range,
 *                     so they too cost nothing until a bit of theirs is set
 *                     (one 4 KiB page per 2^15 leaves, 64 GiB of guest, that
 *                     has had an identity or private leaf). Installing a leaf is populating
 *                     its page (xmm_vm_populate); giving it back is
 *                     discarding it (xmm_vm_discard). In user space that is
 *                     one MAP_NORESERVE range, MADV_POPULATE_WRITE and
 *                     MADV_DONTNEED; a kernel maps its zero page into hole
 *                     leaves and a fresh page on populate. Whole 1 GiB holes
 *                     cost no page, not even one of the map's own; reading a
 *                     hole costs the host a page-table entry that maps the
 *                     shared zero page (4 KiB of page table per 1 GiB of
 *                     guest once all of it has been read).
 *   XMM_P2M_PORTABLE  a 2-level table for hosts without VM tricks: a
 *                     directory of one leaf pointer per 512 pfns (8 bytes per
 *                     2 MiB of max_pfn, in the object) whose hole slots point
 *                     at one of two shared read-only leaves, invalid or
 *                     identity (told apart by address on the hole path).
 *                     Leaves come from xmm_pages_alloc.
 *
 * Values. set stores any 64-bit value and get returns it; XMM_INVALID_MFN is
 * a hole and XMM_IDENTITY_FRAME(pfn) is identity, whichever way they were
 * written. Out-of-range pfns: get returns XMM_INVALID_MFN, mutations return
 * XMM_ERANGE. A mutation that returns XMM_ENOMEM has changed no entry. Caller
 * errors cost the same in release and debug builds: an error code and no change.
 *
 * Memory. set and set_range only install leaves (a set of XMM_INVALID_MFN
 * leaves a hole in a private leaf). clear and set_identity give leaves back:
 * a leaf they cover entirely becomes the shared leaf, and a private leaf
 * they touch that ends up all hole or all identity is given back too. A
 * linear leaf goes back at once (discarded); a portable one is unpublished
 * and freed after an RCU grace period (xmm_rcu_call), filled with
 * XMM_P2M_POISON first so that a get breaking the read-side rule below sees
 * an impossible value rather than a plausible stale one.
 *
 * Read-side rule (portable only). A portable get dereferences a leaf
 * pointer, and clear/set_identity may free that leaf. A get that may run
 * concurrently with clear or set_identity must be inside
 * xmm_rcu_read_lock()/xmm_rcu_read_unlock() (hold one section over a batch
 * of gets); no other get needs anything. Linear gets never touch freed
 * memory (the range stays reserved until fini, a discarded leaf reads as
 * zero) and need no protection at all.
 *
 * Concurrency (which pairs of calls need external synchronization):
 *
 *                  get  set  set_range  set_identity  clear  stats  generation
 *   get             -    -      -           R           R      -        -
 *   set             -    -      -           X           X      -        -
 *   set_range       -    -      -           X           X      -        -
 *   set_identity    R    X      X           X           X      -        -
 *   clear           R    X      X           X           X      -        -
 *   stats           -    -      -           -           -      -        -
 *   init/fini     every call on the map must be ordered after init and before fini
 *
 *   -  may run concurrently. Sets of the same pfn: one of the values wins; two
 *      writers into one shared leaf both keep their entries (installation is
 *      serialized by an internal lock, allocation happens outside it).
 *   R  portable backend only: the get must be in an RCU read-side section.
 *   X  must not overlap: clear and set_identity remove leaves, so the caller
 *      serializes them against every other mutation of the map (a VMM's
 *      memory-map lock, say). Gets run beside them.
 *
 * Ordering guarantees
 *   - A get concurrent with a mutation of its pfn returns the old or the new
 *     value, never a mix: entries are single 64-bit atomic accesses.
 *   - A private leaf is published with a release store (the directory slot,
 *     or the identity-bit word of a linear leaf that was identity) after its
 *     contents; gets read the slot with acquire.
 *   - The generation counter is odd while a structural update (installing,
 *     giving back or retyping leaves) is in progress: a set/set_range makes it
 *     odd once per run of leaves it installs, a clear/set_identity once for
 *     its whole update. An external reader (e.g. a toolstack copying the
 *     map's structure) brackets its reads with
 *       g = xmm_p2m_generation(p);  ...reads...;  if (xmm_p2m_generation_changed(p, g)) retry;
 *     Entry values written into private leaves do not change the generation.
 *
 * Invariants (checked by XMM_ASSERT where cheap)
 *   I1  a linear leaf with its identity bit set is not private: all its
 *       entries read zero; a private leaf's zero entries are holes.
 *   I2  a portable slot points at the invalid leaf, the identity leaf or a
 *       private leaf that no other slot points at; shared leaves are never
 *       written.
 *   I3  stats.leaves counts private leaves, stats.identity_leaves shared
 *       identity leaves; both change only with the generation odd.
 *   I4  after a clear or set_identity, no private leaf in its range is all
 *       hole or all identity.
 */
#ifndef XMM_P2M_H
#define XMM_P2M_H

#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_p2m;

/* Backends: the flags of xmm_p2m_create/size/init. */
#define XMM_P2M_LINEAR 0x0u   /* one virtual range (needs the platform's xmm_vm_* hooks) */
#define XMM_P2M_PORTABLE 0x1u /* 2-level table, no VM tricks */

/* A leaf: 512 entries, one page, 2 MiB of guest. */
#define XMM_P2M_LEAF_SHIFT 9
#define XMM_P2M_LEAF_ENTRIES (1u << XMM_P2M_LEAF_SHIFT)

/* Largest max_pfn: 2^40 frames, 4 PiB of guest. */
#define XMM_P2M_MAX_PFN (1ULL << 40)

/* What a freed portable leaf is filled with before it goes back to the platform. */
#define XMM_P2M_POISON 0x6b6b6b6b6b6b6b6bULL

/* Alignment the object's memory must have. */
#define XMM_P2M_ALIGN XMM_CACHELINE

struct xmm_p2m_stats {
	xmm_pfn_t max_pfn;
	unsigned int backend;     /* XMM_P2M_LINEAR or XMM_P2M_PORTABLE */
	uint64_t leaves;          /* private leaves, one page each */
	uint64_t identity_leaves; /* leaves that are the shared identity leaf */
	uint64_t bytes;           /* memory the map holds: the object and its private leaves
				   * (not the host's page tables, nor leaves awaiting a grace period) */
	uint64_t generation;
};

/* Bytes of caller memory for a map; 0 if max_pfn is 0 or above XMM_P2M_MAX_PFN, or flags unknown. */
size_t xmm_p2m_size(xmm_pfn_t max_pfn, unsigned int flags);

/*
 * Initialize a map of holes in caller memory of xmm_p2m_size() bytes aligned
 * to XMM_P2M_ALIGN. Returns 0; XMM_EINVAL for a bad argument or misaligned
 * memory; for XMM_P2M_LINEAR, XMM_ENOMEM or XMM_ENOTSUP from xmm_vm_reserve.
 */
int xmm_p2m_init(struct xmm_p2m *p, xmm_pfn_t max_pfn, unsigned int flags);

/* Free the leaves and the range; nothing may use the map any more. */
void xmm_p2m_fini(struct xmm_p2m *p);

/* pfn -> mfn. Errors: XMM_ERANGE (pfn >= max_pfn), XMM_ENOMEM (no leaf could be installed). */
int xmm_p2m_set(struct xmm_p2m *p, xmm_pfn_t pfn, xmm_mfn_t mfn);

/*
 * pfn + i -> mfn + i for i < n. n == 0 does nothing. XMM_ERANGE if the range
 * passes max_pfn, XMM_EOVERFLOW if mfn + n - 1 wraps past XMM_INVALID_MFN.
 * On XMM_ENOMEM no entry has changed; leaves installed before the failure
 * stay (holding what the shared leaf held) until a clear or set_identity.
 */
int xmm_p2m_set_range(struct xmm_p2m *p, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n);

/*
 * [start, end) -> identity, or back to holes. start == end does nothing;
 * XMM_EINVAL if start > end, XMM_ERANGE if end > max_pfn. XMM_ENOMEM (a
 * partly covered shared leaf of the other kind needs a private copy, or
 * there is no memory to queue freed leaves) changes nothing at all.
 */
int xmm_p2m_set_identity(struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end);
int xmm_p2m_clear(struct xmm_p2m *p, xmm_pfn_t start, xmm_pfn_t end);

/* A snapshot of the counters; exact when no mutation runs. */
void xmm_p2m_stats(const struct xmm_p2m *p, struct xmm_p2m_stats *st);

/* The generation (acquire): odd while a structural update is in progress. */
uint64_t xmm_p2m_generation(const struct xmm_p2m *p);

/* Whether reads made since xmm_p2m_generation returned @g may have seen a structural update. */
bool xmm_p2m_generation_changed(const struct xmm_p2m *p, uint64_t g);

/*
 * pfn -> mfn: XMM_INVALID_MFN for a hole or pfn >= max_pfn,
 * XMM_IDENTITY_FRAME(pfn) for identity. Lock-free, never faults, never
 * allocates; beside a set of the same pfn it returns the old or the new value.
 * This is the out-of-line form; <xmm/static/p2m.h> makes calls inline (a
 * bounds check and one load), for code that has <xmm_platform.h>.
 */
xmm_mfn_t xmm_p2m_get(const struct xmm_p2m *p, xmm_pfn_t pfn);

#ifdef __cplusplus
}
#endif

#endif /* XMM_P2M_H */
