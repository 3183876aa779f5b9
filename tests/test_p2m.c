/* SPDX-License-Identifier: MIT */
/*
 * Unit tests, the model-based test and the memory-accounting tests of the
 * p2m map (xmm/p2m.h), for both backends.
 *
 * Allocation failures are injected at link time: this executable is linked
 * with -Wl,--wrap=xmm_pages_alloc,--wrap=xmm_vm_populate, so the core's calls
 * to the platform go through the wrappers below first.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/p2m.h>

#include "common.h"

#define GiB_PFNS (1ULL << 18) /* pfns in 1 GiB */
#define LEAF XMM_P2M_LEAF_ENTRIES

/* ---- failure injection --------------------------------------------------- */

static long inject_countdown = -1; /* the call that finds it at 0 fails; -1: none */
static uint64_t inject_rate;       /* and 1 in inject_rate calls fail (0: none) */
static struct test_rng inject_rng;
static unsigned long injected, platform_calls;

static bool inject_now(void)
{
	platform_calls++;
	if (inject_countdown >= 0 && inject_countdown-- == 0) {
		injected++;
		return true;
	}
	if (inject_rate && test_rng_below(&inject_rng, inject_rate) == 0) {
		injected++;
		return true;
	}
	return false;
}

void *__real_xmm_pages_alloc(size_t npages);
void *__wrap_xmm_pages_alloc(size_t npages);
int __real_xmm_vm_populate(void *va, size_t bytes);
int __wrap_xmm_vm_populate(void *va, size_t bytes);

void *__wrap_xmm_pages_alloc(size_t npages)
{
	return inject_now() ? NULL : __real_xmm_pages_alloc(npages);
}

int __wrap_xmm_vm_populate(void *va, size_t bytes)
{
	return inject_now() ? XMM_ENOMEM : __real_xmm_vm_populate(va, bytes);
}

/* ---- helpers --------------------------------------------------------------- */

static const unsigned int backends[] = { XMM_P2M_LINEAR, XMM_P2M_PORTABLE };
static const char *const backend_name[] = { "linear", "portable" };

static struct xmm_p2m *new_map(xmm_pfn_t max_pfn, unsigned int flags)
{
	struct xmm_p2m *p = NULL;

	cr_assert_eq(xmm_p2m_create(&p, max_pfn, flags), 0, "create %s max_pfn %llu",
		     backend_name[flags], (unsigned long long)max_pfn);
	return p;
}

static struct xmm_p2m_stats stats(const struct xmm_p2m *p)
{
	struct xmm_p2m_stats st;

	xmm_p2m_stats(p, &st);
	return st;
}

#define ID(pfn) XMM_IDENTITY_FRAME(pfn)
#define INV XMM_INVALID_MFN

/* ---- size, init, create ----------------------------------------------------- */

Test(p2m, size_rejects_bad_arguments)
{
	cr_expect_eq(xmm_p2m_size(0, XMM_P2M_LINEAR), 0);
	cr_expect_eq(xmm_p2m_size(XMM_P2M_MAX_PFN + 1, XMM_P2M_LINEAR), 0);
	cr_expect_eq(xmm_p2m_size(XMM_P2M_MAX_PFN + 1, XMM_P2M_PORTABLE), 0);
	cr_expect_eq(xmm_p2m_size(100, 0x2), 0);
	cr_expect_gt(xmm_p2m_size(1, XMM_P2M_LINEAR), 0);
	cr_expect_gt(xmm_p2m_size(1, XMM_P2M_PORTABLE), 0);
	cr_expect_gt(xmm_p2m_size(XMM_P2M_MAX_PFN, XMM_P2M_LINEAR), 0);
	/* The portable directory is 8 bytes per leaf: 4 MiB for 1 TiB. */
	cr_expect_geq(xmm_p2m_size(1ULL << 28, XMM_P2M_PORTABLE), 4u << 20);
	cr_expect_lt(xmm_p2m_size(1ULL << 28, XMM_P2M_PORTABLE), (4u << 20) + 4096);
	/* Linear: two bitmaps of one bit per leaf, 128 KiB for 1 TiB. */
	cr_expect_lt(xmm_p2m_size(1ULL << 28, XMM_P2M_LINEAR), (128u << 10) + 4096);
	cr_expect_eq(xmm_p2m_size(1000, XMM_P2M_PORTABLE) % XMM_P2M_ALIGN, 0);
}

Test(p2m, init_rejects_bad_arguments)
{
	size_t sz = xmm_p2m_size(4096, XMM_P2M_PORTABLE);
	char *mem = aligned_alloc(XMM_P2M_ALIGN, sz + XMM_P2M_ALIGN);
	struct xmm_p2m *out = (struct xmm_p2m *)0x1;

	cr_assert_not_null(mem);
	cr_expect_eq(xmm_p2m_init(NULL, 4096, XMM_P2M_PORTABLE), XMM_EINVAL);
	cr_expect_eq(xmm_p2m_init((struct xmm_p2m *)(mem + 8), 4096, XMM_P2M_PORTABLE), XMM_EINVAL);
	cr_expect_eq(xmm_p2m_init((struct xmm_p2m *)mem, 0, XMM_P2M_PORTABLE), XMM_EINVAL);
	cr_expect_eq(xmm_p2m_init((struct xmm_p2m *)mem, 4096, 0x6), XMM_EINVAL);
	cr_expect_eq(xmm_p2m_init((struct xmm_p2m *)mem, XMM_P2M_MAX_PFN + 1, 0), XMM_EINVAL);
	cr_assert_eq(xmm_p2m_init((struct xmm_p2m *)mem, 4096, XMM_P2M_PORTABLE), 0);
	cr_expect_eq(xmm_p2m_get((struct xmm_p2m *)mem, 7), INV);
	xmm_p2m_fini((struct xmm_p2m *)mem);
	free(mem);

	cr_expect_eq(xmm_p2m_create(&out, 0, 0), XMM_EINVAL);
	cr_expect_eq(xmm_p2m_create(&out, 10, 0x10), XMM_EINVAL);
	cr_expect_eq(out, (struct xmm_p2m *)0x1, "untouched on error");
	cr_expect_eq(xmm_p2m_create(NULL, 10, 0), XMM_EINVAL);
	xmm_p2m_destroy(NULL);
}

Test(p2m, caller_memory_linear)
{
	size_t sz = xmm_p2m_size(1ULL << 20, XMM_P2M_LINEAR);
	struct xmm_p2m *p = aligned_alloc(XMM_P2M_ALIGN, sz);

	cr_assert_not_null(p);
	cr_assert_eq(xmm_p2m_init(p, 1ULL << 20, XMM_P2M_LINEAR), 0);
	cr_expect_eq(xmm_p2m_set(p, 12345, 99), 0);
	cr_expect_eq(xmm_p2m_get(p, 12345), 99);
	cr_expect_eq(stats(p).bytes, sz + 4096);
	xmm_p2m_fini(p);
	free(p);
}

Test(p2m, empty_map_is_holes)
{
	for (size_t b = 0; b < 2; b++) {
		xmm_pfn_t max = 3 * GiB_PFNS + 5;
		struct xmm_p2m *p = new_map(max, backends[b]);
		struct xmm_p2m_stats st = stats(p);
		const xmm_pfn_t probe[] = { 0, 1, LEAF - 1, LEAF, GiB_PFNS, max - 1, max, max + 1,
					    ~0ULL, XMM_P2M_MAX_PFN };

		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
			cr_expect_eq(xmm_p2m_get(p, probe[i]), INV, "%s pfn %llu", backend_name[b],
				     (unsigned long long)probe[i]);
		cr_expect_eq(st.max_pfn, max);
		cr_expect_eq(st.backend, backends[b]);
		cr_expect_eq(st.leaves, 0);
		cr_expect_eq(st.identity_leaves, 0);
		cr_expect_eq(st.generation, 0);
		cr_expect_eq(st.bytes, xmm_p2m_size(max, backends[b]));
		xmm_p2m_destroy(p);
	}
}

/* ---- set and get ------------------------------------------------------------ */

Test(p2m, set_get_at_the_edges)
{
	for (size_t b = 0; b < 2; b++) {
		xmm_pfn_t max = 2 * GiB_PFNS + 77; /* not a whole leaf */
		struct xmm_p2m *p = new_map(max, backends[b]);
		const xmm_pfn_t pfns[] = { 0, 1, LEAF - 1, LEAF, LEAF + 1, GiB_PFNS - 1, GiB_PFNS,
					   GiB_PFNS + 1, 2 * GiB_PFNS - 1, 2 * GiB_PFNS, max - 1 };
		const size_t n = sizeof(pfns) / sizeof(pfns[0]);

		for (size_t i = 0; i < n; i++) {
			/* Any 64-bit value is a value: 0, huge, identity of another pfn, ... */
			xmm_mfn_t v = i % 4 == 0 ? 0 : i % 4 == 1 ? ~1ULL : i % 4 == 2 ? ID(pfns[i] + 3)
										   : pfns[i] * 7 + 1;

			cr_assert_eq(xmm_p2m_set(p, pfns[i], v), 0);
			cr_expect_eq(xmm_p2m_get(p, pfns[i]), v, "%s pfn %llu", backend_name[b],
				     (unsigned long long)pfns[i]);
		}
		/* Neighbours that were not written are still holes. */
		cr_expect_eq(xmm_p2m_get(p, 2), INV);
		cr_expect_eq(xmm_p2m_get(p, LEAF + 2), INV);
		cr_expect_eq(xmm_p2m_get(p, max - 2), INV);
		/* Rewriting, holes and identity written as values. */
		cr_expect_eq(xmm_p2m_set(p, LEAF, 5), 0);
		cr_expect_eq(xmm_p2m_get(p, LEAF), 5);
		cr_expect_eq(xmm_p2m_set(p, LEAF, INV), 0);
		cr_expect_eq(xmm_p2m_get(p, LEAF), INV);
		cr_expect_eq(xmm_p2m_set(p, LEAF, ID(LEAF)), 0);
		cr_expect_eq(xmm_p2m_get(p, LEAF), ID(LEAF));
		xmm_p2m_destroy(p);
	}
}

Test(p2m, set_out_of_range)
{
	for (size_t b = 0; b < 2; b++) {
		struct xmm_p2m *p = new_map(1000, backends[b]);
		struct xmm_p2m_stats st;

		cr_expect_eq(xmm_p2m_set(p, 1000, 1), XMM_ERANGE);
		cr_expect_eq(xmm_p2m_set(p, ~0ULL, 1), XMM_ERANGE);
		cr_expect_eq(xmm_p2m_set_range(p, 999, 1, 2), XMM_ERANGE);
		cr_expect_eq(xmm_p2m_set_range(p, 1000, 1, 1), XMM_ERANGE);
		cr_expect_eq(xmm_p2m_set_range(p, 5, 1, ~0ULL), XMM_ERANGE, "n that would wrap pfn");
		cr_expect_eq(xmm_p2m_set_identity(p, 0, 1001), XMM_ERANGE);
		cr_expect_eq(xmm_p2m_clear(p, 10, 1001), XMM_ERANGE);
		cr_expect_eq(xmm_p2m_set_identity(p, 10, 9), XMM_EINVAL);
		cr_expect_eq(xmm_p2m_clear(p, 10, 9), XMM_EINVAL);
		st = stats(p);
		cr_expect_eq(st.leaves + st.identity_leaves + st.generation, 0, "nothing changed");
		cr_expect_eq(xmm_p2m_get(p, 999), INV);
		cr_expect_eq(xmm_p2m_set_range(p, 999, 42, 1), 0, "the last pfn is in range");
		cr_expect_eq(xmm_p2m_get(p, 999), 42);
		xmm_p2m_destroy(p);
	}
}

Test(p2m, set_range_values_and_errors)
{
	for (size_t b = 0; b < 2; b++) {
		struct xmm_p2m *p = new_map(4 * LEAF, backends[b]);

		cr_expect_eq(xmm_p2m_set_range(p, 10, 5, 0), 0, "n == 0 does nothing");
		cr_expect_eq(stats(p).leaves, 0);
		cr_expect_eq(xmm_p2m_set_range(p, 10, INV, 2), XMM_EOVERFLOW);
		cr_expect_eq(xmm_p2m_set_range(p, 10, INV - 5, 7), XMM_EOVERFLOW);
		cr_expect_eq(stats(p).leaves, 0, "errors change nothing");
		cr_expect_eq(xmm_p2m_set_range(p, 10, INV - 5, 6), 0, "ends exactly at INVALID");
		cr_expect_eq(xmm_p2m_get(p, 10), INV - 5);
		cr_expect_eq(xmm_p2m_get(p, 15), INV, "the last value is a hole");
		/* Across leaves. */
		cr_expect_eq(xmm_p2m_set_range(p, LEAF - 3, 1000, 2 * LEAF + 6), 0);
		for (xmm_pfn_t x = LEAF - 3; x < 3 * LEAF + 3; x++)
			cr_expect_eq(xmm_p2m_get(p, x), 1000 + x - (LEAF - 3));
		cr_expect_eq(xmm_p2m_get(p, 3 * LEAF + 3), INV);
		cr_expect_eq(stats(p).leaves, 4);
		/* An identity run and a single hole are values too. */
		cr_expect_eq(xmm_p2m_set_range(p, 20, ID(20), 5), 0);
		cr_expect_eq(xmm_p2m_get(p, 24), ID(24));
		cr_expect_eq(xmm_p2m_set_range(p, 21, INV, 1), 0);
		cr_expect_eq(xmm_p2m_get(p, 21), INV);
		xmm_p2m_destroy(p);
	}
}

/* Writing what a shared leaf already holds allocates nothing. */
Test(p2m, sets_matching_a_shared_leaf_allocate_nothing)
{
	for (size_t b = 0; b < 2; b++) {
		struct xmm_p2m *p = new_map(4 * LEAF, backends[b]);

		cr_assert_eq(xmm_p2m_set_identity(p, LEAF, 2 * LEAF), 0);
		cr_expect_eq(xmm_p2m_set(p, 5, INV), 0);
		cr_expect_eq(xmm_p2m_set(p, LEAF + 5, ID(LEAF + 5)), 0);
		cr_expect_eq(xmm_p2m_set_range(p, LEAF, ID(LEAF), LEAF), 0);
		cr_expect_eq(stats(p).leaves, 0);
		cr_expect_eq(stats(p).identity_leaves, 1);
		/* An identity run over a hole leaf does install one. */
		cr_expect_eq(xmm_p2m_set_range(p, 0, ID(0), 3), 0);
		cr_expect_eq(stats(p).leaves, 1);
		cr_expect_eq(xmm_p2m_get(p, 2), ID(2));
		cr_expect_eq(xmm_p2m_get(p, 3), INV);
		xmm_p2m_destroy(p);
	}
}

/* ---- identity and clear ------------------------------------------------------ */

Test(p2m, identity_ranges)
{
	for (size_t b = 0; b < 2; b++) {
		xmm_pfn_t max = 2 * GiB_PFNS + 100;
		struct xmm_p2m *p = new_map(max, backends[b]);
		struct xmm_p2m_stats st;

		/* A whole 1 GiB identity range is 512 shared leaves and no private one. */
		cr_assert_eq(xmm_p2m_set_identity(p, GiB_PFNS, 2 * GiB_PFNS), 0);
		st = stats(p);
		cr_expect_eq(st.identity_leaves, 512);
		cr_expect_eq(st.leaves, 0);
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS), ID(GiB_PFNS));
		cr_expect_eq(xmm_p2m_get(p, 2 * GiB_PFNS - 1), ID(2 * GiB_PFNS - 1));
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS - 1), INV);
		cr_expect_eq(xmm_p2m_get(p, 2 * GiB_PFNS), INV);
		/* A VGA-style hole: part of a leaf. */
		cr_assert_eq(xmm_p2m_set_identity(p, 0xa0, 0x100), 0);
		cr_expect_eq(stats(p).leaves, 1);
		cr_expect_eq(xmm_p2m_get(p, 0x9f), INV);
		cr_expect_eq(xmm_p2m_get(p, 0xa0), ID(0xa0));
		cr_expect_eq(xmm_p2m_get(p, 0xff), ID(0xff));
		cr_expect_eq(xmm_p2m_get(p, 0x100), INV);
		/* The last, partial leaf counts as covered when the range reaches max_pfn:
		 * it becomes the shared leaf, nothing is allocated. (The linear backend
		 * populates the page of its identity bitmap, backed since the first
		 * set_identity: a populate call, no new memory.) */
		inject_countdown = backends[b] == XMM_P2M_PORTABLE ? 0 : -1;
		cr_assert_eq(xmm_p2m_set_identity(p, 2 * GiB_PFNS, max), 0);
		cr_expect_eq(injected, 0);
		inject_countdown = -1;
		cr_expect_eq(stats(p).identity_leaves, 513);
		cr_expect_eq(stats(p).leaves, 1);
		cr_expect_eq(xmm_p2m_get(p, max - 1), ID(max - 1));
		cr_expect_eq(xmm_p2m_get(p, max), INV, "beyond max_pfn is out of range, not identity");
		/* Writing into an identity leaf copies it: the other entries stay identity. */
		cr_assert_eq(xmm_p2m_set(p, GiB_PFNS + 7, 1234), 0);
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS + 7), 1234);
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS + 6), ID(GiB_PFNS + 6));
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS + 511), ID(GiB_PFNS + 511));
		st = stats(p);
		cr_expect_eq(st.identity_leaves, 512);
		cr_expect_eq(st.leaves, 2);
		/* Clearing part of an identity leaf copies it too. */
		cr_assert_eq(xmm_p2m_clear(p, GiB_PFNS + 1024 + 3, GiB_PFNS + 1024 + 5), 0);
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS + 1024 + 2), ID(GiB_PFNS + 1024 + 2));
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS + 1024 + 3), INV);
		cr_expect_eq(xmm_p2m_get(p, GiB_PFNS + 1024 + 5), ID(GiB_PFNS + 1024 + 5));
		cr_expect_eq(stats(p).leaves, 3);
		/* Everything back to holes: nothing private, nothing identity. */
		cr_assert_eq(xmm_p2m_clear(p, 0, max), 0);
		st = stats(p);
		cr_expect_eq(st.leaves, 0);
		cr_expect_eq(st.identity_leaves, 0);
		cr_expect_eq(st.bytes, xmm_p2m_size(max, backends[b]));
		for (xmm_pfn_t x = 0; x < max; x += 97)
			cr_expect_eq(xmm_p2m_get(p, x), INV);
		xmm_p2m_destroy(p);
	}
}

Test(p2m, leaves_go_back_when_they_become_shared)
{
	for (size_t b = 0; b < 2; b++) {
		struct xmm_p2m *p = new_map(8 * LEAF, backends[b]);

		cr_assert_eq(xmm_p2m_set_range(p, 0, 100, 3 * LEAF), 0);
		cr_expect_eq(stats(p).leaves, 3);
		/* Part of a leaf cleared: it stays; the rest cleared: it goes. */
		cr_assert_eq(xmm_p2m_clear(p, 0, 100), 0);
		cr_expect_eq(stats(p).leaves, 3);
		cr_expect_eq(xmm_p2m_get(p, 100), 200);
		cr_assert_eq(xmm_p2m_clear(p, 100, LEAF), 0);
		cr_expect_eq(stats(p).leaves, 2);
		/* A private leaf turned identity by a set_identity over it becomes the shared one. */
		cr_assert_eq(xmm_p2m_set_identity(p, LEAF, 2 * LEAF), 0);
		cr_expect_eq(stats(p).leaves, 1);
		cr_expect_eq(stats(p).identity_leaves, 1);
		cr_expect_eq(xmm_p2m_get(p, LEAF + 9), ID(LEAF + 9));
		/* Sets never give back: identity values written one by one keep the leaf ... */
		cr_assert_eq(xmm_p2m_set_range(p, 2 * LEAF, ID(2 * LEAF), LEAF - 1), 0);
		cr_assert_eq(xmm_p2m_set(p, 3 * LEAF - 1, ID(3 * LEAF - 1)), 0);
		cr_expect_eq(stats(p).leaves, 1);
		/* ... until a set_identity touching it finds it all identity (I4). */
		cr_assert_eq(xmm_p2m_set_identity(p, 3 * LEAF - 1, 3 * LEAF + 1), 0);
		cr_expect_eq(stats(p).leaves, 1, "the leaf after it got a private copy");
		cr_expect_eq(stats(p).identity_leaves, 2);
		cr_expect_eq(xmm_p2m_get(p, 3 * LEAF), ID(3 * LEAF));
		cr_expect_eq(xmm_p2m_get(p, 3 * LEAF + 1), INV);
		/* And a hole left by set(INVALID) in a leaf goes back with a clear next to it. */
		cr_assert_eq(xmm_p2m_set(p, 5 * LEAF + 1, 9), 0);
		cr_assert_eq(xmm_p2m_set(p, 5 * LEAF + 1, INV), 0);
		cr_expect_eq(stats(p).leaves, 2);
		cr_assert_eq(xmm_p2m_clear(p, 5 * LEAF, 5 * LEAF + 1), 0);
		cr_expect_eq(stats(p).leaves, 1);
		xmm_p2m_destroy(p);
	}
}

/* ---- generation --------------------------------------------------------------- */

Test(p2m, generation_counts_structural_updates)
{
	for (size_t b = 0; b < 2; b++) {
		struct xmm_p2m *p = new_map(8 * LEAF, backends[b]);
		uint64_t g = xmm_p2m_generation(p);

		cr_expect_eq(g, 0);
		cr_expect_not(xmm_p2m_generation_changed(p, g));
		cr_expect(xmm_p2m_generation_changed(p, g + 1), "an odd generation is always a change");
		cr_assert_eq(xmm_p2m_set(p, 3, 4), 0);
		cr_expect_gt(xmm_p2m_generation(p), g, "installing a leaf is structural");
		cr_expect_eq(xmm_p2m_generation(p) % 2, 0);
		cr_expect(xmm_p2m_generation_changed(p, g));
		g = xmm_p2m_generation(p);
		cr_assert_eq(xmm_p2m_set(p, 5, 6), 0);
		cr_assert_eq(xmm_p2m_set_range(p, 0, 1, LEAF), 0);
		cr_expect_eq(xmm_p2m_generation(p), g, "values in a private leaf are not structural");
		cr_assert_eq(xmm_p2m_set_identity(p, LEAF, 4 * LEAF), 0);
		cr_expect_eq(xmm_p2m_generation(p), g + 2, "one clear/set_identity is one update");
		cr_assert_eq(xmm_p2m_clear(p, 0, 8 * LEAF), 0);
		cr_expect_eq(xmm_p2m_generation(p), g + 4);
		cr_expect_eq(stats(p).generation, g + 4);
		xmm_p2m_destroy(p);
	}
}

/* ---- allocation failures --------------------------------------------------------- */

/* Every value of p below max, to check later that nothing changed. */
static xmm_mfn_t *snapshot(struct xmm_p2m *p, xmm_pfn_t max, struct xmm_p2m_stats *st)
{
	xmm_mfn_t *ref = malloc(max * sizeof(*ref));

	cr_assert_not_null(ref);
	for (xmm_pfn_t x = 0; x < max; x++)
		ref[x] = xmm_p2m_get(p, x);
	*st = stats(p);
	return ref;
}

static void expect_unchanged(struct xmm_p2m *p, const xmm_mfn_t *ref, xmm_pfn_t max,
			     const struct xmm_p2m_stats *before, const char *what)
{
	struct xmm_p2m_stats st = stats(p);

	for (xmm_pfn_t x = 0; x < max; x++)
		cr_assert_eq(xmm_p2m_get(p, x), ref[x], "%s: pfn %llu", what, (unsigned long long)x);
	cr_expect_eq(st.identity_leaves, before->identity_leaves, "%s", what);
}

Test(p2m, enomem_changes_no_entry)
{
	for (size_t b = 0; b < 2; b++) {
		const xmm_pfn_t max = 8 * LEAF;
		struct xmm_p2m *p = new_map(max, backends[b]);
		struct xmm_p2m_stats before;
		xmm_mfn_t *ref;

		cr_assert_eq(xmm_p2m_set_identity(p, 2 * LEAF, 4 * LEAF), 0);
		cr_assert_eq(xmm_p2m_set_range(p, 5 * LEAF, 77, 10), 0);
		ref = snapshot(p, max, &before);

		/* A set into a hole leaf and into an identity leaf. */
		for (int k = 0; k < 2; k++) {
			inject_countdown = 0;
			cr_expect_eq(xmm_p2m_set(p, k ? 2 * LEAF + 1 : 7, 5), XMM_ENOMEM);
			expect_unchanged(p, ref, max, &before, "set");
			cr_expect_eq(stats(p).leaves, before.leaves);
		}
		/* A range over several shared leaves, failing at its first and later leaves:
		 * no entry changes (copies installed before the failure may stay). */
		for (long at = 0; at < 4; at++) {
			inject_countdown = at;
			int rc = xmm_p2m_set_range(p, LEAF - 5, 1000, 4 * LEAF);

			if (rc == 0) {
				cr_expect_geq(at, backends[b] == XMM_P2M_LINEAR ? 1 : 4,
					      "linear populates a run with one call");
				break;
			}
			cr_expect_eq(rc, XMM_ENOMEM);
			expect_unchanged(p, ref, max, &before, "set_range");
		}
		inject_countdown = -1;
		xmm_p2m_destroy(p);
		free(ref);
	}
}

Test(p2m, enomem_in_clear_and_set_identity_changes_nothing)
{
	for (size_t b = 0; b < 2; b++) {
		const xmm_pfn_t max = 8 * LEAF;
		struct xmm_p2m *p = new_map(max, backends[b]);
		struct xmm_p2m_stats before;
		xmm_mfn_t *ref;
		uint64_t gen;

		cr_assert_eq(xmm_p2m_set_identity(p, 0, 2 * LEAF), 0);
		cr_assert_eq(xmm_p2m_set_range(p, 4 * LEAF, 77, 2 * LEAF), 0);
		ref = snapshot(p, max, &before);
		gen = xmm_p2m_generation(p);

		/* Part of an identity leaf cleared, part of a hole leaf made identity: a copy each. */
		for (long at = 0; at < 2; at++) {
			inject_countdown = at;
			cr_expect_eq(xmm_p2m_clear(p, 10, 2 * LEAF - 10), XMM_ENOMEM);
			expect_unchanged(p, ref, max, &before, "clear");
			cr_expect_eq(stats(p).leaves, before.leaves);
			inject_countdown = 0;
			cr_expect_eq(xmm_p2m_set_identity(p, 3 * LEAF + 1, 3 * LEAF + 9), XMM_ENOMEM);
			expect_unchanged(p, ref, max, &before, "set_identity");
			cr_expect_eq(stats(p).leaves, before.leaves);
		}
		if (backends[b] == XMM_P2M_PORTABLE) {
			/* Giving leaves back needs a page to queue them on. */
			inject_countdown = 0;
			cr_expect_eq(xmm_p2m_clear(p, 0, max), XMM_ENOMEM);
			expect_unchanged(p, ref, max, &before, "clear, no retire page");
			cr_expect_eq(stats(p).leaves, before.leaves);
		}
		cr_expect_eq(xmm_p2m_generation(p), gen, "no structural update either");
		cr_expect_gt(injected, 0);
		inject_countdown = -1;
		cr_expect_eq(xmm_p2m_clear(p, 10, 2 * LEAF - 10), 0);
		cr_expect_eq(xmm_p2m_get(p, 9), ID(9));
		cr_expect_eq(xmm_p2m_get(p, 10), INV);
		xmm_p2m_destroy(p);
		free(ref);
	}
}

/* ---- the model: random operations against a reference array ------------------------ */

struct model {
	struct xmm_p2m *p;
	xmm_pfn_t max;
	uint64_t nleaves;
	xmm_mfn_t *ref;
	uint8_t *kind; /* 0 hole, 1 identity, 2 private: the structure the contract implies */
	struct test_rng rng;
	bool exact;    /* no injected failures: the structure is exact too */
	unsigned long ops, enomem;
};

enum { K_HOLE, K_ID, K_PRIV };

/* A pfn in [0, max], biased to the edges: 0, max, leaf and 1 GiB boundaries. */
static xmm_pfn_t edge_pfn(struct model *m)
{
	xmm_pfn_t x;

	switch (test_rng_below(&m->rng, 6)) {
	case 0:
		x = test_rng_below(&m->rng, 2) ? 0 : m->max;
		break;
	case 1:
		x = test_rng_below(&m->rng, m->nleaves + 1) * LEAF;
		break;
	case 2:
		x = test_rng_below(&m->rng, m->max / GiB_PFNS + 1) * GiB_PFNS;
		break;
	default:
		return test_rng_below(&m->rng, m->max + 1);
	}
	x += test_rng_below(&m->rng, 3);
	x = x >= 1 ? x - 1 : 0;
	return x > m->max ? m->max : x;
}

/* [a, b) with a <= b, mostly short, sometimes leaves long, now and then huge. */
static void span(struct model *m, xmm_pfn_t *a, xmm_pfn_t *b)
{
	uint64_t r = test_rng_below(&m->rng, 100);
	uint64_t len = r < 60 ? test_rng_below(&m->rng, 40) : r < 95 ? test_rng_below(&m->rng, 4 * LEAF)
								    : test_rng_below(&m->rng, m->max + 1);

	*a = edge_pfn(m);
	if (test_rng_below(&m->rng, 3) == 0) {
		*b = edge_pfn(m);
		if (*b < *a) {
			xmm_pfn_t t = *a;

			*a = *b;
			*b = t;
		}
		return;
	}
	*b = len > m->max - *a ? m->max : *a + len;
}

static xmm_mfn_t random_value(struct model *m, xmm_pfn_t pfn)
{
	switch (test_rng_below(&m->rng, 8)) {
	case 0:
		return INV;
	case 1:
		return ID(pfn);
	case 2:
		return 0;
	case 3:
		return ID(pfn + 1);
	default:
		return test_rng_next(&m->rng) >> 20;
	}
}

static void verify_range(struct model *m, xmm_pfn_t a, xmm_pfn_t b)
{
	for (xmm_pfn_t x = a; x < b && x < m->max; x++)
		if (xmm_p2m_get(m->p, x) != m->ref[x])
			cr_assert_fail("op %lu: pfn %llu reads %#llx, expected %#llx", m->ops,
				       (unsigned long long)x, (unsigned long long)xmm_p2m_get(m->p, x),
				       (unsigned long long)m->ref[x]);
}

static void verify_structure(struct model *m)
{
	struct xmm_p2m_stats st = stats(m->p);
	uint64_t priv = 0, ident = 0, mixed = 0, all_id = 0;

	for (uint64_t l = 0; l < m->nleaves; l++) {
		xmm_pfn_t base = l * LEAF, top = base + LEAF < m->max ? base + LEAF : m->max;
		bool h = true, i = true;

		priv += m->kind[l] == K_PRIV;
		ident += m->kind[l] == K_ID;
		for (xmm_pfn_t x = base; x < top; x++) {
			h = h && m->ref[x] == INV;
			i = i && m->ref[x] == ID(x);
		}
		mixed += !h && !i;
		all_id += i;
	}
	cr_assert_eq(st.generation % 2, 0);
	if (m->exact) {
		cr_assert_eq(st.leaves, priv, "op %lu: leaves", m->ops);
		cr_assert_eq(st.identity_leaves, ident, "op %lu: identity leaves", m->ops);
	}
	/* Whatever happened: a leaf that is neither all hole nor all identity is private. */
	cr_assert_geq(st.leaves, mixed, "op %lu", m->ops);
	cr_assert_leq(st.identity_leaves, all_id, "op %lu", m->ops);
	cr_assert_eq(st.bytes, xmm_p2m_size(m->max, st.backend) + st.leaves * 4096);
}

static void model_set_range(struct model *m, xmm_pfn_t pfn, xmm_mfn_t mfn, uint64_t n, bool single)
{
	int rc = single ? xmm_p2m_set(m->p, pfn, mfn) : xmm_p2m_set_range(m->p, pfn, mfn, n);
	int keep = mfn == INV ? K_HOLE : mfn == ID(pfn) ? K_ID : -1;

	if (n == 0) {
		cr_assert_eq(rc, 0);
		return;
	}
	if (rc == XMM_ENOMEM) {
		m->enomem++;
		verify_range(m, pfn, pfn + n);
		return;
	}
	cr_assert_eq(rc, 0, "op %lu: set_range(%llu, %#llx, %llu)", m->ops, (unsigned long long)pfn,
		     (unsigned long long)mfn, (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++)
		m->ref[pfn + i] = mfn + i;
	for (uint64_t l = pfn / LEAF; l <= (pfn + n - 1) / LEAF; l++)
		if (m->kind[l] != K_PRIV && m->kind[l] != keep)
			m->kind[l] = K_PRIV;
	verify_range(m, pfn > LEAF ? pfn - LEAF : 0, pfn + n + LEAF);
}

static void model_fill(struct model *m, xmm_pfn_t a, xmm_pfn_t b, bool identity)
{
	int rc = identity ? xmm_p2m_set_identity(m->p, a, b) : xmm_p2m_clear(m->p, a, b);
	uint8_t k = identity ? K_ID : K_HOLE;

	if (rc == XMM_ENOMEM) {
		m->enomem++;
		verify_range(m, a, b);
		return;
	}
	cr_assert_eq(rc, 0, "op %lu: %s(%llu, %llu)", m->ops, identity ? "set_identity" : "clear",
		     (unsigned long long)a, (unsigned long long)b);
	for (xmm_pfn_t x = a; x < b; x++)
		m->ref[x] = identity ? ID(x) : INV;
	if (a < b) {
		for (uint64_t l = a / LEAF; l <= (b - 1) / LEAF; l++) {
			xmm_pfn_t base = l * LEAF, top = base + LEAF < m->max ? base + LEAF : m->max;
			bool h = true, i = true;

			if (a <= base && b >= top) {
				m->kind[l] = k;
				continue;
			}
			if (m->kind[l] == k)
				continue;
			for (xmm_pfn_t x = base; x < top; x++) {
				h = h && m->ref[x] == INV;
				i = i && m->ref[x] == ID(x);
			}
			m->kind[l] = h ? K_HOLE : i ? K_ID : K_PRIV; /* I4 */
		}
	}
	verify_range(m, a > LEAF ? a - LEAF : 0, b + LEAF);
}

static void model_run(unsigned int backend, uint64_t seed, unsigned int nops, uint64_t fail_rate)
{
	struct model m = { 0 };

	m.max = 2 * GiB_PFNS + 77;
	m.nleaves = (m.max + LEAF - 1) / LEAF;
	m.p = new_map(m.max, backend);
	m.ref = malloc(m.max * sizeof(*m.ref));
	m.kind = calloc(m.nleaves, 1);
	m.exact = fail_rate == 0;
	cr_assert(m.ref && m.kind);
	for (xmm_pfn_t x = 0; x < m.max; x++)
		m.ref[x] = INV;
	test_rng_seed(&m.rng, seed);
	test_rng_seed(&inject_rng, seed ^ 0xabcdef);
	inject_rate = fail_rate;

	for (m.ops = 0; m.ops < nops; m.ops++) {
		xmm_pfn_t a, b;
		uint64_t r = test_rng_below(&m.rng, 100);

		span(&m, &a, &b);
		if (r < 30) {
			a = a < m.max ? a : m.max - 1;
			model_set_range(&m, a, random_value(&m, a), 1, true);
		} else if (r < 55) {
			xmm_mfn_t v = test_rng_below(&m.rng, 4) == 0 ? ID(a) : test_rng_next(&m.rng) >> 24;

			model_set_range(&m, a, v, b - a, false);
		} else if (r < 75) {
			model_fill(&m, a, b, true);
		} else if (r < 95) {
			model_fill(&m, a, b, false);
		} else {
			xmm_pfn_t x = test_rng_below(&m.rng, m.max);

			cr_assert_eq(xmm_p2m_get(m.p, x), m.ref[x]);
		}
		if (m.ops % 64 == 0)
			verify_structure(&m);
		if (m.ops % 512 == 0)
			verify_range(&m, 0, m.max);
	}
	inject_rate = 0;
	verify_range(&m, 0, m.max);
	verify_structure(&m);
	cr_assert_eq(xmm_p2m_clear(m.p, 0, m.max), 0);
	cr_expect_eq(stats(m.p).leaves, 0);
	cr_expect_eq(stats(m.p).identity_leaves, 0);
	cr_assert_eq(xmm_p2m_set_identity(m.p, 0, m.max), 0);
	cr_expect_eq(stats(m.p).identity_leaves, m.nleaves);
	cr_expect_eq(xmm_p2m_get(m.p, m.max - 1), ID(m.max - 1));
	if (fail_rate)
		cr_expect_gt(m.enomem, 0, "failures were injected and seen");
	cr_log_info("%s seed %llu: %lu ops, %lu ENOMEM", backend_name[backend],
		    (unsigned long long)seed, m.ops, m.enomem);
	xmm_p2m_destroy(m.p);
	free(m.ref);
	free(m.kind);
}

Test(p2m, model_linear)
{
	model_run(XMM_P2M_LINEAR, test_seed(4001), 3000 * test_scale(), 0);
}

Test(p2m, model_portable)
{
	model_run(XMM_P2M_PORTABLE, test_seed(4002), 3000 * test_scale(), 0);
}

Test(p2m, model_linear_with_failures)
{
	model_run(XMM_P2M_LINEAR, test_seed(4003), 2000 * test_scale(), 7);
}

Test(p2m, model_portable_with_failures)
{
	model_run(XMM_P2M_PORTABLE, test_seed(4004), 2000 * test_scale(), 29);
}

/* ---- memory accounting ------------------------------------------------------------ */

/*
 * What the process holds, from /proc/self/status: VmRSS (its resident pages;
 * the kernel's shared zero page, which every read of a hole maps, is not
 * counted: it is not this process's memory) plus VmPTE (its page tables, all
 * levels). Reading every page of a linear range maps the zero page into every
 * PTE: 4 KiB of page table per 2 MiB of entries, 4 MiB for a 1 TiB guest.
 */
static long resident_kib(long *pte_kib)
{
	char line[256];
	long rss = -1, pte = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "VmPTE: %ld", &pte);
	}
	fclose(f);
	cr_assert(rss >= 0 && pte >= 0);
	if (pte_kib)
		*pte_kib = pte;
	return rss + pte;
}

/* Read every leaf of the map (twice each), check the values, and map in every page a get can touch. */
static void read_all_leaves(struct xmm_p2m *p, xmm_pfn_t max, xmm_pfn_t id0, xmm_pfn_t id1)
{
	for (xmm_pfn_t x = 0; x < max; x += LEAF)
		for (xmm_pfn_t y = x; y < x + LEAF; y += LEAF - 1) {
			xmm_mfn_t want = y >= id0 && y < id1 ? ID(y) : INV;

			if (xmm_p2m_get(p, y) != want)
				cr_assert_fail("pfn %llu", (unsigned long long)y);
		}
}

static void accounting(unsigned int backend)
{
	const xmm_pfn_t max = 1ULL << 28; /* 1 TiB */
	const xmm_pfn_t id0 = 3 * GiB_PFNS, id1 = 4 * GiB_PFNS;
	const xmm_pfn_t pop = 512 * GiB_PFNS, npop = GiB_PFNS; /* 1 GiB: 512 leaves, 2 MiB */
	const long leaves_kib = (long)(npop * 8 / 1024);
	long pte0, pte1, r0, r1, r2, r3;
	struct xmm_p2m *p;

	/* Start liburcu's callback thread first: its stack is not the map's memory. */
	p = new_map(LEAF, XMM_P2M_PORTABLE);
	cr_assert_eq(xmm_p2m_set(p, 1, 1), 0);
	cr_assert_eq(xmm_p2m_clear(p, 0, LEAF), 0);
	xmm_rcu_barrier();
	xmm_p2m_destroy(p);

	r0 = resident_kib(&pte0);
	p = new_map(max, backend);
	cr_assert_eq(xmm_p2m_set_identity(p, id0, id1), 0);
	read_all_leaves(p, max, id0, id1);
	r1 = resident_kib(&pte1);
	cr_log_info("%s, 1 TiB of holes with 1 GiB identity, every leaf read: %ld KiB resident "
		    "(%ld KiB page tables), a dense array: 2 GiB",
		    backend_name[backend], r1 - r0, pte1 - pte0);
	cr_expect_lt(r1 - r0, 8 << 10, "under 8 MiB, page tables included");
	cr_expect_eq(stats(p).leaves, 0);
	cr_expect_eq(stats(p).identity_leaves, 512);

	cr_assert_eq(xmm_p2m_set_range(p, pop, 1, npop), 0);
	r2 = resident_kib(NULL);
	cr_expect_geq(r2 - r1, leaves_kib * 9 / 10, "the leaves are resident");
	cr_expect_leq(r2 - r1, leaves_kib * 12 / 10 + 256);

	cr_assert_eq(xmm_p2m_clear(p, pop, pop + npop), 0);
	xmm_rcu_barrier(); /* portable leaves are freed after a grace period */
	r3 = resident_kib(NULL);
	cr_log_info("%s, 1 GiB of guest populated: +%ld KiB, cleared: %+ld KiB",
		    backend_name[backend], r2 - r1, r3 - r2);
	cr_expect_geq(r2 - r3, leaves_kib * 9 / 10, "resident memory falls back after clear");
	cr_expect_leq(r3 - r1, leaves_kib / 10, "to where it was");
	cr_expect_eq(stats(p).leaves, 0);
	xmm_p2m_destroy(p);
}

Test(p2m, accounting_linear)
{
	accounting(XMM_P2M_LINEAR);
}

Test(p2m, accounting_portable)
{
	accounting(XMM_P2M_PORTABLE);
}

/*
 * Regression (issue 15): a linear map of max_pfn 2^40 was 512 MiB resident
 * before a single entry was set (both side bitmaps were zeroed at create).
 * The bitmaps now live in the reserved range and cost nothing until a leaf
 * of theirs is written: a page of bitmap per 2^15 leaves written.
 */
Test(p2m, linear_holes_cost_nothing_at_create)
{
	const xmm_pfn_t max = XMM_P2M_MAX_PFN;
	struct xmm_p2m *p;
	long r0, r1, r2, r3;

	cr_expect_lt(xmm_p2m_size(max, XMM_P2M_LINEAR), 4096, "no tail in the object");
	r0 = resident_kib(NULL);
	p = new_map(max, XMM_P2M_LINEAR);
	r1 = resident_kib(NULL);
	cr_log_info("linear map of 2^40 pfns: %ld KiB resident at create", r1 - r0);
	cr_expect_lt(r1 - r0, 1024, "create: %ld KiB resident", r1 - r0);
	cr_expect_eq(xmm_p2m_get(p, max - 1), INV);
	cr_expect_eq(xmm_p2m_get(p, max / 2), INV);
	/* One entry: one leaf page and one page of the private bitmap (+ page tables). */
	cr_assert_eq(xmm_p2m_set(p, max - 1, 42), 0);
	cr_expect_eq(xmm_p2m_get(p, max - 1), 42);
	/* One identity leaf far away: one page of the identity bitmap. */
	cr_assert_eq(xmm_p2m_set_identity(p, 0, LEAF), 0);
	cr_expect_eq(xmm_p2m_get(p, 7), ID(7));
	r2 = resident_kib(NULL);
	cr_expect_lt(r2 - r1, 1024, "a set and a set_identity: %ld KiB", r2 - r1);
	cr_assert_eq(xmm_p2m_clear(p, max - LEAF, max), 0);
	cr_assert_eq(xmm_p2m_clear(p, 0, LEAF), 0);
	cr_expect_eq(xmm_p2m_get(p, max - 1), INV);
	cr_expect_eq(xmm_p2m_get(p, 7), INV);
	r3 = resident_kib(NULL);
	cr_expect_lt(r3 - r1, 1024, "after clear: %ld KiB", r3 - r1);
	xmm_p2m_destroy(p);
}
