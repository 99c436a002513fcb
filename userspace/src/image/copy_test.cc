// SPDX-License-Identifier: GPL-2.0
#include "image/copy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "image/testing/files.h"
#include "util/error.h"

namespace dynsnap::image {
namespace {

using testing::Bytes;
using testing::TempDir;

class ImageCopySize : public ::testing::TestWithParam<size_t> {};

TEST_P(ImageCopySize, CopiesByteForByte)
{
	TempDir dir;
	const Bytes data = testing::pattern(GetParam(), GetParam());
	testing::write_file(dir.file("src"), data);
	EXPECT_EQ(copy_image(dir.file("src"), dir.file("dst")), data.size());
	EXPECT_EQ(testing::read_file(dir.file("dst")), data);
	EXPECT_EQ(dir.list().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, ImageCopySize,
			 ::testing::Values(0, 1, 4096, kChunk, kChunk + 1,
					   3 * kChunk + 517, 9 * kChunk));

TEST(ImageCopy, ZeroChunksBecomeHoles)
{
	TempDir dir;
	Bytes data(12 * kChunk, 0);
	const Bytes some = testing::pattern(kChunk, 9);
	std::copy(some.begin(), some.end(), data.begin() + 3 * kChunk);
	data[8 * kChunk + 77] = 1;
	data.back() = 2;
	testing::write_file(dir.file("src"), data);
	copy_image(dir.file("src"), dir.file("dst"));
	EXPECT_EQ(testing::read_file(dir.file("dst")), data);
	struct stat st;
	ASSERT_EQ(stat(dir.file("dst").c_str(), &st), 0);
	EXPECT_EQ(static_cast<size_t>(st.st_size), data.size());
	EXPECT_LE(static_cast<size_t>(st.st_blocks) * 512, 4 * kChunk);

	// All zero: still the whole length.
	testing::write_file(dir.file("zero"), Bytes(2 * kChunk + 512, 0));
	copy_image(dir.file("zero"), dir.file("zero-copy"));
	EXPECT_EQ(testing::read_file(dir.file("zero-copy")), Bytes(2 * kChunk + 512, 0));
}

TEST(ImageCopy, ReportsProgressUpToTheTotal)
{
	TempDir dir;
	testing::write_file(dir.file("src"), testing::pattern(5 * kChunk + 3, 10));
	std::vector<std::pair<uint64_t, uint64_t>> calls;
	CopyOptions o;
	o.progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };
	copy_image(dir.file("src"), dir.file("dst"), o);
	ASSERT_GE(calls.size(), 3u);
	EXPECT_EQ(calls.front().first, 0u);
	EXPECT_EQ(calls.back().first, 5 * kChunk + 3);
	for (size_t i = 0; i < calls.size(); i++) {
		EXPECT_EQ(calls[i].second, 5 * kChunk + 3);
		if (i) {
			EXPECT_LE(calls[i - 1].first, calls[i].first);
		}
	}
}

TEST(ImageCopy, CopiesAPrefix)
{
	TempDir dir;
	const Bytes data = testing::pattern(kChunk + 100, 11);
	testing::write_file(dir.file("src"), data);
	CopyOptions o;
	o.bytes = kChunk + 1;
	EXPECT_EQ(copy_image(dir.file("src"), dir.file("dst"), o), kChunk + 1);
	EXPECT_EQ(testing::read_file(dir.file("dst")), Bytes(data.begin(), data.begin() + kChunk + 1));

	o.bytes = data.size() + 1;
	EXPECT_THROW(copy_image(dir.file("src"), dir.file("dst2"), o), Error);
	EXPECT_FALSE(std::filesystem::exists(dir.file("dst2")));
}

TEST(ImageCopy, AnExistingImageIsKeptUnlessOverwriteIsSet)
{
	TempDir dir;
	const Bytes data = testing::pattern(3000, 12);
	testing::write_file(dir.file("src"), data);
	testing::write_file(dir.file("dst"), {9, 9, 9});
	try {
		copy_image(dir.file("src"), dir.file("dst"));
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kUsage);
	}
	EXPECT_EQ(testing::read_file(dir.file("dst")), (Bytes{9, 9, 9}));

	CopyOptions o;
	o.overwrite = true;
	copy_image(dir.file("src"), dir.file("dst"), o);
	EXPECT_EQ(testing::read_file(dir.file("dst")), data);

	// An empty file may be written without asking.
	testing::write_file(dir.file("empty"), {});
	copy_image(dir.file("src"), dir.file("empty"));
	EXPECT_EQ(testing::read_file(dir.file("empty")), data);
}

TEST(ImageCopy, FailuresLeaveNothingBehind)
{
	TempDir dir;
	try {
		copy_image(dir.file("missing"), dir.file("dst"));
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Exit::kNotFound);
	}
	testing::write_file(dir.file("src"), testing::pattern(100, 13));
	EXPECT_THROW(copy_image(dir.file("src"), dir.file("nodir/dst")), Error);
	EXPECT_EQ(dir.list(), std::vector<std::string>{"src"});
}

} // namespace
} // namespace dynsnap::image
