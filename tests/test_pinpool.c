/* SPDX-License-Identifier: MIT */
/*
 * Unit tests and the model-based test of the pinned-buffer pool (xmm/pinpool.h).
 *
 * What the kernel says is checked against what the pool says: VmLck in
 * /proc/self/status against stats.bytes_locked, the VmFlags of
 * /proc/self/smaps (lo: locked, dc: not copied on fork) over every live
 * buffer, a memfd's contents for the fd backend, page frames in
 * /proc/self/pagemap across a fork. The RLIMIT_MEMLOCK test runs in a forked
 * child that drops CAP_IPC_LOCK (root ignores the limit otherwise).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <xmm/errno.h>
#include <xmm/user/pinpool.h>

#include "common.h"

#define PAGE ((size_t)XMM_PAGE_SIZE)
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* ---- helpers --------------------------------------------------------------------------- */

static struct xmm_pinpool *new_pool(size_t cap, size_t chunk, unsigned int flags)
{
	struct xmm_pinpool_cfg cfg = { .cap_bytes = cap, .chunk_bytes = chunk, .flags = flags };
	struct xmm_pinpool *p = NULL;

	cr_assert_eq(xmm_pinpool_create(&p, &cfg), 0);
	return p;
}

static struct xmm_pinpool_stats stats(struct xmm_pinpool *p)
{
	struct xmm_pinpool_stats st;

	xmm_pinpool_stats(p, &st);
	return st;
}

static void *get(struct xmm_pinpool *p, size_t bytes)
{
	void *b = NULL;
	int rc = xmm_pin_alloc(p, bytes, &b);

	cr_assert_eq(rc, 0, "alloc %zu: %s", bytes, xmm_strerror(rc));
	return b;
}

/* VmLck of this process, bytes. */
static uint64_t vmlck(void)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

struct vma {
	uintptr_t lo, hi;
	bool locked, dontcopy;
};

static size_t read_vmas(struct vma *v, size_t max)
{
	char line[512];
	size_t n = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char c;

		if (sscanf(line, "%lx-%lx %c", &lo, &hi, &c) == 3) {
			cr_assert_lt(n, max);
			v[n++] = (struct vma){ .lo = lo, .hi = hi };
		} else if (n && strncmp(line, "VmFlags:", 8) == 0) {
			v[n - 1].locked = strstr(line, " lo") != NULL;
			v[n - 1].dontcopy = strstr(line, " dc") != NULL;
		}
	}
	fclose(f);
	return n;
}

/* Whether [p, p + len) is covered by VMAs that are locked (if @locked) and not copied on fork. */
static bool covered(const struct vma *v, size_t n, const void *p, size_t len, bool locked)
{
	uintptr_t a = (uintptr_t)p, end = a + len;

	for (size_t i = 0; i < n && a < end; i++) {
		if (v[i].hi <= a)
			continue;
		if (v[i].lo > a || (locked && !v[i].locked) || !v[i].dontcopy)
			return false;
		a = v[i].hi;
	}
	return a >= end;
}

static bool buffer_locked(const void *p, size_t len)
{
	static struct vma v[8192];

	return covered(v, read_vmas(v, 8192), p, len, true);
}

/* Tag a buffer: a word at the start and end of every page. */
static void tag_fill(void *buf, size_t len, uint64_t tag)
{
	for (size_t off = 0; off < len; off += PAGE) {
		size_t last = (off + PAGE <= len ? off + PAGE : len) - sizeof(uint64_t);

		memcpy((char *)buf + off, &tag, sizeof(tag));
		memcpy((char *)buf + last, &tag, sizeof(tag));
	}
}

static bool tag_check(const void *buf, size_t len, uint64_t tag)
{
	for (size_t off = 0; off < len; off += PAGE) {
		size_t last = (off + PAGE <= len ? off + PAGE : len) - sizeof(uint64_t);
		uint64_t a, b;

		memcpy(&a, (const char *)buf + off, sizeof(a));
		memcpy(&b, (const char *)buf + last, sizeof(b));
		if (a != tag || b != tag)
			return false;
	}
	return true;
}

static int new_memfd(size_t bytes)
{
	int fd = (int)syscall(SYS_memfd_create, "pinpool-test", 1u /* MFD_CLOEXEC */);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)bytes), 0);
	return fd;
}

/* ---- create ------------------------------------------------------------------------------ */

Test(pinpool, create_defaults)
{
	struct xmm_pinpool *p = NULL;
	struct xmm_pinpool_stats st;
	size_t arena_bytes;

	cr_assert_eq(xmm_pinpool_create(&p, NULL), 0);
	st = stats(p);
	cr_expect_eq(st.cap_bytes, XMM_PINPOOL_DEFAULT_CAP);
	cr_expect_eq(st.chunk_bytes, XMM_PINPOOL_DEFAULT_CHUNK);
	cr_expect_eq(st.bytes_locked, 0, "nothing locked before the first allocation");
	cr_expect_eq(st.bytes_in_use, 0);
	cr_expect_eq(st.allocs + st.frees + st.hits + st.misses + st.commits, 0);
	cr_expect_gt(st.os_calls, 0, "the reservation is counted");
	cr_expect_not_null(xmm_pinpool_arena(p, &arena_bytes));
	cr_expect_eq(arena_bytes, XMM_PINPOOL_DEFAULT_CAP);
	cr_expect_eq((uintptr_t)xmm_pinpool_arena(p, NULL) % PAGE, 0);
	xmm_pinpool_destroy(p);
	xmm_pinpool_destroy(NULL);
}

Test(pinpool, create_geometry)
{
	static const struct {
		size_t cap, chunk, want_cap, want_chunk;
	} cases[] = {
		{ 3 * MiB, 0, 2 * MiB, 2 * MiB },       /* cap rounded down to whole chunks */
		{ 1 * MiB, 0, 1 * MiB, 1 * MiB },       /* chunk lowered to the cap */
		{ 12 * KiB, 0, 8 * KiB, 8 * KiB },
		{ 4 * KiB, 4 * KiB, 4 * KiB, 4 * KiB }, /* one page, one chunk: every class large */
		{ 10 * MiB, 256 * KiB, 10 * MiB, 256 * KiB },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xmm_pinpool *p = new_pool(cases[i].cap, cases[i].chunk, 0);
		struct xmm_pinpool_stats st = stats(p);

		cr_expect_eq(st.cap_bytes, cases[i].want_cap, "case %zu", i);
		cr_expect_eq(st.chunk_bytes, cases[i].want_chunk, "case %zu", i);
		xmm_pin_free(p, get(p, st.cap_bytes)); /* a cap-sized buffer fits */
		xmm_pinpool_destroy(p);
	}
}

Test(pinpool, create_rejects_bad_config)
{
	struct xmm_pinpool *p = (struct xmm_pinpool *)0x1;
	int rdonly = open("/proc/self/status", O_RDONLY | O_CLOEXEC), pipefd[2];
	int small = new_memfd(1 * MiB), big = new_memfd(4 * MiB);
	const struct xmm_pinpool_cfg bad[] = {
		{ .cap_bytes = 100 },
		{ .chunk_bytes = 100 * KiB },
		{ .chunk_bytes = 2 * KiB },
		{ .cap_bytes = (size_t)1 << 41 }, /* 2 TiB: over 2^28 - 1 pages */
		{ .backend = (enum xmm_pinpool_backend)7 },
		{ .flags = 0x80 },
		{ .flags = XMM_PINPOOL_FD_PINNED }, /* only for the fd backend */
		{ .backend = XMM_PINPOOL_FD, .fd = -1 },
		{ .backend = XMM_PINPOOL_FD, .fd = rdonly },
		{ .backend = XMM_PINPOOL_FD, .fd = small, .cap_bytes = 2 * MiB },
		{ .backend = XMM_PINPOOL_FD, .fd = big, .cap_bytes = 2 * MiB, .fd_offset = 3 * MiB },
		{ .backend = XMM_PINPOOL_FD, .fd = big, .cap_bytes = 2 * MiB, .fd_offset = 100 },
		{ .backend = XMM_PINPOOL_FD, .fd = 0, .cap_bytes = 2 * MiB }, /* set below: a pipe */
	};
	struct xmm_pinpool_cfg cfg;

	cr_assert_eq(pipe(pipefd), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = bad[i];
		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			cfg.fd = pipefd[1];
		cr_expect_eq(xmm_pinpool_create(&p, &cfg), XMM_EINVAL, "config %zu", i);
		cr_expect_eq(p, (struct xmm_pinpool *)0x1, "untouched on error");
	}
	cr_expect_eq(xmm_pinpool_create(NULL, NULL), XMM_EINVAL);
	cfg = (struct xmm_pinpool_cfg){ .backend = XMM_PINPOOL_FD, .fd = big, .cap_bytes = 2 * MiB,
					.fd_offset = 2 * MiB };
	cr_expect_eq(xmm_pinpool_create(&p, &cfg), 0, "an offset that fits");
	xmm_pinpool_destroy(p);
	close(rdonly);
	close(small);
	close(big);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* ---- alloc and free ---------------------------------------------------------------------- */

Test(pinpool, alloc_rejects_bad_arguments)
{
	struct xmm_pinpool *p = new_pool(4 * MiB, 0, 0);
	void *b = (void *)0x1;

	cr_expect_eq(xmm_pin_alloc(p, 0, &b), XMM_EINVAL);
	cr_expect_eq(xmm_pin_alloc(p, PAGE, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_pin_alloc(NULL, PAGE, &b), XMM_EINVAL);
	cr_expect_eq(xmm_pin_alloc(p, 4 * MiB + 1, &b), XMM_ENOMEM, "over the cap");
	cr_expect_eq(xmm_pin_alloc(p, SIZE_MAX, &b), XMM_ENOMEM);
	cr_expect_eq(b, (void *)0x1, "untouched on error");
	struct xmm_pinpool_stats st = stats(p);

	cr_expect_eq(st.failures, 2);
	cr_expect_eq(st.allocs, 0);
	cr_expect_eq(st.bytes_locked, 0, "a refused request locks nothing");
	xmm_pinpool_destroy(p);
}

Test(pinpool, alloc_sizes_and_alignment)
{
	struct xmm_pinpool *p = new_pool(64 * MiB, 2 * MiB, 0);
	static const size_t sizes[] = { 1, 100, PAGE, PAGE + 1, 3 * PAGE, 4 * PAGE, 5 * PAGE,
					64 * PAGE, 255 * PAGE, 256 * PAGE, 257 * PAGE, 2 * MiB - 1,
					2 * MiB, 2 * MiB + 1, 5 * MiB, 64 * MiB };
	size_t arena_bytes;
	char *arena = xmm_pinpool_arena(p, &arena_bytes);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *b = get(p, sizes[i]);
		size_t have = xmm_pinpool_buf_bytes(p, b), pages = (sizes[i] + PAGE - 1) / PAGE;

		cr_expect_eq((uintptr_t)b % PAGE, 0);
		cr_expect(b >= arena && b + have <= arena + arena_bytes);
		cr_expect_geq(have, sizes[i]);
		if (pages <= 256)
			cr_expect_eq(have, PAGE << (pages == 1 ? 0 : 64 - __builtin_clzll(pages - 1)),
				     "small classes are powers of two");
		else
			cr_expect_eq(have, (sizes[i] + 2 * MiB - 1) / (2 * MiB) * 2 * MiB,
				     "large classes are whole chunks");
		memset(b, 0xA5, have); /* all of it is ours */
		cr_expect_eq(xmm_pin_free(p, b), 0);
		cr_expect_eq(xmm_pinpool_buf_bytes(p, b), 0, "free: no longer a buffer");
	}
	xmm_pinpool_destroy(p);
}

/*
 * Every page-aligned address of the arena and around it that is not the start
 * of a live buffer, and every unaligned one tried, is rejected and changes
 * nothing: not the stats (but bad_frees), not a live buffer's contents, not
 * what the next allocations return.
 */
Test(pinpool, free_rejects_what_it_did_not_give)
{
	const size_t cap = 4 * MiB;
	struct xmm_pinpool *p = new_pool(cap, 512 * KiB, 0);
	size_t arena_bytes;
	char *arena = xmm_pinpool_arena(p, &arena_bytes);
	void *live[6];
	size_t sizes[6] = { PAGE, PAGE, 3 * PAGE, 64 * PAGE, 512 * KiB, 1 * MiB };
	int stack_var;
	char *heap = malloc(64);
	struct xmm_pinpool_stats before, after;
	uint64_t rejected = 0;

	for (int i = 0; i < 6; i++) {
		live[i] = get(p, sizes[i]);
		tag_fill(live[i], sizes[i], 0x1111ULL * (i + 1));
	}
	void *freed = get(p, 2 * PAGE); /* a buffer freed once: a second free is a double free */

	cr_assert_eq(xmm_pin_free(p, freed), 0);
	before = stats(p);

	cr_expect_eq(xmm_pin_free(p, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_pin_free(p, &stack_var), XMM_EINVAL);
	cr_expect_eq(xmm_pin_free(p, heap), XMM_EINVAL);
	cr_expect_eq(xmm_pin_free(p, freed), XMM_EINVAL);
	cr_expect_eq(xmm_pin_free(NULL, live[0]), XMM_EINVAL);
	rejected += 4;
	for (int i = 0; i < 6; i++) {
		cr_expect_eq(xmm_pin_free(p, (char *)live[i] + 1), XMM_EINVAL);
		cr_expect_eq(xmm_pin_free(p, (char *)live[i] + sizes[i] - 8), XMM_EINVAL);
		rejected += 2;
	}
	for (char *a = arena - 2 * MiB; a < arena + arena_bytes + 2 * MiB; a += PAGE) {
		bool is_live = false;

		for (int i = 0; i < 6; i++)
			is_live |= a == live[i];
		if (is_live)
			continue;
		cr_expect_eq(xmm_pin_free(p, a), XMM_EINVAL, "page %td of the arena",
			     (a - arena) / (ptrdiff_t)PAGE);
		cr_expect_eq(xmm_pinpool_buf_bytes(p, a), 0);
		rejected++;
	}
	after = stats(p);
	cr_expect_eq(after.bad_frees, before.bad_frees + rejected);
	cr_expect_eq(after.frees, before.frees);
	cr_expect_eq(after.allocs, before.allocs);
	cr_expect_eq(after.bytes_in_use, before.bytes_in_use);
	cr_expect_eq(after.bytes_locked, before.bytes_locked);
	cr_expect_eq(after.os_calls, before.os_calls);
	for (int i = 0; i < 6; i++)
		cr_expect(tag_check(live[i], sizes[i], 0x1111ULL * (i + 1)), "buffer %d intact", i);
	/* The lists are intact: what comes next overlaps nothing live. */
	for (int k = 0; k < 64; k++) {
		char *b = get(p, PAGE);

		for (int i = 0; i < 6; i++)
			cr_expect(b + PAGE <= (char *)live[i] || b >= (char *)live[i] + sizes[i]);
	}
	for (int i = 0; i < 6; i++)
		cr_expect_eq(xmm_pin_free(p, live[i]), 0);
	free(heap);
	xmm_pinpool_destroy(p);
}

/* A two-thread barrier that spins (both threads on their own CPU line up within
 * a few hundred ns), yielding now and then in case a CPU is taken. */
static void spin_barrier(atomic_uint *arrived, unsigned int target)
{
	atomic_fetch_add(arrived, 1);
	for (unsigned int spins = 0; atomic_load(arrived) < target; spins++)
		if (spins % 4096 == 4095)
			sched_yield();
}

struct racer {
	struct xmm_pinpool *p;
	void *_Atomic buf;
	atomic_uint arrived;
	atomic_int wins;
	int rounds;
};

static void *race_free(void *arg)
{
	struct racer *r = arg;

	for (unsigned int round = 0; round < (unsigned int)r->rounds; round++) {
		spin_barrier(&r->arrived, 4 * round + 2);
		if (xmm_pin_free(r->p, atomic_load(&r->buf)) == 0)
			atomic_fetch_add(&r->wins, 1);
		spin_barrier(&r->arrived, 4 * round + 4);
	}
	return NULL;
}

/* Two threads free the same buffer at the same moment: exactly one succeeds, every time. */
Test(pinpool, racing_double_free)
{
	/* Room for the chunks the other thread's cache keeps (see the header on caches). */
	struct racer r = { .p = new_pool(16 * MiB, 0, 0), .rounds = 20000 };
	pthread_t t;
	int bad = 0;

	pthread_create(&t, NULL, race_free, &r);
	for (unsigned int round = 0; round < (unsigned int)r.rounds; round++) {
		atomic_store(&r.buf, get(r.p, (size_t)(round % 4 + 1) * PAGE));
		atomic_store(&r.wins, 0);
		spin_barrier(&r.arrived, 4 * round + 2);
		if (xmm_pin_free(r.p, atomic_load(&r.buf)) == 0)
			atomic_fetch_add(&r.wins, 1);
		spin_barrier(&r.arrived, 4 * round + 4);
		bad += atomic_load(&r.wins) != 1;
	}
	pthread_join(t, NULL);
	cr_expect_eq(bad, 0, "%d of %d rounds without exactly one winner", bad, r.rounds);
	struct xmm_pinpool_stats st = stats(r.p);

	cr_expect_eq(st.frees, (uint64_t)r.rounds);
	cr_expect_eq(st.bad_frees, (uint64_t)r.rounds);
	cr_expect_eq(st.bytes_in_use, 0);
	xmm_pinpool_destroy(r.p);
}

struct handoff {
	struct xmm_pinpool *p;
	void *bufs[64];
	int rc[64];
};

static void *free_all(void *arg)
{
	struct handoff *h = arg;

	for (int i = 0; i < 64; i++) {
		h->rc[i] = tag_check(h->bufs[i], (size_t)(i % 8 + 1) * PAGE, (uint64_t)i) ? 0 : -1;
		if (h->rc[i] == 0)
			h->rc[i] = xmm_pin_free(h->p, h->bufs[i]);
	}
	return NULL;
}

static void *alloc_some_and_exit(void *arg)
{
	struct handoff *h = arg;

	for (int i = 0; i < 64; i++) {
		h->rc[i] = xmm_pin_alloc(h->p, (size_t)(i % 8 + 1) * PAGE, &h->bufs[i]);
		if (h->rc[i] == 0)
			tag_fill(h->bufs[i], (size_t)(i % 8 + 1) * PAGE, (uint64_t)i);
	}
	for (int i = 0; i < 64; i += 2) /* half of them come back through this thread's cache */
		h->rc[i] = xmm_pin_free(h->p, h->bufs[i]);
	return NULL;
}

/* Buffers allocated by one thread are freed by another; a thread's cache goes back at exit. */
Test(pinpool, cross_thread_free_and_thread_exit)
{
	struct handoff h = { .p = new_pool(16 * MiB, 256 * KiB, 0) };
	pthread_t t;
	uint64_t lck0 = vmlck();

	pthread_create(&t, NULL, alloc_some_and_exit, &h);
	pthread_join(t, NULL);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(h.rc[i], 0);
	for (int i = 0; i < 64; i += 2) { /* the freed half: allocate again here */
		cr_assert_eq(xmm_pin_alloc(h.p, (size_t)(i % 8 + 1) * PAGE, &h.bufs[i]), 0);
		tag_fill(h.bufs[i], (size_t)(i % 8 + 1) * PAGE, (uint64_t)i);
	}
	pthread_create(&t, NULL, free_all, &h);
	pthread_join(t, NULL);
	for (int i = 0; i < 64; i++)
		cr_expect_eq(h.rc[i], 0, "buffer %d", i);

	struct xmm_pinpool_stats st = stats(h.p);

	cr_expect_eq(st.bytes_in_use, 0);
	cr_expect_eq(st.allocs, 96);
	cr_expect_eq(st.frees, 96);
	cr_expect_eq(st.bytes_locked, vmlck() - lck0);
	/* Both threads have exited: their caches are drained, every chunk is free. Our
	 * own cache holds nothing either: trim drains it. */
	cr_expect_eq(xmm_pinpool_trim(h.p), st.bytes_locked);
	cr_expect_eq(stats(h.p).bytes_locked, 0);
	cr_expect_eq(vmlck(), lck0);
	xmm_pinpool_destroy(h.p);
}

/* ---- limits ------------------------------------------------------------------------------- */

/* The cap: XMM_ENOMEM, buffers handed out stay valid, a free makes room again. */
Test(pinpool, cap_gives_enomem)
{
	struct xmm_pinpool *p = new_pool(1 * MiB, 256 * KiB, 0);
	void *b[16], *x = (void *)0x1;

	for (int i = 0; i < 16; i++) {
		b[i] = get(p, 64 * KiB);
		tag_fill(b[i], 64 * KiB, (uint64_t)i);
	}
	cr_expect_eq(xmm_pin_alloc(p, 64 * KiB, &x), XMM_ENOMEM);
	cr_expect_eq(xmm_pin_alloc(p, PAGE, &x), XMM_ENOMEM);
	cr_expect_eq(x, (void *)0x1);
	struct xmm_pinpool_stats st = stats(p);

	cr_expect_eq(st.failures, 2);
	cr_expect_eq(st.bytes_locked, 1 * MiB);
	for (int i = 0; i < 16; i++)
		cr_expect(tag_check(b[i], 64 * KiB, (uint64_t)i));
	cr_expect_eq(xmm_pin_free(p, b[7]), 0);
	b[7] = get(p, 64 * KiB);
	cr_expect_eq(stats(p).os_calls, st.os_calls, "reuse makes no system call");
	for (int i = 0; i < 16; i++)
		cr_expect_eq(xmm_pin_free(p, b[i]), 0);
	xmm_pinpool_destroy(p);
}

/* At the cap, fully free chunks of one class serve another, without a system call. */
Test(pinpool, full_arena_reclaims_across_classes)
{
	struct xmm_pinpool *p = new_pool(2 * MiB, 512 * KiB, 0);
	void *b[512];
	uint64_t calls;

	for (int i = 0; i < 512; i++)
		b[i] = get(p, PAGE);
	cr_expect_eq(stats(p).bytes_locked, 2 * MiB);
	for (int i = 0; i < 512; i++)
		cr_expect_eq(xmm_pin_free(p, b[i]), 0);
	calls = stats(p).os_calls;
	void *big = get(p, 2 * MiB); /* needs all four chunks: our own cache is drained */

	cr_expect_eq(stats(p).os_calls, calls);
	cr_expect_eq(xmm_pin_free(p, big), 0);
	for (int i = 0; i < 8; i++)
		b[i] = get(p, 256 * KiB);
	cr_expect_eq(stats(p).os_calls, calls);
	for (int i = 0; i < 8; i++)
		cr_expect_eq(xmm_pin_free(p, b[i]), 0);
	xmm_pinpool_destroy(p);
}

/* Drop CAP_IPC_LOCK so RLIMIT_MEMLOCK applies to this (root) process. */
static bool drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, d) != 0)
		return false;
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].permitted &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].inheritable &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	if (syscall(SYS_capset, &hdr, d) != 0)
		return false;
	if (syscall(SYS_capget, &hdr, d) != 0)
		return false;
	return !(d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK));
}

/* Child: exit codes say which check failed (0: all passed). */
static int memlock_child(void)
{
	struct rlimit rl = { .rlim_cur = 1 * MiB, .rlim_max = 1 * MiB };
	struct xmm_pinpool_cfg cfg = { .cap_bytes = 16 * MiB, .chunk_bytes = 256 * KiB };
	struct xmm_pinpool *p;
	void *b[64];
	int n = 0, rc;

	if (!drop_ipc_lock())
		return 10;
	if (vmlck() != 0 || setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		return 11;
	if (xmm_pinpool_create(&p, &cfg) != 0)
		return 12;
	while (n < 64 && (rc = xmm_pin_alloc(p, 64 * KiB, &b[n])) == 0) {
		tag_fill(b[n], 64 * KiB, (uint64_t)n);
		n++;
	}
	if (rc != XMM_EPERM)
		return 13;                       /* the limit, not the cap: a clear XMM_EPERM */
	if (n != 16 || vmlck() != 1 * MiB)
		return 14;                       /* exactly 1 MiB of 256 KiB chunks was locked */
	for (int i = 0; i < n; i++)
		if (!tag_check(b[i], 64 * KiB, (uint64_t)i) || !buffer_locked(b[i], 64 * KiB))
			return 15;               /* handed-out buffers stay valid and locked */
	if (xmm_pin_alloc(p, 4 * MiB, &b[n]) != XMM_EPERM)
		return 16;
	if (xmm_pin_free(p, b[3]) != 0 || xmm_pin_alloc(p, 64 * KiB, &b[3]) != 0)
		return 17;                       /* reuse needs no more locked memory */
	struct xmm_pinpool_stats st;

	xmm_pinpool_stats(p, &st);
	if (st.failures != 2 || st.bytes_locked != 1 * MiB)
		return 18;
	for (int i = 0; i < n; i++)
		xmm_pin_free(p, b[i]);
	if (xmm_pinpool_trim(p) != 1 * MiB || vmlck() != 0)
		return 19;
	xmm_pinpool_destroy(p);

	/* A limit of 0: the first chunk is refused. */
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0 || xmm_pinpool_create(&p, &cfg) != 0)
		return 20;
	if (xmm_pin_alloc(p, PAGE, &b[0]) != XMM_EPERM)
		return 21;
	xmm_pinpool_destroy(p);
	return 0;
}

Test(pinpool, memlock_limit_gives_eperm)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(memlock_child());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the child crashed (signal %d)", WTERMSIG(status));
	cr_expect_eq(WEXITSTATUS(status), 0, "child check %d failed (see memlock_child)",
		     WEXITSTATUS(status));
}

/* ---- locked memory, trim, fork --------------------------------------------------------- */

Test(pinpool, vmlck_covers_the_pool_and_trim_gives_it_back)
{
	struct xmm_pinpool *p = new_pool(32 * MiB, 1 * MiB, 0);
	uint64_t lck0 = vmlck();
	void *b[4];
	size_t sz[4] = { PAGE, 16 * PAGE, 1 * MiB, 3 * MiB };

	for (int i = 0; i < 4; i++) {
		b[i] = get(p, sz[i]);
		tag_fill(b[i], sz[i], (uint64_t)i);
		cr_expect(buffer_locked(b[i], sz[i]), "buffer %d locked and DONTFORK", i);
	}
	struct xmm_pinpool_stats st = stats(p);

	cr_expect_eq(st.bytes_locked, 1 * MiB + 1 * MiB + 1 * MiB + 3 * MiB,
		     "a chunk each for 1 and 16 pages, one for 1 MiB, three for 3 MiB");
	cr_expect_eq(vmlck() - lck0, st.bytes_locked);
	cr_expect_eq(xmm_pin_free(p, b[1]), 0);
	cr_expect_eq(xmm_pin_free(p, b[3]), 0);
	cr_expect_eq(xmm_pinpool_trim(p), 4 * MiB, "the 16-page chunk and the 3 MiB buffer");
	cr_expect_eq(vmlck() - lck0, 2 * MiB);
	cr_expect(tag_check(b[0], sz[0], 0) && tag_check(b[2], sz[2], 2), "live buffers intact");
	cr_expect(buffer_locked(b[0], sz[0]) && buffer_locked(b[2], sz[2]));
	st = stats(p);
	cr_expect_eq(st.releases, 4);
	cr_expect_eq(st.bytes_locked, 2 * MiB);
	cr_expect_eq(xmm_pinpool_trim(p), 0, "nothing more to give back");
	xmm_pin_free(p, b[0]);
	xmm_pin_free(p, b[2]);
	cr_expect_eq(xmm_pinpool_trim(p), 2 * MiB);
	cr_expect_eq(vmlck(), lck0);
	b[0] = get(p, PAGE); /* trimmed memory is committed again on demand */
	cr_expect(buffer_locked(b[0], PAGE));
	xmm_pinpool_destroy(p);
	cr_expect_eq(vmlck(), lck0, "destroy unlocks everything");
}

struct idler {
	struct xmm_pinpool *p;
	atomic_int step;
};

static void *idle_with_cache(void *arg)
{
	struct idler *d = arg;
	void *b;

	xmm_pin_free(d->p, get(d->p, PAGE)); /* one buffer stays in this thread's cache */
	atomic_store(&d->step, 1);
	while (atomic_load(&d->step) != 2)
		usleep(100);
	b = get(d->p, 2 * PAGE); /* drains the cache first; this buffer stays allocated */
	atomic_store(&d->step, 3);
	while (atomic_load(&d->step) != 4)
		usleep(100);
	xmm_pin_free(d->p, b);
	return NULL;
}

/* Trim asks other threads' caches to drain at their next call. */
Test(pinpool, trim_and_other_threads_caches)
{
	struct idler d = { .p = new_pool(8 * MiB, 1 * MiB, 0) };
	pthread_t t;

	pthread_create(&t, NULL, idle_with_cache, &d);
	while (atomic_load(&d.step) != 1)
		usleep(100);
	cr_expect_eq(xmm_pinpool_trim(d.p), 0, "the idle thread caches a buffer of the chunk");
	atomic_store(&d.step, 2);
	while (atomic_load(&d.step) != 3)
		usleep(100);
	cr_expect_eq(xmm_pinpool_trim(d.p), 1 * MiB, "one-page chunk drained and free");
	cr_expect_eq(stats(d.p).bytes_locked, 1 * MiB, "the two-page buffer's chunk stays");
	atomic_store(&d.step, 4);
	pthread_join(t, NULL);
	cr_expect_eq(xmm_pinpool_trim(d.p), 1 * MiB);
	xmm_pinpool_destroy(d.p);
}

/* Page frame of a virtual page (0 when not readable: pagemap hides PFNs from non-root). */
static uint64_t pfn_of(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &e, 8, (off_t)((uintptr_t)va / PAGE * 8)), 8);
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

static void fork_check(struct xmm_pinpool *p, size_t len)
{
	char *b = get(p, len);
	uint64_t lck = vmlck(), pfn;
	unsigned char vec;
	pid_t pid;
	int status;

	tag_fill(b, len, 0xF0F0);
	pfn = pfn_of(b);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* MADV_DONTFORK: the child has no mapping there at all. */
		_exit(mincore(b, PAGE, &vec) == -1 && errno == ENOMEM ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child saw the pool's memory");
	tag_fill(b, len, 0x0F0F); /* no copy-on-write: the parent keeps its frames */
	cr_expect(tag_check(b, len, 0x0F0F));
	if (pfn)
		cr_expect_eq(pfn_of(b), pfn, "the buffer moved after fork");
	cr_expect_eq(vmlck(), lck);
	cr_expect(buffer_locked(b, len));
	cr_expect_eq(xmm_pin_free(p, b), 0);
}

Test(pinpool, fork_neither_shares_nor_copies)
{
	struct xmm_pinpool *p = new_pool(8 * MiB, 0, 0);
	int fd = new_memfd(8 * MiB);
	struct xmm_pinpool_cfg cfg = { .cap_bytes = 8 * MiB, .backend = XMM_PINPOOL_FD, .fd = fd };
	struct xmm_pinpool *q;

	fork_check(p, 4 * PAGE);
	fork_check(p, 3 * MiB);
	cr_assert_eq(xmm_pinpool_create(&q, &cfg), 0);
	fork_check(q, PAGE);
	xmm_pinpool_destroy(q);
	xmm_pinpool_destroy(p);
	close(fd);
}

/* ---- the fd backend ---------------------------------------------------------------------- */

Test(pinpool, fd_backend_maps_distinct_file_ranges)
{
	const size_t cap = 8 * MiB, off0 = 1 * MiB;
	int fd = new_memfd(off0 + cap);
	struct xmm_pinpool_cfg cfg = { .cap_bytes = cap, .chunk_bytes = 1 * MiB,
				       .backend = XMM_PINPOOL_FD, .fd = fd, .fd_offset = off0 };
	struct xmm_pinpool *p;
	uint64_t lck0 = vmlck();
	void *b[20];
	struct stat st;
	uint64_t locked;

	cr_assert_eq(xmm_pinpool_create(&p, &cfg), 0);
	char *arena = xmm_pinpool_arena(p, NULL);

	for (int i = 0; i < 20; i++) {
		size_t len = (size_t)(i % 5 + 1) * 16 * PAGE;
		uint64_t word;

		b[i] = get(p, len);
		tag_fill(b[i], len, 0xFD00 + (uint64_t)i);
		/* The file holds what the buffer holds, at the buffer's own offset. */
		cr_assert_eq(pread(fd, &word, 8, (off_t)(off0 + (size_t)((char *)b[i] - arena))), 8);
		cr_expect_eq(word, 0xFD00 + (uint64_t)i);
		cr_expect(buffer_locked(b[i], len));
	}
	cr_expect_eq(vmlck() - lck0, stats(p).bytes_locked);
	for (int i = 0; i < 20; i++)
		cr_expect_eq(xmm_pin_free(p, b[i]), 0);
	locked = stats(p).bytes_locked;
	cr_expect_eq(xmm_pinpool_trim(p), locked);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect_eq(st.st_blocks, 0, "trim punches released chunks out of a regular file");
	cr_expect_eq(vmlck(), lck0);
	xmm_pinpool_destroy(p);
	close(fd);
}

/* A device that pins its own pages (/dev/xen/hypercall) is mapped but not mlocked. */
Test(pinpool, fd_pinned_is_not_mlocked)
{
	int fd = new_memfd(4 * MiB);
	struct xmm_pinpool_cfg cfg = { .cap_bytes = 4 * MiB, .backend = XMM_PINPOOL_FD, .fd = fd,
				       .flags = XMM_PINPOOL_FD_PINNED };
	struct xmm_pinpool *p;
	uint64_t lck0 = vmlck();

	cr_assert_eq(xmm_pinpool_create(&p, &cfg), 0);
	void *b = get(p, 8 * PAGE);

	tag_fill(b, 8 * PAGE, 7);
	cr_expect(tag_check(b, 8 * PAGE, 7));
	cr_expect_eq(vmlck(), lck0);
	cr_expect_eq(stats(p).bytes_locked, 2 * MiB, "counted as the pool's, pinned by the device");
	cr_expect_eq(xmm_pin_free(p, b), 0);
	xmm_pinpool_destroy(p);
	close(fd);
}

/* ---- zeroing, bounce, steady state ------------------------------------------------------ */

Test(pinpool, zero_flag_zeroes_every_allocation)
{
	struct xmm_pinpool *p = new_pool(4 * MiB, 0, XMM_PINPOOL_ZERO);

	for (int round = 0; round < 3; round++)
		for (size_t pages = 1; pages <= 64; pages *= 4) {
			unsigned char *b = get(p, pages * PAGE);

			for (size_t i = 0; i < pages * PAGE; i++)
				cr_assert_eq(b[i], 0, "byte %zu of a %zu-page buffer", i, pages);
			memset(b, 0xEE, pages * PAGE);
			cr_assert_eq(xmm_pin_free(p, b), 0);
		}
	xmm_pinpool_destroy(p);
}

Test(pinpool, bounce_in_and_out)
{
	struct xmm_pinpool *p = new_pool(4 * MiB, 0, 0);
	char src[10000], dst[10000];
	void *b, *x = (void *)0x1;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (char)(i * 7);
	cr_assert_eq(xmm_pin_bounce_in(p, src, sizeof(src), &b), 0);
	cr_expect_eq((uintptr_t)b % PAGE, 0);
	cr_expect_eq(memcmp(b, src, sizeof(src)), 0);
	memset(b, 0x5A, sizeof(src)); /* what the hypervisor wrote */
	cr_expect_eq(xmm_pin_bounce_out(p, b, dst, 4 * PAGE + 1), XMM_EINVAL, "longer than the buffer");
	cr_expect_eq(xmm_pin_bounce_out(p, (char *)b + PAGE, dst, 8), XMM_EINVAL, "interior");
	cr_expect_eq(xmm_pinpool_buf_bytes(p, b), 4 * PAGE, "still allocated");
	cr_expect_eq(xmm_pin_bounce_out(p, b, dst, sizeof(dst)), 0);
	for (size_t i = 0; i < sizeof(dst); i++)
		cr_assert_eq(dst[i], 0x5A);
	cr_expect_eq(xmm_pin_bounce_out(p, b, dst, 8), XMM_EINVAL, "already freed");

	cr_assert_eq(xmm_pin_bounce_in(p, NULL, 100, &b), 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(((char *)b)[i], 0, "NULL source: zero-filled");
	cr_expect_eq(xmm_pin_bounce_out(p, b, NULL, 100), 0, "NULL destination: free only");
	cr_expect_eq(xmm_pin_bounce_in(p, src, 0, &x), XMM_EINVAL);
	cr_expect_eq(xmm_pin_bounce_in(p, src, 10, NULL), XMM_EINVAL);
	cr_expect_eq(xmm_pin_bounce_in(p, src, 8 * MiB, &x), XMM_ENOMEM);
	cr_expect_eq(xmm_pin_bounce_out(NULL, b, dst, 8), XMM_EINVAL);
	cr_expect_eq(x, (void *)0x1);
	struct xmm_pinpool_stats st = stats(p);

	cr_expect_eq(st.bytes_in_use, 0);
	cr_expect_eq(st.frees, 2);
	cr_expect_eq(st.bad_frees, 2, "interior and already freed (not: too long)");
	xmm_pinpool_destroy(p);
}

/* I4: once warm, alloc/free pairs and bursts make no system call at any size. */
Test(pinpool, steady_state_makes_no_system_call)
{
	struct xmm_pinpool *p = new_pool(64 * MiB, 0, 0);
	static const size_t pages[] = { 1, 4, 64, 1024 }, nburst[] = { 32, 32, 32, 8 };
	void *burst[32];
	struct xmm_pinpool_stats a, b;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			a = stats(p); /* the first pass warmed the pool */
		for (size_t k = 0; k < 4; k++) {
			for (int i = 0; i < 20000; i++)
				cr_assert_eq(xmm_pin_free(p, get(p, pages[k] * PAGE)), 0);
			for (size_t i = 0; i < nburst[k]; i++)
				burst[i] = get(p, pages[k] * PAGE);
			for (size_t i = 0; i < nburst[k]; i++)
				cr_assert_eq(xmm_pin_free(p, burst[i]), 0);
		}
	}
	b = stats(p);
	cr_expect_eq(b.os_calls, a.os_calls);
	cr_expect_eq(b.misses, a.misses);
	cr_expect_eq(b.hits - a.hits, 4 * 20000 + 3 * 32 + 8);
	xmm_pinpool_destroy(p);
}

/* ---- the core with a host of its own: no cache, counting host ----------------------------- */

struct fake_host {
	char *arena;
	int commits, releases, locks, fail;
	bool locked;
};

static int fake_commit(void *ctx, void *addr, size_t bytes)
{
	struct fake_host *h = ctx;

	cr_assert(h->locked, "commit outside the lock");
	if (h->fail)
		return h->fail;
	memset(addr, 0xCC, bytes); /* garbage: the core must not trust chunk contents */
	h->commits++;
	return 0;
}

static void fake_release(void *ctx, void *addr, size_t bytes)
{
	struct fake_host *h = ctx;

	(void)addr;
	(void)bytes;
	h->releases++;
}

static void fake_lock(void *ctx)
{
	struct fake_host *h = ctx;

	cr_assert_not(h->locked);
	h->locked = true;
	h->locks++;
}

static void fake_unlock(void *ctx)
{
	((struct fake_host *)ctx)->locked = false;
}

static void count_cache(struct xmm_pin_cache *c, void *arg)
{
	(void)c;
	(*(int *)arg)++;
}

Test(pinpool, core_init_and_host_ops)
{
	static const struct xmm_pinpool_ops ops = { fake_commit, fake_release, fake_lock,
						    fake_unlock, NULL };
	static const struct xmm_pinpool_ops no_lock = { fake_commit, fake_release, NULL,
							fake_unlock, NULL };
	const size_t arena_bytes = 1 * MiB, chunk = 64 * KiB;
	size_t sz = xmm_pinpool_size(arena_bytes, chunk);
	struct fake_host h = { .arena = aligned_alloc(PAGE, arena_bytes) };
	char *mem = aligned_alloc(XMM_PINPOOL_ALIGN, sz + XMM_PINPOOL_ALIGN);
	struct xmm_pinpool *p = (struct xmm_pinpool *)(void *)mem;
	void *b[4];

	memset(mem, 0xAB, sz); /* caller memory holds garbage before init */
	cr_expect_eq(xmm_pinpool_size(0, chunk), 0);
	cr_expect_eq(xmm_pinpool_size(arena_bytes, 3 * PAGE), 0);
	cr_expect_eq(xmm_pinpool_size(arena_bytes + PAGE, chunk), 0);
	cr_expect_eq(xmm_pinpool_init(NULL, h.arena, arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, NULL, arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena + 8, arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init((struct xmm_pinpool *)(void *)(mem + 8), h.arena,
				      arena_bytes, chunk, 0, &ops, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, 0, NULL, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, 0, &no_lock, &h), XMM_EINVAL);
	cr_expect_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, XMM_PINPOOL_FD_PINNED, &ops,
				      &h), XMM_EINVAL);
	cr_assert_eq(xmm_pinpool_init(p, h.arena, arena_bytes, chunk, 0, &ops, &h), 0);
	cr_expect_eq(xmm_pinpool_ctx(p), &h);

	/* No cache: every get and put goes through the lists. */
	h.fail = XMM_EPERM;
	cr_expect_eq(xmm_pin_cache_alloc(p, NULL, PAGE, &b[0]), XMM_EPERM, "the host's error");
	cr_expect_eq(h.commits, 0);
	h.fail = 0;
	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, PAGE, &b[0]), 0);
	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, 3 * PAGE, &b[1]), 0);
	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, 128 * KiB, &b[2]), 0);
	cr_expect_eq(h.commits, 3, "one ops call per run of chunks");
	int locks = h.locks;

	cr_assert_eq(xmm_pin_cache_alloc(p, NULL, PAGE, &b[3]), 0);
	cr_expect_eq(h.locks, locks, "a list hit takes no lock");
	for (int i = 0; i < 4; i++)
		cr_expect_eq(xmm_pin_cache_free(p, NULL, b[i]), 0);
	cr_expect_eq(h.locks, locks, "puts take no lock");
	cr_expect_eq(xmm_pin_cache_free(p, NULL, b[0]), XMM_EINVAL);

	struct xmm_pinpool_stats st;

	xmm_pinpool_stats(p, &st);
	cr_expect_eq(st.os_calls, 2 + 3, "without an os_calls op: commit calls, failed ones too");
	cr_expect_eq(st.allocs, 4);
	cr_expect_eq(st.frees, 4);
	cr_expect_eq(st.bad_frees, 1);
	cr_expect_eq(st.failures, 1);
	cr_expect_eq(st.bytes_locked, 4 * chunk);
	cr_expect_eq(xmm_pinpool_release_chunks(p), 4 * chunk);
	cr_expect_eq(h.releases, 1, "one ops call for the run of four free chunks");

	/* A cache attached by the host: fini detaches it and hands it back. */
	struct xmm_pin_cache c;
	int freed = 0;

	xmm_pin_cache_attach(p, &c);
	cr_assert_eq(xmm_pin_cache_alloc(p, &c, PAGE, &b[0]), 0);
	xmm_pinpool_fini(p, count_cache, &freed);
	cr_expect_eq(freed, 1);
	cr_expect_eq(h.releases, 2, "fini releases the chunk committed again");
	free(mem);
	free(h.arena);
}

/* ---- the model-based test ----------------------------------------------------------------- */

struct live {
	char *buf;
	size_t len, have;
	uint64_t tag;
};

struct model {
	struct xmm_pinpool *p;
	char *arena;
	size_t arena_bytes, chunk;
	struct live live[512];
	size_t nlive;
	uint64_t allocs, frees, bad_frees, failures, lck0;
	bool fd;
};

/* Whether some run of @n chunks holds no live buffer: then an allocation must succeed. */
static bool room_for(const struct model *m, size_t n)
{
	size_t nchunks = m->arena_bytes / m->chunk, run = 0;

	for (size_t c = 0; c < nchunks; c++) {
		char *lo = m->arena + c * m->chunk, *hi = lo + m->chunk;
		bool used = false;

		for (size_t i = 0; i < m->nlive && !used; i++)
			used = m->live[i].buf < hi && m->live[i].buf + m->live[i].have > lo;
		run = used ? 0 : run + 1;
		if (run >= n)
			return true;
	}
	return false;
}

static void model_alloc(struct model *m, struct test_rng *rng, uint64_t step)
{
	uint64_t r = test_rng_below(rng, 100);
	size_t len = r < 60 ? test_rng_below(rng, 8 * PAGE) + 1
		   : r < 90 ? test_rng_below(rng, 300 * PAGE) + 1
		   : r < 98 ? test_rng_below(rng, 3 * m->chunk) + 1
			    : test_rng_below(rng, m->arena_bytes) + 1;
	size_t need = (len + m->chunk - 1) / m->chunk;
	void *b = NULL;
	int rc;

	if (m->nlive == 512)
		return;
	rc = xmm_pin_alloc(m->p, len, &b);
	if (rc) {
		cr_assert_eq(rc, XMM_ENOMEM, "step %lu: %s", (unsigned long)step, xmm_strerror(rc));
		/* Refusing is allowed only when no run of free chunks could serve it. */
		cr_assert_not(room_for(m, need), "step %lu: %zu bytes refused with room", (unsigned long)step, len);
		m->failures++;
		return;
	}
	struct live *l = &m->live[m->nlive];

	l->buf = b;
	l->len = len;
	l->have = xmm_pinpool_buf_bytes(m->p, b);
	l->tag = step;
	cr_assert_geq(l->have, len);
	cr_assert(l->buf >= m->arena && l->buf + l->have <= m->arena + m->arena_bytes);
	for (size_t i = 0; i < m->nlive; i++)
		cr_assert(l->buf + l->have <= m->live[i].buf ||
			  l->buf >= m->live[i].buf + m->live[i].have,
			  "step %lu: overlaps a live buffer", (unsigned long)step);
	tag_fill(l->buf, l->have, l->tag);
	m->nlive++;
	m->allocs++;
}

static void model_free(struct model *m, struct test_rng *rng)
{
	size_t i = test_rng_below(rng, m->nlive);
	struct live l = m->live[i];

	cr_assert(tag_check(l.buf, l.have, l.tag), "buffer of step %lu corrupted", (unsigned long)l.tag);
	cr_assert_eq(xmm_pin_free(m->p, l.buf), 0);
	m->live[i] = m->live[--m->nlive];
	m->frees++;
	if (test_rng_below(rng, 4) == 0) { /* and again: a double free */
		cr_assert_eq(xmm_pin_free(m->p, l.buf), XMM_EINVAL);
		m->bad_frees++;
	}
}

static void model_bad_free(struct model *m, struct test_rng *rng)
{
	char *a;

	switch (test_rng_below(rng, 3)) {
	case 0: /* inside a live buffer */
		if (!m->nlive)
			return;
		a = m->live[test_rng_below(rng, m->nlive)].buf;
		a += test_rng_below(rng, xmm_pinpool_buf_bytes(m->p, a) - 1) + 1;
		break;
	case 1: /* any page of the arena that does not start a live buffer */
		a = m->arena + test_rng_below(rng, m->arena_bytes / PAGE) * PAGE;
		for (size_t i = 0; i < m->nlive; i++)
			if (m->live[i].buf == a)
				return;
		break;
	default: /* just outside */
		a = test_rng_below(rng, 2) ? m->arena - PAGE : m->arena + m->arena_bytes;
		break;
	}
	cr_assert_eq(xmm_pin_free(m->p, a), XMM_EINVAL);
	m->bad_frees++;
}

static void model_check(struct model *m, uint64_t step, bool deep)
{
	struct xmm_pinpool_stats st = stats(m->p);
	uint64_t in_use = 0;

	for (size_t i = 0; i < m->nlive; i++)
		in_use += m->live[i].have;
	cr_assert_eq(st.allocs, m->allocs, "step %lu", (unsigned long)step);
	cr_assert_eq(st.frees, m->frees);
	cr_assert_eq(st.bad_frees, m->bad_frees);
	cr_assert_eq(st.failures, m->failures);
	cr_assert_eq(st.hits + st.misses, st.allocs);
	cr_assert_eq(st.bytes_in_use, in_use);
	cr_assert_geq(st.bytes_locked, in_use);
	cr_assert_leq(st.bytes_locked, m->arena_bytes);
	cr_assert_eq(st.bytes_locked % m->chunk, 0);
	cr_assert_eq(st.bytes_locked, (st.commits - st.releases) * m->chunk);
	if (!deep)
		return;
	cr_assert_eq(vmlck() - m->lck0, st.bytes_locked, "step %lu: VmLck", (unsigned long)step);
	static struct vma v[8192];
	size_t n = read_vmas(v, 8192);

	for (size_t i = 0; i < m->nlive; i++) {
		cr_assert(covered(v, n, m->live[i].buf, m->live[i].have, true),
			  "step %lu: a live buffer outside locked memory", (unsigned long)step);
		cr_assert(tag_check(m->live[i].buf, m->live[i].have, m->live[i].tag));
	}
}

static void model_run(uint64_t seed, size_t cap, size_t chunk, bool fd, unsigned int steps)
{
	static struct model m;
	struct xmm_pinpool_cfg cfg = { .cap_bytes = cap, .chunk_bytes = chunk };
	struct test_rng rng;
	int memfd = -1;

	memset(&m, 0, sizeof(m));
	if (fd) {
		memfd = new_memfd(cap);
		cfg.backend = XMM_PINPOOL_FD;
		cfg.fd = memfd;
	}
	m.lck0 = vmlck();
	cr_assert_eq(xmm_pinpool_create(&m.p, &cfg), 0);
	m.arena = xmm_pinpool_arena(m.p, &m.arena_bytes);
	m.chunk = chunk;
	test_rng_seed(&rng, seed);
	for (unsigned int step = 0; step < steps; step++) {
		uint64_t op = test_rng_below(&rng, 1000);
		/* Alloc more when few are live and free more when many are: the live
		 * set wanders between empty and a good part of the arena. */
		uint64_t allocs = 480u + (m.nlive < 64 ? 200u : 0u) - (m.nlive > 200 ? 200u : 0u);

		if (op < allocs)
			model_alloc(&m, &rng, step);
		else if (op < 960 && m.nlive)
			model_free(&m, &rng);
		else if (op < 990)
			model_bad_free(&m, &rng);
		else
			cr_assert_leq(xmm_pinpool_trim(m.p), m.arena_bytes);
		model_check(&m, step, step % 997 == 0);
	}
	while (m.nlive)
		model_free(&m, &rng);
	model_check(&m, steps, true);
	xmm_pinpool_trim(m.p);
	cr_assert_eq(stats(m.p).bytes_locked, 0);
	cr_assert_eq(vmlck(), m.lck0);
	xmm_pinpool_destroy(m.p);
	if (memfd >= 0)
		close(memfd);
}

Test(pinpool, model_small_chunks)
{
	model_run(test_seed(1), 4 * MiB, 64 * KiB, false, 20000 * test_scale());
}

Test(pinpool, model_default_chunks)
{
	model_run(test_seed(2), 32 * MiB, 2 * MiB, false, 10000 * test_scale());
}

Test(pinpool, model_memfd)
{
	model_run(test_seed(3), 8 * MiB, 256 * KiB, true, 10000 * test_scale());
}
