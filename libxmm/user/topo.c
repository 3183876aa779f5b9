/* SPDX-License-Identifier: MIT */
/* Topologies from hwloc: this machine, synthetic descriptions, XML files. */
#define _GNU_SOURCE
#include <xmm/errno.h>
#include <xmm/user/topo.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>

struct topo_impl {
	struct xmm_topo pub;
	uint16_t *node_of_cpu;
	uint8_t *distance;
};

static uint8_t clamp_distance(hwloc_uint64_t v)
{
	return v > 255 ? 255 : v < 1 ? 1 : (uint8_t)v;
}

static void fill_distances(hwloc_topology_t h, struct topo_impl *t, unsigned int nnodes)
{
	struct hwloc_distances_s *d = NULL;
	unsigned int nr = 1;

	for (unsigned int i = 0; i < nnodes; i++)
		for (unsigned int j = 0; j < nnodes; j++)
			t->distance[i * nnodes + j] = i == j ? 10 : 20;
	if (nnodes < 2)
		return;
	if (hwloc_distances_get_by_type(h, HWLOC_OBJ_NUMANODE, &nr, &d,
					HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) != 0 || nr == 0)
		return;
	if (d->nbobjs == nnodes) {
		for (unsigned int i = 0; i < nnodes; i++)
			for (unsigned int j = 0; j < nnodes; j++) {
				unsigned int a = d->objs[i]->logical_index, b = d->objs[j]->logical_index;

				t->distance[a * nnodes + b] = clamp_distance(d->values[i * nnodes + j]);
			}
	}
	hwloc_distances_release(h, d);
}

/*
 * Bound a synthetic description before hwloc builds it: hwloc's synthetic
 * loader costs far more than linearly in a level's arity ("pack:4000 pu:1"
 * took 3.2 s, "pack:65535 pu:1" does not finish), and it checks nothing. The
 * levels are whitespace-separated tokens "[type:]arity[(attributes)]"; a
 * token in brackets ("[numa]") attaches memory children to every object of
 * the level before it. Anything else is left to hwloc to reject. Nodes are
 * counted as if every level without a type (hwloc infers them) or of type
 * numa/node were NUMA nodes: an upper bound.
 */
static int synthetic_bounds(const char *s)
{
	unsigned long long objs = 1, nodes = 0;
	const char *p = s;

	while (*p) {
		const char *tok, *colon, *num;
		unsigned long long arity = 0;
		int depth = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && (depth || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (*p == '(' || *p == '[')
				depth++;
			else if ((*p == ')' || *p == ']') && depth)
				depth--;
			p++;
		}
		if (*tok == '[') { /* memory children of every object of the last level */
			nodes += objs;
			if (nodes > XMM_TOPO_MAX_NODES)
				return XMM_EINVAL;
			continue;
		}
		colon = memchr(tok, ':', (size_t)(p - tok));
		num = colon ? colon + 1 : tok;
		if (num >= p || *num < '0' || *num > '9')
			return XMM_EINVAL;
		for (; num < p && *num >= '0' && *num <= '9'; num++) {
			arity = arity * 10 + (unsigned)(*num - '0');
			if (arity > XMM_TOPO_MAX_ARITY)
				return XMM_EINVAL;
		}
		if (num < p && *num != '(')
			return XMM_EINVAL;
		if (arity == 0)
			return XMM_EINVAL;
		objs *= arity; /* <= XMM_TOPO_MAX_CPUS * XMM_TOPO_MAX_ARITY: no overflow */
		if (objs > XMM_TOPO_MAX_CPUS)
			return XMM_EINVAL; /* every level has at most as many objects as PUs */
		/* numa, NUMANode, node, in any case (after the load the count is checked exactly). */
		if (!colon || *tok == 'n' || *tok == 'N') {
			nodes = nodes > objs ? nodes : objs;
			if (nodes > XMM_TOPO_MAX_NODES)
				return XMM_EINVAL;
		}
	}
	return 0;
}

/*
 * hwloc 2.9 (Debian 12) dereferences NULL in hwloc_topology_load on some XML
 * files whose objects' cpusets contradict their nesting (found by
 * tests/fuzz/fuzz_topo.c), and it validates little else. An XML file is
 * therefore first loaded in a child process: if the child crashes, or has
 * not finished after XMM_TOPO_XML_SECONDS, the file is refused. (glibc makes
 * malloc usable in the child of a threaded parent; the child only loads and
 * exits.) Costs a fork per XML load, which is a start-up operation.
 */
#define XMM_TOPO_XML_SECONDS 10

static bool xml_loads_safely(const char *path)
{
	struct timespec nap = { 0, 1000 * 1000 };
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		/* Die quietly: the parent's crash handlers (a sanitizer's, a fuzzer's) are not for this. */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
		hwloc_topology_t h;
		int ok;

		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		ok = hwloc_topology_init(&h) == 0 && hwloc_topology_set_xml(h, path) == 0 &&
			 hwloc_topology_load(h) == 0;

		_exit(ok ? 0 : 1);
	}
	for (long waited = 0; waited < XMM_TOPO_XML_SECONDS * 1000L; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (r < 0)
			return false;
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return false;
}

int xmm_topo_load(struct xmm_topo **out, const char *spec)
{
	hwloc_topology_t h;
	struct topo_impl *t;
	struct stat st;
	int ncpus, nnodes;

	if (!out)
		return XMM_EINVAL;
	bool here = !spec || !*spec;
	bool xml = !here && stat(spec, &st) == 0 && S_ISREG(st.st_mode);

	/* Bounded before hwloc builds anything (see synthetic_bounds). */
	if (xml && (st.st_size > XMM_TOPO_MAX_XML_BYTES || !xml_loads_safely(spec)))
		return XMM_EINVAL;
	if (!here && !xml && synthetic_bounds(spec) != 0)
		return XMM_EINVAL;
	if (hwloc_topology_init(&h) != 0)
		return XMM_ENOMEM;
	if (!here) {
		int rc = xml ? hwloc_topology_set_xml(h, spec) : hwloc_topology_set_synthetic(h, spec);
		if (rc != 0) {
			hwloc_topology_destroy(h);
			return XMM_EINVAL;
		}
	}
	if (hwloc_topology_load(h) != 0) {
		hwloc_topology_destroy(h);
		return XMM_EINVAL;
	}
	ncpus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
	nnodes = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
	if (ncpus <= 0 || ncpus > XMM_TOPO_MAX_CPUS || nnodes > XMM_TOPO_MAX_NODES) {
		hwloc_topology_destroy(h);
		return XMM_EINVAL;
	}
	if (nnodes <= 0)
		nnodes = 1;

	t = calloc(1, sizeof(*t));
	if (t) {
		t->node_of_cpu = calloc((size_t)ncpus, sizeof(*t->node_of_cpu));
		t->distance = calloc((size_t)nnodes * (size_t)nnodes, 1);
	}
	if (!t || !t->node_of_cpu || !t->distance) {
		if (t) {
			free(t->node_of_cpu);
			free(t->distance);
		}
		free(t);
		hwloc_topology_destroy(h);
		return XMM_ENOMEM;
	}
	for (int n = 0; n < hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE); n++) {
		hwloc_obj_t node = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)n);
		hwloc_obj_t pu = NULL;

		while ((pu = hwloc_get_next_obj_inside_cpuset_by_type(h, node->cpuset, HWLOC_OBJ_PU,
									pu)) != NULL)
			t->node_of_cpu[pu->logical_index] = (uint16_t)n;
	}
	fill_distances(h, t, (unsigned)nnodes);

	t->pub.ncpus = (unsigned)ncpus;
	t->pub.nnodes = (unsigned)nnodes;
	t->pub.node_of_cpu = t->node_of_cpu;
	t->pub.distance = t->distance;
	t->pub.this_machine = here;
	t->pub.hwloc = h;
	*out = &t->pub;
	return 0;
}

void xmm_topo_free(struct xmm_topo *pub)
{
	struct topo_impl *t = (struct topo_impl *)pub;

	if (!t)
		return;
	hwloc_topology_destroy((hwloc_topology_t)pub->hwloc);
	free(t->node_of_cpu);
	free(t->distance);
	free(t);
}

unsigned int xmm_topo_node_cpus(const struct xmm_topo *t, unsigned int node, unsigned int *cpus,
				unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int cpu = 0; cpu < t->ncpus && n < max; cpu++)
		if (t->node_of_cpu[cpu] == node)
			cpus[n++] = cpu;
	return n;
}

int xmm_topo_bind_thread(const struct xmm_topo *t, unsigned int node)
{
	hwloc_topology_t h = (hwloc_topology_t)t->hwloc;
	hwloc_bitmap_t set;
	int rc = 0;

	if (node >= t->nnodes)
		return XMM_ERANGE;
	if (!t->this_machine)
		return XMM_ENOTSUP;
	set = hwloc_bitmap_alloc();
	if (!set)
		return XMM_ENOMEM;
	for (unsigned int cpu = 0; cpu < t->ncpus; cpu++) {
		if (t->node_of_cpu[cpu] != node)
			continue;
		hwloc_obj_t pu = hwloc_get_obj_by_type(h, HWLOC_OBJ_PU, cpu);

		hwloc_bitmap_or(set, set, pu->cpuset);
	}
	if (hwloc_set_cpubind(h, set, HWLOC_CPUBIND_THREAD) != 0)
		rc = XMM_EPERM;
	if (rc == 0 && t->nnodes > 1) {
		hwloc_obj_t n = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, node);

		/* Best effort: some kernels refuse per-thread memory binding. */
		(void)hwloc_set_membind(h, n->nodeset, HWLOC_MEMBIND_BIND,
					HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET);
	}
	hwloc_bitmap_free(set);
	return rc;
}
