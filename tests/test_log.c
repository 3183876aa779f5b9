/* SPDX-License-Identifier: MIT */
/*
 * The diagnostics hook (xmm/user/log.h): what the library has to say reaches
 * the hook, and nothing reaches stderr, with or without a hook.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmm/platform.h>
#include <xmm/user/log.h>
#include <xmm/zero.h>

static int calls, last_level;
static char last_msg[256];

static void hook(void *arg, int level, const char *msg)
{
	(*(int *)arg)++;
	calls++;
	last_level = level;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

/* Run fn with fd 2 pointed at a temporary file; returns the bytes written to it. */
static long stderr_bytes(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	long n;

	cr_assert(tmp && saved >= 0);
	fflush(stderr);
	cr_assert_geq(dup2(fileno(tmp), 2), 0);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = ftell(tmp) >= 0 ? (fseek(tmp, 0, SEEK_END), ftell(tmp)) : -1;
	fclose(tmp);
	return n;
}

static void choose_missing_kernel(void)
{
	setenv("XMM_ZERO_KERNEL", "no-such-kernel", 1);
	cr_assert_not_null(xmm_pr_zero_ops()); /* falls back to this CPU's best */
	unsetenv("XMM_ZERO_KERNEL");
}

Test(log, unknown_zero_kernel_goes_to_the_hook_not_stderr)
{
	int mine = 0;

	calls = 0;
	xmm_log_set(hook, &mine);
	cr_expect_eq(stderr_bytes(choose_missing_kernel), 0);
	cr_expect_eq(mine, 1);
	cr_expect_eq(last_level, XMM_LOG_WARNING);
	cr_expect(strstr(last_msg, "no-such-kernel") != NULL, "message: %s", last_msg);
	xmm_log_set(NULL, NULL);
}

Test(log, without_a_hook_nothing_is_written)
{
	calls = 0;
	xmm_log_set(NULL, NULL);
	cr_expect_eq(stderr_bytes(choose_missing_kernel), 0);
	cr_expect_eq(calls, 0);
}
