/* framing: strict HTTP/1.1 message framing (RFC 9112 §6.1, §6.3), checked
 * before any route runs: a request whose body length is in any doubt
 * (Content-Length with Transfer-Encoding, two different or malformed
 * Content-Lengths, a coding other than chunked) is refused, and its
 * connection closed, so no request hidden in a body is ever served. */
#ifndef NETRA_FRAMING_H
#define NETRA_FRAMING_H
#include <stdbool.h>
#include <stdint.h>

#define FRAMING_BOTH "Content-Length with Transfer-Encoding"
#define FRAMING_BAD_CL "Invalid Content-Length"
#define FRAMING_BAD_TE "Invalid Transfer-Encoding"
#define FRAMING_TE_UNSUPPORTED "Unsupported Transfer-Encoding"
#define FRAMING_TE_HTTP10 "Transfer-Encoding in HTTP/1.0"
#define FRAMING_BAD_NAME "Invalid header field name"

/** What the framing header fields of one request said. */
struct framing {
  bool bad_name;    /* whitespace in a name, or a mangled framing name */
  int ncl;          /* Content-Length fields */
  uint64_t cl;      /* the first one's value */
  bool cl_bad;      /* one is not a plain decimal, or two differ */
  int nte;          /* Transfer-Encoding fields */
  int nchunked;     /* "chunked" codings in all of them */
  bool te_other;    /* a coding other than chunked */
  bool te_odd;      /* a field that is not exactly "chunked" */
};

/** Records one header field (any name; others are ignored). */
void framing_add(struct framing *f, const char *name, const char *value);
/** 0 when the framing is unambiguous, else the status to answer with and
 *  its detail in *detail. The connection must then be closed. */
unsigned framing_verdict(const struct framing *f, bool http10, const char **detail);

#endif
