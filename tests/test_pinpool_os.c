/* SPDX-License-Identifier: MIT */
/*
 * The pinned-buffer pool against what the kernel says (pinpool_helpers.h):
 * locked memory and trim, other threads' caches, fork, the fd backend.
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
