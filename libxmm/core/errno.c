/* SPDX-License-Identifier: MIT */
#include <xmm/errno.h>

const char *xmm_strerror(int err)
{
	if (err > 0)
		err = -err;
	switch (err) {
	case XMM_OK:
		return "success";
	case XMM_EPERM:
		return "operation not permitted";
	case XMM_ENOENT:
		return "no such entry";
	case XMM_EAGAIN:
		return "resource temporarily unavailable";
	case XMM_ENOMEM:
		return "out of memory";
	case XMM_EBUSY:
		return "resource busy";
	case XMM_ENODEV:
		return "no such device";
	case XMM_EINVAL:
		return "invalid argument";
	case XMM_ERANGE:
		return "out of range";
	case XMM_EOVERFLOW:
		return "value too large";
	case XMM_ENOTSUP:
		return "not supported";
	default:
		return "unknown error";
	}
}
