/* SPDX-License-Identifier: MIT */
/* Uses the installed headers and library; exits 0 when they work together. */
#include <stdio.h>
#include <stdlib.h>

#include <xmm/errno.h>
#include <xmm/user/flush.h>

int main(void)
{
	size_t sz = xmm_flush_clock_size(64);
	struct xmm_flush_clock *clk = aligned_alloc(XMM_FLUSH_CLOCK_ALIGN, sz);
	xmm_cpumask_t mask;

	if (!clk || xmm_flush_clock_init(clk, 64, NULL) != 0)
		return 1;
	xmm_epoch_t s = xmm_flush_stamp(clk);
	xmm_epoch_t t = xmm_flush_begin(clk);

	xmm_flush_end(clk, 3, t);
	xmm_cpumask_fill(&mask, 64);
	xmm_flush_filter(clk, &mask, s);
	free(clk);
	if (xmm_cpumask_weight(&mask) != 63 || xmm_cpumask_test(&mask, 3))
		return 1;
	printf("libxmm consumer: %s\n", xmm_strerror(0));
	return 0;
}
