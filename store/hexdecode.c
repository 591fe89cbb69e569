/* The session summary's times decoded eight hex digits at a time (issue 25: a 12 M-row compare
 * decodes 12 M times, 192 M digits; a table lookup per digit was ~8% of its CPU). Each 8-byte
 * word is checked and turned into nibbles by whole-word arithmetic, then packed; no branch per
 * digit. Exactness is pinned against the per-digit decoder in tests/test_cmpcpu.c. */
#include "hexdecode.h"

#include <stdint.h>
#include <string.h>

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* 8 ASCII bytes (the first in the lowest byte: a little-endian load) as the 32-bit value they
 * spell, first digit most significant; *bad gets a non-zero bit when one is no [0-9a-f] */
static inline uint32_t word8(uint64_t w, uint64_t *bad)
{
	/* every byte below 0x80, so adding up to 0x50 carries into no neighbour: each byte's
	 * high bit then says whether it reached the bound */
	uint64_t ge0 = w + 0x50 * ONES, gt9 = w + 0x46 * ONES; /* >= '0', >= '9' + 1 */
	uint64_t gea = w + 0x1f * ONES, gtf = w + 0x19 * ONES; /* >= 'a', >= 'f' + 1 */
	uint64_t ok = ((ge0 & ~gt9) | (gea & ~gtf)) & ~w & HIGH;
	*bad |= ok ^ HIGH;
	/* '0'-'9' -> low nibble; 'a'-'f' (bit 6 set) -> low nibble + 9 */
	uint64_t v = (w & 0x0f * ONES) + ((w >> 6) & ONES) * 9;
	v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffull;  /* digit pairs into bytes */
	v = ((v << 8) | (v >> 16)) & 0x0000ffff0000ffffull; /* byte pairs into 16 bits */
	return (uint32_t)((v << 16) | (v >> 32));
}

static inline uint64_t load8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8); /* one load; the first byte lowest on a little-endian host */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

int cm_hex_vals_decode_len(const char *text, size_t len, double *out, size_t n)
{
	if (len != 16 * n || (n && len / 16 != n))
		return -1;
	uint64_t bad = 0;
	for (size_t i = 0; i < n; i++, text += 16) {
		uint64_t bits =
		    (uint64_t)word8(load8(text), &bad) << 32 | word8(load8(text + 8), &bad);
		memcpy(&out[i], &bits, sizeof(bits));
	}
	return bad ? -1 : 0;
}

int cm_hex_vals_decode(const char *text, double *out, size_t n)
{
	/* strlen(text) == 16 n, reading no byte past the NUL (strnlen stops there; C11's memchr
	 * need not) and no further than 16 n + 1 bytes of a long text; 16 n must not wrap */
	if (n > SIZE_MAX / 16 - 1 || strnlen(text, 16 * n + 1) != 16 * n)
		return -1;
	return cm_hex_vals_decode_len(text, 16 * n, out, n);
}
