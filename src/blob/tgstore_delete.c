/* tgstore_delete: removing chunks (background threads). The sweeper's batch
 * is grouped by (bot, chat) into deleteMessages calls of up to 100 ids; a
 * server that refuses the method gets deleteMessage one by one. A message
 * already gone counts as deleted. A delete asked from the loop thread (an
 * upload callback) is sent without waiting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blob/tgstore.h"
#include "util/log.h"

#define TGSTORE_DELETE_ATTEMPTS 3   /* the sweeper retries on its own schedule */
#define TGSTORE_DELETE_TIMEOUT_S 15 /* the sweeper must not hang a shutdown for long */
#define TGSTORE_DELETE_BATCH 100    /* deleteMessages takes 1..100 ids */

static void tgstore_ignore_result(void *arg, struct tg_result *res)
{
  (void)arg;
  (void)res;
}

/* Best effort: a message we cannot use should not linger. */
void tgstore_delete_async(struct tgstore *b, int bot, int64_t chat_id, int64_t message_id)
{
  char chat[24], msg[24];
  snprintf(chat, sizeof(chat), "%lld", (long long)chat_id);
  snprintf(msg, sizeof(msg), "%lld", (long long)message_id);
  struct tg_param params[] = {{"chat_id", chat}, {"message_id", msg}};
  struct tg_call_opts opts = {.max_attempts = TGSTORE_DELETE_ATTEMPTS};
  tg_call(b->api, b->bots[bot].token, "deleteMessage", params, 2, &opts, tgstore_ignore_result,
          NULL);
}

/* Parses a locator for deletion and finds its bot; forgets its cache entry. */
static int tgstore_delete_target(struct tgstore *b, const char *locator, struct tg_locator *loc,
                                 int *bot)
{
  if(tg_locator_parse(locator, loc) != 0) {
    log_error("telegram: cannot delete: malformed chunk locator '%.64s'", locator);
    return -1;
  }
  *bot = tgstore_bot_by_id(b, loc->bot_id);
  if(*bot < 0) {
    log_error("telegram: cannot delete message %lld in chat %lld: bot %lld is not configured",
              (long long)loc->message_id, (long long)loc->chat_id, (long long)loc->bot_id);
    return -1;
  }
  cache_forget(b->cache, loc->file_unique_id);
  return 0;
}

/* deleteMessage, waiting for the answer. */
static int tgstore_delete_one(struct tgstore *b, const struct tg_locator *loc, int bot)
{
  struct tg_result res;
  char chat[24], msg[24];
  snprintf(chat, sizeof(chat), "%lld", (long long)loc->chat_id);
  snprintf(msg, sizeof(msg), "%lld", (long long)loc->message_id);
  struct tg_param params[] = {{"chat_id", chat}, {"message_id", msg}};
  struct tg_call_opts opts = {.max_attempts = TGSTORE_DELETE_ATTEMPTS,
                              .timeout_s = TGSTORE_DELETE_TIMEOUT_S};
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

int tgstore_delete(void *self, const char *locator)
{
  struct tgstore *b = self;
  struct tg_locator loc;
  int bot;
  int64_t chat, msg;
  if(tg_gap_parse(locator, &chat, &msg) == 0) {
    if(tg_loop_on_thread(b->loop)) {
      for(int i = 0; i < b->nbots; i++)   /* best effort: see tgstore_gap.c */
        tgstore_delete_async(b, i, chat, msg);
      return BLOB_OK;
    }
    int rc = BLOB_ERR;
    bool handled = false;
    tgstore_gap_delete_many(b, &locator, 1, &rc, &handled);
    return rc;
  }
  if(tgstore_delete_target(b, locator, &loc, &bot) != 0)
    return BLOB_ERR;
  if(tg_loop_on_thread(b->loop)) {
    /* From an upload callback on the loop itself: it must not block. */
    tgstore_delete_async(b, bot, loc.chat_id, loc.message_id);
    return BLOB_OK;
  }
  return tgstore_delete_one(b, &loc, bot);
}

/* Deletes messages of one bot in one chat with deleteMessages, which skips
 * the ones already gone; falls back to one by one when the server refuses
 * the batch (an older Bot API server without the method, say). */
static void tgstore_delete_group(struct tgstore *b, int bot, int64_t chat_id,
                                 const struct tg_locator *locs, const int *idx, int n, int *rcs)
{
  char chat[24], ids[TGSTORE_DELETE_BATCH * 21 + 2];
  size_t len = 0;
  ids[len++] = '[';
  for(int i = 0; i < n; i++)
    len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%lld", i ? "," : "",
                            (long long)locs[idx[i]].message_id);
  snprintf(ids + len, sizeof(ids) - len, "]");
  snprintf(chat, sizeof(chat), "%lld", (long long)chat_id);
  struct tg_param params[] = {{"chat_id", chat}, {"message_ids", ids}};
  struct tg_call_opts opts = {.max_attempts = TGSTORE_DELETE_ATTEMPTS,
                              .timeout_s = TGSTORE_DELETE_TIMEOUT_S};
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
    rcs[idx[i]] = st == TG_OK ? BLOB_OK : refused ? tgstore_delete_one(b, &locs[idx[i]], bot)
                                                  : BLOB_ERR;
}

void tgstore_delete_many(void *self, const char *const *locators, int n, int *rcs)
{
  struct tgstore *b = self;
  struct tg_locator *locs = calloc((size_t)n, sizeof(*locs));
  int *bots = calloc((size_t)n, sizeof(*bots)), *idx = calloc((size_t)n, sizeof(*idx));
  bool *done = calloc((size_t)n, sizeof(*done));
  if(!locs || !bots || !idx || !done || tg_loop_on_thread(b->loop)) {
    for(int i = 0; i < n; i++)
      rcs[i] = tgstore_delete(self, locators[i]);
    goto out;
  }
  for(int i = 0; i < n; i++)
    rcs[i] = BLOB_ERR;
  /* Messages nobody recorded go with every bot (tgstore_gap.c). */
  tgstore_gap_delete_many(b, locators, n, rcs, done);
  for(int i = 0; i < n; i++)
    done[i] = done[i] || tgstore_delete_target(b, locators[i], &locs[i], &bots[i]) != 0;
  /* Group by (bot, chat), at most a batch per call. */
  for(int i = 0; i < n; i++) {
    if(done[i])
      continue;
    int k = 0;
    for(int j = i; j < n && k < TGSTORE_DELETE_BATCH; j++)
      if(!done[j] && bots[j] == bots[i] && locs[j].chat_id == locs[i].chat_id) {
        idx[k++] = j;
        done[j] = true;
      }
    tgstore_delete_group(b, bots[i], locs[i].chat_id, locs, idx, k, rcs);
  }
out:
  free(locs);
  free(bots);
  free(idx);
  free(done);
}
