/* tgstore_fetch: downloads into the chunk cache (loop thread). A fetch fills
 * one cache fill: getFile (the file_path is kept in tg_fpcache, and asked
 * again once when the download gets a 4xx) then a GET of the file URL, with
 * a Range when the fill starts or stops inside the chunk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blob/tgstore.h"
#include "util/log.h"

#define TGSTORE_FETCH_MIN 3 /* chunk downloads at once, at least */

/* Downloads bytes of one chunk into a cache fill. */
struct tgstore_fetch {
  struct tgstore *b;
  struct cache_fill *fill;
  int bot;
  char file_id[TG_FILE_ID_MAX];
  uint64_t size;
  bool refreshed;             /* getFile redone after a stale file_path */
};

static void tgstore_fetch_end(struct tgstore_fetch *f, bool ok)
{
  cache_fill_end(f->b->cache, f->fill, ok);
  free(f);
}

static size_t tgstore_fetch_sink(void *arg, uint64_t off, const char *data, size_t n)
{
  struct tgstore_fetch *f = arg;
  return cache_fill_write(f->b->cache, f->fill, off, data, n);
}

static void tgstore_fetch_getfile(struct tgstore_fetch *f);

static void tgstore_fetch_downloaded(void *arg, struct tg_result *res)
{
  struct tgstore_fetch *f = arg;
  /* A 4xx on the file URL: the file_path may have expired. Ask again, once. */
  if(res->status == TG_FAILED && res->reply.http_status >= 400 && res->reply.http_status < 500 &&
     !f->refreshed) {
    f->refreshed = true;
    tg_fpcache_drop(f->b->fp, f->file_id);
    tgstore_fetch_getfile(f);
    return;
  }
  if(res->status == TG_FAILED)
    log_error("telegram: cannot download file %.24s... (bot %s): %s", f->file_id,
              f->b->bots[f->bot].masked, res->reply.description);
  tgstore_fetch_end(f, res->status == TG_OK);
}

static void tgstore_fetch_download(struct tgstore_fetch *f, const char *path)
{
  struct tgstore *b = f->b;
  uint64_t pos = cache_fill_pos(b->cache, f->fill), stop = cache_fill_stop(b->cache, f->fill);
  if(pos >= stop) {
    tgstore_fetch_end(f, true);
    return;
  }
  if(!tg_download(b->api, b->bots[f->bot].token, path, pos, stop, f->size, NULL,
                  tgstore_fetch_sink, f, tgstore_fetch_downloaded, f)) {
    log_error("telegram: cannot download file_path '%.80s'", path);
    tgstore_fetch_end(f, false);
  }
}

const char *tgstore_file_path(const struct tg_result *res, uint64_t size, const char *file_id)
{
  const json_t *fp = json_object_get(res->reply.result, "file_path");
  const json_t *fs = json_object_get(res->reply.result, "file_size");
  if(!json_is_string(fp) || !json_string_length(fp)) {
    log_error("telegram: getFile for %.24s... gave no file_path", file_id);
    return NULL;
  }
  if(fs && (!json_is_integer(fs) || (uint64_t)json_integer_value(fs) != size)) {
    log_error("telegram: file %.24s... has %lld bytes, expected %llu", file_id,
              json_is_integer(fs) ? (long long)json_integer_value(fs) : -1LL,
              (unsigned long long)size);
    return NULL;
  }
  return json_string_value(fp);
}

static void tgstore_fetch_got_file(void *arg, struct tg_result *res)
{
  struct tgstore_fetch *f = arg;
  const char *path = res->status == TG_OK ? tgstore_file_path(res, f->size, f->file_id) : NULL;
  if(res->status == TG_FAILED)
    log_error("telegram: getFile for %.24s... (bot %s): %s", f->file_id,
              f->b->bots[f->bot].masked, res->reply.description);
  if(!path) {
    tgstore_fetch_end(f, false);
    return;
  }
  tg_fpcache_put(f->b->fp, f->file_id, path, tg_loop_now());
  tgstore_fetch_download(f, path);
}

static void tgstore_fetch_getfile(struct tgstore_fetch *f)
{
  struct tg_param params[] = {{"file_id", f->file_id}};
  if(!tg_call(f->b->api, f->b->bots[f->bot].token, "getFile", params, 1, NULL,
              tgstore_fetch_got_file, f))
    tgstore_fetch_end(f, false);
}

static void tgstore_fetch_start(void *arg)
{
  struct tgstore_fetch *f = arg;
  struct tgstore *b = f->b;
  if(tg_loop_stopping(b->loop)) {
    tgstore_fetch_end(f, false);
    return;
  }
  const char *path = tg_fpcache_get(b->fp, f->file_id, tg_loop_now());
  if(path)
    tgstore_fetch_download(f, path);
  else
    tgstore_fetch_getfile(f);
}

static struct tgstore_fetch *tgstore_fetch_new(struct tgstore *b, struct cache_fill *fill,
                                               int bot, const struct tg_locator *loc,
                                               uint64_t size)
{
  struct tgstore_fetch *f = calloc(1, sizeof(*f));
  if(!f)
    return NULL;
  f->b = b;
  f->fill = fill;
  f->bot = bot;
  f->size = size;
  strcpy(f->file_id, loc->file_id);
  return f;
}

void tgstore_fetch_post(struct tgstore *b, struct cache_fill *fill, int bot,
                        const struct tg_locator *loc, uint64_t size)
{
  struct tgstore_fetch *f = tgstore_fetch_new(b, fill, bot, loc, size);
  if(!f || tg_loop_post(b->loop, tgstore_fetch_start, f) != 0) {
    free(f);
    cache_fill_end(b->cache, fill, false);
  }
}

/* Read-ahead for a reader just opened: runs on the loop a moment later, so a
 * reader that reads at once (maybe far into the chunk) starts its own fill
 * first and this one then has nothing to do. */
struct tgstore_prefetch {
  struct tgstore *b;
  struct cache_entry *entry; /* a reference of its own */
  int bot;
  struct tg_locator loc;
  uint64_t size;
};

static void tgstore_prefetch_run(void *arg)
{
  struct tgstore_prefetch *pf = arg;
  struct tgstore *b = pf->b;
  struct cache_fill *fill = tg_loop_stopping(b->loop) ? NULL : cache_prefetch(b->cache, pf->entry);
  if(fill) {
    struct tgstore_fetch *f = tgstore_fetch_new(b, fill, pf->bot, &pf->loc, pf->size);
    if(f)
      tgstore_fetch_start(f);
    else
      cache_fill_end(b->cache, fill, false);
  }
  cache_release(b->cache, pf->entry);
  free(pf);
}

void tgstore_prefetch_post(struct tgstore *b, int bot, const struct tg_locator *loc,
                           uint64_t size)
{
  struct tgstore_prefetch *pf = calloc(1, sizeof(*pf));
  struct cache_entry *ref = pf ? cache_acquire(b->cache, loc->file_unique_id, size) : NULL;
  if(ref) {
    pf->b = b;
    pf->entry = ref;
    pf->bot = bot;
    pf->loc = *loc;
    pf->size = size;
    if(tg_loop_post(b->loop, tgstore_prefetch_run, pf) == 0)
      return;
  }
  cache_release(b->cache, ref);
  free(pf);
}

/* A chunk download is one connection to the file server, and bandwidth is
 * granted per connection: fetch one chunk per bot at once (at least
 * TGSTORE_FETCH_MIN, so a single bot still reads ahead). */
int tgstore_fetch_parallel(const void *self)
{
  const struct tgstore *b = self;
  return b->nbots > TGSTORE_FETCH_MIN ? b->nbots : TGSTORE_FETCH_MIN;
}
