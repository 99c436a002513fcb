// SPDX-License-Identifier: GPL-2.0
#include "ui/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include "util/error.h"

namespace dynsnap::ui {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * 1024;
constexpr uint64_t kGiB = kMiB * 1024;
constexpr uint64_t kTiB = kGiB * 1024;
constexpr uint64_t kPiB = kTiB * 1024;
constexpr uint64_t kEiB = kPiB * 1024;
constexpr int64_t kSec = 1000000000;

TEST(FormatBytes, UnitsAndDecimals)
{
	EXPECT_EQ(format_bytes(0), "0 B");
	EXPECT_EQ(format_bytes(1), "1 B");
	EXPECT_EQ(format_bytes(512), "512 B");
	EXPECT_EQ(format_bytes(1023), "1023 B");
	EXPECT_EQ(format_bytes(kKiB), "1.0 KiB");
	EXPECT_EQ(format_bytes(1536), "1.5 KiB");
	EXPECT_EQ(format_bytes(4 * kKiB), "4.0 KiB");
	EXPECT_EQ(format_bytes(3 * kMiB / 2), "1.5 MiB");
	EXPECT_EQ(format_bytes(12 * kGiB), "12 GiB");
	EXPECT_EQ(format_bytes(12 * kGiB + 4 * kGiB / 10), "12 GiB");
	EXPECT_EQ(format_bytes(12 * kGiB + kGiB / 2), "13 GiB");
	EXPECT_EQ(format_bytes(1023 * kKiB), "1023 KiB");
	EXPECT_EQ(format_bytes(3 * kTiB), "3.0 TiB");
	EXPECT_EQ(format_bytes(kPiB), "1.0 PiB");
	EXPECT_EQ(format_bytes(kEiB), "1.0 EiB");
	EXPECT_EQ(format_bytes(std::numeric_limits<uint64_t>::max()),
		  "16 EiB");
}

TEST(FormatBytes, RoundingAtTheEdges)
{
	EXPECT_EQ(format_bytes(10188), "9.9 KiB");	// 9.949
	EXPECT_EQ(format_bytes(10189), "10 KiB");	// 9.950: no "10.0"
	EXPECT_EQ(format_bytes(10239), "10 KiB");
	EXPECT_EQ(format_bytes(1023 * kKiB + 511), "1023 KiB");
	EXPECT_EQ(format_bytes(1023 * kKiB + 512), "1.0 MiB");	// not "1024 KiB"
	EXPECT_EQ(format_bytes(kMiB - 1), "1.0 MiB");
	EXPECT_EQ(format_bytes(kGiB - 1), "1.0 GiB");
	// Every value has a number below 1024 and at most 8 characters.
	for (uint64_t b = 1; b; b = b * 3 + 1) {
		std::string s = format_bytes(b);
		EXPECT_LE(s.size(), 8u) << s;
		EXPECT_LT(std::stod(s), 1024.0) << s;
		if (b > (std::numeric_limits<uint64_t>::max() - 1) / 3)
			break;
	}
}

TEST(FormatBytes, Sectors)
{
	EXPECT_EQ(format_sectors(0), "0 B");
	EXPECT_EQ(format_sectors(1), "512 B");
	EXPECT_EQ(format_sectors(2), "1.0 KiB");
	EXPECT_EQ(format_sectors(2097152), "1.0 GiB");
	// Beyond what fits 64 bits of bytes.
	EXPECT_EQ(format_sectors(std::numeric_limits<uint64_t>::max()),
		  "8.0 ZiB");
}

TEST(ParseSize, AcceptedForms)
{
	EXPECT_EQ(parse_size("512"), 512u);
	EXPECT_EQ(parse_size("512B"), 512u);
	EXPECT_EQ(parse_size("512b"), 512u);
	EXPECT_EQ(parse_size("8s"), 4096u);
	EXPECT_EQ(parse_size("8S"), 4096u);
	EXPECT_EQ(parse_size("64K"), 64 * kKiB);
	EXPECT_EQ(parse_size("64k"), 64 * kKiB);
	EXPECT_EQ(parse_size("64KiB"), 64 * kKiB);
	EXPECT_EQ(parse_size("4M"), 4 * kMiB);
	EXPECT_EQ(parse_size("4MiB"), 4 * kMiB);
	EXPECT_EQ(parse_size("1G"), kGiB);
	EXPECT_EQ(parse_size("1g"), kGiB);
	EXPECT_EQ(parse_size("2T"), 2 * kTiB);
	EXPECT_EQ(parse_size("1P"), kPiB);
	EXPECT_EQ(parse_size("15E"), 15 * kEiB);
	EXPECT_EQ(parse_size("0064K"), 64 * kKiB);
	EXPECT_EQ(parse_size("18446744073709551615"),
		  std::numeric_limits<uint64_t>::max());
}

TEST(ParseSize, Fractions)
{
	EXPECT_EQ(parse_size("1.5G"), 3 * kGiB / 2);
	EXPECT_EQ(parse_size("1.50K"), 1536u);
	EXPECT_EQ(parse_size(".5K"), 512u);
	EXPECT_EQ(parse_size("0.5s"), 256u);
	EXPECT_EQ(parse_size("2.0"), 2u);
	EXPECT_EQ(parse_size("0.25M"), kMiB / 4);
	EXPECT_EQ(parse_size("15.5E"), 15 * kEiB + kEiB / 2);
}

TEST(ParseSize, Zero)
{
	EXPECT_THROW(parse_size("0"), Error);
	EXPECT_THROW(parse_size("0K"), Error);
	EXPECT_THROW(parse_size("0.0s"), Error);
	EXPECT_EQ(parse_size("0", {.allow_zero = true}), 0u);
	EXPECT_EQ(parse_size("0G", {.allow_zero = true}), 0u);
}

std::optional<std::string> refusal(const std::string &text,
				   const SizeOptions &opts = {})
{
	try {
		parse_size(text, opts);
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
		return e.what();
	}
	return std::nullopt;
}

TEST(ParseSize, RefusesBadText)
{
	for (const char *bad :
	     {"", " ", "K", "B", "s", "-1", "+1", "1.", ".", ".K", "1.5",
	      "0.3K", "1.2.3K", "1KB", "1kb", "1Ki", "1kib", "1KIB", "1iB",
	      "1 K", " 1K", "1K ", "1X", "1e3", "0x10", "1,5K", "1_000",
	      "16E", "18446744073709551616", "99999999999999999999999",
	      "1.0000000000000000001K", "4MM", "4Ms", "1\n"}) {
		std::optional<std::string> msg = refusal(bad);
		ASSERT_TRUE(msg) << "accepted \"" << bad << "\"";
		EXPECT_EQ(msg->find('\n'), std::string::npos) << *msg;
	}
}

TEST(ParseSize, MessageNamesTheOptionAndTheForms)
{
	std::optional<std::string> msg =
		refusal("64X", {.what = "--block-size"});
	ASSERT_TRUE(msg);
	EXPECT_EQ(*msg,
		  "bad --block-size \"64X\": unknown unit; expected a number "
		  "of bytes with an optional unit: 512, 8s (512-byte "
		  "sectors), 64K, 4M, 1.5G, 2T");
	msg = refusal("0", {.what = "--fast-size"});
	ASSERT_TRUE(msg);
	EXPECT_EQ(msg->rfind("bad --fast-size \"0\": zero;", 0), 0u) << *msg;
	msg = refusal("20E");
	ASSERT_TRUE(msg);
	EXPECT_EQ(msg->rfind("bad size \"20E\": too large;", 0), 0u) << *msg;
}

TEST(ParseSize, RoundTripsFormattedWholeUnits)
{
	for (uint64_t b : {kKiB, 4 * kKiB, 64 * kKiB, kMiB, 3 * kMiB / 2,
			   kGiB, 12 * kGiB, kTiB}) {
		std::string s = format_bytes(b);
		s.erase(s.find(' '), 1);	// "1.5 MiB" -> "1.5MiB"
		EXPECT_EQ(parse_size(s), b) << s;
	}
}

// Runs the body with TZ set, restoring it after.
class WithTimeZone {
public:
	explicit WithTimeZone(const char *tz)
	{
		if (const char *old = std::getenv("TZ"))
			old_ = old;
		setenv("TZ", tz, 1);
		tzset();
	}
	~WithTimeZone()
	{
		if (old_)
			setenv("TZ", old_->c_str(), 1);
		else
			unsetenv("TZ");
		tzset();
	}

private:
	std::optional<std::string> old_;
};

TEST(FormatTime, LocalTimeToTheSecond)
{
	int64_t t = 1795547103LL * kSec + 999999999;	// 2026-11-24 19:05:03.999 UTC
	{
		WithTimeZone tz("UTC0");
		EXPECT_EQ(format_time(t), "2026-11-24 19:05:03");
		EXPECT_EQ(format_time(0), "1970-01-01 00:00:00");
		EXPECT_EQ(format_time(-1), "1969-12-31 23:59:59");
	}
	{
		WithTimeZone tz("XYZ-2");	// two hours east of UTC
		EXPECT_EQ(format_time(t), "2026-11-24 21:05:03");
	}
	{
		WithTimeZone tz("XYZ5");	// five hours west
		EXPECT_EQ(format_time(t), "2026-11-24 14:05:03");
	}
}

TEST(FormatAge, LargestWholeUnit)
{
	int64_t now = 1795547103LL * kSec;
	EXPECT_EQ(format_age(now, now), "0s");
	EXPECT_EQ(format_age(now, now - 3 * kSec), "3s");
	EXPECT_EQ(format_age(now, now - 60 * kSec + 1), "59s");
	EXPECT_EQ(format_age(now, now - 60 * kSec), "1m");
	EXPECT_EQ(format_age(now, now - 5 * 60 * kSec - 59 * kSec), "5m");
	EXPECT_EQ(format_age(now, now - 3599 * kSec), "59m");
	EXPECT_EQ(format_age(now, now - 2 * 3600 * kSec), "2h");
	EXPECT_EQ(format_age(now, now - 86399 * kSec), "23h");
	EXPECT_EQ(format_age(now, now - 4 * 86400 * kSec), "4d");
	EXPECT_EQ(format_age(now, now - 400 * 86400 * kSec), "400d");
	// The clock went back: a negative age, not a wrapped one.
	EXPECT_EQ(format_age(now, now + 3 * kSec), "-3s");
	EXPECT_EQ(format_age(now, now + 7200 * kSec), "-2h");
	EXPECT_EQ(format_age(std::numeric_limits<int64_t>::max(),
			     std::numeric_limits<int64_t>::min()),
		  "213503d");
	EXPECT_EQ(format_age(std::numeric_limits<int64_t>::min(),
			     std::numeric_limits<int64_t>::max()),
		  "-213503d");
}

TEST(FormatElapsed, MinutesThenHours)
{
	EXPECT_EQ(format_elapsed(0), "0:00");
	EXPECT_EQ(format_elapsed(14), "0:14");
	EXPECT_EQ(format_elapsed(725), "12:05");
	EXPECT_EQ(format_elapsed(3599), "59:59");
	EXPECT_EQ(format_elapsed(3723), "1:02:03");
	EXPECT_EQ(format_elapsed(360000), "100:00:00");
}

TEST(DisplayWidth, CountsCodePoints)
{
	EXPECT_EQ(display_width(""), 0u);
	EXPECT_EQ(display_width("abc"), 3u);
	EXPECT_EQ(display_width("caf\xc3\xa9"), 4u);
	EXPECT_EQ(display_width("\xe2\x86\x92 x"), 3u);
}

} // namespace
} // namespace dynsnap::ui
