/* range: RFC 9110 byte ranges (Range, If-Range, §14) and the conditional
 * requests that decide between 200, 206, 304, 412 and 416 (If-Match,
 * If-None-Match, If-Modified-Since, If-Unmodified-Since, §13), as pure
 * functions over header values: no sockets, no I/O, no clock, no locale. The
 * server's download responder uses it, and so can a test tool (the fake
 * Telegram server) by including range.c.
 *
 * Policy:
 *  - a Range header with bad syntax, another unit, or more than RANGE_MAX
 *    range-specs is ignored (200 with everything), as RFC 9110 §14.2 allows;
 *  - only GET honours Range (HEAD answers as a plain GET would: 200);
 *  - numbers too big for 64 bits saturate: `bytes=99999999999999999999-` is
 *    unsatisfiable (416), `bytes=0-99999999999999999999` is everything;
 *  - several ranges are sorted and coalesced when they overlap or lie closer
 *    than RANGE_COALESCE_GAP bytes (§14.2 allows both); one that remains is a
 *    plain 206, several a multipart/byteranges 206;
 *  - an empty representation satisfies no range: any Range on it is a 416. */
#ifndef NETRA_RANGE_H
#define NETRA_RANGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RANGE_MAX 64           /* range-specs accepted in one header */
#define RANGE_COALESCE_GAP 80  /* about the size of one multipart part header */
#define RANGE_DATE_LEN 30      /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */

/** One byte range, inclusive at both ends, already clamped to the size. */
struct range {
  uint64_t first;
  uint64_t last;
};

enum range_result {
  RANGE_IGNORE = 0,    /* absent, invalid, other unit, too many specs: send all */
  RANGE_OK = 1,        /* at least one satisfiable range */
  RANGE_UNSATISFIABLE = 2
};

/** Parses a Range field value for a representation of `size` bytes. On
 *  RANGE_OK, out[0..*n) holds the satisfiable ranges in request order,
 *  clamped to the size (unsatisfiable specs are dropped). `max` (at most
 *  RANGE_MAX is useful) bounds the specs accepted: a header with more is
 *  RANGE_IGNORE. NULL `value` is RANGE_IGNORE. */
enum range_result range_parse(const char *value, uint64_t size, struct range *out, size_t max,
                              size_t *n);

/** Sorts ranges by start and merges those that overlap or are separated by
 *  fewer than `gap` bytes. Returns the new count (>= 1 when n >= 1). */
size_t range_coalesce(struct range *rs, size_t n, uint64_t gap);

/** Matches entity tag `etag` (a full tag as sent, e.g. "\"abc\"" or
 *  "W/\"abc\"") against an If-Match / If-None-Match field value: `*`, or a
 *  comma list of entity tags. `weak` selects weak comparison (If-None-Match),
 *  else strong comparison (If-Match: weak tags never match). Parsing stops at
 *  the first malformed element (the elements before it still count). */
bool range_etag_match(const char *list, const char *etag, bool weak);

/** Parses an HTTP-date in any of the three formats a recipient must accept
 *  (IMF-fixdate, RFC 850, asctime) into seconds since the epoch. 0 on
 *  success, -1 when malformed. */
int range_date_parse(const char *s, int64_t *secs);

/** Formats seconds since the epoch as an IMF-fixdate
 *  ("Sun, 06 Nov 1994 08:49:37 GMT"). Times outside years 0..9999 are
 *  clamped to them. */
void range_date_format(int64_t secs, char out[RANGE_DATE_LEN]);

/** The request's header values (NULL when absent). */
struct range_request {
  const char *range;
  const char *if_range;
  const char *if_match;
  const char *if_none_match;
  const char *if_modified_since;
  const char *if_unmodified_since;
  bool is_get;   /* Range applies to GET only (RFC 9110 §14.2) */
};

/** What to answer. */
struct range_plan {
  unsigned status;   /* 200, 206, 304, 412 or 416 */
  size_t n;          /* 206: ranges (1 = single part; more = multipart) */
  struct range ranges[RANGE_MAX];
};

/** Evaluates the preconditions in RFC 9110 §13.2.2 order, then the Range
 *  (with If-Range) against a representation of `size` bytes whose strong
 *  entity tag is `etag` (quoted, e.g. "\"<sha256>\"") and whose
 *  Last-Modified is `mtime` (seconds). `now` is the server's clock
 *  (seconds): an If-Modified-Since later than it is invalid and ignored
 *  (RFC 9110 §13.1.3). */
void range_evaluate(const struct range_request *rq, uint64_t size, const char *etag,
                    int64_t mtime, int64_t now, struct range_plan *plan);

#endif
