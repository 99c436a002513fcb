// SPDX-License-Identifier: GPL-2.0
// Export streams: golden bytes, round trips, field positions, and every way
// a damaged, truncated, spliced or implausible stream is refused, each with
// its own error even when its checksums are made to match.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "param_name.h"
#include "dynsnap_stream.h"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr size_t kHdr = DYNSNAP_STREAM_HEADER_SIZE;
constexpr size_t kItem = DYNSNAP_STREAM_ITEM_SIZE;

const uint8_t kUuid[DYNSNAP_UUID_SIZE] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
					  0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
					  0x1c, 0x1d, 0x1e, 0x1f};

dynsnap_ctl_snap_create snap(uint64_t id, uint64_t epoch, const std::string &name)
{
	dynsnap_ctl_snap_create s{};
	s.id = id;
	s.epoch = epoch;
	s.ctime_ns = 1717200000000000000ull + id;
	s.name_len = name.size();
	memcpy(s.name, name.data(), name.size());
	return s;
}

// A 1 MiB volume of 4 KiB blocks, from snapshot 3 "base" to 5
// "daily@2024-06-01".
dynsnap_stream_header header(uint64_t volume = 1 << 20)
{
	dynsnap_ctl_snap_create from = snap(3, 7, "base");
	dynsnap_ctl_snap_create to = snap(5, 9, "daily@2024-06-01");
	dynsnap_stream_header h;
	dynsnap_stream_header_init(&h, kUuid, volume, 4096, &from, &to,
				   1717300000000000000ull);
	return h;
}

struct Extent {
	uint64_t offset;
	std::string data;
};

// The default extents: a short one, and one ending at the volume's end.
const std::vector<Extent> kExtents = {{4096, "hello"}, {(1 << 20) - 6, "world!"}};

Bytes encode(const dynsnap_stream_header &h, const std::vector<Extent> &extents)
{
	Bytes b(kHdr);
	dynsnap_stream_header_encode(&h, b.data());
	dynsnap_stream_cursor c;
	dynsnap_stream_cursor_init(&c, b.data());
	for (const Extent &e : extents) {
		uint8_t item[kItem];
		const auto *data = reinterpret_cast<const uint8_t *>(e.data.data());
		EXPECT_EQ(dynsnap_stream_extent_encode(&c, e.offset, e.data.size(),
						       dynsnap_stream_data_crc(data, e.data.size()),
						       item), DSN_OK);
		b.insert(b.end(), item, item + kItem);
		b.insert(b.end(), data, data + e.data.size());
	}
	uint8_t item[kItem];
	dynsnap_stream_trailer_encode(&c, item);
	b.insert(b.end(), item, item + kItem);
	return b;
}

Bytes encode(const std::vector<Extent> &extents = kExtents)
{
	return encode(header(), extents);
}

dynsnap_err decode(const Bytes &b, dynsnap_stream_header *h = nullptr,
		   dynsnap_stream_cursor *c = nullptr)
{
	dynsnap_stream_header th;
	dynsnap_stream_cursor tc;
	return dynsnap_stream_decode(b.data(), b.size(), h ? h : &th, c ? c : &tc);
}

std::string hex(const uint8_t *p, size_t n)
{
	std::string s;
	char two[3];
	for (size_t i = 0; i < n; i++) {
		std::snprintf(two, sizeof(two), "%02x", p[i]);
		s += two;
	}
	return s;
}

// Offsets of the items of a stream that decodes: extent headers, then the
// trailer.
std::vector<size_t> item_offsets(const Bytes &b)
{
	std::vector<size_t> items;
	size_t pos = kHdr;
	while (pos + kItem <= b.size()) {
		items.push_back(pos);
		if (dsn_get_le32(&b[pos + 4]) != DYNSNAP_STREAM_EXT_MAGIC)
			break;
		pos += kItem + dsn_get_le32(&b[pos + 24]);
	}
	return items;
}

// Make every checksum match the bytes again, in stream order: the header,
// each extent's tag, data crc and header crc, the trailer's tag, running
// crc and crc, so an edit reaches the checks behind them.
void reseal(Bytes &b)
{
	dsn_put_le32(&b[8], dsn_crc32c(~0U, &b[12], kHdr - 12) ^ DYNSNAP_STREAM_CSUM_XOR);
	uint32_t tag = dsn_get_le32(&b[8]);
	uint32_t running = dsn_crc32c(~0U, b.data(), kHdr);
	for (size_t pos : item_offsets(b)) {
		uint8_t *p = &b[pos];
		if (dsn_get_le32(p + 4) == DYNSNAP_STREAM_EXT_MAGIC) {
			uint32_t len = dsn_get_le32(p + 24);
			dsn_put_le32(p + 32, tag);
			if (pos + kItem + len <= b.size())
				dsn_put_le32(p + 28, dsn_crc32c(~0U, p + kItem, len));
			dsn_put_le32(p, dsn_crc32c(~0U, p + 4, kItem - 4) ^
					DYNSNAP_STREAM_EXT_CSUM_XOR);
			running = dsn_crc32c(running, p, kItem);
		} else {
			dsn_put_le32(p + 24, running);
			dsn_put_le32(p + 28, tag);
			dsn_put_le32(p, dsn_crc32c(~0U, p + 4, kItem - 4) ^
					DYNSNAP_STREAM_END_CSUM_XOR);
		}
	}
}

// @n bytes ending right before an inaccessible page: a decoder that reads
// past its length faults, sanitizer or not.
class Fenced {
public:
	explicit Fenced(const uint8_t *data, size_t n)
	{
		size_t page = sysconf(_SC_PAGESIZE);
		len_ = (n / page + 2) * page;
		map_ = static_cast<uint8_t *>(mmap(nullptr, len_, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
		EXPECT_NE(map_, MAP_FAILED);
		EXPECT_EQ(mprotect(map_ + len_ - page, page, PROT_NONE), 0);
		data_ = map_ + len_ - page - n;
		memcpy(data_, data, n);
	}
	~Fenced() { munmap(map_, len_); }
	const uint8_t *data() const { return data_; }

private:
	size_t len_;
	uint8_t *map_, *data_;
};

TEST(Stream, SizesAndLimits)
{
	EXPECT_EQ(kHdr, 256u);
	EXPECT_EQ(kItem, 40u);
	EXPECT_EQ(DYNSNAP_STREAM_MAX_EXTENT, 4u << 20);
	EXPECT_EQ(dynsnap_stream_size(0, 0), 296u);
	EXPECT_EQ(dynsnap_stream_size(2, 11), 256u + 80 + 11 + 40);
	EXPECT_EQ(encode().size(), dynsnap_stream_size(2, 11));
}

// The whole stream of the default header and extents, byte for byte: any
// change to the format shows here first.
const char kGolden[] =
	// header: magic, checksum, version, flags, block size
	"44534e5354524d31" "ea72d244" "01000000" "00000000" "00100000"
	// volume bytes, UUID
	"0000100000000000" "101112131415161718191a1b1c1d1e1f"
	// from: id, epoch, ctime; to: id, epoch, ctime
	"0300000000000000" "0700000000000000" "03004d484db8d417"
	"0500000000000000" "0900000000000000" "05004d484db8d417"
	// created, name lengths, reserved
	"0040c7584013d517" "04" "10" "0000" "00000000"
	// from name, to name (64 bytes each), reserved (16)
	"6261736500000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"6461696c7940323032342d30362d303100000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"00000000000000000000000000000000"
	// extent 0: checksum, magic, index, offset, length, data crc, tag, reserved; data
	"32e417af" "444e5345" "0000000000000000" "0010000000000000" "05000000" "b3448e65" "ea72d244" "00000000"
	"68656c6c6f"
	// extent 1: checksum, magic, index, offset, length, data crc, tag, reserved; data
	"dc403890" "444e5345" "0100000000000000" "faff0f0000000000" "06000000" "69a96692" "ea72d244" "00000000"
	"776f726c6421"
	// trailer: checksum, magic, extents, data bytes, running crc, tag, reserved
	"ee3d983a" "444e5354" "0200000000000000" "0b00000000000000" "cabd16c5" "ea72d244" "0000000000000000";

TEST(Stream, GoldenBytes)
{
	const Bytes b = encode();
	EXPECT_EQ(hex(b.data(), b.size()), kGolden);
}

TEST(Stream, FieldsSitWhereTheFormatSays)
{
	const Bytes b = encode();
	EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "DSNSTRM1");
	EXPECT_EQ(dsn_get_le32(&b[8]),
		  dsn_crc32c(~0U, &b[12], 244) ^ DYNSNAP_STREAM_CSUM_XOR);
	EXPECT_EQ(dsn_get_le32(&b[12]), 1u);
	EXPECT_EQ(dsn_get_le32(&b[16]), 0u);
	EXPECT_EQ(dsn_get_le32(&b[20]), 4096u);
	EXPECT_EQ(dsn_get_le64(&b[24]), 1u << 20);
	EXPECT_EQ(memcmp(&b[32], kUuid, 16), 0);
	EXPECT_EQ(dsn_get_le64(&b[48]), 3u);
	EXPECT_EQ(dsn_get_le64(&b[56]), 7u);
	EXPECT_EQ(dsn_get_le64(&b[64]), 1717200000000000003ull);
	EXPECT_EQ(dsn_get_le64(&b[72]), 5u);
	EXPECT_EQ(dsn_get_le64(&b[80]), 9u);
	EXPECT_EQ(dsn_get_le64(&b[88]), 1717200000000000005ull);
	EXPECT_EQ(dsn_get_le64(&b[96]), 1717300000000000000ull);
	EXPECT_EQ(b[104], 4u);
	EXPECT_EQ(b[105], 16u);
	EXPECT_EQ(std::string(b.begin() + 112, b.begin() + 116), "base");
	EXPECT_EQ(std::string(b.begin() + 176, b.begin() + 192), "daily@2024-06-01");
	uint32_t tag = dsn_get_le32(&b[8]);

	// The first extent header, then its five bytes of data.
	const uint8_t *e = &b[kHdr];
	EXPECT_EQ(dsn_get_le32(e), dsn_crc32c(~0U, e + 4, 36) ^ DYNSNAP_STREAM_EXT_CSUM_XOR);
	EXPECT_EQ(std::string(e + 4, e + 8), "DNSE");
	EXPECT_EQ(dsn_get_le64(e + 8), 0u);
	EXPECT_EQ(dsn_get_le64(e + 16), 4096u);
	EXPECT_EQ(dsn_get_le32(e + 24), 5u);
	EXPECT_EQ(dsn_get_le32(e + 28), dsn_crc32c(~0U, "hello", 5));
	EXPECT_EQ(dsn_get_le32(e + 32), tag);
	EXPECT_EQ(dsn_get_le32(e + 36), 0u);
	EXPECT_EQ(std::string(e + 40, e + 45), "hello");
	const uint8_t *e1 = e + 45;
	EXPECT_EQ(dsn_get_le64(e1 + 8), 1u);
	EXPECT_EQ(dsn_get_le64(e1 + 16), (1u << 20) - 6);

	// The trailer.
	const uint8_t *t = &b[b.size() - kItem];
	EXPECT_EQ(dsn_get_le32(t), dsn_crc32c(~0U, t + 4, 36) ^ DYNSNAP_STREAM_END_CSUM_XOR);
	EXPECT_EQ(std::string(t + 4, t + 8), "DNST");
	EXPECT_EQ(dsn_get_le64(t + 8), 2u);
	EXPECT_EQ(dsn_get_le64(t + 16), 11u);
	uint32_t running = dsn_crc32c(~0U, b.data(), kHdr);
	running = dsn_crc32c(running, e, kItem);
	running = dsn_crc32c(running, e1, kItem);
	EXPECT_EQ(dsn_get_le32(t + 24), running);
	EXPECT_EQ(dsn_get_le32(t + 28), tag);
	EXPECT_EQ(dsn_get_le64(t + 32), 0u);
}

TEST(Stream, RoundTrip)
{
	const dynsnap_stream_header in = header();
	const Bytes b = encode();
	dynsnap_stream_header out;
	dynsnap_stream_cursor c;
	memset(&out, 0x55, sizeof(out));
	ASSERT_EQ(decode(b, &out, &c), DSN_OK);
	EXPECT_EQ(out.version, 1u);
	EXPECT_EQ(out.flags, 0u);
	EXPECT_EQ(out.block_size, 4096u);
	EXPECT_EQ(out.volume_bytes, 1u << 20);
	EXPECT_EQ(memcmp(out.uuid, kUuid, 16), 0);
	EXPECT_EQ(out.from.id, 3u);
	EXPECT_EQ(out.from.epoch, 7u);
	EXPECT_EQ(out.from.ctime_ns, in.from.ctime_ns);
	EXPECT_STREQ(out.from.name, "base");
	EXPECT_EQ(out.from.name_len, 4u);
	EXPECT_EQ(out.to.id, 5u);
	EXPECT_EQ(out.to.epoch, 9u);
	EXPECT_EQ(out.to.ctime_ns, in.to.ctime_ns);
	EXPECT_STREQ(out.to.name, "daily@2024-06-01");
	EXPECT_EQ(out.created_ns, 1717300000000000000ull);
	EXPECT_EQ(c.extents, 2u);
	EXPECT_EQ(c.data_bytes, 11u);
	EXPECT_EQ(c.next_offset, 1u << 20);

	// Encoding what was decoded gives the same bytes.
	EXPECT_EQ(encode(out, kExtents), b);
}

TEST(Stream, ReadStepByStep)
{
	const Bytes b = encode();
	dynsnap_stream_header h;
	ASSERT_EQ(dynsnap_stream_header_decode(b.data(), kHdr, &h), DSN_OK);
	dynsnap_stream_cursor c;
	dynsnap_stream_cursor_init(&c, b.data());
	size_t pos = kHdr;
	std::vector<dynsnap_stream_extent> seen;
	while (!dynsnap_stream_is_trailer(&b[pos], kItem)) {
		dynsnap_stream_extent e;
		ASSERT_EQ(dynsnap_stream_extent_decode(&c, &b[pos], kItem, &e), DSN_OK);
		ASSERT_EQ(dynsnap_stream_data_verify(&e, &b[pos + kItem]), DSN_OK);
		seen.push_back(e);
		pos += kItem + e.length;
	}
	EXPECT_EQ(dynsnap_stream_trailer_decode(&c, &b[pos], kItem), DSN_OK);
	ASSERT_EQ(seen.size(), 2u);
	EXPECT_EQ(seen[0].index, 0u);
	EXPECT_EQ(seen[0].offset, 4096u);
	EXPECT_EQ(seen[0].length, 5u);
	EXPECT_EQ(seen[1].index, 1u);
	EXPECT_EQ(seen[1].offset, (1u << 20) - 6);
	EXPECT_EQ(seen[1].length, 6u);
	EXPECT_FALSE(dynsnap_stream_is_trailer(&b[kHdr], kItem));
	EXPECT_FALSE(dynsnap_stream_is_trailer(&b[pos], kItem - 1));
	EXPECT_FALSE(dynsnap_stream_is_trailer(nullptr, kItem));
}

TEST(Stream, NoChangesIsAValidStream)
{
	const Bytes b = encode({});
	ASSERT_EQ(b.size(), 296u);
	dynsnap_stream_cursor c;
	ASSERT_EQ(decode(b, nullptr, &c), DSN_OK);
	EXPECT_EQ(c.extents, 0u);
	EXPECT_EQ(c.data_bytes, 0u);
}

TEST(Stream, AdjacentAndLongestExtents)
{
	const std::string full(DYNSNAP_STREAM_MAX_EXTENT, 'x');
	const Bytes b = encode(header(8 << 20), {{0, full}, {DYNSNAP_STREAM_MAX_EXTENT, "y"},
						 {DYNSNAP_STREAM_MAX_EXTENT + 1, "z"},
						 {(8 << 20) - 1, "!"}});
	dynsnap_stream_cursor c;
	ASSERT_EQ(decode(b, nullptr, &c), DSN_OK);
	EXPECT_EQ(c.extents, 4u);
	EXPECT_EQ(c.data_bytes, DYNSNAP_STREAM_MAX_EXTENT + 3);
	EXPECT_EQ(c.next_offset, 8u << 20);
}

TEST(Stream, EncoderRefusesWhatTheDecoderWould)
{
	Bytes hdr(kHdr);
	const dynsnap_stream_header h = header();
	dynsnap_stream_header_encode(&h, hdr.data());
	dynsnap_stream_cursor c;
	dynsnap_stream_cursor_init(&c, hdr.data());
	uint8_t item[kItem];
	memset(item, 0xee, sizeof(item));

	EXPECT_EQ(dynsnap_stream_extent_encode(&c, 0, 0, 0, item), DSN_ERR_STREAM_RANGE);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, 0, DYNSNAP_STREAM_MAX_EXTENT + 1, 0, item),
		  DSN_ERR_STREAM_RANGE);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, 1 << 20, 1, 0, item), DSN_ERR_STREAM_RANGE);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, (1 << 20) - 1, 2, 0, item),
		  DSN_ERR_STREAM_RANGE);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, ~0ull, 2, 0, item), DSN_ERR_STREAM_RANGE);
	EXPECT_EQ(item[0], 0xee);
	EXPECT_EQ(c.extents, 0u);

	ASSERT_EQ(dynsnap_stream_extent_encode(&c, 100, 10, 0, item), DSN_OK);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, 109, 1, 0, item), DSN_ERR_STREAM_ORDER);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, 50, 1, 0, item), DSN_ERR_STREAM_ORDER);
	EXPECT_EQ(c.extents, 1u);
	EXPECT_EQ(c.next_offset, 110u);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, 110, 1, 0, item), DSN_OK);
	EXPECT_EQ(dynsnap_stream_extent_encode(&c, (1 << 20) - 1, 1, 0, item), DSN_OK);
	EXPECT_EQ(c.extents, 3u);
	EXPECT_EQ(c.data_bytes, 12u);
}

TEST(Stream, EveryFlippedBitIsCaught)
{
	const Bytes good = encode();
	for (size_t byte = 0; byte < good.size(); byte++) {
		for (int bit = 0; bit < 8; bit += 3) {
			Bytes b = good;
			b[byte] ^= 1 << bit;
			EXPECT_NE(decode(b), DSN_OK) << byte << "." << bit;
		}
	}
}

TEST(Stream, TruncatedStreamsAreRefused)
{
	const Bytes good = encode();
	for (size_t n = 0; n < good.size(); n++) {
		Fenced f(good.data(), n);
		dynsnap_stream_header h;
		dynsnap_stream_cursor c;
		EXPECT_EQ(dynsnap_stream_decode(f.data(), n, &h, &c), DSN_ERR_STREAM_SHORT) << n;
	}
	Fenced f(good.data(), good.size());
	dynsnap_stream_header h;
	dynsnap_stream_cursor c;
	EXPECT_EQ(dynsnap_stream_decode(f.data(), good.size(), &h, &c), DSN_OK);
	EXPECT_EQ(dynsnap_stream_decode(nullptr, 0, &h, &c), DSN_ERR_STREAM_SHORT);
	EXPECT_EQ(dynsnap_stream_header_decode(good.data(), kHdr - 1, &h), DSN_ERR_STREAM_SHORT);
	dynsnap_stream_cursor_init(&c, good.data());
	dynsnap_stream_extent e;
	EXPECT_EQ(dynsnap_stream_extent_decode(&c, &good[kHdr], kItem - 1, &e),
		  DSN_ERR_STREAM_SHORT);
	EXPECT_EQ(dynsnap_stream_trailer_decode(&c, &good[good.size() - kItem], kItem - 1),
		  DSN_ERR_STREAM_SHORT);
}

TEST(Stream, BytesAfterTheTrailerAreRefused)
{
	Bytes b = encode();
	b.push_back(0);
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_TRAILING);
	Bytes twice = encode();
	Bytes again = encode();
	twice.insert(twice.end(), again.begin(), again.end());
	EXPECT_EQ(decode(twice), DSN_ERR_STREAM_TRAILING);
}

TEST(Stream, ChecksumsAreChecked)
{
	const Bytes good = encode();
	Bytes b = good;
	b[100] ^= 1;
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_CSUM);
	b = good;
	b[kHdr + 20] ^= 1;	// extent 0 offset
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_EXTENT_CSUM);
	b = good;
	b[kHdr + kItem + 2] ^= 1;	// extent 0 data
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_DATA_CSUM);
	b = good;
	b[b.size() - 30] ^= 1;	// trailer count
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_TRAILER_CSUM);
}

TEST(Stream, MissingRepeatedOrMovedExtentsAreRefused)
{
	const Bytes good = encode({{0, "aa"}, {10, "bb"}, {20, "cc"}});
	const size_t e0 = kHdr, e1 = e0 + kItem + 2, e2 = e1 + kItem + 2;
	const size_t end = e2 + kItem + 2;
	auto item = [&](size_t at) { return Bytes(good.begin() + at, good.begin() + at + kItem + 2); };
	auto join = [&](std::vector<Bytes> parts) {
		Bytes b(good.begin(), good.begin() + kHdr);
		for (auto &p : parts)
			b.insert(b.end(), p.begin(), p.end());
		b.insert(b.end(), good.begin() + end, good.end());
		return b;
	};
	ASSERT_EQ(decode(join({item(e0), item(e1), item(e2)})), DSN_OK);
	EXPECT_EQ(decode(join({item(e0), item(e2)})), DSN_ERR_STREAM_ORDER);
	EXPECT_EQ(decode(join({item(e0), item(e1)})), DSN_ERR_STREAM_TRAILER);
	EXPECT_EQ(decode(join({item(e1), item(e2)})), DSN_ERR_STREAM_ORDER);
	EXPECT_EQ(decode(join({item(e0), item(e1), item(e1), item(e2)})), DSN_ERR_STREAM_ORDER);
	EXPECT_EQ(decode(join({item(e1), item(e0), item(e2)})), DSN_ERR_STREAM_ORDER);
	EXPECT_EQ(decode(join({item(e0), item(e1), item(e2), item(e2)})), DSN_ERR_STREAM_ORDER);
}

TEST(Stream, ExtentsOfAnotherStreamAreRefused)
{
	// Another stream of the same volume: its extents carry another tag.
	dynsnap_stream_header other = header();
	other.created_ns++;
	const Bytes a = encode();
	const Bytes b = encode(other, kExtents);
	Bytes spliced = a;
	std::copy(b.begin() + kHdr, b.begin() + kHdr + kItem, spliced.begin() + kHdr);
	EXPECT_EQ(decode(spliced), DSN_ERR_STREAM_OTHER);
	spliced = a;
	std::copy(b.end() - kItem, b.end(), spliced.end() - kItem);
	EXPECT_EQ(decode(spliced), DSN_ERR_STREAM_OTHER);

	// One with the very same header but other data: the running checksum
	// tells them apart.
	const Bytes c = encode(header(), {{4096, "HELLO"}, {(1 << 20) - 6, "world!"}});
	spliced = a;
	std::copy(c.begin() + kHdr, c.begin() + kHdr + kItem + 5, spliced.begin() + kHdr);
	EXPECT_EQ(decode(spliced), DSN_ERR_STREAM_TRAILER);
}

TEST(Stream, TargetMustHaveTheVolumeLength)
{
	const dynsnap_stream_header h = header();
	EXPECT_EQ(dynsnap_stream_check_target(&h, 1 << 20), DSN_OK);
	EXPECT_EQ(dynsnap_stream_check_target(&h, (1 << 20) - 512), DSN_ERR_STREAM_TARGET);
	EXPECT_EQ(dynsnap_stream_check_target(&h, (1 << 20) + 4096), DSN_ERR_STREAM_TARGET);
	EXPECT_EQ(dynsnap_stream_check_target(&h, 0), DSN_ERR_STREAM_TARGET);
}

TEST(Stream, EveryStreamErrorHasItsOwnMessage)
{
	std::vector<std::string> seen;
	for (int e = DSN_ERR_STREAM_SHORT; e <= DSN_ERR_STREAM_TARGET; e++) {
		std::string m = dynsnap_strerror(static_cast<dynsnap_err>(e));
		EXPECT_NE(m, "unknown error") << e;
		EXPECT_EQ(std::count(seen.begin(), seen.end(), m), 0) << m;
		seen.push_back(m);
	}
}

struct Edit {
	const char *what;
	void (*apply)(Bytes &b);
	dynsnap_err want;
};

void PrintTo(const Edit &e, std::ostream *os)
{
	*os << e.what;
}

class StreamEdit : public ::testing::TestWithParam<Edit> {};

TEST_P(StreamEdit, IsRefusedEvenWithValidChecksums)
{
	Bytes b = encode();
	GetParam().apply(b);
	reseal(b);
	EXPECT_EQ(decode(b), GetParam().want);
}

// Offsets of the default stream's items.
constexpr size_t kE0 = kHdr;
constexpr size_t kE1 = kE0 + kItem + 5;
constexpr size_t kEnd = kE1 + kItem + 6;

void set_name(Bytes &b, size_t len_at, size_t name_at, const std::string &name)
{
	memset(&b[name_at], 0, DYNSNAP_SNAP_NAME_MAX);
	memcpy(&b[name_at], name.data(), std::min<size_t>(name.size(), 64));
	b[len_at] = name.size();
}

const Edit kEdits[] = {
	// The header.
	{"magic", [](Bytes &b) { b[7] = '2'; }, DSN_ERR_STREAM_MAGIC},
	{"version 0", [](Bytes &b) { dsn_put_le32(&b[12], 0); }, DSN_ERR_STREAM_VERSION},
	{"version 2", [](Bytes &b) { dsn_put_le32(&b[12], 2); }, DSN_ERR_STREAM_VERSION},
	{"flags", [](Bytes &b) { b[16] = 1; }, DSN_ERR_STREAM_RESERVED},
	{"high flag", [](Bytes &b) { b[19] = 0x80; }, DSN_ERR_STREAM_RESERVED},
	{"reserved0", [](Bytes &b) { b[107] = 1; }, DSN_ERR_STREAM_RESERVED},
	{"reserved1", [](Bytes &b) { b[108] = 1; }, DSN_ERR_STREAM_RESERVED},
	{"reserved tail", [](Bytes &b) { b[255] = 1; }, DSN_ERR_STREAM_RESERVED},
	{"from name padding", [](Bytes &b) { b[112 + 63] = 'x'; }, DSN_ERR_STREAM_RESERVED},
	{"to name padding", [](Bytes &b) { b[176 + 16] = 'x'; }, DSN_ERR_STREAM_RESERVED},
	{"block 0", [](Bytes &b) { dsn_put_le32(&b[20], 0); }, DSN_ERR_STREAM_GEOMETRY},
	{"block 2 KiB", [](Bytes &b) { dsn_put_le32(&b[20], 2048); }, DSN_ERR_STREAM_GEOMETRY},
	{"block 2 MiB", [](Bytes &b) { dsn_put_le32(&b[20], 2 << 20); }, DSN_ERR_STREAM_GEOMETRY},
	{"block 12 KiB", [](Bytes &b) { dsn_put_le32(&b[20], 12288); }, DSN_ERR_STREAM_GEOMETRY},
	{"volume 0", [](Bytes &b) { dsn_put_le64(&b[24], 0); }, DSN_ERR_STREAM_GEOMETRY},
	{"volume not blocks", [](Bytes &b) { dsn_put_le64(&b[24], (1 << 20) + 512); },
	 DSN_ERR_STREAM_GEOMETRY},
	{"zero uuid", [](Bytes &b) { memset(&b[32], 0, 16); }, DSN_ERR_STREAM_IDENTITY},
	{"from id 0", [](Bytes &b) { dsn_put_le64(&b[48], 0); }, DSN_ERR_STREAM_SNAP},
	{"from epoch 0", [](Bytes &b) { dsn_put_le64(&b[56], 0); }, DSN_ERR_STREAM_SNAP},
	{"to id 0", [](Bytes &b) { dsn_put_le64(&b[72], 0); }, DSN_ERR_STREAM_SNAP},
	{"to epoch 0", [](Bytes &b) { dsn_put_le64(&b[80], 0); }, DSN_ERR_STREAM_SNAP},
	{"same id", [](Bytes &b) { dsn_put_le64(&b[72], 3); }, DSN_ERR_STREAM_SNAP},
	{"from newer id", [](Bytes &b) { dsn_put_le64(&b[48], 6); }, DSN_ERR_STREAM_SNAP},
	{"same epoch", [](Bytes &b) { dsn_put_le64(&b[80], 7); }, DSN_ERR_STREAM_SNAP},
	{"from newer epoch", [](Bytes &b) { dsn_put_le64(&b[56], 10); }, DSN_ERR_STREAM_SNAP},
	{"from name empty", [](Bytes &b) { set_name(b, 104, 112, ""); }, DSN_ERR_STREAM_SNAP},
	{"from name 65", [](Bytes &b) { set_name(b, 104, 112, std::string(65, 'a')); },
	 DSN_ERR_STREAM_SNAP},
	{"to name space", [](Bytes &b) { set_name(b, 105, 176, "a b"); }, DSN_ERR_STREAM_SNAP},
	{"to name dash", [](Bytes &b) { set_name(b, 105, 176, "-x"); }, DSN_ERR_STREAM_SNAP},
	{"to name slash", [](Bytes &b) { set_name(b, 105, 176, "a/b"); }, DSN_ERR_STREAM_SNAP},

	// Extent headers.
	{"extent magic", [](Bytes &b) { b[kE1 + 4] = 'X'; }, DSN_ERR_STREAM_ITEM},
	{"extent reserved", [](Bytes &b) { b[kE0 + 39] = 1; }, DSN_ERR_STREAM_RESERVED},
	{"extent index", [](Bytes &b) { dsn_put_le64(&b[kE1 + 8], 2); }, DSN_ERR_STREAM_ORDER},
	{"first index 1", [](Bytes &b) { dsn_put_le64(&b[kE0 + 8], 1); }, DSN_ERR_STREAM_ORDER},
	{"extent overlaps", [](Bytes &b) { dsn_put_le64(&b[kE1 + 16], 4100); },
	 DSN_ERR_STREAM_ORDER},
	{"extent before", [](Bytes &b) { dsn_put_le64(&b[kE1 + 16], 0); }, DSN_ERR_STREAM_ORDER},
	{"extent past the volume", [](Bytes &b) { dsn_put_le64(&b[kE1 + 16], (1 << 20) - 5); },
	 DSN_ERR_STREAM_RANGE},
	{"extent at the volume end", [](Bytes &b) { dsn_put_le64(&b[kE1 + 16], 1 << 20); },
	 DSN_ERR_STREAM_RANGE},
	{"extent offset wraps", [](Bytes &b) { dsn_put_le64(&b[kE1 + 16], ~0ull - 2); },
	 DSN_ERR_STREAM_RANGE},
	{"extent length 0", [](Bytes &b) { dsn_put_le32(&b[kE1 + 24], 0); },
	 DSN_ERR_STREAM_RANGE},
	{"extent over 4 MiB", [](Bytes &b) { dsn_put_le32(&b[kE0 + 24], (4 << 20) + 1); },
	 DSN_ERR_STREAM_RANGE},
	// A length that runs into the trailer leaves no trailer to find.
	{"extent longer than its data",
	 [](Bytes &b) {
		 dsn_put_le64(&b[kE1 + 16], (1 << 20) - 7);
		 dsn_put_le32(&b[kE1 + 24], 7);
	 },
	 DSN_ERR_STREAM_SHORT},
	{"extent shorter than its data", [](Bytes &b) { dsn_put_le32(&b[kE1 + 24], 5); },
	 DSN_ERR_STREAM_ITEM},

	// The trailer.
	{"trailer magic", [](Bytes &b) { b[kEnd + 4] = 'X'; }, DSN_ERR_STREAM_ITEM},
	{"trailer reserved", [](Bytes &b) { b[kEnd + 39] = 1; }, DSN_ERR_STREAM_RESERVED},
	{"trailer count", [](Bytes &b) { dsn_put_le64(&b[kEnd + 8], 3); }, DSN_ERR_STREAM_TRAILER},
	{"trailer bytes", [](Bytes &b) { dsn_put_le64(&b[kEnd + 16], 12); },
	 DSN_ERR_STREAM_TRAILER},
};

INSTANTIATE_TEST_SUITE_P(All, StreamEdit, ::testing::ValuesIn(kEdits),
			 dynsnap::test::NameFromWhat());

// What reseal() fixes, checked without it: a wrong tag or running checksum
// with a valid item checksum.
TEST(Stream, TagAndRunningChecksumAreChecked)
{
	const Bytes good = encode();
	auto seal_item = [](Bytes &b, size_t at, uint32_t xor_) {
		dsn_put_le32(&b[at], dsn_crc32c(~0U, &b[at + 4], kItem - 4) ^ xor_);
	};
	Bytes b = good;
	b[kE0 + 32] ^= 1;
	seal_item(b, kE0, DYNSNAP_STREAM_EXT_CSUM_XOR);
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_OTHER);
	b = good;
	b[kEnd + 28] ^= 1;
	seal_item(b, kEnd, DYNSNAP_STREAM_END_CSUM_XOR);
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_OTHER);
	b = good;
	b[kEnd + 24] ^= 1;
	seal_item(b, kEnd, DYNSNAP_STREAM_END_CSUM_XOR);
	EXPECT_EQ(decode(b), DSN_ERR_STREAM_TRAILER);
}

} // namespace
