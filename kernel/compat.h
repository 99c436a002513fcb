/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels dm-dynsnap supports (6.1 and later),
 * decided by feature tests rather than version numbers where possible.
 */
#ifndef DM_DYNSNAP_COMPAT_H
#define DM_DYNSNAP_COMPAT_H

#include <linux/blkdev.h>
#include <linux/device-mapper.h>

/*
 * 6.5 replaced fmode_t with blk_mode_t for block device opens, and the
 * table mode dm hands to targets changed type with it.
 */
#ifdef BLK_OPEN_WRITE
static inline bool dsn_table_writable(struct dm_target *ti)
{
	return dm_table_get_mode(ti->table) & BLK_OPEN_WRITE;
}

#define DSN_OPEN_READ BLK_OPEN_READ
#else
#define DSN_OPEN_READ FMODE_READ

static inline bool dsn_table_writable(struct dm_target *ti)
{
	return dm_table_get_mode(ti->table) & FMODE_WRITE;
}
#endif

#endif /* DM_DYNSNAP_COMPAT_H */
