// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the superblock decoder and the geometry/layout
 * rules. Properties checked on every input:
 *  - decode never reads past the buffer and never crashes;
 *  - whatever decodes re-encodes to exactly the same 4 KiB;
 *  - a layout the core computes always validates when encoded.
 */
#include <stdlib.h>

#include "dynsnap_format.h"

static void check_layout_from(const u8 *data, size_t size)
{
	struct dynsnap_superblock sb, back;
	struct dynsnap_geometry g;
	struct dynsnap_layout l;
	static u8 buf[DYNSNAP_SB_SIZE];
	u64 volume, fast, slow;

	if (size < 36)
		return;
	g.block_sectors = dsn_get_le32(data);
	g.sub_block_sectors = dsn_get_le32(data + 4) & 0xffff;
	g.region_sectors = dsn_get_le32(data + 8);
	volume = dsn_get_le64(data + 12) >> (data[35] & 63);
	fast = dsn_get_le64(data + 20) >> (data[34] & 63);
	slow = (u64)dsn_get_le32(data + 28) << (data[33] & 15);
	dynsnap_geometry_defaults(&g);
	if (dynsnap_layout_compute(&g, volume, fast, slow, &l))
		return;
	dynsnap_sb_init(&sb, DYNSNAP_TIER_FAST, data, volume, &g, &l, 0);
	sb.uuid[0] |= 1;	/* a store always has an identity */
	dynsnap_sb_encode(&sb, buf);
	if (dynsnap_sb_decode(buf, sizeof(buf), DYNSNAP_SB_LOCATION, &back))
		abort();
	if (dynsnap_sb_match(&back, volume, &g, fast, slow))
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct dynsnap_superblock sb;
	static u8 again[DYNSNAP_SB_SIZE];

	if (dynsnap_sb_decode(data, size, DYNSNAP_SB_LOCATION, &sb) == DSN_OK) {
		dynsnap_sb_encode(&sb, again);
		if (memcmp(again, data, DYNSNAP_SB_SIZE))
			abort();
	}
	check_layout_from(data, size);
	return 0;
}
