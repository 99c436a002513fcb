// SPDX-License-Identifier: GPL-2.0
// Plain text tables: a header line, then one line per row, columns two
// spaces apart, for humans and for `awk`/`cut` alike (no borders, no
// trailing spaces).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace dynsnap::ui {

enum class Align {
	kLeft,	// text
	kRight,	// numbers and sizes
};

struct Column {
	std::string header;
	Align align = Align::kLeft;
};

class Table {
public:
	explicit Table(std::vector<Column> columns);

	// @cells in column order; missing trailing cells are empty. Throws
	// std::invalid_argument if there are more cells than columns.
	void add_row(std::vector<std::string> cells);

	size_t rows() const { return rows_.size(); }
	bool empty() const { return rows_.empty(); }

	// Each column as wide as its widest cell or header, headers aligned
	// like their column. An empty table prints its header line only; the
	// caller decides whether to say "no snapshots" instead. Control
	// characters are printed as '?', so a cell can neither break the
	// layout nor send escape sequences to the terminal.
	void print(std::ostream &out) const;

private:
	std::vector<Column> columns_;
	std::vector<std::vector<std::string>> rows_;
};

} // namespace dynsnap::ui
