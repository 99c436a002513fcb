/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types and helpers the shared core needs, provided by the kernel when it
 * is built into dm-dynsnap.ko and by libc plus a small shim in userspace.
 *
 * Everything else in core/ includes only this header, so the same source
 * compiles unchanged in both worlds.
 */
#ifndef DYNSNAP_TYPES_H
#define DYNSNAP_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/stddef.h>
#include <linux/build_bug.h>
#include <linux/crc32c.h>

static inline u32 dsn_crc32c(u32 seed, const void *data, size_t len)
{
	return crc32c(seed, data, len);
}

#else /* userspace */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <assert.h>
#include <linux/types.h>	/* __u8, __le32, ... as in the uapi headers */

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#ifndef __packed
#define __packed __attribute__((packed))
#endif

#ifndef __cplusplus
#define static_assert _Static_assert
#endif

#ifdef __cplusplus
extern "C" {
#endif
/*
 * Castagnoli CRC without pre- or post-inversion, the same contract as the
 * kernel's crc32c(): callers pass ~0 as the first seed.
 */
u32 dsn_crc32c(u32 seed, const void *data, size_t len);
#ifdef __cplusplus
}
#endif

#endif /* __KERNEL__ */

/*
 * Explicit little-endian (de)serialisation of caller-owned buffers. Byte by
 * byte so the code is alignment- and host-endian-agnostic in both builds.
 */
static inline void dsn_put_le16(u8 *p, u16 v)
{
	p[0] = (u8)(v & 0xff);
	p[1] = (u8)(v >> 8);
}

static inline void dsn_put_le32(u8 *p, u32 v)
{
	dsn_put_le16(p, (u16)(v & 0xffff));
	dsn_put_le16(p + 2, (u16)(v >> 16));
}

static inline void dsn_put_le64(u8 *p, u64 v)
{
	dsn_put_le32(p, (u32)(v & 0xffffffff));
	dsn_put_le32(p + 4, (u32)(v >> 32));
}

static inline u16 dsn_get_le16(const u8 *p)
{
	return (u16)(p[0] | (p[1] << 8));
}

static inline u32 dsn_get_le32(const u8 *p)
{
	return (u32)dsn_get_le16(p) | ((u32)dsn_get_le16(p + 2) << 16);
}

static inline u64 dsn_get_le64(const u8 *p)
{
	return (u64)dsn_get_le32(p) | ((u64)dsn_get_le32(p + 4) << 32);
}

static inline bool dsn_is_power_of_2(u64 n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

#endif /* DYNSNAP_TYPES_H */
