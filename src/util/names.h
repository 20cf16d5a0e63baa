/* names: file and folder name rules (API §1) and the UTF-8 helpers behind
 * them: strict validation and the case folding used for case-insensitive
 * uniqueness and search. */
#ifndef NETRA_NAMES_H
#define NETRA_NAMES_H
#include <stdbool.h>
#include <stddef.h>

/** Longest name in bytes, after trimming. */
#define NAME_MAX_BYTES 255

/** Trims leading/trailing ASCII spaces from `in` and checks the result is
 *  1–255 bytes of valid UTF-8 without '/', C0/DEL/C1 control characters, and
 *  is not "." or "..". On success writes the clean name to `out` (which may
 *  equal `in`; NAME_MAX_BYTES + 1 bytes always suffice) and returns NULL;
 *  otherwise returns a human error sentence and leaves `out` untouched. */
const char *name_clean(const char *in, char *out, size_t outsz);

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
