/* SPDX-License-Identifier: MIT */
/*
 * xmm/user/topo.h - machine topology for the user-space platform (hwloc).
 *
 * A topology is this machine, an hwloc synthetic description of any size
 * ("pack:4 core:16 pu:1" is 64 CPUs; "pack:4 numa:1 core:16 pu:1" gives each
 * package its own NUMA node), or a real machine's hwloc XML file. Benchmarks
 * use the synthetic and XML forms to lay out structures for many CPUs on a
 * small machine; the scrub daemon uses this machine's to bind its workers.
 *
 * CPUs are numbered 0..ncpus-1 and nodes 0..nnodes-1 in hwloc's logical
 * order. A topology is immutable once loaded and may be shared by threads.
 */
#ifndef XMM_USER_TOPO_H
#define XMM_USER_TOPO_H

#include <xmm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xmm_topo {
	unsigned int ncpus;        /* logical CPUs (hwloc PUs) */
	unsigned int nnodes;       /* NUMA nodes; 1 when the machine reports none */
	const uint16_t *node_of_cpu; /* [ncpus]; usable as xmm_flush_clock_init's group_of_cpu */
	const uint8_t *distance;   /* [nnodes * nnodes], row-major, ACPI SLIT scale: 10 local,
				      20 remote when the topology gives no matrix */
	bool this_machine;         /* loaded from the running machine: binding works */
	void *hwloc;               /* the hwloc_topology_t behind it */
};

/*
 * Limits, checked before hwloc builds anything, so that a bad spec costs a
 * bounded time (at most about 0.5 s on the CI machine, for the largest flat
 * level allowed) rather than hwloc's superlinear build of a huge flat level:
 * at most XMM_TOPO_MAX_CPUS CPUs (the flush clock's limit), XMM_TOPO_MAX_NODES
 * NUMA nodes, XMM_TOPO_MAX_ARITY children per object of a synthetic level, and
 * XML files of at most XMM_TOPO_MAX_XML_BYTES (whose CPU and node counts are
 * checked after loading: the file's size bounds that work). An XML file is
 * first loaded in a child process and refused if that crashes or takes over
 * 10 s: hwloc 2.9 crashes on some inconsistent files (a fork per XML load).
 */
#define XMM_TOPO_MAX_CPUS 4096
#define XMM_TOPO_MAX_NODES 1024
#define XMM_TOPO_MAX_ARITY 1024
#define XMM_TOPO_MAX_XML_BYTES (16u << 20)

/*
 * Load a topology. @spec is NULL or "" for this machine, the path of an
 * existing hwloc XML file, or an hwloc synthetic description: levels
 * "[type:]arity[(attributes)]" separated by blanks, and memory children in
 * brackets ("[numa]"). Returns 0 and *out; XMM_EINVAL (*out untouched) for a
 * spec hwloc rejects, a synthetic level this parser cannot read, or one over
 * the limits above; XMM_ENOMEM. The same in release and debug builds.
 */
int xmm_topo_load(struct xmm_topo **out, const char *spec);
void xmm_topo_free(struct xmm_topo *t);

/* CPUs of @node, in order; returns how many were written (at most @max). */
unsigned int xmm_topo_node_cpus(const struct xmm_topo *t, unsigned int node, unsigned int *cpus,
				unsigned int max);

/*
 * Bind the calling thread to the CPUs of @node, and its memory allocations
 * to @node where the machine has more than one. XMM_ENOTSUP for a topology
 * that is not this machine, XMM_ERANGE for a bad node.
 */
int xmm_topo_bind_thread(const struct xmm_topo *t, unsigned int node);

#ifdef __cplusplus
}
#endif

#endif /* XMM_USER_TOPO_H */
