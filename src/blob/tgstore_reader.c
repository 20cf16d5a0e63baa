/* tgstore_reader: reading a chunk (any thread). In cloud mode a reader reads
 * the cache entry of its chunk and waits (BLOB_AGAIN + wake) for fills to
 * bring the rest; opening it posts a read-ahead. In local mode (a
 * self-hosted Bot API server) getFile gives an absolute path that is read
 * directly, falling back to the cache when it is not on this machine. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob/tgstore.h"
#include "util/log.h"
#include "util/metric_list.h"

enum tgstore_local { TGSTORE_LOCAL_NONE, TGSTORE_LOCAL_RESOLVING, TGSTORE_LOCAL_READY,
                     TGSTORE_LOCAL_FALLBACK, TGSTORE_LOCAL_FAILED };

struct tgstore_resolve;

struct tgstore_reader {
  struct tgstore *b;
  struct tg_locator loc;
  int bot;
  uint64_t size;
  struct cache_entry *entry;
  struct cache_waiter w;
  void (*wake)(void *arg);
  void *wake_arg;
  /* Local mode, under b->lock: */
  enum tgstore_local local;
  int fd;
  bool waiting;
  struct tgstore_resolve *resolving;
};

/* getFile for a local-mode reader. */
struct tgstore_resolve {
  struct tgstore *b;
  struct tgstore_reader *rd;  /* NULL once the reader closed (under b->lock) */
  int bot;
  char file_id[TG_FILE_ID_MAX];
  uint64_t size;
};

/* ---- local mode: read the Bot API server's file directly ------------------- */

static void tgstore_resolve_done(struct tgstore_resolve *rs, const char *path)
{
  struct tgstore *b = rs->b;
  int fd = -1;
  if(path && path[0] == '/') {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if(fd >= 0 && (fstat(fd, &st) != 0 || (uint64_t)st.st_size < rs->size)) {
      close(fd);
      fd = -1;
    }
  }
  pthread_mutex_lock(&b->lock);
  struct tgstore_reader *rd = rs->rd;
  if(rd) {
    rd->resolving = NULL;
    if(fd >= 0) {
      rd->fd = fd;
      rd->local = TGSTORE_LOCAL_READY;
      fd = -1;
    }
    else /* not on this machine after all: download it like in cloud mode */
      rd->local = path ? TGSTORE_LOCAL_FALLBACK : TGSTORE_LOCAL_FAILED;
    if(rd->waiting) {
      rd->waiting = false;
      if(rd->wake)
        rd->wake(rd->wake_arg);
    }
  }
  pthread_mutex_unlock(&b->lock);
  if(fd >= 0)
    close(fd);
  free(rs);
}

static void tgstore_resolve_got_file(void *arg, struct tg_result *res)
{
  struct tgstore_resolve *rs = arg;
  const char *path = res->status == TG_OK ? tgstore_file_path(res, rs->size, rs->file_id) : NULL;
  if(res->status == TG_FAILED)
    log_error("telegram: getFile for %.24s... (bot %s): %s", rs->file_id,
              rs->b->bots[rs->bot].masked, res->reply.description);
  if(path)
    tg_fpcache_put(rs->b->fp, rs->file_id, path, tg_loop_now());
  tgstore_resolve_done(rs, path);
}

static void tgstore_resolve_start(void *arg)
{
  struct tgstore_resolve *rs = arg;
  struct tgstore *b = rs->b;
  const char *path = tg_fpcache_get(b->fp, rs->file_id, tg_loop_now());
  if(path || tg_loop_stopping(b->loop)) {
    tgstore_resolve_done(rs, path);
    return;
  }
  struct tg_param params[] = {{"file_id", rs->file_id}};
  if(!tg_call(b->api, b->bots[rs->bot].token, "getFile", params, 1, NULL,
              tgstore_resolve_got_file, rs))
    tgstore_resolve_done(rs, NULL);
}

/* Local-mode read; sets *fallback (returning 0) when the reader must use
 * the cache path instead. */
static ssize_t tgstore_local_pread(struct tgstore_reader *rd, void *buf, size_t n, uint64_t off,
                                   bool *fallback)
{
  struct tgstore *b = rd->b;
  *fallback = false;
  pthread_mutex_lock(&b->lock);
  switch(rd->local) {
  case TGSTORE_LOCAL_READY: {
    int fd = rd->fd;
    pthread_mutex_unlock(&b->lock);
    ssize_t got;
    do
      got = pread(fd, buf, n, (off_t)off);
    while(got < 0 && errno == EINTR);
    return got > 0 ? got : BLOB_ERR;
  }
  case TGSTORE_LOCAL_FALLBACK:
    pthread_mutex_unlock(&b->lock);
    *fallback = true;
    return 0;
  case TGSTORE_LOCAL_FAILED:
    pthread_mutex_unlock(&b->lock);
    return BLOB_ERR;
  case TGSTORE_LOCAL_RESOLVING:
    rd->waiting = true;
    pthread_mutex_unlock(&b->lock);
    return BLOB_AGAIN;
  case TGSTORE_LOCAL_NONE:
    break;
  }
  struct tgstore_resolve *rs = calloc(1, sizeof(*rs));
  if(!rs) {
    pthread_mutex_unlock(&b->lock);
    return BLOB_ERR;
  }
  rs->b = b;
  rs->rd = rd;
  rs->bot = rd->bot;
  rs->size = rd->size;
  strcpy(rs->file_id, rd->loc.file_id);
  rd->resolving = rs;
  rd->local = TGSTORE_LOCAL_RESOLVING;
  rd->waiting = true;
  pthread_mutex_unlock(&b->lock);
  if(tg_loop_post(b->loop, tgstore_resolve_start, rs) != 0) {
    pthread_mutex_lock(&b->lock);
    rd->resolving = NULL;
    rd->local = TGSTORE_LOCAL_FAILED;
    rd->waiting = false;
    pthread_mutex_unlock(&b->lock);
    free(rs);
    return BLOB_ERR;
  }
  return BLOB_AGAIN;
}

/* ---- readers (any thread) ---------------------------------------------------- */

int tgstore_reader_open(void *self, const char *locator, uint64_t size, void **out)
{
  struct tgstore *b = self;
  struct tgstore_reader *rd = NULL;
  struct tg_locator loc;
  *out = NULL;
  if(tg_locator_parse(locator, &loc) != 0) {
    log_error("telegram: malformed chunk locator '%.64s'", locator);
    return BLOB_ERR;
  }
  int bot = tgstore_bot_by_id(b, loc.bot_id);
  if(bot < 0) {
    log_error("telegram: chunk stored by bot %lld, which is not in TELEGRAM_BOT_TOKEN",
              (long long)loc.bot_id);
    return BLOB_ERR;
  }
  if(size == 0 || !(rd = calloc(1, sizeof(*rd))))
    return BLOB_ERR;
  rd->b = b;
  rd->loc = loc;
  rd->bot = bot;
  rd->size = size;
  rd->fd = -1;
  rd->local = TGSTORE_LOCAL_NONE;
  if(!b->local_mode) {
    rd->entry = cache_acquire(b->cache, loc.file_unique_id, size);
    if(!rd->entry) {
      free(rd);
      return BLOB_ERR;
    }
    if(!cache_entry_complete(b->cache, rd->entry)) {
      metric_add(&metric_cache_misses, NULL, 1);
      tgstore_prefetch_post(b, bot, &loc, size);
    }
    else
      metric_add(&metric_cache_hits, NULL, 1);
  }
  *out = rd;
  return BLOB_OK;
}

ssize_t tgstore_reader_pread(void *self, void *buf, size_t n, uint64_t off)
{
  struct tgstore_reader *rd = self;
  struct tgstore *b = rd->b;
  if(off >= rd->size || n == 0)
    return 0;
  if(n > rd->size - off)
    n = (size_t)(rd->size - off);
  if(b->local_mode) {
    bool fallback;
    ssize_t r = tgstore_local_pread(rd, buf, n, off, &fallback);
    if(!fallback)
      return r;
    if(!rd->entry) {
      rd->entry = cache_acquire(b->cache, rd->loc.file_unique_id, rd->size);
      if(!rd->entry)
        return BLOB_ERR;
      cache_waiter_set(b->cache, &rd->w, rd->wake, rd->wake_arg);
    }
  }
  struct cache_fill *fill;
  ssize_t r = cache_read(b->cache, rd->entry, buf, n, off, &rd->w, &fill);
  if(fill)
    tgstore_fetch_post(b, fill, rd->bot, &rd->loc, rd->size);
  if(r == CACHE_AGAIN)
    return BLOB_AGAIN;
  if(r < 0)
    log_error("telegram: cannot read chunk %lld:%lld (bot %s)", (long long)rd->loc.chat_id,
              (long long)rd->loc.message_id, b->bots[rd->bot].masked);
  return r < 0 ? BLOB_ERR : r;
}

void tgstore_reader_set_wake(void *self, void (*wake)(void *arg), void *arg)
{
  struct tgstore_reader *rd = self;
  struct tgstore *b = rd->b;
  pthread_mutex_lock(&b->lock);
  rd->wake = wake;
  rd->wake_arg = arg;
  pthread_mutex_unlock(&b->lock);
  cache_waiter_set(b->cache, &rd->w, wake, arg);
}

void tgstore_reader_close(void *self)
{
  struct tgstore_reader *rd = self;
  if(!rd)
    return;
  struct tgstore *b = rd->b;
  pthread_mutex_lock(&b->lock);
  if(rd->resolving)
    rd->resolving->rd = NULL; /* it frees itself */
  pthread_mutex_unlock(&b->lock);
  if(rd->entry) {
    cache_unwait(b->cache, &rd->w);
    cache_release(b->cache, rd->entry);
  }
  if(rd->fd >= 0)
    close(rd->fd);
  free(rd);
}

