/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dynsnap control records: snapshot operations journaled in the fast tier's
 * delta log, between the delta records they order.
 *
 * A control record is a record header (dynsnap_record.h) with flag
 * DYNSNAP_REC_FLAG_CONTROL, the type in its level byte, and a payload of the
 * type's fixed size, little-endian, whose reserved bytes are zero:
 *
 *   SNAP_CREATE  a snapshot was created: id, the epoch it reads, creation
 *                time and name;
 *   SNAP_DELETE  a snapshot was deleted;
 *   GRANULARITY  a range of regions changes level from an epoch on.
 *
 * Pure functions on caller-owned buffers; callable from any context.
 */
#ifndef DYNSNAP_CONTROL_H
#define DYNSNAP_CONTROL_H

#include "dynsnap_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Snapshot names appear in dmsetup message arguments and in output with one
 * line per snapshot, hence the short length and the small character set.
 */
#define DYNSNAP_SNAP_NAME_MAX		64U

#define DYNSNAP_CTL_SNAP_CREATE_SIZE	96U
#define DYNSNAP_CTL_SNAP_DELETE_SIZE	16U
#define DYNSNAP_CTL_GRANULARITY_SIZE	24U

/* On-disk payloads; pin offsets and sizes, serialised field by field. */
struct dynsnap_disk_ctl_snap_create {
	__le64 id;		/* non-zero */
	__le64 epoch;		/* first epoch whose writes it does not see */
	__le64 ctime_ns;	/* CLOCK_REALTIME */
	__le32 flags;		/* none defined: must be zero */
	__u8 name_len;		/* 1..DYNSNAP_SNAP_NAME_MAX */
	__u8 reserved[3];
	char name[DYNSNAP_SNAP_NAME_MAX];	/* zero padded */
} __packed;

struct dynsnap_disk_ctl_snap_delete {
	__le64 id;
	__le64 reserved;
} __packed;

struct dynsnap_disk_ctl_granularity {
	__le64 epoch;		/* the level applies from this epoch on */
	__le32 first_region;
	__le32 count;		/* non-zero; the range stays below 2^32 */
	__le32 level;		/* enum dynsnap_level */
	__le32 reserved;
} __packed;

struct dynsnap_ctl_snap_create {
	u64 id;
	u64 epoch;
	u64 ctime_ns;
	u32 name_len;
	char name[DYNSNAP_SNAP_NAME_MAX + 1];	/* NUL-terminated */
};

struct dynsnap_ctl_snap_delete {
	u64 id;
};

struct dynsnap_ctl_granularity {
	u64 epoch;
	u32 first_region;
	u32 count;
	u32 level;
};

/* Payload bytes of a control record of @type; 0 for an unknown type. */
u32 dynsnap_ctl_payload_size(u32 type);

/*
 * Is @name (@len bytes, no terminator needed) a valid snapshot name: 1 to
 * DYNSNAP_SNAP_NAME_MAX of [A-Za-z0-9._:@+-], not starting with '-'?
 */
bool dynsnap_snap_name_valid(const char *name, size_t len);

/*
 * Encoders write the type's whole payload size to @buf. @c must be valid as
 * the decoder checks it; a name longer than DYNSNAP_SNAP_NAME_MAX is cut.
 */
void dynsnap_ctl_snap_create_encode(const struct dynsnap_ctl_snap_create *c,
				    u8 *buf);
void dynsnap_ctl_snap_delete_encode(const struct dynsnap_ctl_snap_delete *c,
				    u8 *buf);
void dynsnap_ctl_granularity_encode(const struct dynsnap_ctl_granularity *c,
				    u8 *buf);

/*
 * Decoders read the payload at @buf (@len bytes available, at least the
 * type's size) and validate every field. DSN_OK, DSN_ERR_CTL_* or
 * DSN_ERR_REC_LEVEL; *@c is only meaningful on DSN_OK.
 */
enum dynsnap_err dynsnap_ctl_snap_create_decode(const u8 *buf, size_t len,
						struct dynsnap_ctl_snap_create *c);
enum dynsnap_err dynsnap_ctl_snap_delete_decode(const u8 *buf, size_t len,
						struct dynsnap_ctl_snap_delete *c);
enum dynsnap_err dynsnap_ctl_granularity_decode(const u8 *buf, size_t len,
						struct dynsnap_ctl_granularity *c);

/* Validate the payload of a control record of @type: its decoder's checks. */
enum dynsnap_err dynsnap_ctl_validate(u32 type, const u8 *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* DYNSNAP_CONTROL_H */
