/* response: what a route answers with: header fields and a body that is
 * either a buffer (its length known) or a reader called for one block at a
 * time (its length known, or HTTP_SIZE_UNKNOWN: then sent chunked, or, to an
 * HTTP/1.0 client, until the connection closes). The connection (conn.c)
 * writes it; http_reply_response() hands one over. */
#ifndef NETRA_HTTP_RESPONSE_H
#define NETRA_HTTP_RESPONSE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/buf.h"
#include "util/cidr.h"

#define HTTP_SIZE_UNKNOWN UINT64_MAX
/* What a reader returns besides a byte count (0: "nothing now": it has
 * suspended the connection, http_conn_suspend, and resumes it later). */
#define HTTP_READER_END_OF_STREAM ((ssize_t)-1)
#define HTTP_READER_END_WITH_ERROR ((ssize_t)-2) /* the connection is closed at once */

/** Fills up to `max` bytes of the body at offset `pos` (the bytes produced
 *  so far) into `buf`. */
typedef ssize_t (*http_reader_fn)(void *cls, uint64_t pos, char *buf, size_t max);

/** How a buffer is held: used where it lies (static data), taken over and
 *  freed with the response, or copied. */
enum http_mem { HTTP_MEM_PERSISTENT, HTTP_MEM_MUST_FREE, HTTP_MEM_MUST_COPY };

struct http_req;
/** A connection's place under MAX_CONNECTIONS and MAX_CONNECTIONS_PER_IP:
 *  an upgraded socket keeps it until it closes (http_slot_release). */
struct http_slot {
  bool held;
  bool counted;            /* ... and a per-address slot for `addr` */
  struct cidr_addr addr;
};
/** Gives the slot back (once; a slot not held is left alone). */
void http_slot_release(struct http_slot *slot);

/** After a 101 went out: the socket is the callee's (it closes it, then
 *  releases `slot`); `extra` holds the bytes already read past the head. */
typedef void (*http_upgrade_fn)(void *cls, struct http_req *r, const char *extra,
                                size_t extra_len, int fd, struct http_slot slot);

struct http_resp_field {
  struct http_resp_field *next;
  size_t name_len;
  char text[];   /* "Name: value" */
};

struct http_response {
  struct http_resp_field *fields, *fields_tail;
  const char *data;          /* buffer body */
  char *owned;               /* ... when ours to free */
  uint64_t size;             /* body length, or HTTP_SIZE_UNKNOWN */
  size_t block;              /* reader: the most asked for at once */
  http_reader_fn reader;
  void *cls;
  void (*free_cb)(void *cls);
  http_upgrade_fn upgrade;
  bool close;                /* a "Connection: close" field was added */
};

/** A response whose body is `len` bytes at `data`; NULL when out of memory
 *  (the data is then still the caller's). */
struct http_response *http_response_buffer(size_t len, const void *data, enum http_mem mode);
/** A response whose body `reader` produces, `size` bytes (or
 *  HTTP_SIZE_UNKNOWN), at most `block` at a time; `free_cb(cls)` runs when
 *  the response is freed (NULL when out of memory: `cls` is still the
 *  caller's). */
struct http_response *http_response_callback(uint64_t size, size_t block, http_reader_fn reader,
                                             void *cls, void (*free_cb)(void *cls));
/** Appends the next part of a paged body to `out` (empty at each call):
 *  1 when more follows, 0 when that was the last, -1 on a fault (the
 *  connection is then cut: the status has long gone out). */
typedef int (*http_page_fn)(void *cls, buf_t *out);
/** A response of unknown length (chunked) built a page at a time, for
 *  listings that must not be held whole: first what `out` already holds
 *  (a head, a first page read before the status), then what `more` appends
 *  page after page. `out` lies in `cls`; `free_cb(cls)` runs when the
 *  response is freed (NULL when out of memory: `cls` is still the caller's). */
struct http_response *http_response_pages(buf_t *out, http_page_fn more, void *cls,
                                          void (*free_cb)(void *cls));
/** A 101 response: `fn(cls, ...)` takes the socket once it is sent. */
struct http_response *http_response_upgrade(http_upgrade_fn fn, void *cls);
/** Adds a header field (copied). 0, or -1 when out of memory or the name
 *  or value would break the head (CR, LF, a bad name). */
int http_response_header(struct http_response *resp, const char *name, const char *value);
/** The first value of field `name` (any case), or NULL. */
const char *http_response_get(const struct http_response *resp, const char *name);
void http_response_free(struct http_response *resp);

#endif
