// SPDX-License-Identifier: GPL-2.0
// A program on the volume model alone, as one that manages volumes without
// the command line links it: it prints the remembered volumes of a config
// directory and, with --active, the dynsnap devices there are with their
// mode. check-layering.sh checks what it links.
//   volume-probe CONFIG_DIR [--active]
#include <cstring>
#include <iostream>

#include "dm/device_mapper.h"
#include "util/error.h"
#include "volume/config.h"
#include "volume/volume.h"

int main(int argc, char **argv)
{
	if (argc < 2 || (argc == 3 && std::strcmp(argv[2], "--active")) || argc > 3) {
		std::cerr << "usage: volume-probe CONFIG_DIR [--active]\n";
		return static_cast<int>(dynsnap::Exit::kUsage);
	}
	try {
		dynsnap::volume::ConfigStore configs(argv[1]);
		for (const std::string &name : configs.names())
			std::cout << "remembered " << name << "\n";
		if (argc == 3) {
			auto dm = dynsnap::dm::open_device_mapper();
			for (const std::string &name : dynsnap::volume::Volume::list(*dm)) {
				dynsnap::volume::Volume v(*dm, name);
				std::cout << "active " << name << " " << v.status().mode << "\n";
			}
		}
	} catch (const dynsnap::Error &e) {
		std::cerr << "volume-probe: " << e.what() << "\n";
		return static_cast<int>(e.code());
	}
	return 0;
}
