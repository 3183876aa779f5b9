/* SPDX-License-Identifier: MIT */
/* The diagnostics hook (xmm/user/log.h) and the library's one way to it. */
#include <xmm/user/log.h>

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static xmm_log_fn log_fn;
static void *log_arg;

void xmm_log_set(xmm_log_fn fn, void *arg)
{
	/* Set before other threads use the library (the header's rule): plain stores. */
	log_arg = arg;
	log_fn = fn;
}

void xmm_log(int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(log_arg, level, msg);
}
