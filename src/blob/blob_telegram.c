/* blob_telegram: chunks as documents in private Telegram chats.
 *
 * Several bots (TELEGRAM_BOT_TOKEN) and several chats
 * (TELEGRAM_STORAGE_CHAT_ID); every bot must be in every chat. A chunk goes
 * to the next chat whose pace allows a message now, sent by the next bot
 * whose pace allows it, so chunks spread round-robin over bots x chats and a
 * rate-limited chat is skipped while it cools down. At most
 * TELEGRAM_PARALLEL_UPLOADS documents are being sent at once. Pacing per
 * chat and per bot (below) can be turned off with TELEGRAM_PACING=false for
 * a fake server; 429s are honoured either way. Failed or redundant chunks
 * are deleted by the sweeper, in deleteMessages batches per bot and chat.
 *
 * Threads: everything Telegram-side runs on the tg_loop thread (one libcurl
 * multi handle): the put queue, the scheduler, the paces, the file_path
 * cache, fetches. Other threads only post work to it. blob_put returns at
 * once and `done` runs later on that thread. Reads go through the disk chunk
 * cache (blob/cache): a reader reads what has arrived and waits (BLOB_AGAIN +
 * wake) for the rest; opening a reader starts fetching the chunk (read-ahead)
 * and a read far ahead of that fetch starts a Range fetch of its own. In
 * local mode (TELEGRAM_LOCAL_MODE, a self-hosted Bot API server) getFile
 * gives an absolute path on this machine, read directly.
 *
 * The locator is tg_locator's "tg1:<bot id>:<chat id>:<message id>:
 * <file_unique_id>:<file_id>"; the cache key is the file_unique_id. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blob/backend.h"
#include "blob/cache.h"
#include "telegram/tg_api.h"
#include "telegram/tg_fpcache.h"
#include "telegram/tg_locator.h"
#include "util/log.h"

#define TGB_MAX_BOTS 64
#define TGB_MAX_CHATS 64
/* Telegram's limits: about 1 message/s per chat with short bursts, 20 a
 * minute in a group or channel, about 30/s per bot overall. We stay a
 * little under: Telegram times a message when it has arrived, we when it
 * leaves, and uploads take varying time. */
#define TGB_CHAT_PER_SEC 0.9
#define TGB_CHAT_BURST 3
#define TGB_CHAT_PER_MIN 20
#define TGB_BOT_PER_SEC 25.0
#define TGB_BOT_BURST 25
#define TGB_FETCH_MIN 3        /* chunk downloads at once, at least */
#define TGB_CHECK_ATTEMPTS 3   /* start-up getMe / getChat */
#define TGB_CHECK_TIMEOUT_S 20
#define TGB_DELETE_ATTEMPTS 3  /* the sweeper retries on its own schedule */
#define TGB_DELETE_TIMEOUT_S 15 /* the sweeper must not hang a shutdown for long */

struct tgb_bot {
  char *token;
  int64_t id;
  char masked[TG_TOKEN_MASKED_MAX];
  struct tg_pace pace; /* loop thread */
};

struct tgb_chat {
  int64_t id;          /* numeric, from getChat */
  char name[80];       /* as configured, for messages */
  struct tg_pace pace; /* loop thread */
};

struct tgb {
  struct tg_api *api;
  struct tg_loop *loop;
  struct tgb_bot bots[TGB_MAX_BOTS];
  int nbots;
  struct tgb_chat chats[TGB_MAX_CHATS];
  int nchats;
  bool local_mode;
  bool pacing;
  int parallel;
  struct cache *cache;
  pthread_mutex_t lock;       /* readers' local-mode state */
  atomic_uint_fast64_t put_seq; /* numbers puts, for blob_cancel */
  /* Loop thread only: */
  struct tgb_put *queue, *queue_tail;
  struct tgb_put *flight;     /* being sent */
  int sending;
  int rr_chat, rr_bot;
  bool sched_pending;         /* a scheduler timer is set */
  struct tg_fpcache *fp;
};

struct tgb_put {
  struct tgb *b;
  char spool[BLOB_PATH_MAX];
  char filename[48];
  uint64_t size;
  blob_done_fn done;
  void *arg;
  uint64_t seq;
  int bot, chat;
  struct tg_call *call;       /* while being sent */
  struct tgb_put *next;       /* in the queue, then in the flight list */
};

/* Downloads bytes of one chunk into a cache fill. */
struct tgb_fetch {
  struct tgb *b;
  struct cache_fill *fill;
  int bot;
  char file_id[TG_FILE_ID_MAX];
  uint64_t size;
  bool refreshed;             /* getFile redone after a stale file_path */
};

enum tgb_local { TGB_LOCAL_NONE, TGB_LOCAL_RESOLVING, TGB_LOCAL_READY, TGB_LOCAL_FALLBACK,
                 TGB_LOCAL_FAILED };

struct tgb_resolve;

struct tgb_reader {
  struct tgb *b;
  struct tg_locator loc;
  int bot;
  uint64_t size;
  struct cache_entry *entry;
  struct cache_waiter w;
  void (*wake)(void *arg);
  void *wake_arg;
  /* Local mode, under b->lock: */
  enum tgb_local local;
  int fd;
  bool waiting;
  struct tgb_resolve *resolving;
};

/* getFile for a local-mode reader. */
struct tgb_resolve {
  struct tgb *b;
  struct tgb_reader *rd;      /* NULL once the reader closed (under b->lock) */
  int bot;
  char file_id[TG_FILE_ID_MAX];
  uint64_t size;
};

static int tgb_bot_by_id(const struct tgb *b, int64_t id)
{
  for(int i = 0; i < b->nbots; i++)
    if(b->bots[i].id == id)
      return i;
  return -1;
}

/* ---- uploads (loop thread) ------------------------------------------------ */

static void tgb_schedule(struct tgb *b);

static void tgb_sched_timer(void *arg)
{
  struct tgb *b = arg;
  b->sched_pending = false;
  tgb_schedule(b);
}

static void tgb_put_finish(struct tgb_put *p, int rc, const char *locator)
{
  unlink(p->spool); /* consumed whatever the outcome */
  p->done(p->arg, rc, locator);
  free(p);
}

/* Reads the Message of a sendDocument into a locator. */
static int tgb_message_locator(const struct tgb_put *p, const json_t *msg, struct tg_locator *loc,
                               char *why, size_t whylen)
{
  const json_t *doc = json_object_get(msg, "document");
  const json_t *mid = json_object_get(msg, "message_id");
  const json_t *cid = json_object_get(json_object_get(msg, "chat"), "id");
  const json_t *fid = json_object_get(doc, "file_id");
  const json_t *fuid = json_object_get(doc, "file_unique_id");
  const json_t *fsize = json_object_get(doc, "file_size");
  memset(loc, 0, sizeof(*loc));
  if(json_is_integer(mid))
    loc->message_id = json_integer_value(mid);
  if(!json_is_object(msg) || !json_is_integer(mid) || !json_is_integer(cid) ||
     !json_is_string(fid) || !json_is_string(fuid)) {
    snprintf(why, whylen, "the reply is not a message with a document");
    return -1;
  }
  if(fsize && (!json_is_integer(fsize) || (uint64_t)json_integer_value(fsize) != p->size)) {
    snprintf(why, whylen, "Telegram stored %lld bytes of %llu",
             json_is_integer(fsize) ? (long long)json_integer_value(fsize) : -1LL,
             (unsigned long long)p->size);
    return -1;
  }
  loc->bot_id = p->b->bots[p->bot].id;
  loc->chat_id = json_integer_value(cid);
  if(strlen(json_string_value(fid)) >= sizeof(loc->file_id) ||
     strlen(json_string_value(fuid)) >= sizeof(loc->file_unique_id)) {
    snprintf(why, whylen, "file ids too long");
    return -1;
  }
  strcpy(loc->file_id, json_string_value(fid));
  strcpy(loc->file_unique_id, json_string_value(fuid));
  if(!tg_file_id_valid(loc->file_id) || !tg_file_id_valid(loc->file_unique_id) ||
     loc->message_id <= 0 || loc->chat_id == 0) {
    snprintf(why, whylen, "malformed ids in the reply");
    return -1;
  }
  return 0;
}

static void tgb_ignore_result(void *arg, struct tg_result *res)
{
  (void)arg;
  (void)res;
}

/* Best effort: a message we cannot use should not linger. */
static void tgb_delete_async(struct tgb *b, int bot, int64_t chat_id, int64_t message_id)
{
  char chat[24], msg[24];
  snprintf(chat, sizeof(chat), "%lld", (long long)chat_id);
  snprintf(msg, sizeof(msg), "%lld", (long long)message_id);
  struct tg_param params[] = {{"chat_id", chat}, {"message_id", msg}};
  struct tg_call_opts opts = {.max_attempts = TGB_DELETE_ATTEMPTS};
  tg_call(b->api, b->bots[bot].token, "deleteMessage", params, 2, &opts, tgb_ignore_result, NULL);
}

static void tgb_put_sent(void *arg, struct tg_result *res)
{
  struct tgb_put *p = arg;
  struct tgb *b = p->b;
  struct tg_locator loc;
  char locator[BLOB_LOCATOR_MAX], why[128];
  int rc = res->status == TG_CANCELLED ? BLOB_CANCELLED : BLOB_ERR;
  b->sending--;
  for(struct tgb_put **pp = &b->flight; *pp; pp = &(*pp)->next)
    if(*pp == p) {
      *pp = p->next;
      break;
    }
  if(res->status == TG_OK) {
    if(tgb_message_locator(p, res->reply.result, &loc, why, sizeof(why)) == 0 &&
       tg_locator_format(&loc, locator, sizeof(locator)) == 0)
      rc = BLOB_OK;
    else {
      log_error("telegram: sendDocument to chat %s (bot %s): %s", b->chats[p->chat].name,
                b->bots[p->bot].masked, why);
      if(loc.message_id > 0)
        tgb_delete_async(b, p->bot, b->chats[p->chat].id, loc.message_id);
    }
  }
  else if(res->status == TG_FAILED)
    log_error("telegram: cannot store a %llu-byte chunk in chat %s (bot %s): %s",
              (unsigned long long)p->size, b->chats[p->chat].name, b->bots[p->bot].masked,
              res->reply.description);
  tgb_put_finish(p, rc, rc == BLOB_OK ? locator : NULL);
  tgb_schedule(b);
}

static void tgb_put_send(struct tgb *b, struct tgb_put *p)
{
  char chat[24];
  snprintf(chat, sizeof(chat), "%lld", (long long)b->chats[p->chat].id);
  struct tg_param params[] = {{"chat_id", chat}, {"disable_notification", "true"}};
  struct tg_call_opts opts = {0};
  if(b->pacing) {
    opts.pace[0] = &b->chats[p->chat].pace;
    opts.pace[1] = &b->bots[p->bot].pace;
    opts.first_paced = true;
  }
  p->call = tg_send_document(b->api, b->bots[p->bot].token, params, 2, p->spool, p->filename,
                             &opts, tgb_put_sent, p);
  if(!p->call) {
    if(b->pacing) { /* the call never started: undo tgb_schedule's charge */
      tg_pace_land(&b->chats[p->chat].pace, tg_loop_now(), false);
      tg_pace_land(&b->bots[p->bot].pace, tg_loop_now(), false);
    }
    log_error("telegram: cannot start an upload (out of memory?)");
    tgb_put_finish(p, BLOB_ERR, NULL);
    return;
  }
  b->sending++;
  p->next = b->flight;
  b->flight = p;
}

/* First index from `start` whose pace allows a send now; else -1 and the
 * shortest wait in *wait. */
static int tgb_pick(struct tg_pace *(*pace_of)(struct tgb *, int), struct tgb *b, int n, int start,
                    int64_t now, int64_t *wait)
{
  for(int i = 0; i < n; i++) {
    int k = (start + i) % n;
    int64_t d = b->pacing ? tg_pace_delay(pace_of(b, k), now) : 0;
    if(d == 0)
      return k;
    if(d < *wait)
      *wait = d;
  }
  return -1;
}

static struct tg_pace *tgb_chat_pace(struct tgb *b, int i)
{
  return &b->chats[i].pace;
}

static struct tg_pace *tgb_bot_pace(struct tgb *b, int i)
{
  return &b->bots[i].pace;
}

/* Hands queued chunks to free (bot, chat) pairs while the parallel limit
 * and the paces allow; otherwise comes back when they will. */
static void tgb_schedule(struct tgb *b)
{
  if(tg_loop_stopping(b->loop)) {
    while(b->queue) {
      struct tgb_put *p = b->queue;
      b->queue = p->next;
      tgb_put_finish(p, BLOB_CANCELLED, NULL);
    }
    b->queue_tail = NULL;
    return;
  }
  while(b->queue && b->sending < b->parallel) {
    int64_t now = tg_loop_now(), wait = INT64_MAX;
    int chat = tgb_pick(tgb_chat_pace, b, b->nchats, b->rr_chat, now, &wait);
    int bot = chat < 0 ? -1 : tgb_pick(tgb_bot_pace, b, b->nbots, b->rr_bot, now, &wait);
    if(chat < 0 || bot < 0) {
      if(!b->sched_pending && tg_loop_timer(b->loop, wait, tgb_sched_timer, b))
        b->sched_pending = true;
      return;
    }
    b->rr_chat = (chat + 1) % b->nchats;
    b->rr_bot = (bot + 1) % b->nbots;
    struct tgb_put *p = b->queue;
    b->queue = p->next;
    if(!b->queue)
      b->queue_tail = NULL;
    p->bot = bot;
    p->chat = chat;
    if(b->pacing) {
      tg_pace_take(&b->chats[chat].pace, now);
      tg_pace_take(&b->bots[bot].pace, now);
    }
    tgb_put_send(b, p);
  }
}

static void tgb_put_enqueue(void *arg)
{
  struct tgb_put *p = arg;
  struct tgb *b = p->b;
  p->next = NULL;
  if(b->queue_tail)
    b->queue_tail->next = p;
  else
    b->queue = p;
  b->queue_tail = p;
  tgb_schedule(b);
}

static int tgb_put(void *self, const char *spool_path, uint64_t size, const char *checksum,
                   blob_done_fn done, void *arg)
{
  struct tgb *b = self;
  struct tgb_put *p = calloc(1, sizeof(*p));
  if(!p || size == 0 || strlen(spool_path) >= sizeof(p->spool))
    goto fail;
  p->b = b;
  p->size = size;
  p->done = done;
  p->arg = arg;
  strcpy(p->spool, spool_path);
  p->seq = atomic_fetch_add(&b->put_seq, 1) + 1;
  /* Named by its SHA-256 (blob_chunk_checksum), so a chat's documents say
   * what they hold. */
  snprintf(p->filename, sizeof(p->filename), "chunk-%.16s.bin", checksum ? checksum : "");
  if(tg_loop_post(b->loop, tgb_put_enqueue, p) != 0)
    goto fail;
  return BLOB_OK;
fail:
  if(size == 0)
    log_error("telegram: refusing to store an empty chunk");
  free(p);
  unlink(spool_path);
  done(arg, BLOB_ERR, NULL);
  return BLOB_OK;
}

/* blob_cancel: find the put on the loop and drop it from the queue or stop
 * its transfer. Only puts numbered before the cancel was asked count, so a
 * new put that reuses a finished one's `arg` address is never hit. A put
 * not yet queued when the cancel arrives runs on; its chunk becomes garbage
 * like any other of a cancelled upload. */
struct tgb_cancel {
  struct tgb *b;
  void *arg;
  uint64_t upto;
};

static void tgb_cancel_run(void *arg)
{
  struct tgb_cancel *c = arg;
  struct tgb *b = c->b;
  for(struct tgb_put **pp = &b->queue, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
    struct tgb_put *p = *pp;
    if(p->arg == c->arg && p->seq <= c->upto) {
      *pp = p->next;
      if(b->queue_tail == p)
        b->queue_tail = prev;
      tgb_put_finish(p, BLOB_CANCELLED, NULL);
      goto out;
    }
  }
  for(struct tgb_put *p = b->flight; p; p = p->next)
    if(p->arg == c->arg && p->seq <= c->upto) {
      tg_call_cancel(p->call); /* tgb_put_sent follows with TG_CANCELLED */
      break;
    }
out:
  free(c);
}

static int tgb_cancel(void *self, void *put_arg)
{
  struct tgb *b = self;
  struct tgb_cancel *c = malloc(sizeof(*c));
  if(!c)
    return BLOB_ERR;
  c->b = b;
  c->arg = put_arg;
  c->upto = atomic_load(&b->put_seq);
  if(tg_loop_post(b->loop, tgb_cancel_run, c) != 0) {
    free(c);
    return BLOB_ERR;
  }
  return BLOB_OK;
}

/* ---- downloads (loop thread) ---------------------------------------------- */

static void tgb_fetch_end(struct tgb_fetch *f, bool ok)
{
  cache_fill_end(f->b->cache, f->fill, ok);
  free(f);
}

static size_t tgb_fetch_sink(void *arg, uint64_t off, const char *data, size_t n)
{
  struct tgb_fetch *f = arg;
  return cache_fill_write(f->b->cache, f->fill, off, data, n);
}

static void tgb_fetch_getfile(struct tgb_fetch *f);

static void tgb_fetch_downloaded(void *arg, struct tg_result *res)
{
  struct tgb_fetch *f = arg;
  /* A 4xx on the file URL: the file_path may have expired. Ask again, once. */
  if(res->status == TG_FAILED && res->reply.http_status >= 400 && res->reply.http_status < 500 &&
     !f->refreshed) {
    f->refreshed = true;
    tg_fpcache_drop(f->b->fp, f->file_id);
    tgb_fetch_getfile(f);
    return;
  }
  if(res->status == TG_FAILED)
    log_error("telegram: cannot download file %.24s... (bot %s): %s", f->file_id,
              f->b->bots[f->bot].masked, res->reply.description);
  tgb_fetch_end(f, res->status == TG_OK);
}

static void tgb_fetch_download(struct tgb_fetch *f, const char *path)
{
  struct tgb *b = f->b;
  uint64_t pos = cache_fill_pos(b->cache, f->fill), stop = cache_fill_stop(b->cache, f->fill);
  if(pos >= stop) {
    tgb_fetch_end(f, true);
    return;
  }
  if(!tg_download(b->api, b->bots[f->bot].token, path, pos, stop, f->size, NULL, tgb_fetch_sink,
                  f, tgb_fetch_downloaded, f)) {
    log_error("telegram: cannot download file_path '%.80s'", path);
    tgb_fetch_end(f, false);
  }
}

/* Validates getFile's answer; returns its file_path or NULL. */
static const char *tgb_file_path(const struct tg_result *res, uint64_t size, const char *file_id)
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

static void tgb_fetch_got_file(void *arg, struct tg_result *res)
{
  struct tgb_fetch *f = arg;
  const char *path = res->status == TG_OK ? tgb_file_path(res, f->size, f->file_id) : NULL;
  if(res->status == TG_FAILED)
    log_error("telegram: getFile for %.24s... (bot %s): %s", f->file_id,
              f->b->bots[f->bot].masked, res->reply.description);
  if(!path) {
    tgb_fetch_end(f, false);
    return;
  }
  tg_fpcache_put(f->b->fp, f->file_id, path, tg_loop_now());
  tgb_fetch_download(f, path);
}

static void tgb_fetch_getfile(struct tgb_fetch *f)
{
  struct tg_param params[] = {{"file_id", f->file_id}};
  if(!tg_call(f->b->api, f->b->bots[f->bot].token, "getFile", params, 1, NULL, tgb_fetch_got_file,
              f))
    tgb_fetch_end(f, false);
}

static void tgb_fetch_start(void *arg)
{
  struct tgb_fetch *f = arg;
  struct tgb *b = f->b;
  if(tg_loop_stopping(b->loop)) {
    tgb_fetch_end(f, false);
    return;
  }
  const char *path = tg_fpcache_get(b->fp, f->file_id, tg_loop_now());
  if(path)
    tgb_fetch_download(f, path);
  else
    tgb_fetch_getfile(f);
}

static struct tgb_fetch *tgb_fetch_new(struct tgb *b, struct cache_fill *fill, int bot,
                                       const struct tg_locator *loc, uint64_t size)
{
  struct tgb_fetch *f = calloc(1, sizeof(*f));
  if(!f)
    return NULL;
  f->b = b;
  f->fill = fill;
  f->bot = bot;
  f->size = size;
  strcpy(f->file_id, loc->file_id);
  return f;
}

/* Starts fetching a fill from any thread; a fill that cannot start ends
 * failed (waking its waiters). */
static void tgb_fetch_post(struct tgb *b, struct cache_fill *fill, int bot,
                           const struct tg_locator *loc, uint64_t size)
{
  struct tgb_fetch *f = tgb_fetch_new(b, fill, bot, loc, size);
  if(!f || tg_loop_post(b->loop, tgb_fetch_start, f) != 0) {
    free(f);
    cache_fill_end(b->cache, fill, false);
  }
}

/* Read-ahead for a reader just opened: runs on the loop a moment later, so a
 * reader that reads at once (maybe far into the chunk) starts its own fill
 * first and this one then has nothing to do. */
struct tgb_prefetch {
  struct tgb *b;
  struct cache_entry *entry; /* a reference of its own */
  int bot;
  struct tg_locator loc;
  uint64_t size;
};

static void tgb_prefetch_run(void *arg)
{
  struct tgb_prefetch *pf = arg;
  struct tgb *b = pf->b;
  struct cache_fill *fill = tg_loop_stopping(b->loop) ? NULL : cache_prefetch(b->cache, pf->entry);
  if(fill) {
    struct tgb_fetch *f = tgb_fetch_new(b, fill, pf->bot, &pf->loc, pf->size);
    if(f)
      tgb_fetch_start(f);
    else
      cache_fill_end(b->cache, fill, false);
  }
  cache_release(b->cache, pf->entry);
  free(pf);
}

/* ---- local mode: read the Bot API server's file directly ------------------- */

static void tgb_resolve_done(struct tgb_resolve *rs, const char *path)
{
  struct tgb *b = rs->b;
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
  struct tgb_reader *rd = rs->rd;
  if(rd) {
    rd->resolving = NULL;
    if(fd >= 0) {
      rd->fd = fd;
      rd->local = TGB_LOCAL_READY;
      fd = -1;
    }
    else /* not on this machine after all: download it like in cloud mode */
      rd->local = path ? TGB_LOCAL_FALLBACK : TGB_LOCAL_FAILED;
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

static void tgb_resolve_got_file(void *arg, struct tg_result *res)
{
  struct tgb_resolve *rs = arg;
  const char *path = res->status == TG_OK ? tgb_file_path(res, rs->size, rs->file_id) : NULL;
  if(res->status == TG_FAILED)
    log_error("telegram: getFile for %.24s... (bot %s): %s", rs->file_id,
              rs->b->bots[rs->bot].masked, res->reply.description);
  if(path)
    tg_fpcache_put(rs->b->fp, rs->file_id, path, tg_loop_now());
  tgb_resolve_done(rs, path);
}

static void tgb_resolve_start(void *arg)
{
  struct tgb_resolve *rs = arg;
  struct tgb *b = rs->b;
  const char *path = tg_fpcache_get(b->fp, rs->file_id, tg_loop_now());
  if(path || tg_loop_stopping(b->loop)) {
    tgb_resolve_done(rs, path);
    return;
  }
  struct tg_param params[] = {{"file_id", rs->file_id}};
  if(!tg_call(b->api, b->bots[rs->bot].token, "getFile", params, 1, NULL, tgb_resolve_got_file,
              rs))
    tgb_resolve_done(rs, NULL);
}

/* Local-mode read; returns 1 when the reader fell back to the cache path. */
static ssize_t tgb_local_pread(struct tgb_reader *rd, void *buf, size_t n, uint64_t off,
                               bool *fallback)
{
  struct tgb *b = rd->b;
  *fallback = false;
  pthread_mutex_lock(&b->lock);
  switch(rd->local) {
  case TGB_LOCAL_READY: {
    int fd = rd->fd;
    pthread_mutex_unlock(&b->lock);
    ssize_t got;
    do
      got = pread(fd, buf, n, (off_t)off);
    while(got < 0 && errno == EINTR);
    return got > 0 ? got : BLOB_ERR;
  }
  case TGB_LOCAL_FALLBACK:
    pthread_mutex_unlock(&b->lock);
    *fallback = true;
    return 0;
  case TGB_LOCAL_FAILED:
    pthread_mutex_unlock(&b->lock);
    return BLOB_ERR;
  case TGB_LOCAL_RESOLVING:
    rd->waiting = true;
    pthread_mutex_unlock(&b->lock);
    return BLOB_AGAIN;
  case TGB_LOCAL_NONE:
    break;
  }
  struct tgb_resolve *rs = calloc(1, sizeof(*rs));
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
  rd->local = TGB_LOCAL_RESOLVING;
  rd->waiting = true;
  pthread_mutex_unlock(&b->lock);
  if(tg_loop_post(b->loop, tgb_resolve_start, rs) != 0) {
    pthread_mutex_lock(&b->lock);
    rd->resolving = NULL;
    rd->local = TGB_LOCAL_FAILED;
    rd->waiting = false;
    pthread_mutex_unlock(&b->lock);
    free(rs);
    return BLOB_ERR;
  }
  return BLOB_AGAIN;
}

/* ---- readers (any thread) ---------------------------------------------------- */

static int tgb_reader_open(void *self, const char *locator, uint64_t size, void **out)
{
  struct tgb *b = self;
  struct tgb_reader *rd = NULL;
  struct tg_locator loc;
  *out = NULL;
  if(tg_locator_parse(locator, &loc) != 0) {
    log_error("telegram: malformed chunk locator '%.64s'", locator);
    return BLOB_ERR;
  }
  int bot = tgb_bot_by_id(b, loc.bot_id);
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
  rd->local = TGB_LOCAL_NONE;
  if(!b->local_mode) {
    rd->entry = cache_acquire(b->cache, loc.file_unique_id, size);
    if(!rd->entry) {
      free(rd);
      return BLOB_ERR;
    }
    struct tgb_prefetch *pf = NULL;
    struct cache_entry *ref = NULL;
    if(!cache_entry_complete(b->cache, rd->entry) && (pf = calloc(1, sizeof(*pf))) &&
       (ref = cache_acquire(b->cache, loc.file_unique_id, size))) {
      pf->b = b;
      pf->entry = ref;
      pf->bot = bot;
      pf->loc = loc;
      pf->size = size;
      if(tg_loop_post(b->loop, tgb_prefetch_run, pf) == 0)
        pf = NULL, ref = NULL;
    }
    cache_release(b->cache, ref);
    free(pf);
  }
  *out = rd;
  return BLOB_OK;
}

static ssize_t tgb_reader_pread(void *self, void *buf, size_t n, uint64_t off)
{
  struct tgb_reader *rd = self;
  struct tgb *b = rd->b;
  if(off >= rd->size || n == 0)
    return 0;
  if(n > rd->size - off)
    n = (size_t)(rd->size - off);
  if(b->local_mode) {
    bool fallback;
    ssize_t r = tgb_local_pread(rd, buf, n, off, &fallback);
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
    tgb_fetch_post(b, fill, rd->bot, &rd->loc, rd->size);
  if(r == CACHE_AGAIN)
    return BLOB_AGAIN;
  if(r < 0)
    log_error("telegram: cannot read chunk %lld:%lld (bot %s)", (long long)rd->loc.chat_id,
              (long long)rd->loc.message_id, b->bots[rd->bot].masked);
  return r < 0 ? BLOB_ERR : r;
}

static void tgb_reader_set_wake(void *self, void (*wake)(void *arg), void *arg)
{
  struct tgb_reader *rd = self;
  struct tgb *b = rd->b;
  pthread_mutex_lock(&b->lock);
  rd->wake = wake;
  rd->wake_arg = arg;
  pthread_mutex_unlock(&b->lock);
  cache_waiter_set(b->cache, &rd->w, wake, arg);
}

static void tgb_reader_close(void *self)
{
  struct tgb_reader *rd = self;
  if(!rd)
    return;
  struct tgb *b = rd->b;
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

/* ---- deletes (background threads) ------------------------------------------- */

#define TGB_DELETE_BATCH 100 /* deleteMessages takes 1..100 ids */

/* Parses a locator for deletion and finds its bot; forgets its cache entry. */
static int tgb_delete_target(struct tgb *b, const char *locator, struct tg_locator *loc, int *bot)
{
  if(tg_locator_parse(locator, loc) != 0) {
    log_error("telegram: cannot delete: malformed chunk locator '%.64s'", locator);
    return -1;
  }
  *bot = tgb_bot_by_id(b, loc->bot_id);
  if(*bot < 0) {
    log_error("telegram: cannot delete message %lld in chat %lld: bot %lld is not configured",
              (long long)loc->message_id, (long long)loc->chat_id, (long long)loc->bot_id);
    return -1;
  }
  cache_forget(b->cache, loc->file_unique_id);
  return 0;
}

/* deleteMessage, waiting for the answer. */
static int tgb_delete_one(struct tgb *b, const struct tg_locator *loc, int bot)
{
  struct tg_result res;
  char chat[24], msg[24];
  snprintf(chat, sizeof(chat), "%lld", (long long)loc->chat_id);
  snprintf(msg, sizeof(msg), "%lld", (long long)loc->message_id);
  struct tg_param params[] = {{"chat_id", chat}, {"message_id", msg}};
  struct tg_call_opts opts = {.max_attempts = TGB_DELETE_ATTEMPTS,
                              .timeout_s = TGB_DELETE_TIMEOUT_S};
  enum tg_status st = tg_call_sync(b->api, b->bots[bot].token, "deleteMessage", params, 2, &opts,
                                   &res);
  /* Already gone counts as deleted. */
  bool gone = st == TG_OK ||
              (st == TG_FAILED && res.reply.envelope && res.reply.error_code == 400 &&
               strstr(res.reply.description, "message to delete not found"));
  if(!gone)
    log_warn("telegram: cannot delete message %lld in chat %lld (bot %s): %s",
             (long long)loc->message_id, (long long)loc->chat_id, b->bots[bot].masked,
             res.reply.description);
  tg_reply_clear(&res.reply);
  return gone ? BLOB_OK : BLOB_ERR;
}

static int tgb_delete(void *self, const char *locator)
{
  struct tgb *b = self;
  struct tg_locator loc;
  int bot;
  if(tgb_delete_target(b, locator, &loc, &bot) != 0)
    return BLOB_ERR;
  if(tg_loop_on_thread(b->loop)) {
    /* From an upload callback on the loop itself: it must not block. */
    tgb_delete_async(b, bot, loc.chat_id, loc.message_id);
    return BLOB_OK;
  }
  return tgb_delete_one(b, &loc, bot);
}

/* Deletes messages of one bot in one chat with deleteMessages, which skips
 * the ones already gone; falls back to one by one when the server refuses
 * the batch (an older Bot API server without the method, say). */
static void tgb_delete_group(struct tgb *b, int bot, int64_t chat_id,
                             const struct tg_locator *locs, const int *idx, int n, int *rcs)
{
  char chat[24], ids[TGB_DELETE_BATCH * 21 + 2];
  size_t len = 0;
  ids[len++] = '[';
  for(int i = 0; i < n; i++)
    len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%lld", i ? "," : "",
                            (long long)locs[idx[i]].message_id);
  snprintf(ids + len, sizeof(ids) - len, "]");
  snprintf(chat, sizeof(chat), "%lld", (long long)chat_id);
  struct tg_param params[] = {{"chat_id", chat}, {"message_ids", ids}};
  struct tg_call_opts opts = {.max_attempts = TGB_DELETE_ATTEMPTS,
                              .timeout_s = TGB_DELETE_TIMEOUT_S};
  struct tg_result res;
  enum tg_status st = tg_call_sync(b->api, b->bots[bot].token, "deleteMessages", params, 2, &opts,
                                   &res);
  bool refused = st == TG_FAILED && res.reply.envelope &&
                 (res.reply.error_code == 400 || res.reply.error_code == 404);
  if(st != TG_OK && !refused)
    log_warn("telegram: cannot delete %d message%s in chat %lld (bot %s): %s", n,
             n == 1 ? "" : "s", (long long)chat_id, b->bots[bot].masked, res.reply.description);
  tg_reply_clear(&res.reply);
  for(int i = 0; i < n; i++)
    rcs[idx[i]] = st == TG_OK ? BLOB_OK : refused ? tgb_delete_one(b, &locs[idx[i]], bot)
                                                  : BLOB_ERR;
}

static void tgb_delete_many(void *self, const char *const *locators, int n, int *rcs)
{
  struct tgb *b = self;
  struct tg_locator *locs = calloc((size_t)n, sizeof(*locs));
  int *bots = calloc((size_t)n, sizeof(*bots)), *idx = calloc((size_t)n, sizeof(*idx));
  bool *done = calloc((size_t)n, sizeof(*done));
  if(!locs || !bots || !idx || !done || tg_loop_on_thread(b->loop)) {
    for(int i = 0; i < n; i++)
      rcs[i] = tgb_delete(self, locators[i]);
    goto out;
  }
  for(int i = 0; i < n; i++) {
    done[i] = tgb_delete_target(b, locators[i], &locs[i], &bots[i]) != 0;
    rcs[i] = BLOB_ERR;
  }
  /* Group by (bot, chat), at most a batch per call. */
  for(int i = 0; i < n; i++) {
    if(done[i])
      continue;
    int k = 0;
    for(int j = i; j < n && k < TGB_DELETE_BATCH; j++)
      if(!done[j] && bots[j] == bots[i] && locs[j].chat_id == locs[i].chat_id) {
        idx[k++] = j;
        done[j] = true;
      }
    tgb_delete_group(b, bots[i], locs[i].chat_id, locs, idx, k, rcs);
  }
out:
  free(locs);
  free(bots);
  free(idx);
  free(done);
}

/* ---- open / close ---------------------------------------------------------------- */

/* Splits a comma list into trimmed items; -1 when there are too many. */
static int tgb_split(const char *list, char items[][256], int max)
{
  int n = 0;
  const char *p = list;
  for(;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while(len && (*p == ' ' || *p == '\t'))
      p++, len--;
    while(len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    if(len) {
      if(n == max || len >= 256)
        return -1;
      memcpy(items[n], p, len);
      items[n][len] = 0;
      n++;
    }
    if(!end)
      break;
    p = end + 1;
  }
  return n;
}

static void tgb_free(struct tgb *b)
{
  if(!b)
    return;
  tg_api_free(b->api); /* drains: every callback has run when it returns */
  cache_close(b->cache);
  if(b->fp) {
    tg_fpcache_clear(b->fp);
    free(b->fp);
  }
  for(int i = 0; i < b->nbots; i++)
    free(b->bots[i].token);
  pthread_mutex_destroy(&b->lock);
  free(b);
}

/* getMe: the token works and names the bot its digits say. */
static int tgb_check_bot(struct tgb *b, struct tgb_bot *bot, const char *api_url, char *err,
                         size_t errlen)
{
  struct tg_result res;
  struct tg_call_opts opts = {.max_attempts = TGB_CHECK_ATTEMPTS, .timeout_s = TGB_CHECK_TIMEOUT_S};
  int rc = -1;
  enum tg_status st = tg_call_sync(b->api, bot->token, "getMe", NULL, 0, &opts, &res);
  if(st != TG_OK) {
    if(!res.reply.envelope && res.reply.error_code == 0)
      snprintf(err, errlen, "TELEGRAM_API_URL: cannot reach the Bot API at %s: %s", api_url,
               res.reply.description);
    else if(res.reply.error_code == 401 || res.reply.error_code == 404)
      snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: the Bot API rejects bot token %s (%d %s)",
               bot->masked, res.reply.error_code, res.reply.description);
    else
      snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: getMe for bot token %s failed: %s", bot->masked,
               res.reply.description);
    goto out;
  }
  const json_t *id = json_object_get(res.reply.result, "id");
  const json_t *is_bot = json_object_get(res.reply.result, "is_bot");
  if(!json_is_integer(id) || json_integer_value(id) != bot->id || !json_is_true(is_bot)) {
    snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: bot token %s: getMe answered for another bot",
             bot->masked);
    goto out;
  }
  rc = 0;
out:
  tg_reply_clear(&res.reply);
  return rc;
}

/* getChat with every bot: each must see the chat; remembers its numeric id. */
static int tgb_check_chat(struct tgb *b, struct tgb_chat *chat, const char *api_url, char *err,
                          size_t errlen)
{
  struct tg_param params[] = {{"chat_id", chat->name}};
  struct tg_call_opts opts = {.max_attempts = TGB_CHECK_ATTEMPTS, .timeout_s = TGB_CHECK_TIMEOUT_S};
  for(int i = 0; i < b->nbots; i++) {
    struct tg_result res;
    enum tg_status st = tg_call_sync(b->api, b->bots[i].token, "getChat", params, 1, &opts, &res);
    const json_t *id = st == TG_OK ? json_object_get(res.reply.result, "id") : NULL;
    if(st != TG_OK || !json_is_integer(id) || json_integer_value(id) == 0 ||
       (chat->id && chat->id != json_integer_value(id))) {
      if(st == TG_OK)
        snprintf(err, errlen, "TELEGRAM_STORAGE_CHAT_ID: chat %s: getChat gave no usable id",
                 chat->name);
      else if(!res.reply.envelope && res.reply.error_code == 0)
        snprintf(err, errlen, "TELEGRAM_API_URL: cannot reach the Bot API at %s: %s", api_url,
                 res.reply.description);
      else
        snprintf(err, errlen, "TELEGRAM_STORAGE_CHAT_ID: chat %s cannot be used by bot %s (%d %s); %s",
                 chat->name, b->bots[i].masked, res.reply.error_code, res.reply.description,
                 res.reply.error_code == 400 ? "check the id (a channel's starts with -100)"
                                             : "add the bot to the chat as an administrator");
      tg_reply_clear(&res.reply);
      return -1;
    }
    chat->id = json_integer_value(id);
    tg_reply_clear(&res.reply);
  }
  return 0;
}

static void *tgb_open(const struct config *cfg, char *err, size_t errlen)
{
  char items[TGB_MAX_BOTS > TGB_MAX_CHATS ? TGB_MAX_BOTS : TGB_MAX_CHATS][256];
  char dir[BLOB_PATH_MAX];
  struct tgb *b = calloc(1, sizeof(*b));
  if(!b) {
    snprintf(err, errlen, "telegram: out of memory");
    return NULL;
  }
  pthread_mutex_init(&b->lock, NULL);
  atomic_init(&b->put_seq, 0);
  b->local_mode = cfg->telegram_local_mode;
  b->pacing = cfg->telegram_pacing;
  b->parallel = cfg->telegram_parallel > 0 ? cfg->telegram_parallel : 1;

  int n = tgb_split(cfg->telegram_bot_token ? cfg->telegram_bot_token : "", items, TGB_MAX_BOTS);
  if(n <= 0) {
    snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: %s", n == 0 ? "no bot token given"
                                                           : "too many bot tokens (at most 64)");
    goto fail;
  }
  int64_t now = tg_loop_now();
  for(int i = 0; i < n; i++) {
    struct tgb_bot *bot = &b->bots[b->nbots];
    char *end = NULL;
    long long id = strtoll(items[i], &end, 10);
    tg_token_mask(items[i], bot->masked);
    if(id <= 0 || !end || *end != ':') {
      snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: '%s' is not a bot token", bot->masked);
      goto fail;
    }
    if(tgb_bot_by_id(b, id) >= 0) {
      snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: bot %lld is listed twice", id);
      goto fail;
    }
    if(!(bot->token = strdup(items[i]))) {
      snprintf(err, errlen, "telegram: out of memory");
      goto fail;
    }
    bot->id = id;
    tg_pace_init(&bot->pace, TGB_BOT_PER_SEC, TGB_BOT_BURST, 0, now);
    b->nbots++;
  }
  n = tgb_split(cfg->telegram_storage_chat_id ? cfg->telegram_storage_chat_id : "", items,
                TGB_MAX_CHATS);
  if(n <= 0) {
    snprintf(err, errlen, "TELEGRAM_STORAGE_CHAT_ID: %s",
             n == 0 ? "no chat given" : "too many chats (at most 64)");
    goto fail;
  }
  for(int i = 0; i < n; i++) {
    struct tgb_chat *chat = &b->chats[b->nchats++];
    snprintf(chat->name, sizeof(chat->name), "%.79s", items[i]);
    tg_pace_init(&chat->pace, TGB_CHAT_PER_SEC, TGB_CHAT_BURST, TGB_CHAT_PER_MIN, now);
  }

  b->fp = calloc(1, sizeof(*b->fp));
  b->api = b->fp ? tg_api_new(cfg->telegram_api_url, err, errlen) : NULL;
  if(!b->api) {
    if(!b->fp)
      snprintf(err, errlen, "telegram: out of memory");
    goto fail;
  }
  b->loop = tg_api_loop(b->api);
  for(int i = 0; i < b->nbots; i++)
    if(tgb_check_bot(b, &b->bots[i], cfg->telegram_api_url, err, errlen) != 0)
      goto fail;
  for(int i = 0; i < b->nchats; i++) {
    if(tgb_check_chat(b, &b->chats[i], cfg->telegram_api_url, err, errlen) != 0)
      goto fail;
    for(int j = 0; j < i; j++)
      if(b->chats[j].id == b->chats[i].id) {
        snprintf(err, errlen, "TELEGRAM_STORAGE_CHAT_ID: chat %s is listed twice",
                 b->chats[i].name);
        goto fail;
      }
  }
  if(snprintf(dir, sizeof(dir), "%s/cache", cfg->data_dir) >= (int)sizeof(dir)) {
    snprintf(err, errlen, "DATA_DIR: path too long");
    goto fail;
  }
  b->cache = cache_open(dir, cfg->cache_size, err, errlen);
  if(!b->cache)
    goto fail;
  log_info("telegram: %d bot%s, %d chat%s, up to %d uploads at once%s%s", b->nbots,
           b->nbots == 1 ? "" : "s", b->nchats, b->nchats == 1 ? "" : "s", b->parallel,
           b->local_mode ? ", local Bot API server" : "", b->pacing ? "" : ", pacing off");
  return b;
fail:
  tgb_free(b);
  return NULL;
}

static void tgb_close(void *self)
{
  tgb_free(self);
}

static int tgb_ping(void *self)
{
  struct tgb *b = self;
  return tg_api_healthy(b->api);
}

/* A chunk download is one connection to the file server, and bandwidth is
 * granted per connection: fetch one chunk per bot at once (at least
 * TGB_FETCH_MIN, so a single bot still reads ahead). */
static int tgb_fetch_parallel(const void *self)
{
  const struct tgb *b = self;
  return b->nbots > TGB_FETCH_MIN ? b->nbots : TGB_FETCH_MIN;
}

const struct blob_backend blob_telegram_backend = {
  .name = "telegram",
  .open = tgb_open,
  .close = tgb_close,
  .ping = tgb_ping,
  .put = tgb_put,
  .reader_open = tgb_reader_open,
  .reader_pread = tgb_reader_pread,
  .reader_set_wake = tgb_reader_set_wake,
  .reader_close = tgb_reader_close,
  .del = tgb_delete,
  .del_many = tgb_delete_many,
  .cancel = tgb_cancel,
  .fetch_parallel = tgb_fetch_parallel,
};
