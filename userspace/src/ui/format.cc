// SPDX-License-Identifier: GPL-2.0
#include "ui/format.h"

#include <time.h>

#include <cstdio>
#include <limits>

#include "util/error.h"

namespace dynsnap::ui {

namespace {

using u128 = unsigned __int128;

constexpr int64_t kNsPerSec = 1000000000;
constexpr const char *kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB",
				  "EiB", "ZiB"};
constexpr int kLastUnit = sizeof(kUnits) / sizeof(kUnits[0]) - 1;

// Wide enough for sectors * 512 (2^73).
std::string format_wide(u128 bytes)
{
	if (bytes < 1024)
		return std::to_string(static_cast<uint64_t>(bytes)) + " B";
	int unit = 1;
	while (unit < kLastUnit && bytes >= (u128)1 << (10 * (unit + 1)))
		unit++;
	for (;; unit++) {
		u128 div = (u128)1 << (10 * unit);
		u128 tenths = (bytes * 10 + div / 2) / div;
		char text[48];
		if (tenths < 100) {
			std::snprintf(text, sizeof(text), "%u.%u %s",
				      static_cast<unsigned>(tenths / 10),
				      static_cast<unsigned>(tenths % 10),
				      kUnits[unit]);
			return text;
		}
		u128 whole = (bytes + div / 2) / div;
		if (whole >= 1024 && unit < kLastUnit)
			continue;	// 1023.6 KiB shows as 1.0 MiB
		std::snprintf(text, sizeof(text), "%llu %s",
			      static_cast<unsigned long long>(whole),
			      kUnits[unit]);
		return text;
	}
}

// Control characters as '?', so the message stays on one line.
std::string quoted(std::string_view text)
{
	std::string q = "\"";
	for (char c : text)
		q += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
	return q + "\"";
}

[[noreturn]] void bad_size(std::string_view text, const SizeOptions &opts,
			   const char *why)
{
	throw Error(Exit::kUsage,
		    "bad " + std::string(opts.what) + " " + quoted(text) +
			    ": " + why +
			    "; expected a number of bytes with an optional "
			    "unit: 512, 8s (512-byte sectors), 64K, 4M, 1.5G, "
			    "2T");
}

// Bytes per unit of @suffix, 0 if it is none of the accepted ones.
uint64_t multiplier(std::string_view suffix)
{
	if (suffix.empty() || suffix == "B" || suffix == "b")
		return 1;
	if (suffix == "s" || suffix == "S")
		return 512;
	static constexpr char kLetters[] = "kmgtpe";
	char c = suffix[0];
	if (c >= 'A' && c <= 'Z')
		c = c - 'A' + 'a';
	uint64_t mult = 0;
	for (int i = 0; kLetters[i]; i++)
		if (c == kLetters[i])
			mult = uint64_t{1} << (10 * (i + 1));
	if (!mult)
		return 0;
	// "K" or "KiB"; "KB" is refused, as it may mean 1000.
	if (suffix.size() == 1 || suffix.substr(1) == "iB")
		return mult;
	return 0;
}

} // namespace

std::string format_bytes(uint64_t bytes)
{
	return format_wide(bytes);
}

std::string format_sectors(uint64_t sectors)
{
	return format_wide((u128)sectors * 512);
}

uint64_t parse_size(std::string_view text, const SizeOptions &opts)
{
	size_t i = 0;
	u128 whole = 0;
	u128 frac = 0, frac_div = 1;
	bool any_digit = false;

	for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; i++) {
		whole = whole * 10 + (text[i] - '0');
		if (whole > std::numeric_limits<uint64_t>::max())
			bad_size(text, opts, "too large");
		any_digit = true;
	}
	if (i < text.size() && text[i] == '.') {
		if (i + 1 == text.size() || text[i + 1] < '0' || text[i + 1] > '9')
			bad_size(text, opts, "no digits after the point");
		for (i++; i < text.size() && text[i] >= '0' && text[i] <= '9';
		     i++) {
			// Past 18 digits no unit could make a whole byte of it.
			if (frac_div >= 1000000000000000000ULL)
				bad_size(text, opts, "too many decimals");
			frac = frac * 10 + (text[i] - '0');
			frac_div *= 10;
			any_digit = true;
		}
	}
	if (!any_digit)
		bad_size(text, opts, "no number");
	uint64_t mult = multiplier(text.substr(i));
	if (!mult)
		bad_size(text, opts, "unknown unit");
	if (frac * mult % frac_div)
		bad_size(text, opts, "not a whole number of bytes");
	u128 bytes = whole * mult + frac * mult / frac_div;
	if (bytes > std::numeric_limits<uint64_t>::max())
		bad_size(text, opts, "too large");
	if (!bytes && !opts.allow_zero)
		bad_size(text, opts, "zero");
	return static_cast<uint64_t>(bytes);
}

std::string format_time(int64_t ctime_ns)
{
	int64_t sec = ctime_ns / kNsPerSec;
	if (ctime_ns % kNsPerSec < 0)	// round down before 1970 too
		sec--;
	time_t t = static_cast<time_t>(sec);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return "?";
	char text[64];
	std::snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:%02d",
		      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		      tm.tm_min, tm.tm_sec);
	return text;
}

std::string format_age(int64_t now_ns, int64_t then_ns)
{
	// In 128 bits: the difference of two int64 can overflow one.
	__int128 diff = (__int128)now_ns - then_ns;
	std::string sign;
	if (diff < 0) {
		sign = "-";
		diff = -diff;
	}
	uint64_t s = static_cast<uint64_t>(diff / kNsPerSec);
	if (s < 60)
		return sign + std::to_string(s) + "s";
	if (s < 3600)
		return sign + std::to_string(s / 60) + "m";
	if (s < 86400)
		return sign + std::to_string(s / 3600) + "h";
	return sign + std::to_string(s / 86400) + "d";
}

std::string format_elapsed(uint64_t seconds)
{
	char text[48];
	if (seconds < 3600)
		std::snprintf(text, sizeof(text), "%u:%02u",
			      static_cast<unsigned>(seconds / 60),
			      static_cast<unsigned>(seconds % 60));
	else
		std::snprintf(text, sizeof(text), "%llu:%02u:%02u",
			      static_cast<unsigned long long>(seconds / 3600),
			      static_cast<unsigned>(seconds / 60 % 60),
			      static_cast<unsigned>(seconds % 60));
	return text;
}

size_t display_width(std::string_view text)
{
	size_t n = 0;
	for (unsigned char c : text)
		if ((c & 0xc0) != 0x80)	// not a continuation byte
			n++;
	return n;
}

} // namespace dynsnap::ui
