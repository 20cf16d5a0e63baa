/* jsonx: small jansson helpers for request bodies: parse an object with a
 * human error, and typed field lookups that tell "absent" from "wrong type". */
#ifndef NETRA_JSONX_H
#define NETRA_JSONX_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Parses `len` bytes as a JSON object (strict UTF-8, no NUL in strings,
 *  nesting capped by jansson; duplicate keys allowed, the last one wins).
 *  Returns a new reference, or NULL with a one-line message in `err`: for a
 *  syntax error only its place, "(line L, column C)" (never jansson's text),
 *  else "Request body must be a JSON object". */
json_t *jsonx_parse_object(const char *data, size_t len, char *err, size_t errlen);

/** jsonx_parse_object's flag: accept "\u0000" inside strings (valid JSON), so
 *  that a field holding one can be refused as a bad value rather than as a
 *  malformed body. jsonx_get_str never hands such a string out. */
#define JSONX_ALLOW_NUL 1u

/** jsonx_parse_object with flags (JSONX_ALLOW_NUL). */
json_t *jsonx_parse_object_ex(const char *data, size_t len, unsigned flags, char *err,
                              size_t errlen);

/** Looks up a string field. Returns 0 and sets `*out` (borrowed from `obj`)
 *  when it is a string, 1 when it is absent or null, -1 for another type,
 *  -2 for a string with an embedded NUL (only with JSONX_ALLOW_NUL). */
int jsonx_get_str(const json_t *obj, const char *key, const char **out);

/** Looks up an integer field (a JSON integer; 1.0 or "1" is the wrong type).
 *  Returns 0 and sets `*out`, 1 when absent or null, -1 for another type. */
int jsonx_get_int(const json_t *obj, const char *key, int64_t *out);

/** Looks up a boolean field. Returns 0 and sets `*out`, 1 when absent or
 *  null, -1 for another type. */
int jsonx_get_bool(const json_t *obj, const char *key, bool *out);

#endif
