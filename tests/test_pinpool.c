/* SPDX-License-Identifier: MIT */
/*
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

#include "pinpool_helpers.h"

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

/*
 * Regression (issue 15): the headers said "above 1 TiB" and "above 2^28 - 1
 * pages", but the code also refuses exactly 1 TiB and exactly 2^28 - 1
 * pages. The limit is now named (XMM_PINPOOL_MAX_PAGES) and the headers say
 * what the code does; these are its edges.
 */
Test(pinpool, arena_limit_is_what_the_header_says)
{
	struct xmm_pinpool *p = (struct xmm_pinpool *)0x1;
	const size_t page = 4096, max = (size_t)XMM_PINPOOL_MAX_PAGES * page;

	cr_expect_eq(XMM_PINPOOL_MAX_PAGES, (1ULL << 28) - 2);
	cr_expect_neq(xmm_pinpool_size(max, page), 0, "2^28 - 2 pages is accepted");
	cr_expect_eq(xmm_pinpool_size(max + page, page), 0, "2^28 - 1 pages is refused");
	cr_expect_eq(xmm_pinpool_size((size_t)1 << 40, 2 * MiB), 0, "1 TiB is refused");
	cr_expect_neq(xmm_pinpool_size(((size_t)1 << 40) - 2 * MiB, 2 * MiB), 0,
		      "1 TiB less one 2 MiB chunk is accepted");
	cr_expect_eq(xmm_pinpool_create(&p, &(struct xmm_pinpool_cfg){ .cap_bytes = (size_t)1 << 40 }),
		     XMM_EINVAL, "a cap of exactly 1 TiB");
	cr_expect_eq(xmm_pinpool_create(&p, &(struct xmm_pinpool_cfg){
				.cap_bytes = ((size_t)1 << 40) - page, .chunk_bytes = page }),
		     XMM_EINVAL, "1 TiB - 4 KiB in 4 KiB chunks is 2^28 - 1 pages");
	cr_expect_eq(p, (struct xmm_pinpool *)0x1);
}
