// SPDX-License-Identifier: GPL-2.0
#include "volume/volume.h"

#include <gtest/gtest.h>

#include "dm/testing/fake_device_mapper.h"

namespace dynsnap::volume {
namespace {

TEST(VolumeParse, SnapList)
{
	auto s = parse_snap_list("1 nightly 1700000000.000000042 8256 1\n"
				 "7 a:b@c+d 1700000100.123456789 0 5\n");
	ASSERT_EQ(s.size(), 2u);
	EXPECT_EQ(s[0].id, 1u);
	EXPECT_EQ(s[0].name, "nightly");
	EXPECT_EQ(s[0].ctime_ns, 1700000000000000042LL);
	EXPECT_EQ(s[0].exclusive_bytes, 8256u);
	EXPECT_EQ(s[1].name, "a:b@c+d");
	EXPECT_EQ(s[1].epoch, 5u);
	EXPECT_TRUE(parse_snap_list("").empty());
}

TEST(VolumeParse, SnapListMalformed)
{
	for (const char *bad : {"1 a 17.5 0 1\n", "x a 1700000000.000000000 0 1\n",
				"1 a 1700000000.000000000 0\n", "1 a 1700000000.000000000 -1 1\n",
				"1 a 1700000000.000000000 0 1 extra\n"})
		EXPECT_THROW(parse_snap_list(bad), Error) << bad;
}

TEST(VolumeParse, Status)
{
	auto s = parse_status("write 3 16384/81920 8192/40960 12 1 44 4 2/13/1 full 7 123456 2:running:5/10");
	EXPECT_EQ(s.mode, "write");
	EXPECT_EQ(s.snapshots, 3u);
	EXPECT_EQ(s.fast_used, 16384u);
	EXPECT_EQ(s.fast_total, 81920u);
	EXPECT_EQ(s.slow_total, 40960u);
	EXPECT_EQ(s.delta_records, 12u);
	EXPECT_EQ(s.checksum_errors, 1u);
	EXPECT_EQ(s.generation, 44u);
	EXPECT_EQ(s.epoch, 4u);
	EXPECT_EQ(s.regions[0], 2u);
	EXPECT_EQ(s.regions[1], 13u);
	EXPECT_EQ(s.regions[2], 1u);
	EXPECT_EQ(s.space, "full");
	EXPECT_EQ(s.space_events, 7u);
	EXPECT_EQ(s.delta_bytes, 123456u);
	EXPECT_TRUE(s.rollback.asked);
	EXPECT_EQ(s.rollback.id, 2u);
	EXPECT_EQ(s.rollback.state, "running");
	EXPECT_EQ(s.rollback.done, 5u);
	EXPECT_EQ(s.rollback.total, 10u);
	auto n = parse_status("read-only 0 16384/81920 0/0 0 0 1 1 0/16/0 ok 0 0 -");
	EXPECT_FALSE(n.rollback.asked);
	// Fields are only appended: later ones are ignored.
	EXPECT_NO_THROW(parse_status("write 0 1/2 0/0 0 0 1 1 0/16/0 ok 0 0 - newfield"));
}

TEST(VolumeParse, StatusMalformed)
{
	for (const char *bad : {"", "write 0 1/2 0/0 0 0 1 1 0/16/0 ok 0 0",
				"write 0 12 0/0 0 0 1 1 0/16/0 ok 0 0 -",
				"write 0 1/2 0/0 0 0 1 1 0/16 ok 0 0 -",
				"write 0 1/2 0/0 0 0 1 1 0/16/0 ok 0 0 2:running",
				"write x 1/2 0/0 0 0 1 1 0/16/0 ok 0 0 -"})
		EXPECT_THROW(parse_status(bad), Error) << bad;
}

TEST(VolumeParse, Table)
{
	auto t = parse_table({0, 131072, "dynsnap", "8:16 259:1 - 128 4 granularity bit on_full drop_oldest"});
	EXPECT_EQ(t.length, 131072u);
	EXPECT_EQ(t.origin, "8:16");
	EXPECT_EQ(t.fast, "259:1");
	EXPECT_EQ(t.slow, "-");
	EXPECT_EQ(t.block_sectors, 128u);
	EXPECT_EQ(t.feature("granularity").value(), "bit");
	EXPECT_EQ(t.feature("on_full").value(), "drop_oldest");
	EXPECT_FALSE(t.feature("region_sectors"));
	EXPECT_EQ(t.params(), "8:16 259:1 - 128 4 granularity bit on_full drop_oldest");
	EXPECT_THROW(parse_table({0, 8, "linear", "8:0 0"}), Error);
	EXPECT_THROW(parse_table({0, 8, "dynsnap", "8:16 259:1 - 128 3 granularity bit on_full"}), Error);
	EXPECT_THROW(parse_table({0, 8, "dynsnap", "8:16 259:1 -"}), Error);
}

TEST(VolumeParse, View)
{
	auto v = parse_view({0, 8, "dynsnap-view", "253:0 7"});
	ASSERT_TRUE(v);
	EXPECT_EQ(v->volume_dev, "253:0");
	EXPECT_EQ(v->snapshot_id, 7u);
	EXPECT_FALSE(parse_view({0, 8, "dynsnap", "253:0 7"}));
	EXPECT_FALSE(parse_view({0, 8, "dynsnap-view", "253:0"}));
	EXPECT_FALSE(parse_view({0, 8, "dynsnap-view", "253:0 x"}));
}

TEST(VolumeParse, DiffPages)
{
	auto p = parse_diff_page("24 24\n2560 128\nend\n");
	ASSERT_EQ(p.ranges.size(), 2u);
	EXPECT_EQ(p.ranges[0], (ByteRange{24 * 512, 24 * 512}));
	EXPECT_FALSE(p.next_sector);
	p = parse_diff_page("8 8\nnext 64\n");
	EXPECT_EQ(p.next_sector.value(), 64u);
	EXPECT_THROW(parse_diff_page("8 8\n"), Error);		// no end
	EXPECT_THROW(parse_diff_page("end\n8 8\n"), Error);	// after the end
	EXPECT_THROW(parse_diff_page("8\nend\n"), Error);
	EXPECT_THROW(parse_diff_page("next x\n"), Error);
}

TEST(VolumeParse, RegionPages)
{
	auto p = parse_region_page("0 sub bit 5 82240 1\n1 block block 0 0 0\nnext 2\n");
	ASSERT_EQ(p.regions.size(), 2u);
	EXPECT_EQ(p.regions[0].next_level, "bit");
	EXPECT_EQ(p.regions[0].delta_bytes, 82240u);
	EXPECT_EQ(p.next_region.value(), 2u);
	EXPECT_THROW(parse_region_page("0 sub bit 5 82240\nend\n"), Error);
}

TEST(Volume, PagedAnswersAreJoined)
{
	dm::testing::FakeDeviceMapper dm;
	auto &d = dm.add_volume("vol");
	Volume v(dm, "vol");
	uint64_t a = v.create_snapshot("a");
	d.writes = {{2, 0, 8}, {2, 8, 8}, {2, 100, 8}, {2, 200, 8}, {2, 300, 8}};
	dm.set_page_lines(1);
	auto r = v.changed_ranges(a, 0);
	ASSERT_EQ(r.size(), 4u);
	EXPECT_EQ(r[0], (ByteRange{0, 16 * 512}));
	EXPECT_EQ(r[3], (ByteRange{300 * 512, 8 * 512}));
	auto regions = v.region_map();
	ASSERT_EQ(regions.size(), 16u);
	EXPECT_EQ(regions[0].delta_records, 5u);
	EXPECT_EQ(regions[15].region, 15u);
}

TEST(Volume, FindByIdOrName)
{
	dm::testing::FakeDeviceMapper dm;
	dm.add_volume("vol");
	Volume v(dm, "vol");
	v.create_snapshot("first");
	v.create_snapshot("1");	// a name that looks like an id
	EXPECT_EQ(v.find("first").id, 1u);
	// "1" is id 1 and the name of id 2: the operator must say which.
	try {
		v.find("1");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
	}
	EXPECT_EQ(v.find("2").name, "1");
	v.create_snapshot("7");	// id 3: a numeric name no id has
	EXPECT_EQ(v.find("7").id, 3u);
	try {
		v.find("nope");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
		EXPECT_NE(std::string(e.what()).find("snapshotctl list vol"), std::string::npos);
	}
}

TEST(Volume, NotAVolume)
{
	dm::testing::FakeDeviceMapper dm;
	dm.add_plain("lin");
	try {
		Volume v(dm, "lin");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
	}
	try {
		Volume v(dm, "missing");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
	}
}

TEST(Volume, ViewsAreFoundByDeviceNumber)
{
	dm::testing::FakeDeviceMapper dm;
	dm.add_volume("vol");
	dm.add_volume("other");
	Volume v(dm, "vol"), o(dm, "other");
	Snapshot s = v.find(std::to_string(v.create_snapshot("s")));
	Snapshot t = o.find(std::to_string(o.create_snapshot("t")));
	v.create_view(s, "vol@s");
	o.create_view(t, "other@t");
	auto views = v.views();
	ASSERT_EQ(views.size(), 1u);
	EXPECT_EQ(views[0].name, "vol@s");
	EXPECT_EQ(views[0].path, "/dev/mapper/vol@s");
	EXPECT_TRUE(dm.device("vol@s").info.read_only);
	EXPECT_THROW(v.create_view(s, "vol@s"), Error);
}

} // namespace
} // namespace dynsnap::volume
