// SPDX-License-Identifier: GPL-2.0
#include "ui/table.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>

namespace dynsnap::ui {
namespace {

std::string render(const Table &t)
{
	std::ostringstream out;
	t.print(out);
	return out.str();
}

void expect_no_trailing_spaces(const std::string &text)
{
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line))
		EXPECT_TRUE(line.empty() || line.back() != ' ')
			<< "\"" << line << "\"";
}

Table snapshots()
{
	return Table({{"ID", Align::kRight},
		      {"NAME"},
		      {"AGE", Align::kRight},
		      {"VIEW", Align::kLeft}});
}

TEST(Table, AlignsColumnsTwoSpacesApart)
{
	Table t = snapshots();
	t.add_row({"1", "before-upgrade", "4d", "/dev/mapper/v1"});
	t.add_row({"12", "auto-20261124T190503.250Z", "3s", ""});
	t.add_row({"345", "x", "12h", "-"});
	EXPECT_EQ(t.rows(), 3u);
	EXPECT_EQ(render(t),
		  " ID  NAME                       AGE  VIEW\n"
		  "  1  before-upgrade              4d  /dev/mapper/v1\n"
		  " 12  auto-20261124T190503.250Z   3s\n"
		  "345  x                          12h  -\n");
}

TEST(Table, EmptyPrintsTheHeaderOnly)
{
	Table t = snapshots();
	EXPECT_TRUE(t.empty());
	EXPECT_EQ(render(t), "ID  NAME  AGE  VIEW\n");
}

TEST(Table, HeaderWiderThanCells)
{
	Table t({{"EXCLUSIVE", Align::kRight}, {"STATE"}});
	t.add_row({"0 B", "ok"});
	EXPECT_EQ(render(t),
		  "EXCLUSIVE  STATE\n"
		  "      0 B  ok\n");
}

TEST(Table, NoTrailingSpaces)
{
	// A short last left cell, an empty last cell, an empty middle cell,
	// and a right-aligned last column.
	Table t({{"A"}, {"B"}, {"C"}});
	t.add_row({"1", "", "long cell"});
	t.add_row({"22", "x", ""});
	t.add_row({"333", "", "y"});
	std::string text = render(t);
	expect_no_trailing_spaces(text);
	EXPECT_EQ(text,
		  "A    B  C\n"
		  "1       long cell\n"
		  "22   x\n"
		  "333     y\n");

	Table r({{"NAME"}, {"SIZE", Align::kRight}});
	r.add_row({"a", "1.0 GiB"});
	r.add_row({"longer name", "512 B"});
	text = render(r);
	expect_no_trailing_spaces(text);
	EXPECT_EQ(text,
		  "NAME            SIZE\n"
		  "a            1.0 GiB\n"
		  "longer name    512 B\n");
}

TEST(Table, MissingCellsAreEmptyExtraCellsAreRefused)
{
	Table t({{"A"}, {"B"}, {"C", Align::kRight}});
	t.add_row({"1"});
	t.add_row({});
	t.add_row({"2", "two", "3"});
	EXPECT_THROW(t.add_row({"1", "2", "3", "4"}), std::invalid_argument);
	EXPECT_EQ(t.rows(), 3u);
	EXPECT_EQ(render(t),
		  "A  B    C\n"
		  "1\n"
		  "\n"
		  "2  two  3\n");
}

TEST(Table, ControlCharactersCannotBreakTheLayout)
{
	Table t({{"NAME"}, {"NOTE"}});
	t.add_row({"a\tb", "x\ny"});
	t.add_row({"\x1b[31mred", "ok"});
	EXPECT_EQ(render(t),
		  "NAME      NOTE\n"
		  "a?b       x?y\n"
		  "?[31mred  ok\n");
}

TEST(Table, Utf8CellsAlignByCharacters)
{
	Table t({{"NAME"}, {"N", Align::kRight}});
	t.add_row({"caf\xc3\xa9", "1"});
	t.add_row({"tea", "22"});
	EXPECT_EQ(render(t),
		  "NAME   N\n"
		  "caf\xc3\xa9   1\n"
		  "tea   22\n");
}

TEST(Table, NoColumns)
{
	Table t({});
	t.add_row({});
	EXPECT_EQ(render(t), "\n\n");
}

} // namespace
} // namespace dynsnap::ui
