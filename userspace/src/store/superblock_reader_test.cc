// SPDX-License-Identifier: GPL-2.0
#include "store/superblock_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace dynsnap::store {
namespace {

std::vector<uint8_t> golden()
{
	std::ifstream f(DYNSNAP_TEST_DATA_DIR "/superblock-v2.bin", std::ios::binary);
	return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class TempImage {
public:
	explicit TempImage(const std::vector<uint8_t> &bytes)
	{
		char tmpl[] = "/tmp/dynsnap-sb-XXXXXX";
		int fd = mkstemp(tmpl);
		EXPECT_GE(fd, 0);
		path_ = tmpl;
		EXPECT_EQ(write(fd, bytes.data(), bytes.size()),
			  static_cast<ssize_t>(bytes.size()));
		close(fd);
	}
	~TempImage() { std::remove(path_.c_str()); }
	const std::string &path() const { return path_; }

private:
	std::string path_;
};

TEST(SuperblockReader, ReadsAValidImage)
{
	TempImage img(golden());
	auto r = read_superblock(img.path());
	ASSERT_EQ(r.state, SuperblockState::kValid) << r.error;
	EXPECT_EQ(r.superblock->volume_sectors, 2097152u);
	nlohmann::json j = to_json(*r.superblock);
	EXPECT_EQ(j["uuid"], "10325476-98ba-dcfe-0123-456789abcdef");
	EXPECT_EQ(j["tier"], "fast");
	EXPECT_EQ(j["block_sectors"], 128);
	EXPECT_EQ(j["generation"], 1);
}

TEST(SuperblockReader, ZeroedMeansNoStore)
{
	TempImage img(std::vector<uint8_t>(8192, 0));
	auto r = read_superblock(img.path());
	EXPECT_EQ(r.state, SuperblockState::kZeroed);
	auto e = superblock_error(img.path(), r);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->code(), Exit::kNotFound);
	EXPECT_EQ(std::string(e->what()), img.path() + " holds no dynsnap store (zeroed)");
}

TEST(SuperblockReader, DamageIsNamed)
{
	auto bytes = golden();
	bytes[100] ^= 0x40;
	TempImage img(bytes);
	auto r = read_superblock(img.path());
	EXPECT_EQ(r.state, SuperblockState::kInvalid);
	EXPECT_EQ(r.error, "superblock checksum mismatch");
	auto e = superblock_error("/dev/fast", r);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->code(), Exit::kDamaged);
	EXPECT_STREQ(e->what(), "/dev/fast: superblock checksum mismatch");
}

TEST(SuperblockReader, ShortFileIsInvalid)
{
	auto bytes = golden();
	bytes.resize(1000);
	TempImage img(bytes);
	auto r = read_superblock(img.path());
	EXPECT_EQ(r.state, SuperblockState::kInvalid);
	EXPECT_EQ(r.error, "shorter than a superblock (1000 of 4096 bytes)");
	auto e = superblock_error(img.path(), r);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->code(), Exit::kDamaged);
	EXPECT_EQ(std::string(e->what()), img.path() + ": " + r.error);
}

TEST(SuperblockReader, MissingFileIsUnreadable)
{
	auto r = read_superblock("/nonexistent/dynsnap");
	EXPECT_EQ(r.state, SuperblockState::kUnreadable);
	EXPECT_EQ(r.sys_errno, ENOENT);
	EXPECT_EQ(r.error, "cannot open: No such file or directory");
	auto e = superblock_error("/nonexistent/dynsnap", r);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->code(), Exit::kNotFound);
	EXPECT_STREQ(e->what(), "/nonexistent/dynsnap: cannot open: No such file or directory");
}

TEST(SuperblockReader, DirectoryCannotBeRead)
{
	char tmpl[] = "/tmp/dynsnap-sb-dir-XXXXXX";
	ASSERT_NE(mkdtemp(tmpl), nullptr);
	auto r = read_superblock(tmpl);
	rmdir(tmpl);
	EXPECT_EQ(r.state, SuperblockState::kUnreadable);
	EXPECT_EQ(r.sys_errno, EISDIR);
	auto e = superblock_error(tmpl, r);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->code(), Exit::kFailed);
	EXPECT_EQ(std::string(e->what()), std::string(tmpl) + ": cannot read: Is a directory");
}

TEST(SuperblockReader, NoPermissionFailsWithAHint)
{
	SuperblockReadResult r;
	r.sys_errno = EACCES;
	r.error = "cannot open: Permission denied";
	auto e = superblock_error("/dev/sdx", r);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->code(), Exit::kFailed);
	EXPECT_STREQ(e->what(), "/dev/sdx: cannot open: Permission denied: run as root, "
				"or check its permissions");
}

TEST(SuperblockReader, ValidIsNoError)
{
	TempImage img(golden());
	EXPECT_FALSE(superblock_error(img.path(), read_superblock(img.path())));
}

} // namespace
} // namespace dynsnap::store
