/* names: file and folder name rules (API §1) and the UTF-8 helpers behind
 * them: strict validation, NFC normalisation (libutf8proc) and the case
 * folding used for case-insensitive uniqueness and search. */
#ifndef NETRA_NAMES_H
#define NETRA_NAMES_H
#include <stdbool.h>
#include <stddef.h>

/** Longest name in bytes, after trimming. */
#define NAME_MAX_BYTES 255

/** Longest input (bytes) utf8_nfc accepts. */
#define UTF8_NFC_MAX 1024

/** Trims leading/trailing ASCII spaces from `in`, checks it is 1–255 bytes of
 *  valid UTF-8 and normalises it to NFC; the NFC form must be 1–255 bytes
 *  without '/', C0/DEL/C1 control characters or bidirectional formatting
 *  characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), and not
 *  "." or "..". On success writes that NFC form to `out` (which may equal
 *  `in`; NAME_MAX_BYTES + 1 bytes always suffice) and returns NULL; otherwise
 *  returns a human error sentence and leaves `out` untouched. */
const char *name_clean(const char *in, char *out, size_t outsz);

/** Writes the NFC form of the `n` bytes of UTF-8 at `in` (at most
 *  UTF8_NFC_MAX) to `out`, NUL-terminated; `out` may equal `in`. NFC can
 *  grow text up to threefold (U+1D160, 4 bytes, is 3 code points in NFC) or
 *  shrink it (U+212B ANGSTROM SIGN becomes U+00C5). Returns the byte length,
 *  or -1 when `in` is not strict UTF-8, is too long, or the result does not
 *  fit `outsz` (then `out` is an empty string when outsz > 0). */
int utf8_nfc(const char *in, size_t n, char *out, size_t outsz);

/** U+10FFFF in UTF-8, the highest character: every string that starts with
 *  a prefix sorts (bytewise, which is code point order in UTF-8) from the
 *  prefix up to the prefix followed by this. */
#define UTF8_TOP "\xF4\x8F\xBF\xBF"

/** True when the `n` bytes at `s` are strict UTF-8: shortest form only, no
 *  surrogates (U+D800–U+DFFF), nothing above U+10FFFF. NUL bytes are allowed. */
bool utf8_valid(const char *s, size_t n);

/** Case-folds the NUL-terminated UTF-8 string `in` into `out` for case-insensitive
 *  comparison: ASCII, Latin-1, Latin Extended-A, Greek and Coptic (final sigma
 *  and symbol variants fold to their plain letters), Cyrillic and Cyrillic
 *  Supplement, plus U+1E9E, U+212A, U+212B; other code points are unchanged.
 *  The result is never longer than the input, so strlen(in) + 1 bytes suffice
 *  and `out` may equal `in`. Returns 0, or -1 on invalid UTF-8 or a too-small
 *  `out` (then `out` is an empty string when outsz > 0). */
int utf8_fold(const char *in, char *out, size_t outsz);

#endif
