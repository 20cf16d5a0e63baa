/* id: random, URL-safe identifiers and tokens (libsodium's CSPRNG). */
#ifndef NETRA_ID_H
#define NETRA_ID_H
#include <stdbool.h>
#include <stddef.h>

/** Length of an object id: 16 random bytes in unpadded base64url. */
#define ID_LEN 22

/** Writes a new random id (ID_LEN characters + NUL) into `out`. */
void id_new(char out[ID_LEN + 1]);

/** True when `s` is exactly ID_LEN characters of [A-Za-z0-9_-]. NULL is invalid. */
bool id_valid(const char *s);

/** Writes `nbytes_random` random bytes (at most 64), base64url-encoded and
 *  NUL-terminated, into `out`. A buffer smaller than B64URL_ENCLEN(n) + 1 gets
 *  as many characters as fit (each still carries 6 random bits). */
void id_token(char *out, size_t nbytes_random, size_t outsz);

#endif
