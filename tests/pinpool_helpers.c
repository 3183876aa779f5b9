/* SPDX-License-Identifier: MIT */
/* Helpers shared by the pinned-buffer pool's tests (pinpool_helpers.h). */
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

struct xmm_pinpool *new_pool(size_t cap, size_t chunk, unsigned int flags)
{
	struct xmm_pinpool_cfg cfg = { .cap_bytes = cap, .chunk_bytes = chunk, .flags = flags };
	struct xmm_pinpool *p = NULL;

	cr_assert_eq(xmm_pinpool_create(&p, &cfg), 0);
	return p;
}

struct xmm_pinpool_stats stats(struct xmm_pinpool *p)
{
	struct xmm_pinpool_stats st;

	xmm_pinpool_stats(p, &st);
	return st;
}

void *get(struct xmm_pinpool *p, size_t bytes)
{
	void *b = NULL;
	int rc = xmm_pin_alloc(p, bytes, &b);

	cr_assert_eq(rc, 0, "alloc %zu: %s", bytes, xmm_strerror(rc));
	return b;
}

/* VmLck of this process, bytes. */
uint64_t vmlck(void)
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


size_t read_vmas(struct vma *v, size_t max)
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
bool covered(const struct vma *v, size_t n, const void *p, size_t len, bool locked)
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

bool buffer_locked(const void *p, size_t len)
{
	static struct vma v[8192];

	return covered(v, read_vmas(v, 8192), p, len, true);
}

/* Tag a buffer: a word at the start and end of every page. */
void tag_fill(void *buf, size_t len, uint64_t tag)
{
	for (size_t off = 0; off < len; off += PAGE) {
		size_t last = (off + PAGE <= len ? off + PAGE : len) - sizeof(uint64_t);

		memcpy((char *)buf + off, &tag, sizeof(tag));
		memcpy((char *)buf + last, &tag, sizeof(tag));
	}
}

bool tag_check(const void *buf, size_t len, uint64_t tag)
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

int new_memfd(size_t bytes)
{
	int fd = (int)syscall(SYS_memfd_create, "pinpool-test", 1u /* MFD_CLOEXEC */);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)bytes), 0);
	return fd;
}
