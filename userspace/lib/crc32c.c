// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace crc32c (Castagnoli, reflected polynomial 0x82f63b78) with the
 * kernel's crc32c() contract: no pre- or post-inversion, callers seed ~0.
 * The kernel build uses lib/libcrc32c instead; see core/dynsnap_types.h.
 */
#include "dynsnap_types.h"

#include <pthread.h>

#define CRC32C_POLY_REFLECTED 0x82f63b78U

static u32 crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init_tables(void)
{
	for (u32 n = 0; n < 256; n++) {
		u32 crc = n;

		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32C_POLY_REFLECTED & (0U - (crc & 1)));
		crc32c_table[0][n] = crc;
	}
	/* Slicing-by-8: table[k][n] advances table[k-1][n] by one byte. */
	for (u32 n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc32c_table[k][n] = (crc32c_table[k - 1][n] >> 8) ^
					     crc32c_table[0][crc32c_table[k - 1][n] & 0xff];
}

u32 dsn_crc32c(u32 crc, const void *data, size_t len)
{
	const u8 *p = data;

	pthread_once(&crc32c_once, crc32c_init_tables);
	while (len >= 8) {
		u32 lo = crc ^ dsn_get_le32(p);
		u32 hi = dsn_get_le32(p + 4);

		crc = crc32c_table[7][lo & 0xff] ^
		      crc32c_table[6][(lo >> 8) & 0xff] ^
		      crc32c_table[5][(lo >> 16) & 0xff] ^
		      crc32c_table[4][lo >> 24] ^
		      crc32c_table[3][hi & 0xff] ^
		      crc32c_table[2][(hi >> 8) & 0xff] ^
		      crc32c_table[1][(hi >> 16) & 0xff] ^
		      crc32c_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
	return crc;
}
