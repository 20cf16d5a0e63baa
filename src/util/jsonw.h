/* jsonw: JSON written straight into a bounded buffer, for replies built from
 * many rows (listings), where building a jansson tree and dumping it costs
 * more than the query. The output is byte for byte what jansson's
 * json_dumps(..., JSON_COMPACT) gives for the same values: strings escape
 * '"', '\\' and control characters (\b \f \n \r \t, else \u00XX), nothing
 * else; no spaces. Each call returns BUF_OK or a buf error (the buffer's
 * bound reached, or out of memory); callers stop at the first error. */
#ifndef NETRA_JSONW_H
#define NETRA_JSONW_H
#include <stdbool.h>
#include <stdint.h>
#include "util/buf.h"

/** A JSON string of the NUL-terminated UTF-8 text `s`. */
int jsonw_str(buf_t *b, const char *s);
/** "key": — a member's name and the colon; the value follows. */
int jsonw_key(buf_t *b, const char *key);
/** The text `s` as a string, or null when it is NULL or "". */
int jsonw_opt_str(buf_t *b, const char *s);
int jsonw_int(buf_t *b, int64_t v);
int jsonw_bool(buf_t *b, bool v);
int jsonw_null(buf_t *b);
/** Raw punctuation: "{", "}", "[", "]", ",". */
int jsonw_raw(buf_t *b, const char *s);
/** Raw text given as a string literal: its length is known when compiling. */
#define jsonw_lit(b, s) buf_append((b), "" s, sizeof(s) - 1)

#endif
