/* SPDX-License-Identifier: MIT */
/*
 * The pinned pool's system side: see xmm/pinpool.h for the backends.
 *
 * The arena is reserved once as PROT_NONE anonymous memory with MADV_DONTFORK
 * and MADV_NOHUGEPAGE, so a fork never sees it, even half-built. A chunk is
 * committed in place: anonymous chunks with mprotect + mlock, fd chunks with
 * mmap(MAP_FIXED | MAP_SHARED) + MADV_DONTFORK (+ mlock). A chunk is released,
 * and any failed commit undone, by mapping the reservation back over it, which
 * also unlocks it.
 *
 * mlock goes through syscall(): the sanitizers' interceptors turn mlock into
 * a no-op, and the pool's tests check that its memory really is locked.
 *
 * Every system call made here is counted in os->calls (stats.os_calls). All of
 * them run under the pool's lock or while the pool is private to one thread.
 */
#define _GNU_SOURCE
#include "pinpool_os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include <xmm/errno.h>

static inline void counted(struct xmm_pin_os *os)
{
	os->calls++;
}

/* (Re)establish the reservation over [addr, addr + bytes): fixed when addr is set. */
static void *reserve(struct xmm_pin_os *os, void *addr, size_t bytes)
{
	int fixed = addr ? MAP_FIXED : 0;
	void *p;

	counted(os);
	p = mmap(addr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	counted(os);
	if (madvise(p, bytes, MADV_DONTFORK) != 0) {
		if (!addr) {
			counted(os);
			munmap(p, bytes);
		}
		return NULL;
	}
	/* Huge pages would be split or collapsed (moved) behind our back; EINVAL without THP. */
	counted(os);
	(void)madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

int xmm_pin_os_open(struct xmm_pin_os *os, const struct xmm_pinpool_cfg *cfg, size_t arena_bytes)
{
	memset(os, 0, sizeof(*os));
	os->backend = cfg->backend;
	os->mlock = !(cfg->flags & XMM_PINPOOL_FD_PINNED);
	os->fd = -1;
	os->arena_bytes = arena_bytes;
	if (cfg->backend == XMM_PINPOOL_FD) {
		struct stat st;
		int fl;

		if (cfg->fd < 0 || (cfg->fd_offset & (XMM_PAGE_SIZE - 1)) ||
		    cfg->fd_offset > UINT64_MAX - arena_bytes)
			return XMM_EINVAL;
		counted(os);
		fl = fcntl(cfg->fd, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
			return XMM_EINVAL;
		counted(os);
		if (fstat(cfg->fd, &st) != 0)
			return XMM_EINVAL;
		if (S_ISREG(st.st_mode)) {
			if ((uint64_t)st.st_size < cfg->fd_offset + arena_bytes)
				return XMM_EINVAL;
			os->regular = true;
		} else if (!S_ISCHR(st.st_mode)) {
			return XMM_EINVAL;
		}
		os->fd = cfg->fd;
		os->fd_offset = cfg->fd_offset;
	}
	os->base = reserve(os, NULL, arena_bytes);
	return os->base ? 0 : XMM_ENOMEM;
}

void xmm_pin_os_close(struct xmm_pin_os *os)
{
	counted(os);
	munmap(os->base, os->arena_bytes);
}

static bool has_cap_ipc_lock(struct xmm_pin_os *os)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	counted(os);
	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK);
}

/* VmLck of this process in bytes (0 if unreadable). */
static uint64_t locked_bytes(struct xmm_pin_os *os)
{
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	const char *s;
	int fd;

	counted(os);
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	do {
		counted(os);
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
	} while (n > 0 && (len += (size_t)n) < sizeof(buf) - 1);
	counted(os);
	close(fd);
	buf[len] = '\0';
	s = strstr(buf, "VmLck:");
	return s ? strtoull(s + 6, NULL, 10) * 1024 : 0;
}

/*
 * mlock failed with ENOMEM or EAGAIN: was it RLIMIT_MEMLOCK (XMM_EPERM, the
 * limit stops the pool) or a real shortage (XMM_ENOMEM)? The limit explains
 * it if it applies (no CAP_IPC_LOCK) and locking @bytes more would pass it.
 */
static int lock_error(struct xmm_pin_os *os, int err, size_t bytes)
{
	struct rlimit rl;

	if (err == EPERM) /* a limit of 0 without CAP_IPC_LOCK */
		return XMM_EPERM;
	if (err != ENOMEM && err != EAGAIN)
		return XMM_ENOMEM;
	counted(os);
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return XMM_ENOMEM;
	if (has_cap_ipc_lock(os))
		return XMM_ENOMEM;
	return locked_bytes(os) + bytes > rl.rlim_cur ? XMM_EPERM : XMM_ENOMEM;
}

static int map_error(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return XMM_EPERM;
	case ENODEV:
		return XMM_ENODEV;
	default:
		return XMM_ENOMEM;
	}
}

int xmm_pin_os_commit(struct xmm_pin_os *os, void *addr, size_t bytes)
{
	int rc = 0;

	if (os->backend == XMM_PINPOOL_ANON) {
		counted(os);
		if (mprotect(addr, bytes, PROT_READ | PROT_WRITE) != 0)
			return XMM_ENOMEM; /* out of memory or of VMAs */
	} else {
		uint64_t off = os->fd_offset + (uint64_t)((char *)addr - os->base);
		void *p;

		counted(os);
		p = mmap(addr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, os->fd, (off_t)off);
		if (p == MAP_FAILED) {
			rc = map_error(errno);
			goto undo;
		}
		/* A fork between the mmap and here would share the chunk: nothing is carved yet. */
		counted(os);
		if (madvise(addr, bytes, MADV_DONTFORK) != 0) {
			rc = XMM_ENOMEM;
			goto undo;
		}
	}
	if (os->mlock) {
		counted(os);
		if (syscall(SYS_mlock, addr, bytes) != 0) {
			rc = lock_error(os, errno, bytes);
			goto undo;
		}
	}
	return 0;
undo:
	/* Map the reservation back: unlocks and drops whatever was made resident. */
	reserve(os, addr, bytes);
	return rc;
}

void xmm_pin_os_release(struct xmm_pin_os *os, void *addr, size_t bytes)
{
	/* MAP_FIXED over our own range: fails only without memory for a VMA. */
	(void)reserve(os, addr, bytes);
	if (os->regular) {
		uint64_t off = os->fd_offset + (uint64_t)((char *)addr - os->base);

		counted(os);
		(void)fallocate(os->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				(off_t)bytes);
	}
}

void *xmm_pin_os_map(struct xmm_pin_os *os, size_t bytes)
{
	void *p;

	counted(os);
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void xmm_pin_os_unmap(struct xmm_pin_os *os, void *p, size_t bytes)
{
	counted(os);
	munmap(p, bytes);
}
