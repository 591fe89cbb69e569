/* The session summary's times as text (issue 25): 16 lower-case hex digits a time, the bits
 * of the double, most significant digit first. A faster decoder than summary.c's digit table,
 * the same answers; private to store/. */
#ifndef CM_STORE_HEXDECODE_H
#define CM_STORE_HEXDECODE_H
#include <stddef.h>

/* text of len bytes (no NUL needed after it) into out[0..n): 0, or -1 (out partly written)
 * when len is not 16 * n or a byte is no lower-case hex digit. */
int cm_hex_vals_decode_len(const char *text, size_t len, double *out, size_t n);

/* the same over a NUL-terminated text: cm_summary_vals_decode's contract exactly */
int cm_hex_vals_decode(const char *text, double *out, size_t n);

#endif
