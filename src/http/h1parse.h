/* h1parse: a strict HTTP/1.1 request-head parser and chunked-body decoder
 * (RFC 9112), pure functions over caller-owned bytes: no I/O, no global
 * state. The head is parsed in place (fields are NUL-terminated where they
 * lie); the chunked decoder moves body bytes to the front of the buffer it
 * is given, so neither copies a byte it need not. */
#ifndef NETRA_H1PARSE_H
#define NETRA_H1PARSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H1_FIELDS_MAX 128 /* header fields in one request (nginx has no cap; 128 is plenty) */

struct h1_field {
  const char *name;
  const char *value;
};

struct h1_head {
  const char *method;
  char *target;          /* as sent: path and query, not decoded */
  int minor;             /* HTTP/1.<minor>: 0 or 1 */
  size_t uri_len;        /* the target's length */
  size_t fields_len;     /* the fields' bytes, as the caps count them */
  int nfields;
  struct h1_field fields[H1_FIELDS_MAX];
};

/* Results of h1_head_parse (negative: refuse with that status). */
#define H1_INCOMPLETE 0

/** Finds the end of a head in buf[0, len), resuming the search at *scan
 *  (start at 0; the function keeps it). Leading empty lines (RFC 9112 §2.2)
 *  are part of the head. Returns the head's length including its final
 *  empty line, or 0 while incomplete. */
size_t h1_head_end(const char *buf, size_t len, size_t *scan);

/** Parses a complete head of `len` bytes (from h1_head_end) in place.
 *  Returns 0, or an HTTP status (400, 414, 431, 505) with *detail set. */
unsigned h1_head_parse(char *buf, size_t len, struct h1_head *h, const char **detail);

/** The status and detail for a head still incomplete at `len` bytes that
 *  may not grow further (the caps), judged by whether its request line
 *  ended. */
unsigned h1_head_overflow(const char *buf, size_t len, const char **detail);

/** The first field named `name` (any case), or NULL. */
const char *h1_field(const struct h1_head *h, const char *name);

/* ---- chunked transfer coding (RFC 9112 §7.1) ---- */

struct h1_chunked {
  int state;
  uint64_t left;        /* data bytes left in the current chunk */
  unsigned digits;      /* hex digits of the size read so far */
  size_t line;          /* bytes of the current extension or trailer line */
  size_t trailers;      /* bytes of trailer section */
  bool done;            /* the last chunk and trailers are in */
  bool error;           /* malformed: refuse with 400 */
};

/** Decodes buf[0, len) in place: the body bytes found are moved to
 *  buf[0, *out), in order. Returns the bytes of input consumed: all of
 *  them, unless the body ends inside (st->done; the rest belongs to the
 *  next request) or is malformed (st->error). */
size_t h1_chunked_run(struct h1_chunked *st, char *buf, size_t len, size_t *out);

/** True when `s` is a token (RFC 9110 §5.6.2). */
bool h1_is_token(const char *s, size_t n);
/** True when the comma-separated list `value` (a Connection field) holds
 *  `token` as one whole element, any case: "close" is in "Keep-Alive, close"
 *  but not in "x-close-notify". */
bool h1_list_has(const char *value, const char *token);

#endif
