// SPDX-License-Identifier: GPL-2.0
// Reading dynsnap superblocks from tier devices (or image files), offline.
// Decoding and validation are the shared C core's; this adds the I/O and a
// JSON view for tools.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "dynsnap_format.h"
#include "util/error.h"

namespace dynsnap::store {

enum class SuperblockState {
	kValid,		// decoded and validated
	kZeroed,	// all zero: "format me"
	kInvalid,	// present but refused by the validator
	kUnreadable,	// open or read failed
};

struct SuperblockReadResult {
	SuperblockState state = SuperblockState::kUnreadable;
	std::optional<dynsnap_superblock> superblock;	// set when kValid
	// Why, when kInvalid or kUnreadable: one line that names no file (the
	// caller knows which), e.g. "superblock checksum mismatch", "cannot
	// open: No such file or directory".
	std::string error;
	int sys_errno = 0;	// kUnreadable: the errno of the open or read
};

// Read and validate the superblock at the start of @path. Uses O_DIRECT when
// the file supports it, so a block device is read from the media rather
// than from a stale page cache.
SuperblockReadResult read_superblock(const std::string &path);

// Decode an in-memory 4 KiB block; what read_superblock does after the I/O.
SuperblockReadResult decode_superblock(const uint8_t *block, size_t len);

const char *state_name(SuperblockState state);

// What keeps @r, read from @path, from being a usable superblock, as the
// tools report it, in one line that starts with @path; nullopt when valid.
// kNotFound: no such file (open failed with ENOENT, ...), or no store (the
// superblock is zeroed); kFailed: it cannot be opened or read otherwise;
// kDamaged: the validator refused it, or the file is too short for one.
std::optional<Error> superblock_error(const std::string &path,
				      const SuperblockReadResult &r);

// Every field, with the UUID in canonical text form.
nlohmann::json to_json(const dynsnap_superblock &sb);

std::string uuid_to_string(const uint8_t uuid[DYNSNAP_UUID_SIZE]);

} // namespace dynsnap::store
