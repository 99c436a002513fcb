// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for delta record decoding and sparse XOR deltas.
 * Properties checked on every input:
 *  - decoding never reads past the buffer and never crashes;
 *  - a record that decodes re-encodes to the same header bytes;
 *  - a valid XOR delta, applied to zeroes and re-encoded, gives back exactly
 *    the same bytes (only canonical encodings are valid);
 *  - replaying the input as a delta log moves forward, stays inside the
 *    buffer and yields strictly consecutive sequence numbers.
 */
#include <stdlib.h>

#include "dynsnap_log.h"
#include "dynsnap_record.h"
#include "dynsnap_xor.h"

#define MAX_LEN 65536U

static u8 data_buf[MAX_LEN];
static u8 canon[DYNSNAP_XOR_MAX_ENCODED(MAX_LEN)];

static void check_xor(const u8 *delta, size_t delta_len, u32 len)
{
	size_t n;

	if (dynsnap_xor_validate(delta, delta_len, len))
		return;
	if (dynsnap_xor_covered(delta) > len)
		abort();
	memset(data_buf, 0, len);
	if (dynsnap_xor_apply(data_buf, len, delta, delta_len))
		abort();
	n = dynsnap_xor_encode_diff(data_buf, len, canon, sizeof(canon));
	if (n != delta_len || memcmp(canon, delta, n))
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct dynsnap_record_header h;
	u8 header[DYNSNAP_REC_HEADER_SIZE];
	const u8 *payload;
	u32 len;

	if (dynsnap_record_decode(data, size, &h, &payload) == DSN_OK) {
		dynsnap_record_encode(&h, header, payload);
		if (memcmp(header, data, sizeof(header)))
			abort();
		if (h.level == DYNSNAP_LEVEL_BIT && !h.codec)
			check_xor(payload, h.stored_length, h.length);
	}

	/* The same bytes as a log, starting from the first record's sequence. */
	if (size >= DYNSNAP_REC_HEADER_SIZE) {
		size_t pos = 0, before;
		u64 seq = dsn_get_le64(data + 16);

		for (;;) {
			before = pos;
			if (dynsnap_log_next(data, size, &pos, seq, &h, &payload))
				break;
			if (pos <= before || pos > size || h.sequence != seq)
				abort();
			seq++;
		}
	}

	/* The same bytes as a bare XOR delta for a block of 512..64 KiB. */
	if (size >= 1) {
		len = 512U << (data[0] % 8);
		check_xor(data + 1, size - 1, len);
	}
	return 0;
}
