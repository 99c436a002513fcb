// SPDX-License-Identifier: GPL-2.0
#include "util/error.h"

#include <cerrno>
#include <cstring>

namespace dynsnap {

Exit exit_for_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENXIO:
	case ENODEV:
		return Exit::kNotFound;
	default:
		return Exit::kFailed;
	}
}

Error errno_error(const std::string &what, const std::string &path, int err)
{
	return Error(exit_for_errno(err),
		     "cannot " + what + " " + path + ": " + std::strerror(err));
}

} // namespace dynsnap
