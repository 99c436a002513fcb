// SPDX-License-Identifier: GPL-2.0
#include "util/error.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace dynsnap {
namespace {

TEST(Error, DefaultsToFailed)
{
	Error e("it broke");
	EXPECT_EQ(e.code(), Exit::kFailed);
	EXPECT_STREQ(e.what(), "it broke");
}

TEST(Error, NoSuchFileIsNotFound)
{
	for (int err : {ENOENT, ENOTDIR, ENXIO, ENODEV})
		EXPECT_EQ(exit_for_errno(err), Exit::kNotFound) << err;
}

TEST(Error, OtherErrnosFail)
{
	for (int err : {EACCES, EPERM, EIO, EISDIR, EBUSY, ENOMEM})
		EXPECT_EQ(exit_for_errno(err), Exit::kFailed) << err;
}

TEST(Error, ErrnoErrorNamesTheFile)
{
	Error e = errno_error("open", "/dev/sdx", ENOENT);
	EXPECT_EQ(e.code(), Exit::kNotFound);
	EXPECT_STREQ(e.what(), "cannot open /dev/sdx: No such file or directory");
	Error r = errno_error("read", "/tmp/image", EIO);
	EXPECT_EQ(r.code(), Exit::kFailed);
	EXPECT_STREQ(r.what(), "cannot read /tmp/image: Input/output error");
}

} // namespace
} // namespace dynsnap
