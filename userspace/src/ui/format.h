// SPDX-License-Identifier: GPL-2.0
// Sizes, times and ages as the tools print and read them: short, in IEC
// units, one form per value so output stays easy to scan and to parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynsnap::ui {

// "0 B", "512 B", "4.0 KiB", "1.5 MiB", "12 GiB", up to EiB: one decimal
// below 10 of the unit, none from 10 on, rounded to nearest; a value that
// rounds to 1024 of a unit is shown in the next ("1.0 MiB", not "1024 KiB").
std::string format_bytes(uint64_t bytes);

// format_bytes of @sectors 512-byte sectors, without overflow.
std::string format_sectors(uint64_t sectors);

struct SizeOptions {
	std::string_view what = "size";	// names the value in messages: "--chunk"
	bool allow_zero = false;
};

// A number of bytes: "512", "512B", "8s" (512-byte sectors), "64K",
// "64KiB", "4M", "1.5G", "2T", "1P", "1E"; unit letters in either case, all
// powers of 1024. A fraction must come to a whole number of bytes ("0.5s"
// is 256, "1.5" is refused). Throws dynsnap::Error(Exit::kUsage) with one
// line naming @opts.what and the accepted forms on bad text, on a value
// above 2^64 - 1, and on zero unless @opts.allow_zero.
uint64_t parse_size(std::string_view text, const SizeOptions &opts = {});

// Local time, to the second: "2026-11-24 19:05:03".
std::string format_time(int64_t ctime_ns);

// How long before @now_ns @then_ns was, in its largest whole unit, rounded
// down: "3s", "5m", "2h", "4d". A time after @now_ns (the clock went back)
// gives a negative age: "-3s".
std::string format_age(int64_t now_ns, int64_t then_ns);

// A duration for progress output: "0:14", "12:05", "1:02:03".
std::string format_elapsed(uint64_t seconds);

// Terminal columns @text takes: UTF-8 code points (every one as one
// column, which holds for the names and paths the tools print).
size_t display_width(std::string_view text);

} // namespace dynsnap::ui
