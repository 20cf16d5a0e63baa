/* tgstore_put: uploads (loop thread). blob_put queues the spooled chunk; the
 * scheduler hands the head of the queue to the next (chat, bot) whose paces
 * allow a send, while fewer than TELEGRAM_PARALLEL_UPLOADS are in flight;
 * the reply becomes the chunk's locator. blob_cancel drops a queued put or
 * aborts one in flight. Also how an upload keeps those senders busy:
 * blob_put_parallel and blob_chunk_size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blob/tgstore.h"
#include "util/log.h"

struct tgstore_put {
  struct tgstore *b;
  char spool[BLOB_PATH_MAX];
  char filename[48];
  uint64_t size;
  blob_done_fn done;
  void *arg;
  uint64_t seq;
  int bot, chat;
  struct tg_call *call;       /* while being sent */
  struct tgstore_put *next;   /* in the queue, then in the flight list */
};

static void tgstore_schedule(struct tgstore *b);

static void tgstore_sched_timer(void *arg)
{
  struct tgstore *b = arg;
  b->sched_pending = false;
  tgstore_schedule(b);
}

static void tgstore_put_finish(struct tgstore_put *p, int rc, const char *locator)
{
  unlink(p->spool); /* consumed whatever the outcome */
  p->done(p->arg, rc, locator);
  free(p);
}

/* Reads the Message of a sendDocument into a locator. */
static int tgstore_message_locator(const struct tgstore_put *p, const json_t *msg,
                                   struct tg_locator *loc, char *why, size_t whylen)
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

static void tgstore_put_sent(void *arg, struct tg_result *res)
{
  struct tgstore_put *p = arg;
  struct tgstore *b = p->b;
  struct tg_locator loc;
  char locator[BLOB_LOCATOR_MAX], why[128];
  int rc = res->status == TG_CANCELLED ? BLOB_CANCELLED : BLOB_ERR;
  b->sending--;
  for(struct tgstore_put **pp = &b->flight; *pp; pp = &(*pp)->next)
    if(*pp == p) {
      *pp = p->next;
      break;
    }
  if(res->status == TG_OK) {
    if(tgstore_message_locator(p, res->reply.result, &loc, why, sizeof(why)) == 0 &&
       tg_locator_format(&loc, locator, sizeof(locator)) == 0)
      rc = BLOB_OK;
    else {
      log_error("telegram: sendDocument to chat %s (bot %s): %s", b->chats[p->chat].name,
                b->bots[p->bot].masked, why);
      if(loc.message_id > 0)
        tgstore_delete_async(b, p->bot, b->chats[p->chat].id, loc.message_id);
    }
  }
  else if(res->status == TG_FAILED)
    log_error("telegram: cannot store a %llu-byte chunk in chat %s (bot %s): %s",
              (unsigned long long)p->size, b->chats[p->chat].name, b->bots[p->bot].masked,
              res->reply.description);
  tgstore_put_finish(p, rc, rc == BLOB_OK ? locator : NULL);
  tgstore_schedule(b);
}

static void tgstore_put_send(struct tgstore *b, struct tgstore_put *p)
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
                             &opts, tgstore_put_sent, p);
  if(!p->call) {
    if(b->pacing) { /* the call never started: end tgstore_schedule's take unsent */
      tg_pace_land(&b->chats[p->chat].pace, tg_loop_now(), false);
      tg_pace_land(&b->bots[p->bot].pace, tg_loop_now(), false);
    }
    log_error("telegram: cannot start an upload (out of memory?)");
    tgstore_put_finish(p, BLOB_ERR, NULL);
    return;
  }
  b->sending++;
  p->next = b->flight;
  b->flight = p;
}

/* First index from `start` whose pace allows a send now; else -1 and the
 * shortest wait in *wait. */
static int tgstore_pick(struct tg_pace *(*pace_of)(struct tgstore *, int), struct tgstore *b,
                        int n, int start, int64_t now, int64_t *wait)
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

static struct tg_pace *tgstore_chat_pace(struct tgstore *b, int i)
{
  return &b->chats[i].pace;
}

static struct tg_pace *tgstore_bot_pace(struct tgstore *b, int i)
{
  return &b->bots[i].pace;
}

/* Hands queued chunks to free (bot, chat) pairs while the parallel limit
 * and the paces allow; otherwise comes back when they will. */
static void tgstore_schedule(struct tgstore *b)
{
  if(tg_loop_stopping(b->loop)) {
    while(b->queue) {
      struct tgstore_put *p = b->queue;
      b->queue = p->next;
      tgstore_put_finish(p, BLOB_CANCELLED, NULL);
    }
    b->queue_tail = NULL;
    return;
  }
  while(b->queue && b->sending < b->parallel) {
    int64_t now = tg_loop_now(), wait = INT64_MAX;
    int chat = tgstore_pick(tgstore_chat_pace, b, b->nchats, b->rr_chat, now, &wait);
    int bot = chat < 0 ? -1 : tgstore_pick(tgstore_bot_pace, b, b->nbots, b->rr_bot, now, &wait);
    if(chat < 0 || bot < 0) {
      if(!b->sched_pending && tg_loop_timer(b->loop, wait, tgstore_sched_timer, b))
        b->sched_pending = true;
      return;
    }
    b->rr_chat = (chat + 1) % b->nchats;
    b->rr_bot = (bot + 1) % b->nbots;
    struct tgstore_put *p = b->queue;
    b->queue = p->next;
    if(!b->queue)
      b->queue_tail = NULL;
    p->bot = bot;
    p->chat = chat;
    /* In flight from now, so charged already; the call lands it (charged for
     * good only when Telegram took the message). */
    if(b->pacing) {
      tg_pace_take(&b->chats[chat].pace, now);
      tg_pace_take(&b->bots[bot].pace, now);
    }
    tgstore_put_send(b, p);
  }
}

static void tgstore_put_enqueue(void *arg)
{
  struct tgstore_put *p = arg;
  struct tgstore *b = p->b;
  p->next = NULL;
  if(b->queue_tail)
    b->queue_tail->next = p;
  else
    b->queue = p;
  b->queue_tail = p;
  tgstore_schedule(b);
}

int tgstore_put(void *self, const char *spool_path, uint64_t size, const char *checksum,
                blob_done_fn done, void *arg)
{
  struct tgstore *b = self;
  struct tgstore_put *p = calloc(1, sizeof(*p));
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
  if(tg_loop_post(b->loop, tgstore_put_enqueue, p) != 0)
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
struct tgstore_cancel {
  struct tgstore *b;
  void *arg;
  uint64_t upto;
};

static void tgstore_cancel_run(void *arg)
{
  struct tgstore_cancel *c = arg;
  struct tgstore *b = c->b;
  for(struct tgstore_put **pp = &b->queue, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
    struct tgstore_put *p = *pp;
    if(p->arg == c->arg && p->seq <= c->upto) {
      *pp = p->next;
      if(b->queue_tail == p)
        b->queue_tail = prev;
      tgstore_put_finish(p, BLOB_CANCELLED, NULL);
      goto out;
    }
  }
  for(struct tgstore_put *p = b->flight; p; p = p->next)
    if(p->arg == c->arg && p->seq <= c->upto) {
      tg_call_cancel(p->call); /* tgstore_put_sent follows with TG_CANCELLED */
      break;
    }
out:
  free(c);
}

int tgstore_cancel(void *self, void *put_arg)
{
  struct tgstore *b = self;
  struct tgstore_cancel *c = malloc(sizeof(*c));
  if(!c)
    return BLOB_ERR;
  c->b = b;
  c->arg = put_arg;
  c->upto = atomic_load(&b->put_seq);
  if(tg_loop_post(b->loop, tgstore_cancel_run, c) != 0) {
    free(c);
    return BLOB_ERR;
  }
  return BLOB_OK;
}


/* Up to `parallel` documents are sent at once, and chunks of one size sent
 * together finish together: a whole round more spooled and queued lets
 * every sender start its next chunk at once instead of idling while it is
 * received (spool files on disk, not memory). */
int tgstore_put_parallel(const void *self)
{
  const struct tgstore *b = self;
  int n = 2 * b->parallel;
  return n > BLOB_PUT_PARALLEL_DEFAULT ? n : BLOB_PUT_PARALLEL_DEFAULT;
}

/* A file of 52 full chunks over 8 senders ends with a round where half of
 * them idle: when the file takes at least one full round, shrink its chunks
 * so their count is a whole number of rounds. The count comes from the
 * lower bound, the size from the upper one, so the chunks never number more
 * than the rounds hold (a file of exactly 8 chunks, sent in a request a
 * little longer, stays 8 chunks). */
uint64_t tgstore_chunk_size(const void *self, uint64_t size_min, uint64_t size_max)
{
  const struct tgstore *b = self;
  uint64_t cs = b->chunk_size, par = (uint64_t)b->parallel;
  /* Under BLOB_CHUNK_MIN the answer is cs anyway; this also keeps the
   * divisions below away from 0. */
  if(par < 2 || cs < BLOB_CHUNK_MIN || size_min / cs < par)
    return cs;
  /* Rounding up without `x + d - 1`: the bounds may come from a client's
   * word and be near UINT64_MAX. */
  uint64_t count = size_min / cs + (size_min % cs != 0);
  uint64_t even = (count / par + (count % par != 0)) * par;
  uint64_t size = size_max / even + (size_max % even != 0); /* never more chunks than `even` */
  if(size > cs)
    size = cs;
  return size >= BLOB_CHUNK_MIN ? size : cs;
}
