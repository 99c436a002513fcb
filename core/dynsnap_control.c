// SPDX-License-Identifier: GPL-2.0
/*
 * dynsnap control records: payload encode, decode and validation, and the
 * snapshot name rule.
 */
#include "dynsnap_control.h"

#define CREATE_OFF(field) offsetof(struct dynsnap_disk_ctl_snap_create, field)
#define DELETE_OFF(field) offsetof(struct dynsnap_disk_ctl_snap_delete, field)
#define GRAN_OFF(field) offsetof(struct dynsnap_disk_ctl_granularity, field)

static_assert(CREATE_OFF(epoch) == 8, "create epoch offset");
static_assert(CREATE_OFF(ctime_ns) == 16, "create ctime_ns offset");
static_assert(CREATE_OFF(flags) == 24, "create flags offset");
static_assert(CREATE_OFF(name_len) == 28, "create name_len offset");
static_assert(CREATE_OFF(reserved) == 29, "create reserved offset");
static_assert(CREATE_OFF(name) == 32, "create name offset");
static_assert(sizeof(struct dynsnap_disk_ctl_snap_create) ==
	      DYNSNAP_CTL_SNAP_CREATE_SIZE, "create size");
static_assert(DELETE_OFF(reserved) == 8, "delete reserved offset");
static_assert(sizeof(struct dynsnap_disk_ctl_snap_delete) ==
	      DYNSNAP_CTL_SNAP_DELETE_SIZE, "delete size");
static_assert(GRAN_OFF(first_region) == 8, "granularity first_region offset");
static_assert(GRAN_OFF(count) == 12, "granularity count offset");
static_assert(GRAN_OFF(level) == 16, "granularity level offset");
static_assert(GRAN_OFF(reserved) == 20, "granularity reserved offset");
static_assert(sizeof(struct dynsnap_disk_ctl_granularity) ==
	      DYNSNAP_CTL_GRANULARITY_SIZE, "granularity size");
static_assert(DYNSNAP_SNAP_NAME_MAX <= 255, "name length fits its byte");

u32 dynsnap_ctl_payload_size(u32 type)
{
	switch (type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		return DYNSNAP_CTL_SNAP_CREATE_SIZE;
	case DYNSNAP_CTL_SNAP_DELETE:
		return DYNSNAP_CTL_SNAP_DELETE_SIZE;
	case DYNSNAP_CTL_GRANULARITY:
		return DYNSNAP_CTL_GRANULARITY_SIZE;
	}
	return 0;
}

static bool name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '@' || c == '+' || c == '-';
}

bool dynsnap_snap_name_valid(const char *name, size_t len)
{
	size_t i;

	if (!name || !len || len > DYNSNAP_SNAP_NAME_MAX)
		return false;
	/* A leading '-' would read as an option to the tools. */
	if (name[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!name_char_valid(name[i]))
			return false;
	return true;
}

void dynsnap_ctl_snap_create_encode(const struct dynsnap_ctl_snap_create *c,
				    u8 *buf)
{
	u32 n = c->name_len < DYNSNAP_SNAP_NAME_MAX ?
		c->name_len : DYNSNAP_SNAP_NAME_MAX;

	memset(buf, 0, DYNSNAP_CTL_SNAP_CREATE_SIZE);
	dsn_put_le64(buf + CREATE_OFF(id), c->id);
	dsn_put_le64(buf + CREATE_OFF(epoch), c->epoch);
	dsn_put_le64(buf + CREATE_OFF(ctime_ns), c->ctime_ns);
	buf[CREATE_OFF(name_len)] = (u8)n;
	memcpy(buf + CREATE_OFF(name), c->name, n);
}

enum dynsnap_err dynsnap_ctl_snap_create_decode(const u8 *buf, size_t len,
						struct dynsnap_ctl_snap_create *c)
{
	const u8 *name;

	if (!buf || len < DYNSNAP_CTL_SNAP_CREATE_SIZE)
		return DSN_ERR_CTL_SHORT;
	memset(c, 0, sizeof(*c));
	if (dsn_get_le32(buf + CREATE_OFF(flags)) ||
	    !dynsnap_is_zeroed(buf + CREATE_OFF(reserved),
			       CREATE_OFF(name) - CREATE_OFF(reserved)))
		return DSN_ERR_CTL_RESERVED;
	c->id = dsn_get_le64(buf + CREATE_OFF(id));
	c->epoch = dsn_get_le64(buf + CREATE_OFF(epoch));
	if (!c->id || !c->epoch)
		return DSN_ERR_CTL_ZERO;
	c->ctime_ns = dsn_get_le64(buf + CREATE_OFF(ctime_ns));
	c->name_len = buf[CREATE_OFF(name_len)];
	name = buf + CREATE_OFF(name);
	if (!dynsnap_snap_name_valid((const char *)name, c->name_len))
		return DSN_ERR_CTL_NAME;
	/* The padding is zero, so each name has exactly one encoding. */
	if (!dynsnap_is_zeroed(name + c->name_len,
			       DYNSNAP_SNAP_NAME_MAX - c->name_len))
		return DSN_ERR_CTL_RESERVED;
	memcpy(c->name, name, c->name_len);
	c->name[c->name_len] = '\0';
	return DSN_OK;
}

void dynsnap_ctl_snap_delete_encode(const struct dynsnap_ctl_snap_delete *c,
				    u8 *buf)
{
	memset(buf, 0, DYNSNAP_CTL_SNAP_DELETE_SIZE);
	dsn_put_le64(buf + DELETE_OFF(id), c->id);
}

enum dynsnap_err dynsnap_ctl_snap_delete_decode(const u8 *buf, size_t len,
						struct dynsnap_ctl_snap_delete *c)
{
	if (!buf || len < DYNSNAP_CTL_SNAP_DELETE_SIZE)
		return DSN_ERR_CTL_SHORT;
	memset(c, 0, sizeof(*c));
	if (dsn_get_le64(buf + DELETE_OFF(reserved)))
		return DSN_ERR_CTL_RESERVED;
	c->id = dsn_get_le64(buf + DELETE_OFF(id));
	if (!c->id)
		return DSN_ERR_CTL_ZERO;
	return DSN_OK;
}

void dynsnap_ctl_granularity_encode(const struct dynsnap_ctl_granularity *c,
				    u8 *buf)
{
	memset(buf, 0, DYNSNAP_CTL_GRANULARITY_SIZE);
	dsn_put_le64(buf + GRAN_OFF(epoch), c->epoch);
	dsn_put_le32(buf + GRAN_OFF(first_region), c->first_region);
	dsn_put_le32(buf + GRAN_OFF(count), c->count);
	dsn_put_le32(buf + GRAN_OFF(level), c->level);
}

enum dynsnap_err dynsnap_ctl_granularity_decode(const u8 *buf, size_t len,
						struct dynsnap_ctl_granularity *c)
{
	if (!buf || len < DYNSNAP_CTL_GRANULARITY_SIZE)
		return DSN_ERR_CTL_SHORT;
	memset(c, 0, sizeof(*c));
	if (dsn_get_le32(buf + GRAN_OFF(reserved)))
		return DSN_ERR_CTL_RESERVED;
	c->epoch = dsn_get_le64(buf + GRAN_OFF(epoch));
	if (!c->epoch)
		return DSN_ERR_CTL_ZERO;
	c->first_region = dsn_get_le32(buf + GRAN_OFF(first_region));
	c->count = dsn_get_le32(buf + GRAN_OFF(count));
	/* The end of the range, first_region + count, must fit a u32. */
	if (!c->count || c->count > ~0U - c->first_region)
		return DSN_ERR_CTL_RANGE;
	c->level = dsn_get_le32(buf + GRAN_OFF(level));
	if (c->level >= DYNSNAP_LEVEL__COUNT)
		return DSN_ERR_REC_LEVEL;
	return DSN_OK;
}

enum dynsnap_err dynsnap_ctl_validate(u32 type, const u8 *buf, size_t len)
{
	union {
		struct dynsnap_ctl_snap_create create;
		struct dynsnap_ctl_snap_delete del;
		struct dynsnap_ctl_granularity gran;
	} c;

	switch (type) {
	case DYNSNAP_CTL_SNAP_CREATE:
		return dynsnap_ctl_snap_create_decode(buf, len, &c.create);
	case DYNSNAP_CTL_SNAP_DELETE:
		return dynsnap_ctl_snap_delete_decode(buf, len, &c.del);
	case DYNSNAP_CTL_GRANULARITY:
		return dynsnap_ctl_granularity_decode(buf, len, &c.gran);
	}
	return DSN_ERR_CTL_TYPE;
}
