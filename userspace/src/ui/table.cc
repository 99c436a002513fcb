// SPDX-License-Identifier: GPL-2.0
#include "ui/table.h"

#include <algorithm>
#include <stdexcept>

#include "ui/format.h"

namespace dynsnap::ui {

namespace {

std::string printable(const std::string &cell)
{
	std::string out = cell;
	for (char &c : out)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = '?';
	return out;
}

} // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells)
{
	if (cells.size() > columns_.size())
		throw std::invalid_argument("table row has more cells than columns");
	for (std::string &c : cells)
		c = printable(c);
	cells.resize(columns_.size());
	rows_.push_back(std::move(cells));
}

void Table::print(std::ostream &out) const
{
	std::vector<std::string> headers;
	std::vector<size_t> widths;
	for (const Column &col : columns_) {
		headers.push_back(printable(col.header));
		widths.push_back(display_width(headers.back()));
	}
	for (const auto &row : rows_)
		for (size_t i = 0; i < row.size(); i++)
			widths[i] = std::max(widths[i], display_width(row[i]));

	auto print_line = [&](const std::vector<std::string> &cells) {
		std::string line;
		for (size_t i = 0; i < cells.size(); i++) {
			std::string pad(widths[i] - display_width(cells[i]), ' ');
			if (i)
				line += "  ";
			if (columns_[i].align == Align::kRight)
				line += pad + cells[i];
			else
				line += cells[i] + pad;
		}
		// Padding of a last left column, or empty last cells.
		line.erase(line.find_last_not_of(' ') + 1);
		out << line << '\n';
	};

	print_line(headers);
	for (const auto &row : rows_)
		print_line(row);
}

} // namespace dynsnap::ui
