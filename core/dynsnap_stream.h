/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap export streams: the changes between two snapshots of a volume as
 * one byte string, little-endian, written by `snapshotctl export --since`
 * and applied by `snapshotctl apply`:
 *
 *   header    DYNSNAP_STREAM_HEADER_SIZE bytes: the volume, the store and
 *             the two snapshots ("from", the older one the target holds,
 *             and "to", the one the target becomes);
 *   extents   each an extent header of DYNSNAP_STREAM_ITEM_SIZE bytes
 *             followed by its length bytes of volume data, as of "to";
 *             sorted by volume offset, non-overlapping, inside the volume,
 *             numbered from 0;
 *   trailer   DYNSNAP_STREAM_ITEM_SIZE bytes: the extent count, the data
 *             bytes and a running checksum, so a stream cut short, with an
 *             extent dropped, repeated or moved, is refused.
 *
 * Extents are byte granular: offset and length are in bytes, a length
 * between 1 and DYNSNAP_STREAM_MAX_EXTENT. A longer range is split into
 * adjacent extents, so a reader can check an extent's data in memory
 * before it writes any of it.
 *
 * Checksums, all crc32c seeded with ~0 and not inverted:
 *   header    over bytes [12, 256), XORed with DYNSNAP_STREAM_CSUM_XOR;
 *             the result, the stream's tag, is repeated in every extent
 *             header and the trailer;
 *   extent    its data, plain (dynsnap_stream_data_crc()); its header over
 *             bytes [4, 40), XORed with DYNSNAP_STREAM_EXT_CSUM_XOR;
 *   trailer   over bytes [4, 40), XORed with DYNSNAP_STREAM_END_CSUM_XOR;
 *   running   one crc32c over the 256 header bytes and then every extent
 *             header in stream order, kept in the trailer.
 *
 * Writing one: dynsnap_stream_header_encode(), dynsnap_stream_cursor_init()
 * on its bytes, then per extent dynsnap_stream_extent_encode() and the data,
 * then dynsnap_stream_trailer_encode(). Reading one: the same steps with the
 * decoders, in order, checking each extent's data with
 * dynsnap_stream_data_verify(); or dynsnap_stream_decode() on a stream held
 * whole in memory.
 *
 * Pure functions on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_STREAM_H
#define DYNSNAP_STREAM_H

#include "dynsnap_control.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DYNSNAP_STREAM_MAGIC		0x314d5254534e5344ULL	/* "DSNSTRM1" */
#define DYNSNAP_STREAM_VERSION		1U
#define DYNSNAP_STREAM_HEADER_SIZE	256U
#define DYNSNAP_STREAM_CSUM_XOR		0x6a3c19e5U
#define DYNSNAP_STREAM_EXT_MAGIC	0x45534e44U	/* "DNSE" */
#define DYNSNAP_STREAM_EXT_CSUM_XOR	0x3b8d02c1U
#define DYNSNAP_STREAM_END_MAGIC	0x54534e44U	/* "DNST" */
#define DYNSNAP_STREAM_END_CSUM_XOR	0x71e4a95dU
/* Extent headers and the trailer have one size: read one, then look. */
#define DYNSNAP_STREAM_ITEM_SIZE	40U
/*
 * Longest extent: 4 MiB, so a reader can hold a whole extent while it
 * checks it, and the header of a full extent costs under 0.001% of it.
 */
#define DYNSNAP_STREAM_MAX_EXTENT	(4U << 20)

/* On-disk header; pins offsets and size, serialised field by field. */
struct dynsnap_disk_stream_header {
	__le64 magic;		/* "DSNSTRM1" */
	__le32 csum;		/* crc32c(bytes [12, 256)) ^ XOR: the tag */
	__le32 version;
	__le32 flags;		/* none defined: must be zero */
	__le32 block_size;	/* the store's block size, bytes */
	__le64 volume_bytes;	/* length of the volume, a multiple of it */
	__u8 uuid[16];		/* the store's UUID, non-zero */
	__le64 from_id;		/* the snapshot the target holds */
	__le64 from_epoch;
	__le64 from_ctime_ns;
	__le64 to_id;		/* the snapshot the target becomes */
	__le64 to_epoch;
	__le64 to_ctime_ns;
	__le64 created_ns;	/* when the stream was written, CLOCK_REALTIME */
	__u8 from_name_len;	/* 1..DYNSNAP_SNAP_NAME_MAX */
	__u8 to_name_len;
	__le16 reserved0;	/* must be zero */
	__le32 reserved1;	/* must be zero */
	char from_name[DYNSNAP_SNAP_NAME_MAX];	/* zero padded */
	char to_name[DYNSNAP_SNAP_NAME_MAX];	/* zero padded */
	__u8 reserved[16];	/* must be zero */
} __packed;

/* Extent header; its data follows it. */
struct dynsnap_disk_stream_extent {
	__le32 csum;		/* crc32c(bytes [4, 40)) ^ EXT_XOR */
	__le32 magic;		/* "DNSE" */
	__le64 index;		/* 0 for the first extent, one more each */
	__le64 offset;		/* volume byte offset of the data */
	__le32 length;		/* data bytes, 1..DYNSNAP_STREAM_MAX_EXTENT */
	__le32 data_crc;	/* crc32c of the data */
	__le32 tag;		/* the stream header's checksum */
	__le32 reserved;	/* must be zero */
} __packed;

/* Trailer: the last bytes of a stream. */
struct dynsnap_disk_stream_trailer {
	__le32 csum;		/* crc32c(bytes [4, 40)) ^ END_XOR */
	__le32 magic;		/* "DNST" */
	__le64 extents;		/* extent count */
	__le64 data_bytes;	/* sum of the extent lengths */
	__le32 running;		/* crc32c of the header and extent headers */
	__le32 tag;		/* the stream header's checksum */
	__le64 reserved;	/* must be zero */
} __packed;

/*
 * Decoded header. A snapshot's identity is held as a SNAP_CREATE control
 * payload holds it: id, epoch, creation time and name.
 */
struct dynsnap_stream_header {
	u32 version;
	u32 flags;
	u32 block_size;
	u64 volume_bytes;
	u8 uuid[DYNSNAP_UUID_SIZE];
	struct dynsnap_ctl_snap_create from;
	struct dynsnap_ctl_snap_create to;
	u64 created_ns;
};

struct dynsnap_stream_extent {
	u64 index;
	u64 offset;
	u32 length;
	u32 data_crc;
};

/*
 * Where a writer or reader is in a stream: what the next extent must
 * respect, and what the trailer must say. Filled by
 * dynsnap_stream_cursor_init(), advanced by the extent encoder and decoder.
 */
struct dynsnap_stream_cursor {
	u64 volume_bytes;
	u64 next_offset;	/* the next extent may not start below */
	u64 extents;		/* extents so far */
	u64 data_bytes;		/* their data bytes */
	u32 tag;		/* the header's checksum */
	u32 running;		/* crc32c over the header and extent headers */
};

/*
 * Fill a header: version, @uuid, the volume and block size, the two
 * snapshots and the time of writing; flags zero.
 */
void dynsnap_stream_header_init(struct dynsnap_stream_header *h,
				const u8 uuid[DYNSNAP_UUID_SIZE],
				u64 volume_bytes, u32 block_size,
				const struct dynsnap_ctl_snap_create *from,
				const struct dynsnap_ctl_snap_create *to,
				u64 created_ns);

/*
 * Encode @h into @buf (DYNSNAP_STREAM_HEADER_SIZE bytes, fully written:
 * fields, zero padding, then the checksum). Names longer than
 * DYNSNAP_SNAP_NAME_MAX are cut; the decoder checks everything else.
 */
void dynsnap_stream_header_encode(const struct dynsnap_stream_header *h,
				  u8 *buf);

/*
 * Decode and validate the header at @buf (@len bytes available): magic,
 * version, checksum, flags and reserved bytes (name padding included), the
 * block size (4 KiB to 1 MiB, a power of two) and volume length (non-zero,
 * a multiple of it), a non-zero UUID, and the two snapshots: non-zero ids
 * and epochs, valid names, "from" older than "to" in both id and epoch.
 * DSN_OK or DSN_ERR_STREAM_*; *@h is only meaningful on DSN_OK.
 */
enum dynsnap_err dynsnap_stream_header_decode(const u8 *buf, size_t len,
					      struct dynsnap_stream_header *h);

/*
 * Start a cursor after the header whose encoded bytes (a header that
 * dynsnap_stream_header_encode() wrote or that decoded with DSN_OK) are
 * at @header.
 */
void dynsnap_stream_cursor_init(struct dynsnap_stream_cursor *c,
				const u8 *header);

/* The checksum an extent's header carries for its @len bytes of data. */
u32 dynsnap_stream_data_crc(const u8 *data, size_t len);

/*
 * Encode the next extent's header into @buf (DYNSNAP_STREAM_ITEM_SIZE
 * bytes) and advance @c. Refuses, writing nothing, an extent the decoder
 * would refuse: DSN_ERR_STREAM_RANGE for an empty or too long one or one
 * reaching outside the volume, DSN_ERR_STREAM_ORDER for one starting
 * below the end of the one before.
 */
enum dynsnap_err dynsnap_stream_extent_encode(struct dynsnap_stream_cursor *c,
					      u64 offset, u32 length,
					      u32 data_crc, u8 *buf);

/*
 * Encode the trailer for the extents @c went through into @buf
 * (DYNSNAP_STREAM_ITEM_SIZE bytes).
 */
void dynsnap_stream_trailer_encode(const struct dynsnap_stream_cursor *c,
				   u8 *buf);

/*
 * Is the item at @buf (@len bytes available) a trailer by its magic? It
 * says what to decode it with, nothing more: the decoder validates it.
 */
bool dynsnap_stream_is_trailer(const u8 *buf, size_t len);

/*
 * Decode and validate the extent header at @buf (@len bytes available)
 * against @c: magic, checksum, reserved bytes, tag, index, length and
 * range, order. Advances @c on DSN_OK only; *@e is only meaningful then.
 * The data that follows is checked with dynsnap_stream_data_verify().
 */
enum dynsnap_err dynsnap_stream_extent_decode(struct dynsnap_stream_cursor *c,
					      const u8 *buf, size_t len,
					      struct dynsnap_stream_extent *e);

/*
 * Check an extent's data (@e->length bytes at @data). DSN_OK or
 * DSN_ERR_STREAM_DATA_CSUM.
 */
enum dynsnap_err dynsnap_stream_data_verify(const struct dynsnap_stream_extent *e,
					    const u8 *data);

/*
 * Decode and validate the trailer at @buf (@len bytes available) against
 * the extents @c went through: magic, checksum, reserved bytes, tag, then
 * extent count, data bytes and running checksum. DSN_OK or
 * DSN_ERR_STREAM_*.
 */
enum dynsnap_err dynsnap_stream_trailer_decode(const struct dynsnap_stream_cursor *c,
					       const u8 *buf, size_t len);

/*
 * Decode and validate a whole stream held in @buf (@len bytes): header,
 * every extent header and its data, the trailer, and that the trailer ends
 * the buffer. On DSN_OK *@h is the header and *@c has the extent count and
 * data bytes. The one validator of a stream in memory.
 */
enum dynsnap_err dynsnap_stream_decode(const u8 *buf, size_t len,
				       struct dynsnap_stream_header *h,
				       struct dynsnap_stream_cursor *c);

/*
 * Can a stream be applied to a target of @target_bytes? Only to an image
 * of exactly the volume's length. DSN_OK or DSN_ERR_STREAM_TARGET.
 */
enum dynsnap_err dynsnap_stream_check_target(const struct dynsnap_stream_header *h,
					     u64 target_bytes);

/*
 * Bytes of a stream with @extents extents holding @data_bytes bytes of
 * data: header, extent headers, data, trailer.
 */
static inline u64 dynsnap_stream_size(u64 extents, u64 data_bytes)
{
	return DYNSNAP_STREAM_HEADER_SIZE + extents * DYNSNAP_STREAM_ITEM_SIZE +
	       data_bytes + DYNSNAP_STREAM_ITEM_SIZE;
}

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_STREAM_H */
