// SPDX-License-Identifier: GPL-2.0
#include "ctl/map_render.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "dynsnap_names.h"
#include "ui/format.h"

namespace dynsnap::ctl {

using volume::kSectorSize;
using volume::RegionInfo;

namespace {

constexpr const char *kHeatGlyphs = " .:-=+*#%@";
constexpr int kMaxRows = 64;

// The level a name of the kernel's status names; DYNSNAP_LEVEL__COUNT for none.
uint32_t level_of(const std::string &name)
{
	uint32_t level = DYNSNAP_LEVEL__COUNT;
	dynsnap_level_parse(name.data(), name.size(), &level);
	return level;
}

char level_letter(const std::string &level)
{
	static const char letters[DYNSNAP_LEVEL__COUNT + 1] = {'B', 'S', 'X', '?'};
	return letters[level_of(level)];
}

const char *level_color(char letter)
{
	switch (toupper(letter)) {
	case 'B':
		return "\033[34m";
	case 'S':
		return "\033[32m";
	case 'X':
		return "\033[31m";
	default:
		return "";
	}
}

// What one cell shows: the most common level, the hottest heat.
struct Cell {
	char letter = ' ';
	int heat = 0;
};

std::vector<Cell> cells(const RegionMap &m, size_t per_cell, uint64_t hottest)
{
	std::vector<Cell> out;
	for (size_t i = 0; i < m.regions.size(); i += per_cell) {
		std::map<char, int> votes;
		Cell c;
		for (size_t j = i; j < std::min(m.regions.size(), i + per_cell); j++) {
			const RegionInfo &r = m.regions[j];
			char l = level_letter(r.level);
			if (r.next_level != r.level)
				l = static_cast<char>(tolower(level_letter(r.next_level)));
			votes[l]++;
			c.heat = std::max(c.heat, heat_of(r.delta_bytes, hottest));
		}
		c.letter = std::max_element(votes.begin(), votes.end(), [](auto &a, auto &b) {
				   return a.second < b.second;
			   })->first;
		out.push_back(c);
	}
	return out;
}

uint64_t hottest_of(const RegionMap &m)
{
	uint64_t h = 0;
	for (const RegionInfo &r : m.regions)
		h = std::max(h, r.delta_bytes);
	return h;
}

std::string xml_escape(const std::string &s)
{
	std::string o;
	for (char c : s) {
		switch (c) {
		case '<':
			o += "&lt;";
			break;
		case '>':
			o += "&gt;";
			break;
		case '&':
			o += "&amp;";
			break;
		case '"':
			o += "&quot;";
			break;
		default:
			o += c;
		}
	}
	return o;
}

} // namespace

int heat_of(uint64_t bytes, uint64_t hottest)
{
	if (!bytes || !hottest)
		return 0;
	double f = std::log1p(static_cast<double>(bytes)) / std::log1p(static_cast<double>(hottest));
	return std::clamp(1 + static_cast<int>(f * 8.999), 1, 9);
}

nlohmann::json map_json(const RegionMap &m)
{
	uint64_t hottest = hottest_of(m);
	nlohmann::json regions = nlohmann::json::array();
	for (const RegionInfo &r : m.regions) {
		uint64_t first = static_cast<uint64_t>(r.region) * m.region_sectors;
		regions.push_back({{"region", r.region},
				   {"offset", first * kSectorSize},
				   {"bytes", (std::min(m.volume_sectors, first + m.region_sectors) - first) *
						     kSectorSize},
				   {"level", r.level},
				   {"next_level", r.next_level},
				   {"delta_records", r.delta_records},
				   {"delta_bytes", r.delta_bytes},
				   {"records_this_epoch", r.records_this_epoch},
				   {"heat", heat_of(r.delta_bytes, hottest)}});
	}
	return {{"volume", m.volume},
		{"region_bytes", m.region_sectors * kSectorSize},
		{"regions", regions}};
}

void render_map(const RegionMap &m, std::ostream &out, int columns, bool color)
{
	uint64_t hottest = hottest_of(m);
	// Room for the offset label in front of each row.
	int width = std::max(8, columns - 12);
	size_t per_cell = 1;
	while ((m.regions.size() + per_cell - 1) / per_cell > static_cast<size_t>(width) * kMaxRows)
		per_cell *= 2;
	auto cs = cells(m, per_cell, hottest);
	uint64_t cell_bytes = per_cell * m.region_sectors * kSectorSize;
	size_t counts[DYNSNAP_LEVEL__COUNT] = {};
	for (const RegionInfo &r : m.regions)
		counts[std::min<uint32_t>(level_of(r.level), DYNSNAP_LEVEL_BIT)]++;
	out << m.volume << ": " << m.regions.size() << " regions of "
	    << ui::format_bytes(m.region_sectors * kSectorSize) << " (" << counts[0] << " block, "
	    << counts[1] << " sub, " << counts[2] << " bit)";
	if (per_cell > 1)
		out << ", " << per_cell << " per cell";
	out << "\n";
	for (size_t i = 0; i < cs.size(); i += width) {
		std::string label = ui::format_bytes(i * cell_bytes);
		out << std::string(label.size() < 10 ? 10 - label.size() : 0, ' ') << label << "  ";
		for (size_t j = i; j < std::min(cs.size(), i + width); j++) {
			if (color)
				out << level_color(cs[j].letter) << cs[j].letter << "\033[0m";
			else
				out << cs[j].letter;
		}
		out << "\n" << std::string(12, ' ');
		for (size_t j = i; j < std::min(cs.size(), i + width); j++)
			out << kHeatGlyphs[cs[j].heat];
		out << "\n";
	}
	out << "level: B block, S sub-block, X bit (lower case: the level from the next snapshot on)\n"
	    << "heat:  '" << kHeatGlyphs << "' from no deltas to "
	    << ui::format_bytes(hottest) << " of deltas\n";
}

void write_svg(const RegionMap &m, const std::string &path)
{
	uint64_t hottest = hottest_of(m);
	const int cell = 14, gap = 2, per_row = 32, left = 90, top = 50;
	size_t rows = (m.regions.size() + per_row - 1) / per_row;
	int width = left + per_row * (cell + gap) + 20;
	int height = top + static_cast<int>(rows) * (cell + gap) + 70;
	std::ofstream o(path, std::ios::trunc);
	if (!o)
		throw Error("cannot write " + path + ": " + strerror(errno));
	o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
	  << height << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
	  << "<title>" << xml_escape(m.volume) << ": granularity and heat per region</title>\n"
	  << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
	  << "<text x=\"10\" y=\"20\" font-size=\"14\">" << xml_escape(m.volume) << ": "
	  << m.regions.size() << " regions of " << ui::format_bytes(m.region_sectors * kSectorSize)
	  << "</text>\n";
	auto hue = [](const std::string &l) {
		static const int hues[DYNSNAP_LEVEL__COUNT + 1] = {220, 130, 0, 0};
		return hues[level_of(l)];
	};
	for (size_t i = 0; i < m.regions.size(); i++) {
		const RegionInfo &r = m.regions[i];
		int heat = heat_of(r.delta_bytes, hottest);
		int x = left + static_cast<int>(i % per_row) * (cell + gap);
		int y = top + static_cast<int>(i / per_row) * (cell + gap);
		if (i % per_row == 0)
			o << "<text x=\"" << left - 6 << "\" y=\"" << y + cell - 3
			  << "\" text-anchor=\"end\">"
			  << ui::format_bytes(i * m.region_sectors * kSectorSize) << "</text>\n";
		o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\""
		  << cell << "\" fill=\"hsl(" << hue(r.level) << ",70%," << 92 - heat * 6 << "%)\"";
		if (r.next_level != r.level)
			o << " stroke=\"hsl(" << hue(r.next_level) << ",70%,35%)\" stroke-width=\"2\"";
		o << "><title>region " << r.region << ": " << r.level;
		if (r.next_level != r.level)
			o << " (" << r.next_level << " from the next snapshot)";
		o << ", " << r.delta_records << " deltas, " << ui::format_bytes(r.delta_bytes)
		  << "</title></rect>\n";
	}
	int ly = top + static_cast<int>(rows) * (cell + gap) + 20;
	const char *const *names = dynsnap_level_names;
	for (int i = 0; i < DYNSNAP_LEVEL__COUNT; i++) {
		int x = left + i * 110;
		o << "<rect x=\"" << x << "\" y=\"" << ly << "\" width=\"" << cell << "\" height=\""
		  << cell << "\" fill=\"hsl(" << hue(names[i]) << ",70%,50%)\"/>"
		  << "<text x=\"" << x + cell + 4 << "\" y=\"" << ly + cell - 3 << "\">" << names[i]
		  << "</text>\n";
	}
	o << "<text x=\"" << left << "\" y=\"" << ly + cell + 20
	  << "\">darker: more bytes of deltas (up to " << ui::format_bytes(hottest)
	  << "); outlined: level changes at the next snapshot</text>\n"
	  << "</svg>\n";
	if (!o.flush())
		throw Error("cannot write " + path + ": " + strerror(errno));
}

} // namespace dynsnap::ctl
