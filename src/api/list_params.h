/* listing: the query string of a folder or file listing (API §4 listing
 * rules): parent, include_deleted, is_starred, sort, order, limit, offset. */
#ifndef NETRA_LISTING_H
#define NETRA_LISTING_H
#include "drive/drive.h"
#include <jansson.h>
#include <stdint.h>
#include "http/http.h"

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

/** Answers 200 with the page `arr` (taken) and the whole count in
 *  X-Total-Count. */
int listing_reply(struct http_req *r, json_t *arr, int64_t total);

#endif
