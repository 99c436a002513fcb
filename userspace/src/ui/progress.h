// SPDX-License-Identifier: GPL-2.0
// A one-line progress bar for long copies (rollback, export), redrawn in
// place with a carriage return:
//
//   label  45% [=========>          ]  1.2 GiB/2.7 GiB   110 MiB/s  ETA 0:14
//
// Only for terminals: scripts and logs get nothing, so the tools print it
// to stderr when that is a terminal. Not thread safe: one thread updates.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <string>

namespace dynsnap::ui {

// Columns of the terminal on @fd: COLUMNS when set to a number, else the
// terminal's own size, else 80.
unsigned terminal_width(int fd);

class ProgressBar {
public:
	// Monotonic time in nanoseconds; tests pass a fake one.
	using Clock = std::function<int64_t()>;

	static constexpr int64_t kRedrawNs = 100000000;	// at most 10 a second
	static constexpr int64_t kRateWindowNs = 5000000000;	// speed of the last 5 s

	// Enabled when @out is a terminal.
	ProgressBar(std::string label, uint64_t total, FILE *out = stderr);
	// Disabled, it prints nothing at all. An empty @clock means
	// std::chrono::steady_clock. Speeds and the time taken count from
	// here, with nothing done yet.
	ProgressBar(std::string label, uint64_t total, FILE *out, bool enabled,
		    Clock clock = {});
	// Ends a line left unfinished (an error cut the work short), so what
	// is printed next starts on a line of its own.
	~ProgressBar();

	ProgressBar(const ProgressBar &) = delete;
	ProgressBar &operator=(const ProgressBar &) = delete;

	// For work whose size is known only once it has started.
	void set_total(uint64_t total) { total_ = total; }

	// Fix the width instead of asking the terminal at each redraw.
	void set_width(unsigned columns) { width_ = columns; }

	// @done bytes of the total are done. Redraws on the first call and
	// then at most every kRedrawNs; cheap to call per block.
	void update(uint64_t done);

	// The final line (100%, the average speed, the time taken) and a
	// newline. Later calls, and update() after it, do nothing.
	void finish();

	bool enabled() const { return enabled_; }

private:
	struct Sample {
		int64_t t;
		uint64_t done;
	};

	void draw(const std::string &line, bool final);
	std::string render(uint64_t done, const std::string &speed,
			   const std::string &tail) const;

	std::string label_;
	uint64_t total_;
	FILE *out_;
	bool enabled_;
	Clock clock_;
	unsigned width_ = 0;	// 0: ask the terminal
	int64_t start_ = 0;
	bool drawn_ = false;
	bool finished_ = false;
	int64_t last_draw_ = 0;
	size_t last_len_ = 0;	// to blank the rest of a longer line
	std::deque<Sample> samples_;	// at redraws, within the rate window
};

} // namespace dynsnap::ui
