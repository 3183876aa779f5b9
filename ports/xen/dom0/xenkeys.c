/* SPDX-License-Identifier: MIT */
/*
 * xenkeys KEYS: send debug keys to Xen from dom0 (XEN_SYSCTL_debug_keys through
 * /dev/xen/privcmd), as `xl debug-keys KEYS` does, for a dom0 without the toolstack.
 * Built static against Xen's public headers of the source under test (test.sh).
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xen.h"
#include "sysctl.h"

/* Linux's privcmd ABI (include/uapi/xen/privcmd.h). */
struct privcmd_hypercall {
	uint64_t op;
	uint64_t arg[5];
};
#define IOCTL_PRIVCMD_HYPERCALL _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))

int main(int argc, char **argv)
{
	static struct xen_sysctl sc __attribute__((aligned(4096)));
	static char keys[256] __attribute__((aligned(4096)));
	struct privcmd_hypercall h = { .op = __HYPERVISOR_sysctl };
	int fd, rc;

	if (argc != 2 || strlen(argv[1]) >= sizeof(keys)) {
		fprintf(stderr, "usage: xenkeys KEYS\n");
		return 2;
	}
	fd = open("/dev/xen/privcmd", O_RDWR);
	if (fd < 0) {
		perror("xenkeys: /dev/xen/privcmd");
		return 1;
	}
	strcpy(keys, argv[1]);
	/* Xen reads both through dom0's page tables: keep them resident. */
	mlock(&sc, sizeof(sc));
	mlock(keys, sizeof(keys));
	memset(&sc, 0, sizeof(sc));
	sc.cmd = XEN_SYSCTL_debug_keys;
	sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	set_xen_guest_handle(sc.u.debug_keys.keys, keys);
	sc.u.debug_keys.nr_keys = strlen(keys);
	h.arg[0] = (uint64_t)(uintptr_t)&sc;
	rc = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &h);
	if (rc < 0) {
		fprintf(stderr, "xenkeys: sysctl debug_keys: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
