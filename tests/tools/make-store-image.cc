// SPDX-License-Identifier: GPL-2.0
// make-store-image FILE: write a small fast-tier image with known delta
// records (for the test of `dsn-oracle records`), and print the record
// lines that `dsn-oracle records FILE` must print, in order.
//
// Delta area: segment 5 of this store (records 100-102, in two batches),
// a segment of another store, and segment 6 of this store (records 103-104
// followed by a stale record out of sequence, which is not part of the log).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "dynsnap_log.h"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kVolume = 131072;		// 64 MiB
constexpr uint64_t kFast = 65536;		// 32 MiB
constexpr uint64_t kSegment = uint64_t(DYNSNAP_SEG_SECTORS) * DYNSNAP_SECTOR_SIZE;
const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {0xd5, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7,
					  0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf};
const uint8_t kOtherUuid[DYNSNAP_UUID_SIZE] = {0xee, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7,
					       0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf};

struct Segment {
	uint64_t offset;	// bytes from the start of the device
	uint64_t seq;
	Bytes log;		// what follows the header block
};

void append(Segment &s, const uint8_t *uuid, uint32_t level, uint64_t seq, uint64_t epoch,
	    uint64_t location, uint32_t length, bool expected, std::string &out)
{
	dynsnap_record_header h;
	dynsnap_record_init(&h, dynsnap_level(level), seq, epoch, location, length);
	h.stored_length = length;
	size_t at = s.log.size();
	s.log.resize(at + DYNSNAP_REC_HEADER_SIZE + length);
	for (uint32_t i = 0; i < length; i++)
		s.log[at + DYNSNAP_REC_HEADER_SIZE + i] = uint8_t(seq * 7 + i);
	dynsnap_record_encode(&h, &s.log[at], &s.log[at + DYNSNAP_REC_HEADER_SIZE],
			      dynsnap_record_seed(uuid, DYNSNAP_TIER_FAST));
	if (!expected)
		return;
	static const char *const names[] = {"block", "sub", "bit"};
	char line[256];
	snprintf(line, sizeof(line),
		 "record offset=%llu seq=%llu epoch=%llu level=%s location=%llu length=%u "
		 "stored=%u codec=0 segment=%llu valid=yes\n",
		 (unsigned long long)(s.offset + DYNSNAP_SEG_HEADER_SIZE + at),
		 (unsigned long long)seq, (unsigned long long)epoch, names[level],
		 (unsigned long long)location, length, length, (unsigned long long)s.seq);
	out += line;
}

void pad(Segment &s)
{
	s.log.resize(dynsnap_log_padded(s.log.size()), 0);
}

void put(Bytes &image, const Segment &s, const uint8_t *uuid, uint64_t first_record)
{
	dynsnap_segment_header h{};
	h.tier = DYNSNAP_TIER_FAST;
	h.segment_seq = s.seq;
	h.first_record_seq = first_record;
	h.next_segment = (s.offset + kSegment) / DYNSNAP_SECTOR_SIZE;
	memcpy(h.uuid, uuid, DYNSNAP_UUID_SIZE);
	dynsnap_segment_encode(&h, &image[s.offset]);
	std::copy(s.log.begin(), s.log.end(), image.begin() + long(s.offset + DYNSNAP_SEG_HEADER_SIZE));
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::cerr << "usage: make-store-image FILE\n";
		return 2;
	}
	dynsnap_geometry g{128, 0, 0};
	dynsnap_geometry_defaults(&g);
	dynsnap_layout l;
	if (dynsnap_layout_compute(&g, kVolume, kFast, 0, &l) != DSN_OK) {
		std::cerr << "make-store-image: layout failed\n";
		return 1;
	}
	dynsnap_superblock sb;
	dynsnap_sb_init(&sb, DYNSNAP_TIER_FAST, kUuid, kVolume, &g, &l, 1700000000);
	Bytes image(kFast * DYNSNAP_SECTOR_SIZE, 0);
	dynsnap_sb_encode(&sb, image.data());

	uint64_t data = l.fast_data_start * DYNSNAP_SECTOR_SIZE;
	if (data + 3 * kSegment > image.size()) {
		std::cerr << "make-store-image: delta area too small\n";
		return 1;
	}
	std::string expected;
	Segment a{data, 5, {}}, other{data + kSegment, 9, {}}, c{data + 2 * kSegment, 6, {}};
	append(a, kUuid, DYNSNAP_LEVEL_SUB, 100, 2, 8, 4096, true, expected);
	append(a, kUuid, DYNSNAP_LEVEL_BLOCK, 101, 2, 128, 65536, true, expected);
	pad(a);
	append(a, kUuid, DYNSNAP_LEVEL_SUB, 102, 3, 1024, 8192, true, expected);
	pad(a);
	append(other, kOtherUuid, DYNSNAP_LEVEL_SUB, 103, 3, 2048, 4096, false, expected);
	pad(other);
	append(c, kUuid, DYNSNAP_LEVEL_BLOCK, 103, 3, 256, 65536, true, expected);
	append(c, kUuid, DYNSNAP_LEVEL_SUB, 104, 4, 4096, 512, true, expected);
	append(c, kUuid, DYNSNAP_LEVEL_SUB, 90, 1, 4096, 512, false, expected);
	put(image, a, kUuid, 100);
	put(image, other, kOtherUuid, 103);
	put(image, c, kUuid, 103);

	std::ofstream f(argv[1], std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(image.data()), long(image.size()));
	f.close();
	if (!f) {
		std::cerr << "make-store-image: cannot write " << argv[1] << "\n";
		return 1;
	}
	std::cout << expected;
	return 0;
}
