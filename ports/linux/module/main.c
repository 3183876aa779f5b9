// SPDX-License-Identifier: MIT
/*
 * xmm_selftest: loads the libxmm core into the kernel and runs its self-tests
 * at insmod time, one line per test and a summary. Any failure fails insmod
 * (-EIO after the tests ran, -EINVAL for a bad parameter), and every test
 * frees what it allocated on every path, so the next insmod starts clean.
 */
#include "selftest.h"

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <xmm/platform.h>
#include <xmm/zero.h>

#include <xmm_linux.h>

unsigned int xt_flush_ops = 200000;
unsigned int xt_flush_ms = 300;
unsigned int xt_scrub_pages = 8192;
unsigned int xt_p2m_pfns = 1u << 18;
unsigned int xt_p2m_ops = 4000;
unsigned int xt_zero_pages = 64;
unsigned int xt_lookups = 1u << 20;
char *xt_inject = "";
static char *xt_tests = "";

module_param_named(flush_ops, xt_flush_ops, uint, 0444);
MODULE_PARM_DESC(flush_ops, "operations of the random flush-filter sequence (1..100000000)");
module_param_named(flush_ms, xt_flush_ms, uint, 0444);
MODULE_PARM_DESC(flush_ms, "milliseconds of the concurrent flush check (1..60000)");
module_param_named(scrub_pages, xt_scrub_pages, uint, 0444);
MODULE_PARM_DESC(scrub_pages, "pages the scrub test fills and scrubs (1..a quarter of RAM)");
module_param_named(p2m_pfns, xt_p2m_pfns, uint, 0444);
MODULE_PARM_DESC(p2m_pfns, "max_pfn of the p2m test (512..RAM/32 pfns: its reference is 8 bytes a pfn)");
module_param_named(p2m_ops, xt_p2m_ops, uint, 0444);
MODULE_PARM_DESC(p2m_ops, "mutations of the p2m differential test (1..10000000)");
module_param_named(zero_pages, xt_zero_pages, uint, 0444);
MODULE_PARM_DESC(zero_pages, "pages of the zero-detection test (16..a quarter of RAM)");
module_param_named(lookups, xt_lookups, uint, 0444);
MODULE_PARM_DESC(lookups, "timed random lookups of the dom0 p2m comparison (1..100000000)");
module_param_named(inject, xt_inject, charp, 0444);
MODULE_PARM_DESC(inject, "name of a test to fail on purpose after its setup (checks the cleanup)");
module_param_named(tests, xt_tests, charp, 0444);
MODULE_PARM_DESC(tests, "comma-separated names of the tests to run (default: all)");

static const struct {
	const char *name;
	int (*fn)(char *detail, size_t len);
} tests[] = {
	{ "flush-random", xt_flush_random },
	{ "flush-concurrent", xt_flush_concurrent },
	{ "scrub", xt_scrub },
	{ "p2m-linear", xt_p2m_linear },
	{ "p2m-portable", xt_p2m_portable },
	{ "zero", xt_zero },
	{ "dom0-p2m", xt_dom0_p2m },
};

bool xt_injected(const char *test)
{
	return xt_inject && strcmp(xt_inject, test) == 0;
}

/* Whether @name is in the tests parameter (everything when it is empty). */
static bool selected(const char *name)
{
	size_t n = strlen(name);
	const char *p = xt_tests;

	if (!p || !*p)
		return true;
	while (*p) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
			return true;
		p = strchrnul(p, ',');
		if (*p)
			p++;
	}
	return false;
}

/* ---- counted allocations ---------------------------------------------------- */

static atomic_long_t test_bytes = ATOMIC_LONG_INIT(0);

void *xt_vzalloc(size_t bytes)
{
	void *p = vzalloc(bytes);

	if (p)
		atomic_long_add((long)bytes, &test_bytes);
	return p;
}

void xt_vfree(void *p, size_t bytes)
{
	if (!p)
		return;
	vfree(p);
	atomic_long_sub((long)bytes, &test_bytes);
}

struct page *xt_alloc_pages_node(int node, unsigned int order)
{
	struct page *pg = alloc_pages_node(node, GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN |
						       __GFP_NORETRY, order);

	if (pg)
		atomic_long_add((long)PAGE_SIZE << order, &test_bytes);
	return pg;
}

void xt_free_pages(struct page *pg, unsigned int order)
{
	__free_pages(pg, order);
	atomic_long_sub((long)PAGE_SIZE << order, &test_bytes);
}

/* ---- kthreads ------------------------------------------------------------------ */

struct xt_thread {
	int (*fn)(void *arg, unsigned int i);
	void *arg;
	unsigned int i;
	int rc;
	struct completion done;
};

static int xt_thread_main(void *data)
{
	struct xt_thread *t = data;

	t->rc = t->fn(t->arg, t->i);
	/* Completes and exits without returning into this module's text. */
	kthread_complete_and_exit(&t->done, 0);
}

int xt_run_threads(unsigned int n, int (*fn)(void *arg, unsigned int i), void *arg, bool bind,
		   int *stop)
{
	struct xt_thread *t = kcalloc(n, sizeof(*t), GFP_KERNEL);
	unsigned int i, started = 0, cpu = cpumask_first(cpu_online_mask);
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct task_struct *task;

		t[i] = (struct xt_thread){ .fn = fn, .arg = arg, .i = i };
		init_completion(&t[i].done);
		task = kthread_create(xt_thread_main, &t[i], "xmm_st/%u", i);
		if (IS_ERR(task)) {
			rc = -ENOMEM;
			WRITE_ONCE(*stop, 1);
			break;
		}
		if (bind) {
			kthread_bind(task, cpu);
			cpu = cpumask_next(cpu, cpu_online_mask);
			if (cpu >= nr_cpu_ids)
				cpu = cpumask_first(cpu_online_mask);
		}
		wake_up_process(task);
		started++;
	}
	for (i = 0; i < started; i++) {
		wait_for_completion(&t[i].done);
		if (!rc && t[i].rc)
			rc = t[i].rc;
	}
	kfree(t);
	return rc;
}

/* ---- parameters ------------------------------------------------------------------- */

static int check_param(const char *name, unsigned long v, unsigned long lo, unsigned long hi)
{
	if (v >= lo && v <= hi)
		return 0;
	pr_err("invalid parameter %s=%lu: must be in [%lu, %lu]\n", name, v, lo, hi);
	return -EINVAL;
}

static int check_params(void)
{
	unsigned long ram = totalram_pages();
	unsigned int i;
	int rc = 0;

	rc |= check_param("flush_ops", xt_flush_ops, 1, 100000000);
	rc |= check_param("flush_ms", xt_flush_ms, 1, 60000);
	rc |= check_param("scrub_pages", xt_scrub_pages, 1, ram / 4);
	rc |= check_param("p2m_pfns", xt_p2m_pfns, 512, ram * PAGE_SIZE / 32);
	rc |= check_param("p2m_ops", xt_p2m_ops, 1, 10000000);
	rc |= check_param("zero_pages", xt_zero_pages, 16, ram / 4);
	rc |= check_param("lookups", xt_lookups, 1, 100000000);
	if (xt_inject && *xt_inject) {
		for (i = 0; i < ARRAY_SIZE(tests); i++)
			if (strcmp(xt_inject, tests[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(tests)) {
			pr_err("invalid parameter inject=%s: not a test name\n", xt_inject);
			rc = -EINVAL;
		}
	}
	if (xt_tests && *xt_tests) {
		const char *p = xt_tests;
		unsigned int found = 0;

		for (i = 0; i < ARRAY_SIZE(tests); i++)
			found += selected(tests[i].name);
		/* Every comma-separated name must be a test. */
		for (i = 1; *p; p++)
			i += *p == ',';
		if (found != i) {
			pr_err("invalid parameter tests=%s: not a list of test names\n", xt_tests);
			rc = -EINVAL;
		}
	}
	return rc ? -EINVAL : 0;
}

/* ---- the run ------------------------------------------------------------------------- */

static int __init xt_init(void)
{
	unsigned int i, passed = 0, failed = 0, skipped = 0;
	char *detail;
	long core_pages, test_left;
	unsigned long asserts;
	int rc;

	rc = check_params();
	if (rc)
		return rc;
	detail = kmalloc(256, GFP_KERNEL);
	if (!detail)
		return -ENOMEM;
	pr_info("start: %u online CPUs, %u nodes, %lu MiB RAM, zero kernels %s%s%s\n",
		num_online_cpus(), num_online_nodes(), totalram_pages() >> (20 - PAGE_SHIFT),
		xmm_zero_ops_get()->name, *xt_inject ? ", inject=" : "", xt_inject);
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		unsigned long failures_before = xmm_linux_assert_failures();
		u64 t0 = ktime_get_ns();

		detail[0] = 0;
		if (selected(tests[i].name)) {
			rc = tests[i].fn(detail, 256);
		} else {
			strscpy(detail, "not selected", 256);
			rc = XT_SKIP;
		}
		if (rc == 0 && xmm_linux_assert_failures() != failures_before) {
			rc = -EFAULT;
			strscpy(detail, "libxmm assertion failed", 256);
		}
		if (rc == XT_SKIP) {
			skipped++;
			pr_info("%s: skip (%s)\n", tests[i].name, detail);
		} else if (rc == 0) {
			passed++;
			pr_info("%s: pass (%s) in %llu ms\n", tests[i].name, detail,
				(ktime_get_ns() - t0) / 1000000);
		} else {
			failed++;
			pr_err("%s: FAIL %d (%s)\n", tests[i].name, rc, detail);
		}
	}
	kfree(detail);
	xmm_rcu_barrier(); /* portable p2m leaves freed after a grace period */
	core_pages = xmm_linux_pages_held();
	test_left = atomic_long_read(&test_bytes);
	asserts = xmm_linux_assert_failures();
	pr_info("summary: %u tests, %u passed, %u failed, %u skipped; left allocated: %ld core pages, %ld test bytes; %lu assertion failures; %lu vm shootdowns\n",
		(unsigned int)ARRAY_SIZE(tests), passed, failed, skipped, core_pages, test_left,
		asserts, xmm_linux_vm_shootdowns());
	if (failed || core_pages || test_left || asserts) {
		pr_err("FAILED: insmod fails with -EIO\n");
		return -EIO;
	}
	pr_info("PASSED\n");
	return 0;
}

static void __exit xt_exit(void)
{
}

module_init(xt_init);
module_exit(xt_exit);
MODULE_DESCRIPTION("libxmm core self-tests in the kernel");
MODULE_AUTHOR("libxmm");
/* The core is MIT; the dom0 test uses the kernel's GPL-only p2m exports. */
MODULE_LICENSE("Dual MIT/GPL");
