/* multipart: a streaming multipart/form-data parser (RFC 7578). Bytes are fed
 * as they arrive; part bodies come out through callbacks without ever being
 * buffered, so a part of any size passes in constant memory. */
#ifndef NETRA_MULTIPART_H
#define NETRA_MULTIPART_H
#include <stdbool.h>
#include <stddef.h>

#define MP_BOUNDARY_MAX 70
#define MP_HEADERS_MAX (16 * 1024)
#define MP_FIELD_MAX 1024

enum { MP_OK = 0, MP_ERR_SYNTAX = -1, MP_ERR_CALLBACK = -2 };

struct mp_part {
  char name[MP_FIELD_MAX];       /* form field name */
  char filename[MP_FIELD_MAX];   /* "" when the part is not a file */
  bool has_filename;
  char content_type[256];
};

struct mp_callbacks {
  /** A part's headers are complete. Non-zero aborts parsing. */
  int (*part_begin)(void *arg, const struct mp_part *part);
  /** Body bytes of the current part (any size, possibly 0 parts per call). */
  int (*part_data)(void *arg, const char *data, size_t len);
  /** The current part ended. */
  int (*part_end)(void *arg);
};

struct mp_parser {
  int state;
  char delim[MP_BOUNDARY_MAX + 5];   /* "\r\n--" + boundary */
  size_t dlen;
  size_t matched;                    /* delimiter bytes matched so far */
  char hdr[MP_HEADERS_MAX];
  size_t hlen;
  struct mp_part part;
  const struct mp_callbacks *cb;
  void *arg;
  const char *error;                 /* why parsing failed */
};

/** Extracts the boundary parameter from a Content-Type header value
 *  ("multipart/form-data; boundary=..."). Returns 0 or -1. */
int mp_boundary_from_content_type(const char *ct, char *out, size_t outsz);
/** Prepares a parser for the given boundary. Returns 0 or -1 (bad boundary). */
int mp_init(struct mp_parser *p, const char *boundary, const struct mp_callbacks *cb, void *arg);
/** Feeds bytes. Returns MP_OK, MP_ERR_SYNTAX (p->error says why) or
 *  MP_ERR_CALLBACK when a callback refused. */
int mp_feed(struct mp_parser *p, const char *data, size_t len);
/** True once the closing delimiter has been seen. */
bool mp_done(const struct mp_parser *p);

#endif
