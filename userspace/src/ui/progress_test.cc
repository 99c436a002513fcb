// SPDX-License-Identifier: GPL-2.0
#include "ui/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "ui/format.h"

namespace dynsnap::ui {
namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kSec = 1000 * kMs;
constexpr uint64_t kMiB = 1024 * 1024;

// A FILE in memory, as the bar writes it.
class MemFile {
public:
	MemFile() { f_ = open_memstream(&buf_, &len_); }
	~MemFile()
	{
		std::fclose(f_);
		std::free(buf_);
	}
	FILE *file() { return f_; }
	std::string text()
	{
		std::fflush(f_);
		return std::string(buf_, len_);
	}
	// The lines drawn so far: what follows each '\r'.
	std::vector<std::string> draws()
	{
		std::vector<std::string> v;
		std::string t = text();
		for (size_t p = t.find('\r'); p != std::string::npos;) {
			size_t next = t.find('\r', p + 1);
			v.push_back(t.substr(p + 1, next == std::string::npos ?
							    std::string::npos :
							    next - p - 1));
			p = next;
		}
		return v;
	}

private:
	char *buf_ = nullptr;
	size_t len_ = 0;
	FILE *f_;
};

struct FakeClock {
	int64_t now = 0;
	ProgressBar::Clock clock()
	{
		return [this] { return now; };
	}
};

std::string rstrip(std::string s)
{
	s.erase(s.find_last_not_of(" \n") + 1);
	return s;
}

TEST(ProgressBar, DisabledPrintsNothing)
{
	MemFile out;
	FakeClock clock;
	{
		ProgressBar bar("copy", 100, out.file(), false, clock.clock());
		EXPECT_FALSE(bar.enabled());
		bar.update(10);
		clock.now += kSec;
		bar.update(50);
		bar.finish();
	}
	{
		ProgressBar bar("copy", 100, out.file(), false, clock.clock());
		bar.update(10);	// no finish: the destructor stays quiet too
	}
	EXPECT_EQ(out.text(), "");
}

TEST(ProgressBar, NotATerminalMeansDisabled)
{
	MemFile out;
	{
		ProgressBar bar("copy", 100, out.file());
		EXPECT_FALSE(bar.enabled());
		bar.update(50);
		bar.finish();
	}
	EXPECT_EQ(out.text(), "");
}

TEST(ProgressBar, TheLine)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("copy", 3000 * kMiB, out.file(), true, clock.clock());
	bar.set_width(80);
	clock.now = 10 * kSec;
	bar.update(1100 * kMiB);
	// 110 MiB/s over 10 s; 1900 MiB left is 17.3 s, shown rounded up.
	std::string line =
		"copy  36% [==========>                 ]  1.1 GiB/2.9 GiB   "
		"110 MiB/s  ETA 0:18";
	EXPECT_EQ(out.text(), "\r" + line);
	EXPECT_EQ(line.size(), 79u);	// the last column stays empty
}

TEST(ProgressBar, FirstDrawHasNoSpeedYet)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("copy", 100 * kMiB, out.file(), true, clock.clock());
	bar.set_width(60);
	bar.update(0);
	std::vector<std::string> d = out.draws();
	ASSERT_EQ(d.size(), 1u);
	EXPECT_EQ(d[0].rfind("copy   0% [ ", 0), 0u) << d[0];
	EXPECT_NE(d[0].find("    0 B/100 MiB"), std::string::npos) << d[0];
	EXPECT_EQ(d[0].find("/s"), std::string::npos) << d[0];
	EXPECT_NE(d[0].find("ETA --:--"), std::string::npos) << d[0];
	EXPECT_EQ(d[0].size(), 59u);
}

TEST(ProgressBar, RedrawsAtMostTenTimesASecond)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("copy", 1000, out.file(), true, clock.clock());
	bar.set_width(80);
	bar.update(1);
	EXPECT_EQ(out.draws().size(), 1u);
	for (int i = 0; i < 99; i++) {
		clock.now += kMs;
		bar.update(2 + i);
	}
	EXPECT_EQ(out.draws().size(), 1u);	// 99 ms: not yet
	clock.now += kMs;
	bar.update(200);
	EXPECT_EQ(out.draws().size(), 2u);
	// A second of updates every millisecond: ten draws.
	for (int i = 0; i < 1000; i++) {
		clock.now += kMs;
		bar.update(200 + i / 2);
	}
	EXPECT_EQ(out.draws().size(), 12u);
}

TEST(ProgressBar, SpeedAndEtaFollowTheLastSeconds)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("copy", 10000 * kMiB, out.file(), true, clock.clock());
	bar.set_width(100);
	// 10 s at 100 MiB/s, then 10 s at 10 MiB/s.
	uint64_t done = 0;
	for (int i = 0; i < 100; i++) {
		clock.now += 100 * kMs;
		done += 10 * kMiB;
		bar.update(done);
	}
	EXPECT_NE(out.draws().back().find(" 100 MiB/s"), std::string::npos)
		<< out.draws().back();
	for (int i = 0; i < 100; i++) {
		clock.now += 100 * kMs;
		done += kMiB;
		bar.update(done);
	}
	std::string last = out.draws().back();
	EXPECT_NE(last.find(" 10 MiB/s"), std::string::npos) << last;
	// 10000 - 1100 MiB left at 10 MiB/s: 890 s.
	EXPECT_NE(last.find("ETA 14:50"), std::string::npos) << last;
	// Stalled: the speed falls to zero and the ETA is unknown.
	for (int i = 0; i < 60; i++) {
		clock.now += 100 * kMs;
		bar.update(done);
	}
	last = out.draws().back();
	EXPECT_NE(last.find(" 0 B/s"), std::string::npos) << last;
	EXPECT_NE(last.find("ETA --:--"), std::string::npos) << last;
}

TEST(ProgressBar, FinishPrintsTheFullLineOnce)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("rollback", 2500 * kMiB, out.file(), true,
			clock.clock());
	bar.set_width(80);
	bar.update(0);
	clock.now = 12 * kSec;
	bar.update(1200 * kMiB);
	clock.now = 25 * kSec;
	bar.finish();
	std::string text = out.text();
	ASSERT_FALSE(text.empty());
	EXPECT_EQ(text.back(), '\n');
	std::vector<std::string> d = out.draws();
	ASSERT_EQ(d.size(), 3u);
	std::string final = d.back();
	EXPECT_EQ(final.rfind("rollback 100% [====", 0), 0u) << final;
	EXPECT_EQ(final.find('>'), std::string::npos) << final;
	EXPECT_NE(final.find("2.4 GiB/2.4 GiB"), std::string::npos) << final;
	EXPECT_NE(final.find("100 MiB/s"), std::string::npos) << final;
	EXPECT_NE(final.find("took 0:25"), std::string::npos) << final;
	EXPECT_EQ(rstrip(final).size(), 79u) << final;

	clock.now += kSec;
	bar.update(5);
	bar.finish();
	EXPECT_EQ(out.text(), text);
}

TEST(ProgressBar, FinishWithoutUpdates)
{
	MemFile out;
	FakeClock clock;
	{
		ProgressBar bar("x", 0, out.file(), true, clock.clock());
		bar.set_width(60);
		bar.finish();
	}
	std::string text = out.text();
	EXPECT_EQ(text.rfind("\rx 100% [", 0), 0u) << text;
	EXPECT_NE(text.find("0 B/0 B"), std::string::npos) << text;
	EXPECT_NE(text.find("took 0:00"), std::string::npos) << text;
	EXPECT_EQ(text.back(), '\n');
	EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(ProgressBar, TotalKnownLater)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("rollback", 0, out.file(), true, clock.clock());
	bar.set_width(80);
	bar.set_total(400);
	bar.update(100);
	EXPECT_EQ(out.draws().back().rfind("rollback  25% [", 0), 0u)
		<< out.draws().back();
	// Beyond the total shows as complete, not as 120%.
	clock.now += kSec;
	bar.update(480);
	EXPECT_EQ(out.draws().back().rfind("rollback 100% [", 0), 0u)
		<< out.draws().back();
}

TEST(ProgressBar, UnfinishedLineIsEndedByTheDestructor)
{
	MemFile out;
	FakeClock clock;
	{
		ProgressBar bar("copy", 100, out.file(), true, clock.clock());
		bar.set_width(80);
		bar.update(40);
	}
	std::string text = out.text();
	ASSERT_FALSE(text.empty());
	EXPECT_EQ(text.back(), '\n');
	EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
	EXPECT_NE(text.find(" 40%"), std::string::npos);
}

TEST(ProgressBar, FitsEveryWidth)
{
	for (unsigned width = 1; width <= 140; width++) {
		MemFile out;
		FakeClock clock;
		ProgressBar bar("rollback vol-\xc3\xa9t\xc3\xa9", 2700 * kMiB,
				out.file(), true, clock.clock());
		bar.set_width(width);
		bar.update(0);
		for (int i = 1; i <= 30; i++) {
			clock.now += 500 * kMs;
			bar.update(i * 45 * kMiB);
		}
		bar.finish();
		unsigned limit = std::max(width, 10u) - 1;
		for (const std::string &d : out.draws()) {
			std::string line = rstrip(d);
			EXPECT_LE(display_width(line), limit)
				<< width << ": \"" << line << "\"";
			EXPECT_NE(line.find('%'), std::string::npos) << width;
		}
		std::string final = rstrip(out.draws().back());
		if (width >= 80) {
			EXPECT_NE(final.find("took"), std::string::npos) << width;
			EXPECT_NE(final.find("/s"), std::string::npos) << width;
		}
		if (width >= 40) {
			EXPECT_NE(final.find('['), std::string::npos) << width;
		}
	}
}

TEST(ProgressBar, NarrowTerminalsDropTheLeastImportantFirst)
{
	auto final_line = [](unsigned width) {
		MemFile out;
		FakeClock clock;
		ProgressBar bar("copy", 100 * kMiB, out.file(), true,
				clock.clock());
		bar.set_width(width);
		clock.now = 10 * kSec;
		bar.finish();
		return rstrip(out.draws().back());
	};
	std::string wide = final_line(80);
	EXPECT_NE(wide.find("/s"), std::string::npos) << wide;
	std::string mid = final_line(56);	// no room for the speed
	EXPECT_EQ(mid.find("/s"), std::string::npos) << mid;
	EXPECT_NE(mid.find("took 0:10"), std::string::npos) << mid;
	EXPECT_NE(mid.find("100 MiB/100 MiB"), std::string::npos) << mid;
	std::string small = final_line(45);	// the bar and the sizes
	EXPECT_EQ(small.find("took"), std::string::npos) << small;
	EXPECT_NE(small.find("]  100 MiB/100 MiB"), std::string::npos) << small;
	EXPECT_EQ(final_line(30), "copy 100% [" + std::string(17, '=') + "]");
	EXPECT_EQ(final_line(12), "copy 100%");
	EXPECT_EQ(final_line(8), "copy 100%");	// 10 columns at least
}

TEST(ProgressBar, ShorterLineBlanksTheRest)
{
	MemFile out;
	FakeClock clock;
	ProgressBar bar("copy", 100, out.file(), true, clock.clock());
	bar.set_width(100);
	bar.update(10);
	size_t first = out.draws().back().size();
	bar.set_width(40);
	clock.now += kSec;
	bar.update(20);
	std::string second = out.draws().back();
	EXPECT_EQ(second.size(), first);
	EXPECT_LT(rstrip(second).size(), 40u);
}

// Runs the body with COLUMNS set (or unset), restoring it after.
class WithColumns {
public:
	explicit WithColumns(const char *value)
	{
		if (const char *old = std::getenv("COLUMNS"))
			old_ = old;
		if (value)
			setenv("COLUMNS", value, 1);
		else
			unsetenv("COLUMNS");
	}
	~WithColumns()
	{
		if (old_)
			setenv("COLUMNS", old_->c_str(), 1);
		else
			unsetenv("COLUMNS");
	}

private:
	std::optional<std::string> old_;
};

TEST(ProgressBar, TerminalWidth)
{
	{
		WithColumns c("123");
		EXPECT_EQ(terminal_width(-1), 123u);
	}
	for (const char *bad : {"", "abc", "0", "-5", "12x"}) {
		WithColumns c(bad);
		EXPECT_EQ(terminal_width(-1), 80u) << bad;
	}
	{
		WithColumns c(nullptr);
		EXPECT_EQ(terminal_width(-1), 80u);
		// Not a terminal: the default too.
		MemFile out;
		EXPECT_EQ(terminal_width(fileno(out.file())), 80u);
	}
	{
		// Without set_width, the bar asks at each draw.
		WithColumns c("50");
		MemFile out;
		FakeClock clock;
		ProgressBar bar("copy", 100, out.file(), true, clock.clock());
		bar.update(10);
		EXPECT_EQ(out.draws().back().size(), 49u);
	}
}

} // namespace
} // namespace dynsnap::ui
