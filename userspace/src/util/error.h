// SPDX-License-Identifier: GPL-2.0
// The one error type of the userspace tools: a one-line message that says
// what went wrong and what to do, and the exit status it maps to.
#pragma once

#include <stdexcept>
#include <string>

namespace dynsnap {

// Exit statuses of the tools, documented in their man pages.
enum class Exit : int {
	kOk = 0,
	kFailed = 1,	// the operation failed (kernel, device or file refused)
	kUsage = 2,	// bad arguments
	kNotFound = 3,	// no such volume, snapshot, device or file
	kBusy = 4,	// in use: open device, view, rollback in progress
	kDamaged = 5,	// damage found (check), or data that fails verification
	kAborted = 6,	// the operator did not confirm
};

class Error : public std::runtime_error {
public:
	Error(Exit code, const std::string &message)
		: std::runtime_error(message), code_(code) {}
	explicit Error(const std::string &message)
		: Error(Exit::kFailed, message) {}
	Exit code() const { return code_; }

private:
	Exit code_;
};

// The status of an open or a read of a device or file that failed with
// @err: kNotFound when there is no such device or file (ENOENT, ENOTDIR,
// ENXIO, ENODEV), else kFailed (no permission, an I/O error, ...).
Exit exit_for_errno(int err);

// "cannot WHAT PATH: <strerror(err)>", with the status exit_for_errno(err):
// errno_error("open", "/dev/sdx", ENOENT) says
// "cannot open /dev/sdx: No such file or directory", kNotFound.
Error errno_error(const std::string &what, const std::string &path, int err);

} // namespace dynsnap
