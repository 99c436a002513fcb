// SPDX-License-Identifier: GPL-2.0
// Scratch files for the image tests: a directory under /tmp removed with
// everything in it, and whole-file reads and writes.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace dynsnap::image::testing {

using Bytes = std::vector<uint8_t>;

class TempDir {
public:
	explicit TempDir(const std::string &parent = "/tmp")
	{
		std::string tmpl = parent + "/dynsnap-image-XXXXXX";
		EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
		path_ = tmpl;
	}
	~TempDir() { std::filesystem::remove_all(path_); }
	const std::string &path() const { return path_; }
	std::string file(const std::string &name) const { return path_ + "/" + name; }
	// Names of what the directory holds.
	std::vector<std::string> list() const
	{
		std::vector<std::string> names;
		for (const auto &e : std::filesystem::directory_iterator(path_))
			names.push_back(e.path().filename());
		return names;
	}

private:
	std::string path_;
};

inline Bytes read_file(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::string &path, const Bytes &bytes)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
	ASSERT_TRUE(f.good()) << path;
}

// @n bytes that look random, the same for the same @seed.
inline Bytes pattern(size_t n, uint64_t seed)
{
	Bytes b(n);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = x >> 24;
	}
	return b;
}

} // namespace dynsnap::image::testing
