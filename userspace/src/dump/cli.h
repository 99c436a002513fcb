// SPDX-License-Identifier: GPL-2.0
// dynsnap-dump: print and validate the superblocks of a store's tier
// devices (or image files), offline.
//
// Every failure is a dynsnap::Error (util/error.h), printed as one line
// "dynsnap-dump: <what>" on @err that names the device or file, and exits
// with its status (docs/man/dynsnap-dump.8, EXIT STATUS): 0 every
// superblock valid and, with two devices, of one store; kFailed a device
// cannot be read; kUsage bad arguments; kNotFound no such device or file,
// or a zeroed superblock (no store); kDamaged a superblock the validator
// refuses, a file too short for one, or two that are not the fast and slow
// superblocks of one store. With two failing devices, both are printed and
// the status is the first's (FAST before SLOW).
#pragma once

#include <iosfwd>

namespace dynsnap::dump {

// Run dynsnap-dump with @argv, printing the superblocks (and --help) on
// @out, failures on @err. Returns the exit status.
int run(int argc, const char *const *argv, std::ostream &out, std::ostream &err);

} // namespace dynsnap::dump
