// SPDX-License-Identifier: GPL-2.0
// dsn-fail-message: send one device-mapper message with the N-th fault
// injection point the kernel passes while carrying it out made to fail.
//
//   dsn-fail-message N NAME WORD...
//
// Sends "WORD..." to sector 0 of the dm device NAME (DM_TARGET_MSG, as
// `dmsetup message NAME 0 WORD...` does) with N written to
// /proc/thread-self/fail-nth just before the ioctl, so the N-th
// allocation (of the kinds failslab, fail_page_alloc... look at) the
// ioctl makes fails, and nothing else of this task's. N from 1 up sweeps
// the failure through the message's work. Prints "injected" or "not
// injected" (the message ended before its N-th point), then the
// message's answer, if any. Exit 0 when the message succeeded, 1 when
// the kernel refused it (the errno is printed), 2 on usage or setup
// errors.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dm_message.h"

namespace {

constexpr size_t kAnswerBytes = 16384;

int usage()
{
	std::fprintf(stderr, "usage: dsn-fail-message N NAME WORD...\n");
	return 2;
}

bool write_number(int fd, unsigned long n)
{
	std::string text = std::to_string(n);
	return pwrite(fd, text.c_str(), text.size(), 0) == static_cast<ssize_t>(text.size());
}

// What fail-nth still counts down: 0 once the failure was injected.
long read_number(int fd)
{
	char text[32] = {};
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	return n > 0 ? std::strtol(text, nullptr, 10) : -1;
}

}  // namespace

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	char *end = nullptr;
	unsigned long nth = std::strtoul(argv[1], &end, 10);
	if (!*argv[1] || *end || nth == 0)
		return usage();
	std::string name = argv[2], text;
	for (int i = 3; i < argc; i++)
		text += (i > 3 ? " " : "") + std::string(argv[i]);
	dynsnap::testing::DmMessage message(name, text, kAnswerBytes);
	if (!message.valid()) {
		std::fprintf(stderr, "dsn-fail-message: device name too long\n");
		return 2;
	}
	int ctl = dynsnap::testing::open_dm_control();
	if (ctl < 0) {
		std::fprintf(stderr, "dsn-fail-message: /dev/mapper/control: %s\n", std::strerror(errno));
		return 2;
	}
	int fail = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fail < 0) {
		std::fprintf(stderr, "dsn-fail-message: fail-nth: %s (no CONFIG_FAULT_INJECTION?)\n",
			     std::strerror(errno));
		return 2;
	}
	if (!write_number(fail, nth)) {
		std::fprintf(stderr, "dsn-fail-message: cannot set fail-nth: %s\n", std::strerror(errno));
		return 2;
	}
	int err = message.send(ctl);
	long left = read_number(fail);
	// Nothing after the ioctl may fail.
	if (!write_number(fail, 0)) {
		std::fprintf(stderr, "dsn-fail-message: cannot clear fail-nth: %s\n", std::strerror(errno));
		return 2;
	}
	std::printf("%s\n", left == 0 ? "injected" : "not injected");
	if (err) {
		std::printf("error %d %s\n", err, std::strerror(err));
		return 1;
	}
	std::printf("%s", message.answer().c_str());
	return 0;
}
