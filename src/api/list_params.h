/* listing: the query string of a folder or file listing (API §4 listing
 * rules): parent, include_deleted, is_starred, sort, order, limit, offset. */
#ifndef NETRA_LISTING_H
#define NETRA_LISTING_H
#include "drive/drive.h"
#include <jansson.h>
#include <stdint.h>
#include "api/listing_cache.h"
#include "http/http.h"
#include "util/buf.h"

/** Looks up query parameter `key`; NULL when absent. */
typedef const char *(*listing_get_fn)(const void *ctx, const char *key);

/** Parses a listing query. `parent_key` names the parent parameter
 *  ("parent_id" for folders, "folder_id" for files); absent, "" and "root"
 *  mean no parent, anything else is passed on as is (the id is checked by
 *  drive/). Empty values count as absent. Booleans take true/false/1/0/yes/no/
 *  on/off; sort name|size|created_at|updated_at; order asc|desc; limit
 *  1..DRIVE_LIST_MAX (default DRIVE_LIST_DEFAULT); offset >= 0. Returns NULL,
 *  or a human sentence for a 400 (then *out is unspecified). Strings in *out
 *  point into what `get` returned. */
const char *listing_parse(struct drive_listing *out, listing_get_fn get, const void *ctx,
                          const char *parent_key);

/** listing_parse over the request's query string. */
const char *listing_from_request(struct drive_listing *out, const struct http_req *r,
                                 const char *parent_key);

/** A page of a listing, written as JSON text while the rows arrive. */
struct listing_page {
  buf_t out;
  size_t count;
  int rc;        /* BUF_OK, or the first error writing it */
};

/** What a listing reply starts with: about a hundred rows. */
#define LISTING_REPLY_RESERVE (64u * 1024)
/** Largest listing reply: 10000 rows of at most a few KiB each. */
#define LISTING_REPLY_MAX (64u * 1024 * 1024)

/** Starts a page: "[". */
void listing_page_init(struct listing_page *p);
/** Before each row's object: the separator. DRIVE_OK, or DRIVE_INTERNAL
 *  once writing failed (a row callback returns it to stop the listing). */
int listing_page_next(struct listing_page *p);
/** After a row's object: `rc` is the result of writing it. DRIVE_OK or
 *  DRIVE_INTERNAL, as listing_page_next. */
int listing_page_done(struct listing_page *p, int rc);
/** Frees a page that was not replied with. */
void listing_page_free(struct listing_page *p);
/** Answers 200 with the page (taken) and the whole count in X-Total-Count;
 *  500 when writing it failed. A page read under key `k` (NULL: none) is
 *  kept in the listing cache. */
int listing_reply(struct http_req *r, struct listing_page *p, int64_t total,
                  const struct listing_key *k);

#endif
