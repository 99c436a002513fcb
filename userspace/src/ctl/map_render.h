// SPDX-License-Identifier: GPL-2.0
// The granularity and heat map of a volume, for `snapshotctl map`: text
// for the terminal, JSON, and an SVG picture. Heat is how many bytes of
// deltas a region holds, on a log scale against the hottest region.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "volume/volume.h"

namespace dynsnap::ctl {

struct RegionMap {
	std::string volume;
	uint64_t volume_sectors = 0;
	uint64_t region_sectors = 0;
	std::vector<volume::RegionInfo> regions;
};

// 0 (no deltas) to 9 (as many delta bytes as the hottest region).
int heat_of(uint64_t bytes, uint64_t hottest);

nlohmann::json map_json(const RegionMap &m);
// Two lines per row of cells: the level of each (B block, S sub, X bit;
// lower case when the next snapshot changes it, to the letter shown), and
// the heat as a glyph. Many regions share a cell when there are more than
// fit in 64 rows.
void render_map(const RegionMap &m, std::ostream &out, int columns, bool color);
void write_svg(const RegionMap &m, const std::string &path);

} // namespace dynsnap::ctl
