/* listing_cache: the listing pages each HTTP thread rendered last, served
 * again while the database is unchanged (API §4; DECISIONS "Listing cache").
 *
 * The same listing is asked for far more often than its folder changes
 * (every navigation and refresh of the web app re-lists), and a page costs
 * a query walk and a JSON object per row. A stored page is served only when
 * the database stamp (drive_stamp_take) equals the one taken before that
 * page was read, so it is never older than a fresh read would be: any
 * change anywhere, by this server or another process on the same database,
 * retires every stored page. Pages are kept per thread, because a stamp is
 * a property of the thread's own connection, and keyed by the caller and
 * the whole query, so nobody is served another user's page. Bounded: at
 * most LISTING_CACHE bytes per HTTP thread. */
#ifndef NETRA_LISTING_CACHE_H
#define NETRA_LISTING_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drive/drive.h"
#include "http/http.h"

#define LISTING_KEY_MAX 160

/** One listing request as the cache sees it. */
struct listing_key {
  char text[LISTING_KEY_MAX];
  struct drive_stamp stamp;
  bool usable;            /* false: neither served from nor stored */
};

/** Bytes of pages each thread may keep (0 turns the cache off). Call
 *  before the HTTP threads start. */
void listing_cache_setup(size_t bytes_per_thread);
/** Describes the listing of `kind` ("files", "folders") that `user` asks for
 *  with `q`, and takes the database stamp it would be read at. */
void listing_key_make(struct listing_key *k, const char *kind, const char *user,
                      const struct drive_listing *q);
/** On a hit, answers with the stored page (200, X-Total-Count) and returns
 *  true with the reply's result in *ret. */
bool listing_cache_reply(struct http_req *r, const struct listing_key *k, int *ret);
/** Keeps a copy of a finished page (`len` bytes of JSON) and its total. */
void listing_cache_put(const struct listing_key *k, const char *body, size_t len, int64_t total);

#endif
