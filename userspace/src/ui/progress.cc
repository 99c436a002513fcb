// SPDX-License-Identifier: GPL-2.0
#include "ui/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "ui/format.h"

namespace dynsnap::ui {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr unsigned kMinWidth = 10;
constexpr size_t kMinBar = 10;
// Widest format_bytes below 1 EiB: "1023 KiB"; fixed field widths keep
// the bar from jumping about as the numbers change.
constexpr size_t kBytesWidth = 8;
constexpr size_t kSpeedWidth = kBytesWidth + 2;

int64_t steady_now()
{
	return std::chrono::duration_cast<std::chrono::nanoseconds>(
		       std::chrono::steady_clock::now().time_since_epoch())
		.count();
}

std::string pad_left(const std::string &s, size_t width)
{
	size_t w = display_width(s);
	return w >= width ? s : std::string(width - w, ' ') + s;
}

// The first @columns code points of @s.
std::string cut(const std::string &s, size_t columns)
{
	size_t n = 0;
	for (size_t i = 0; i < s.size(); i++) {
		if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 &&
		    n++ == columns)
			return s.substr(0, i);
	}
	return s;
}

} // namespace

unsigned terminal_width(int fd)
{
	if (const char *env = std::getenv("COLUMNS")) {
		char *end;
		long n = std::strtol(env, &end, 10);
		if (*env && !*end && n > 0 && n < 100000)
			return static_cast<unsigned>(n);
	}
	struct winsize ws;
	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, FILE *out)
	: ProgressBar(std::move(label), total, out,
		      out && isatty(fileno(out)))
{
}

ProgressBar::ProgressBar(std::string label, uint64_t total, FILE *out,
			 bool enabled, Clock clock)
	: label_(std::move(label)), total_(total), out_(out),
	  enabled_(enabled && out), clock_(clock ? std::move(clock) : steady_now)
{
	if (enabled_) {
		start_ = clock_();
		samples_.push_back({start_, 0});
	}
}

ProgressBar::~ProgressBar()
{
	if (enabled_ && drawn_ && !finished_) {
		std::fputc('\n', out_);
		std::fflush(out_);
	}
}

void ProgressBar::update(uint64_t done)
{
	if (!enabled_ || finished_)
		return;
	int64_t now = clock_();
	if (drawn_ && now - last_draw_ < kRedrawNs)
		return;
	samples_.push_back({now, done});
	// Keep one sample at least the window old, to measure across it.
	while (samples_.size() > 2 && samples_[1].t <= now - kRateWindowNs)
		samples_.pop_front();

	const Sample &from = samples_.front();
	std::string speed, eta = "ETA --:--";
	if (now - from.t >= kRedrawNs && done >= from.done) {
		uint64_t rate = static_cast<uint64_t>(
			(unsigned __int128)(done - from.done) * kNsPerSec /
			static_cast<uint64_t>(now - from.t));
		speed = format_bytes(rate) + "/s";
		if (done >= total_)
			eta = "ETA " + format_elapsed(0);
		else if (rate)	// rounded up: 0:00 only when done
			eta = "ETA " + format_elapsed((total_ - done + rate - 1) /
						       rate);
	}
	draw(render(done, speed, eta), false);
	last_draw_ = now;
}

void ProgressBar::finish()
{
	if (!enabled_ || finished_)
		return;
	finished_ = true;
	int64_t elapsed = clock_() - start_;
	std::string speed;
	if (elapsed > 0)
		speed = format_bytes(static_cast<uint64_t>(
				(unsigned __int128)total_ * kNsPerSec /
				static_cast<uint64_t>(elapsed))) + "/s";
	uint64_t secs = elapsed > 0 ?
		(static_cast<uint64_t>(elapsed) + kNsPerSec / 2) / kNsPerSec : 0;
	draw(render(total_, speed, "took " + format_elapsed(secs)), true);
}

void ProgressBar::draw(const std::string &line, bool final)
{
	size_t len = display_width(line);
	std::string text = "\r" + line;
	if (len < last_len_)	// blank what a longer line left behind
		text.append(last_len_ - len, ' ');
	if (final)
		text += '\n';
	std::fputs(text.c_str(), out_);
	std::fflush(out_);
	last_len_ = len;
	drawn_ = true;
}

std::string ProgressBar::render(uint64_t done, const std::string &speed,
				const std::string &tail) const
{
	unsigned width = width_ ? width_ : terminal_width(fileno(out_));
	if (width < kMinWidth)
		width = kMinWidth;
	// The last column stays empty: writing into it wraps some terminals.
	size_t avail = width - 1;

	uint64_t shown = done < total_ ? done : total_;
	unsigned pct = total_ ? static_cast<unsigned>(
		(unsigned __int128)shown * 100 / total_) : 100;
	char pct_text[8];
	std::snprintf(pct_text, sizeof(pct_text), "%3u%%", pct);
	std::string head = label_ + " " + pct_text;

	std::string sizes = " " + pad_left(format_bytes(shown), kBytesWidth) +
			    "/" + format_bytes(total_);
	std::string speed_field = "  " + pad_left(speed, kSpeedWidth);
	std::string tail_field = "  " + tail;

	// Narrow terminals lose the speed, then the ETA, then the sizes,
	// then the bar, then the end of the label.
	struct Fit {
		bool sizes, speed, tail;
	};
	for (Fit f : {Fit{true, true, true}, Fit{true, false, true},
		      Fit{true, false, false}, Fit{false, false, false}}) {
		std::string rest = (f.sizes ? sizes : "") +
				   (f.speed ? speed_field : "") +
				   (f.tail ? tail_field : "");
		size_t fixed = display_width(head) + 3 + display_width(rest);
		if (fixed + kMinBar > avail)
			continue;
		size_t bar = avail - fixed;
		size_t filled = total_ ? static_cast<size_t>(
			(unsigned __int128)shown * bar / total_) : bar;
		std::string bar_text(filled, '=');
		if (filled < bar && shown)
			bar_text += '>';
		bar_text.resize(bar, ' ');
		std::string line = head + " [" + bar_text + "]" + rest;
		line.erase(line.find_last_not_of(' ') + 1);
		return line;
	}
	if (avail <= 5)
		return pct_text;
	return cut(label_, avail - 5) + " " + pct_text;
}

} // namespace dynsnap::ui
