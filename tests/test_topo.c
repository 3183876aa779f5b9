/* SPDX-License-Identifier: MIT */
/* Topology loading (xmm/topo.h): this machine, synthetic strings, XML, bad specs. */
#include <criterion/criterion.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <xmm/errno.h>
#include <xmm/user/flush.h>
#include <xmm/user/topo.h>

Test(topo, this_machine)
{
	struct xmm_topo *t = NULL;

	cr_assert_eq(xmm_topo_load(&t, NULL), 0);
	cr_expect_eq(t->ncpus, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	cr_expect_geq(t->nnodes, 1);
	cr_expect(t->this_machine);
	for (unsigned int c = 0; c < t->ncpus; c++)
		cr_expect_lt(t->node_of_cpu[c], t->nnodes);
	cr_expect_eq(t->distance[0], 10);
	cr_expect_eq(xmm_topo_bind_thread(t, 0), 0);
	cr_expect_eq(xmm_topo_bind_thread(t, t->nnodes), XMM_ERANGE);
	xmm_topo_free(t);

	cr_assert_eq(xmm_topo_load(&t, ""), 0, "empty spec is this machine too");
	xmm_topo_free(t);
}

Test(topo, synthetic_64_cpus)
{
	struct xmm_topo *t = NULL;

	cr_assert_eq(xmm_topo_load(&t, "pack:4 core:16 pu:1"), 0);
	cr_expect_eq(t->ncpus, 64);
	cr_expect_eq(t->nnodes, 1);
	cr_expect_not(t->this_machine);
	cr_expect_eq(xmm_topo_bind_thread(t, 0), XMM_ENOTSUP);
	xmm_topo_free(t);
}

Test(topo, synthetic_nodes_and_distances)
{
	struct xmm_topo *t = NULL;
	unsigned int cpus[64];

	cr_assert_eq(xmm_topo_load(&t, "pack:4 numa:1 core:16 pu:1"), 0);
	cr_expect_eq(t->ncpus, 64);
	cr_expect_eq(t->nnodes, 4);
	for (unsigned int c = 0; c < 64; c++)
		cr_expect_eq(t->node_of_cpu[c], c / 16);
	for (unsigned int i = 0; i < 4; i++)
		for (unsigned int j = 0; j < 4; j++)
			cr_expect_eq(t->distance[i * 4 + j], i == j ? 10 : 20);
	cr_expect_eq(xmm_topo_node_cpus(t, 2, cpus, 64), 16);
	cr_expect_eq(cpus[0], 32);
	cr_expect_eq(xmm_topo_node_cpus(t, 2, cpus, 3), 3);

	/* node_of_cpu is a flush clock's group layout. */
	struct xmm_flush_clock *clk = NULL;

	cr_assert_eq(xmm_flush_clock_create(&clk, t->ncpus, t->node_of_cpu, 0), 0);
	cr_expect_eq(xmm_flush_clock_ngroups(clk), 4);
	xmm_flush_clock_destroy(clk);
	xmm_topo_free(t);
}

Test(topo, synthetic_4096_cpus)
{
	struct xmm_topo *t = NULL;

	cr_assert_eq(xmm_topo_load(&t, "pack:32 numa:1 core:64 pu:2"), 0);
	cr_expect_eq(t->ncpus, 4096);
	cr_expect_eq(t->nnodes, 32);
	cr_expect_eq(t->node_of_cpu[4095], 31);
	xmm_topo_free(t);
}

Test(topo, xml_file_with_distances)
{
	/* Write a topology with a distance matrix to XML, then load it back by path. */
	char path[] = "/tmp/xmm-topo-XXXXXX.xml";
	hwloc_topology_t h;
	int fd = mkstemps(path, 4);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(hwloc_topology_init(&h), 0);
	cr_assert_eq(hwloc_topology_set_synthetic(h, "pack:2 numa:1 core:2 pu:2"), 0);
	cr_assert_eq(hwloc_topology_load(h), 0);
	hwloc_obj_t nodes[2] = { hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, 0),
				 hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, 1) };
	hwloc_uint64_t values[4] = { 10, 31, 31, 10 };
	hwloc_distances_add_handle_t dh = hwloc_distances_add_create(
		h, "test", HWLOC_DISTANCES_KIND_FROM_USER | HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0);

	cr_assert_not_null(dh);
	cr_assert_eq(hwloc_distances_add_values(h, dh, 2, nodes, values, 0), 0);
	cr_assert_eq(hwloc_distances_add_commit(h, dh, 0), 0);
	cr_assert_eq(hwloc_topology_export_xml(h, path, 0), 0);
	hwloc_topology_destroy(h);

	struct xmm_topo *t = NULL;

	cr_assert_eq(xmm_topo_load(&t, path), 0);
	cr_expect_eq(t->ncpus, 8);
	cr_expect_eq(t->nnodes, 2);
	cr_expect_eq(t->distance[0], 10);
	cr_expect_eq(t->distance[1], 31);
	cr_expect_eq(t->distance[2], 31);
	cr_expect_eq(t->node_of_cpu[5], 1);
	xmm_topo_free(t);
	unlink(path);
}

Test(topo, real_machine_xml_when_present)
{
	static const char *path = XMM_SOURCE_DIR "/../shared/topologies/192em64t-24n8c2t.xml";
	struct xmm_topo *t = NULL;

	if (access(path, R_OK) != 0)
		cr_skip_test("%s is not here", path);
	cr_assert_eq(xmm_topo_load(&t, path), 0);
	cr_expect_eq(t->ncpus, 384);
	cr_expect_eq(t->nnodes, 24);
	xmm_topo_free(t);
}

Test(topo, bad_specs)
{
	struct xmm_topo *t = (struct xmm_topo *)0x1;

	cr_expect_eq(xmm_topo_load(&t, "bogus:3"), XMM_EINVAL);
	cr_expect_eq(xmm_topo_load(&t, "/nonexistent/machine.xml"), XMM_EINVAL);
	cr_expect_eq(xmm_topo_load(&t, "pack:4 core:"), XMM_EINVAL);
	cr_expect_eq(t, (struct xmm_topo *)0x1, "untouched on error");
	cr_expect_eq(xmm_topo_load(NULL, NULL), XMM_EINVAL);
	xmm_topo_free(NULL);
}

/*
 * Regression (issue 15): hwloc's synthetic loader grows superlinearly with a
 * flat level ("pack:65535 pu:1" did not return); the spec is bounded before
 * hwloc builds anything.
 */
Test(topo, huge_synthetic_specs_are_refused_at_once, .timeout = 20)
{
	static const char *bad[] = {
		"pack:65535 pu:1", "pack:70000 pu:1", "pack:4294967295 pu:4294967295",
		"pack:99999999999999999999999 pu:1", "pack:4097 pu:1", "pack:64 core:64 pu:2",
		"pack:2 [numa] core:1025 pu:1", "pack:0 pu:1", "pack:-1 pu:1", "pack:2x pu:1",
		"numa:1025 pu:1", "pack:2048 [numa] pu:1",
	};
	struct xmm_topo *t = (struct xmm_topo *)0x1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(xmm_topo_load(&t, bad[i]), XMM_EINVAL, "%s", bad[i]);
	cr_expect_eq(t, (struct xmm_topo *)0x1, "untouched on error");
}

Test(topo, synthetic_specs_at_the_limits_load, .timeout = 60)
{
	static const struct { const char *spec; unsigned int ncpus, nnodes; } ok[] = {
		{ "pack:1024 pu:4", 4096, 1 },
		{ "numa:1024 pu:4", 4096, 1024 },
		{ "pack:2 [numa] core:2 pu:1", 4, 2 },
		{ "pack:2(indexes=0,1) pu:2", 4, 1 },
		{ "Package:2 NUMANode:2 Core:2 PU:2", 16, 4 },
		{ "2 2 2", 8, 4 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct xmm_topo *t = NULL;

		cr_assert_eq(xmm_topo_load(&t, ok[i].spec), 0, "%s", ok[i].spec);
		cr_expect_eq(t->ncpus, ok[i].ncpus, "%s", ok[i].spec);
		cr_expect_eq(t->nnodes, ok[i].nnodes, "%s", ok[i].spec);
		xmm_topo_free(t);
	}
}

/*
 * Regression (found by tests/fuzz/fuzz_topo.c): hwloc 2.9 dereferences NULL
 * loading an XML file whose objects' cpusets contradict their nesting. The
 * file is refused with XMM_EINVAL instead of crashing the caller.
 */
Test(topo, inconsistent_xml_is_refused_not_a_crash, .timeout = 30)
{
	static const char *input = XMM_SOURCE_DIR "/tests/fuzz/regressions/topo/hwloc-xml-inconsistent-cpusets";
	char path[] = "/tmp/xmm-topo-bad-XXXXXX.xml";
	struct xmm_topo *t = (struct xmm_topo *)0x1;
	FILE *in = fopen(input, "rb"), *out;
	int fd = mkstemps(path, 4), c;

	cr_assert_not_null(in);
	cr_assert_geq(fd, 0);
	out = fdopen(fd, "wb");
	cr_assert_not_null(out);
	fgetc(in); /* the fuzz input's mode byte: XML */
	while ((c = fgetc(in)) != EOF)
		fputc(c, out);
	fclose(in);
	fclose(out);
	cr_expect_eq(xmm_topo_load(&t, path), XMM_EINVAL);
	cr_expect_eq(t, (struct xmm_topo *)0x1);
	unlink(path);
}
