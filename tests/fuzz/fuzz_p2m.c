/* SPDX-License-Identifier: MIT */
/*
 * The sparse p2m (xmm/p2m.h), both backends, against a dense array.
 *
 * Single-threaded mode: set, set_range, clear, set_identity with any values
 * (holes, identity, huge mfns, ranges that overflow or pass max_pfn), each
 * with allocation failures injected into xmm_pages_alloc / xmm_vm_populate
 * from the input. After every step every entry is compared with the model
 * (an XMM_ENOMEM must have changed nothing), and the leaf counters must be
 * plausible. Multi-threaded mode: 2-4 writers set interleaved pfns of the
 * same leaves (racing installs) while a reader checks that every get is a
 * hole or a value written for that pfn; at the end every entry is the last
 * value its writer set.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <xmm/errno.h>
#include <xmm/user/p2m.h>

#include "fuzz.h"

#define MAXPFN (5 * 512 + 100)
#define INV XMM_INVALID_MFN
#define ID(pfn) XMM_IDENTITY_FRAME(pfn)

static uint64_t model[MAXPFN];

static void check_all(struct xmm_p2m *p, xmm_pfn_t max, const char *after)
{
	for (xmm_pfn_t x = 0; x < max; x++)
		FZ_CHECK(xmm_p2m_get(p, x) == model[x], "after %s: pfn %llu is %llx, model %llx", after,
			 (unsigned long long)x, (unsigned long long)xmm_p2m_get(p, x),
			 (unsigned long long)model[x]);
	FZ_CHECK(xmm_p2m_get(p, max) == INV && xmm_p2m_get(p, UINT64_MAX) == INV, "beyond max_pfn");
}

/* A value for @pfn: a hole, identity, an ordinary mfn, or one near the top. */
static uint64_t value(struct fz *f, xmm_pfn_t pfn)
{
	switch (fz_u8(f) % 5) {
	case 0: return INV;
	case 1: return ID(pfn);
	case 2: return INV - fz_u8(f);
	default: return fz_u32(f);
	}
}

struct mt {
	struct xmm_p2m *p;
	struct fz f;
	unsigned int id, nt;
	xmm_pfn_t max;
	_Atomic bool *stop;
};

/* Writer @id owns the pfns = id mod nt; values carry the pfn so readers can check them. */
static void *writer(void *arg)
{
	struct mt *m = arg;

	while (fz_more(&m->f)) {
		xmm_pfn_t x = fz_below(&m->f, m->max / m->nt) * m->nt + m->id;
		uint64_t v = fz_u8(&m->f) & 1 ? INV : (x << 16) | fz_u16(&m->f);

		if (x >= m->max)
			continue;
		FZ_CHECK(xmm_p2m_set(m->p, x, v) == 0, "set");
		model[x] = v;
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct mt *m = arg;
	uint64_t i = 0;

	while (!atomic_load(m->stop) || i < 1000) {
		xmm_pfn_t x = (i++ * 2654435761u) % m->max;
		uint64_t v = xmm_p2m_get(m->p, x);

		FZ_CHECK(v == INV || v >> 16 == x, "get of pfn %llu: %llx is no value of it",
			 (unsigned long long)x, (unsigned long long)v);
	}
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t mode = fz_u8(&f);
	unsigned int backend = mode & 1 ? XMM_P2M_PORTABLE : XMM_P2M_LINEAR;
	xmm_pfn_t max = 1 + fz_below(&f, MAXPFN);
	struct xmm_p2m *p = NULL;
	int rc;

	fz_inject_bits = 0;
	if (xmm_p2m_create(&p, max, backend) != 0)
		abort();
	for (xmm_pfn_t x = 0; x < max; x++)
		model[x] = INV;
	if (mode & 2) {
		unsigned int nt = 2 + (mode >> 2) % 3;
		_Atomic bool stop = false;
		struct mt m[5];
		pthread_t t[5];
		size_t per = f.n / nt;

		for (unsigned int i = 0; i <= nt; i++) {
			m[i] = (struct mt){ p, i < nt ? fz_split(&f, per) : (struct fz){ 0 }, i, nt, max, &stop };
			FZ_CHECK(pthread_create(&t[i], NULL, i < nt ? writer : reader, &m[i]) == 0, "thread");
		}
		for (unsigned int i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
		atomic_store(&stop, true);
		pthread_join(t[nt], NULL);
		check_all(p, max, "the threads");
		xmm_p2m_destroy(p);
		return 0;
	}
	for (int steps = 0; fz_more(&f) && steps < 400; steps++) {
		unsigned int op = fz_u8(&f) % 5;
		uint8_t inj = fz_u8(&f);
		xmm_pfn_t a = fz_below(&f, max + 2), b = fz_below(&f, max + 2);
		uint64_t n = fz_u16(&f) % 1500, v = value(&f, a);
		struct xmm_p2m_stats st;
		static const char *const name[] = { "set", "set_range", "clear", "set_identity", "stats" };

		/* Inject: fail some of the next eight hook calls. */
		fz_inject_bits = inj & 0x80 ? inj & 0x7f : 0;
		fz_injected = 0;
		switch (op) {
		case 0:
			rc = xmm_p2m_set(p, a, v);
			if (a >= max)
				FZ_CHECK(rc == XMM_ERANGE, "set beyond max: %d", rc);
			else if (rc == 0)
				model[a] = v;
			else
				FZ_CHECK(rc == XMM_ENOMEM && fz_injected, "set: %d", rc);
			break;
		case 1:
			rc = xmm_p2m_set_range(p, a, v, n);
			if (n == 0)
				FZ_CHECK(rc == 0, "empty set_range: %d", rc);
			else if (a >= max || n > max - a)
				FZ_CHECK(rc == XMM_ERANGE, "set_range beyond max: %d", rc);
			else if (n - 1 > INV - v)
				FZ_CHECK(rc == XMM_EOVERFLOW, "set_range overflow: %d", rc);
			else if (rc == 0)
				for (uint64_t i = 0; i < n; i++)
					model[a + i] = v + i;
			else
				FZ_CHECK(rc == XMM_ENOMEM && fz_injected, "set_range: %d", rc);
			break;
		case 2:
		case 3:
			rc = op == 2 ? xmm_p2m_clear(p, a, b) : xmm_p2m_set_identity(p, a, b);
			if (a > b)
				FZ_CHECK(rc == XMM_EINVAL, "%s start > end: %d", name[op], rc);
			else if (b > max)
				FZ_CHECK(rc == XMM_ERANGE, "%s beyond max: %d", name[op], rc);
			else if (rc == 0)
				for (xmm_pfn_t x = a; x < b; x++)
					model[x] = op == 2 ? INV : ID(x);
			else
				FZ_CHECK(rc == XMM_ENOMEM && fz_injected, "%s: %d", name[op], rc);
			break;
		case 4:
			xmm_p2m_stats(p, &st);
			FZ_CHECK(st.leaves + st.identity_leaves <= (max + 511) / 512, "leaf counts");
			FZ_CHECK(!(xmm_p2m_generation(p) & 1), "generation odd at rest");
			break;
		}
		fz_inject_bits = 0;
		check_all(p, max, name[op]);
	}
	xmm_p2m_destroy(p);
	return 0;
}
