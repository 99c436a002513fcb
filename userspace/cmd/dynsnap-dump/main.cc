// SPDX-License-Identifier: GPL-2.0
// dynsnap-dump: print the superblocks of a dynsnap store's tier devices,
// offline, validated by the same code the kernel module uses.
#include <iostream>

#include "dump/cli.h"

int main(int argc, char **argv)
{
	return dynsnap::dump::run(argc, argv, std::cout, std::cerr);
}
