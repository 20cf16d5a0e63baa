/* b64: base64url (RFC 4648 §5) without padding, as used in JWTs and ids. */
#ifndef NETRA_B64_H
#define NETRA_B64_H
#include <stddef.h>

/** Characters needed to encode `n` bytes (excluding the NUL). */
#define B64URL_ENCLEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/** Encodes `n` bytes into `out` and NUL-terminates it. Returns the length
 *  written (excluding the NUL), or 0 when `outsz` is too small (then `out`
 *  is left as an empty string if it has room for one). */
size_t b64url_encode(const void *in, size_t n, char *out, size_t outsz);

/** Decodes `n` characters of unpadded base64url into `out` (not NUL-terminated),
 *  storing the byte count in `*outlen` (may be NULL). Returns 0, or -1 on a
 *  character outside the alphabet, '=' padding, an impossible length,
 *  non-zero unused trailing bits (non-canonical input), or output past `outsz`. */
int b64url_decode(const char *in, size_t n, unsigned char *out, size_t outsz, size_t *outlen);

#endif
