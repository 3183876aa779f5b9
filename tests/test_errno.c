/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <xmm/errno.h>

Test(error_codes, values_equal_linux_errno)
{
	cr_expect_eq(XMM_EPERM, -EPERM);
	cr_expect_eq(XMM_ENOENT, -ENOENT);
	cr_expect_eq(XMM_EAGAIN, -EAGAIN);
	cr_expect_eq(XMM_ENOMEM, -ENOMEM);
	cr_expect_eq(XMM_EBUSY, -EBUSY);
	cr_expect_eq(XMM_ENODEV, -ENODEV);
	cr_expect_eq(XMM_EINVAL, -EINVAL);
	cr_expect_eq(XMM_ERANGE, -ERANGE);
	cr_expect_eq(XMM_EOVERFLOW, -EOVERFLOW);
	cr_expect_eq(XMM_ENOTSUP, -EOPNOTSUPP);
}

Test(error_codes, strerror_names_every_code)
{
	static const int codes[] = { XMM_OK,     XMM_EPERM,  XMM_ENOENT, XMM_EAGAIN,    XMM_ENOMEM,
				     XMM_EBUSY, XMM_ENODEV,    XMM_EINVAL,
				     XMM_ERANGE, XMM_EOVERFLOW, XMM_ENOTSUP };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = xmm_strerror(codes[i]);

		cr_assert_not_null(s);
		cr_expect_str_neq(s, "unknown error", "code %d", codes[i]);
		/* Positive magnitudes name the same error. */
		cr_expect_str_eq(xmm_strerror(-codes[i]), s);
		for (size_t j = 0; j < i; j++)
			cr_expect_str_neq(xmm_strerror(codes[j]), s, "codes %d and %d share a text",
					  codes[j], codes[i]);
	}
	cr_expect_str_eq(xmm_strerror(XMM_EINVAL), "invalid argument");
}

Test(error_codes, strerror_unknown)
{
	cr_expect_str_eq(xmm_strerror(-4095), "unknown error");
	cr_expect_str_eq(xmm_strerror(12345), "unknown error");
	cr_expect_str_eq(xmm_strerror(-2147483647 - 1), "unknown error");
}
