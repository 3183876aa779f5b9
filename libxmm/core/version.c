/* SPDX-License-Identifier: MIT */
/* The library's version (xmm/version.h): what it was built as, whatever headers a caller has. */
#include <xmm/version.h>

unsigned int xmm_version(void)
{
	return XMM_VERSION;
}

const char *xmm_version_string(void)
{
	return XMM_VERSION_STRING;
}
