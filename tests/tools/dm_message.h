// SPDX-License-Identifier: GPL-2.0
// One device-mapper target message (DM_TARGET_MSG, what `dmsetup message
// NAME 0 WORDS` sends), for test tools that must time it exactly or wrap
// it: the ioctl buffer, its sending and the target's answer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace dynsnap::testing {

class DmMessage {
public:
	// Sector 0 of the dm device @name; room for an answer of @answer_bytes.
	DmMessage(const std::string &name, const std::string &text,
		  size_t answer_bytes = 16384);
	// false when the name does not fit the ioctl.
	bool valid() const { return valid_; }
	// One ioctl on @control (/dev/mapper/control): 0 or its errno.
	int send(int control);
	// What the target answered, after a successful send().
	std::string answer() const;

private:
	std::vector<char> buf_;
	bool valid_ = false;
};

// The status line of the first target of dm device @name (what `dmsetup
// status NAME` prints after the target type) in *@params: 0 or an errno.
int dm_target_status(int control, const std::string &name, std::string *params);

// Open /dev/mapper/control: a descriptor, or -1 with errno set.
int open_dm_control();

} // namespace dynsnap::testing
