/* SPDX-License-Identifier: MIT */
/*
 * Topologies (xmm/user/topo.h): any synthetic description, or any XML file
 * (the input written to a temporary file), must load or fail with
 * XMM_EINVAL in bounded time (libFuzzer's -timeout catches a hang); a loaded
 * one must be within the limits and self-consistent: every CPU on a node,
 * node_cpus agreeing with node_of_cpu, a distance matrix with 10 on its
 * diagonal (when it comes from no matrix) and entries in 1..255.
 */
#include <string.h>
#include <unistd.h>

#include <xmm/errno.h>
#include <xmm/user/topo.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	bool xml = fz_u8(&f) & 1;
	char spec[512], path[64];
	struct xmm_topo *t = NULL;
	int rc;

	if (f.n > 64 * 1024)
		return 0;
	if (xml) {
		FILE *out;

		snprintf(path, sizeof(path), "/tmp/xmm-fuzz-topo-%d.xml", (int)getpid());
		out = fopen(path, "wb");
		if (!out)
			abort();
		fwrite(f.p, 1, f.n, out);
		fclose(out);
		rc = xmm_topo_load(&t, path);
		unlink(path);
	} else {
		size_t n = f.n < sizeof(spec) - 1 ? f.n : sizeof(spec) - 1;

		memcpy(spec, f.p, n);
		spec[n] = 0;
		if (!spec[0])
			return 0; /* "" is this machine */
		if (spec[0] == '/' || spec[0] == '.')
			spec[0] = 'x'; /* not a path to some file of this machine */
		rc = xmm_topo_load(&t, spec);
	}
	if (rc) {
		FZ_CHECK(rc == XMM_EINVAL || rc == XMM_ENOMEM, "load: %d", rc);
		FZ_CHECK(t == NULL, "*out written on error");
		return 0;
	}
	FZ_CHECK(t->ncpus >= 1 && t->ncpus <= XMM_TOPO_MAX_CPUS, "ncpus %u", t->ncpus);
	FZ_CHECK(t->nnodes >= 1 && t->nnodes <= XMM_TOPO_MAX_NODES, "nnodes %u", t->nnodes);
	FZ_CHECK(!t->this_machine, "a spec is not this machine");
	{
		unsigned int total = 0, *cpus = malloc(t->ncpus * sizeof(*cpus));

		if (!cpus)
			abort();
		for (unsigned int c = 0; c < t->ncpus; c++)
			FZ_CHECK(t->node_of_cpu[c] < t->nnodes, "cpu %u on node %u", c, t->node_of_cpu[c]);
		for (unsigned int n = 0; n < t->nnodes; n++) {
			unsigned int k = xmm_topo_node_cpus(t, n, cpus, t->ncpus);

			for (unsigned int i = 0; i < k; i++)
				FZ_CHECK(t->node_of_cpu[cpus[i]] == n && (i == 0 || cpus[i] > cpus[i - 1]),
					 "node_cpus of node %u", n);
			total += k;
		}
		FZ_CHECK(total == t->ncpus, "every CPU on exactly one node");
		free(cpus);
	}
	for (unsigned int i = 0; i < t->nnodes; i++)
		for (unsigned int j = 0; j < t->nnodes; j++)
			FZ_CHECK(t->distance[i * t->nnodes + j] >= 1, "distance %u %u", i, j);
	FZ_CHECK(xmm_topo_bind_thread(t, 0) == XMM_ENOTSUP, "binding to a spec");
	FZ_CHECK(xmm_topo_bind_thread(t, t->nnodes) == XMM_ERANGE, "binding to a bad node");
	xmm_topo_free(t);
	return 0;
}
