// SPDX-License-Identifier: GPL-2.0
// The device-mapper operations the tools need, behind an interface so the
// commands can be tested against a fake (dm/testing/fake_device_mapper.h).
// The real one talks to the kernel through libdevmapper.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/error.h"

namespace dynsnap::dm {

struct DeviceInfo {
	std::string name;
	std::string uuid;
	uint32_t major = 0;
	uint32_t minor = 0;
	int32_t open_count = 0;
	bool suspended = false;
	bool read_only = false;
	bool live_table = false;
};

// One line of a table, or of a status: params are the words after the
// target type.
struct Target {
	uint64_t start = 0;
	uint64_t length = 0;
	std::string type;
	std::string params;
};

// The kernel refused an operation; errno() says how.
class KernelError : public Error {
public:
	KernelError(int err, const std::string &message)
		: Error(exit_for(err), message), errno_(err) {}
	int error_number() const { return errno_; }
	static Exit exit_for(int err);

private:
	int errno_;
};

class DeviceMapper {
public:
	virtual ~DeviceMapper() = default;

	// Names of every dm device.
	virtual std::vector<std::string> list() = 0;
	// Nothing when no device has this name.
	virtual std::optional<DeviceInfo> info(const std::string &name) = 0;
	virtual std::vector<Target> table(const std::string &name) = 0;
	virtual std::vector<Target> status(const std::string &name) = 0;
	// A target message to sector 0; returns what the target printed.
	virtual std::string message(const std::string &name, const std::string &text) = 0;
	// @hidden: udev leaves the device alone (no /dev/disk links, no
	// scans by other tools), for views whose filesystem has the same
	// UUID as the volume's.
	virtual void create(const std::string &name, const std::string &uuid,
			    const std::vector<Target> &table, bool read_only,
			    bool hidden = false) = 0;
	virtual void remove(const std::string &name) = 0;
	// Where the device node is.
	virtual std::string path(const std::string &name) const;
};

// libdevmapper, with udev synchronisation when udev runs and device nodes
// made by the library itself when it does not (DM_DISABLE_UDEV=1).
std::unique_ptr<DeviceMapper> open_device_mapper();

} // namespace dynsnap::dm
