/* tgstore_gap: messages nobody recorded. Message ids are sequential within a
 * chat, so a chunk's locator says (chat, message id) and drive/orphans.c can
 * find the ids below the highest recorded one that nothing knows: documents
 * that reached the chat while the process that sent them died before
 * recording them. Their locators ("tg1gap:<chat>:<message>") carry no sender,
 * so they are deleted with every configured bot: a bot can always delete its
 * own messages (within Telegram's 48 hours), so once every bot has answered,
 * the message is gone whoever sent it; an admin bot deletes it at the first
 * try. A 400 ("not found", "can't be deleted") is an answer, not a failure:
 * retrying would not change it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blob/tgstore.h"
#include "util/log.h"

#define TGSTORE_GAP_ATTEMPTS 3
#define TGSTORE_GAP_TIMEOUT_S 15
#define TGSTORE_GAP_BATCH 100   /* deleteMessages takes 1..100 ids */

static int tgstore_chat_index(const struct tgstore *b, int64_t chat_id)
{
  for(int i = 0; i < b->nchats; i++)
    if(b->chats[i].id == chat_id)
      return i;
  return -1;
}

int tgstore_sequence(const void *self, const char *locator, char series[BLOB_SERIES_MAX],
                     int64_t *seq)
{
  const struct tgstore *b = self;
  struct tg_locator loc;
  int64_t chat;
  if(tg_locator_parse(locator, &loc) == 0) {
    chat = loc.chat_id;
    *seq = loc.message_id;
  }
  else if(tg_gap_parse(locator, &chat, seq) != 0)
    return BLOB_ERR;
  /* A chat no longer configured is not looked at: its bots may be gone. */
  if(tgstore_chat_index(b, chat) < 0)
    return BLOB_ERR;
  snprintf(series, BLOB_SERIES_MAX, "%" PRId64, chat);
  return BLOB_OK;
}

int tgstore_gap_locator(const void *self, const char *series, int64_t seq, char *out,
                        size_t outsz)
{
  const struct tgstore *b = self;
  char *end;
  errno = 0;
  long long chat = strtoll(series, &end, 10);
  if(errno || end == series || *end || tgstore_chat_index(b, chat) < 0)
    return BLOB_ERR;
  return tg_gap_format(chat, seq, out, outsz) == 0 ? BLOB_OK : BLOB_ERR;
}

/* One call of `method`; true when Telegram answered (done, or a 400 that
 * retrying would not change). */
static bool tgstore_gap_call(struct tgstore *b, int bot, const char *method,
                             const struct tg_param *params, bool *refused)
{
  struct tg_call_opts opts = {.max_attempts = TGSTORE_GAP_ATTEMPTS,
                              .timeout_s = TGSTORE_GAP_TIMEOUT_S};
  struct tg_result res;
  enum tg_status st = tg_call_sync(b->api, b->bots[bot].token, method, params, 2, &opts, &res);
  bool answered = st == TG_OK ||
                  (st == TG_FAILED && res.reply.envelope && res.reply.error_code == 400);
  *refused = st != TG_OK && answered;
  if(!answered)
    log_warn("telegram: %s of unrecorded messages failed (bot %s): %s", method,
             b->bots[bot].masked, res.reply.description);
  tg_reply_clear(&res.reply);
  return answered;
}

/* Deletes messages `ids` of one chat with every bot; ok[i] says whether
 * every bot answered for ids[i]. */
static void tgstore_gap_group(struct tgstore *b, int64_t chat_id, const int64_t *ids, int n,
                              bool *ok)
{
  char chat[24], list[TGSTORE_GAP_BATCH * 21 + 2];
  size_t len = 0;
  list[len++] = '[';
  for(int i = 0; i < n; i++)
    len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%" PRId64, i ? "," : "", ids[i]);
  snprintf(list + len, sizeof(list) - len, "]");
  snprintf(chat, sizeof(chat), "%" PRId64, chat_id);
  for(int i = 0; i < n; i++)
    ok[i] = true;
  for(int bot = 0; bot < b->nbots; bot++) {
    struct tg_param many[] = {{"chat_id", chat}, {"message_ids", list}};
    bool refused;
    if(!tgstore_gap_call(b, bot, "deleteMessages", many, &refused)) {
      for(int i = 0; i < n; i++)
        ok[i] = false;
      continue;
    }
    if(!refused)
      continue;
    /* Refused as a whole (an older server, or one message this bot may not
     * delete): one by one, so the bot still removes what it can. */
    for(int i = 0; i < n; i++) {
      char msg[24];
      snprintf(msg, sizeof(msg), "%" PRId64, ids[i]);
      struct tg_param one[] = {{"chat_id", chat}, {"message_id", msg}};
      if(!tgstore_gap_call(b, bot, "deleteMessage", one, &refused))
        ok[i] = false;
    }
  }
}

void tgstore_gap_delete_many(struct tgstore *b, const char *const *locators, int n, int *rcs,
                             bool *handled)
{
  int64_t *chats = calloc((size_t)n, sizeof(*chats)), *msgs = calloc((size_t)n, sizeof(*msgs));
  int64_t ids[TGSTORE_GAP_BATCH];
  int idx[TGSTORE_GAP_BATCH];
  bool ok[TGSTORE_GAP_BATCH], *gap = calloc((size_t)n, sizeof(*gap));
  if(!chats || !msgs || !gap)
    goto out;
  for(int i = 0; i < n; i++)
    gap[i] = !handled[i] && tg_gap_parse(locators[i], &chats[i], &msgs[i]) == 0;
  for(int i = 0; i < n; i++) {
    if(!gap[i])
      continue;
    int k = 0;
    for(int j = i; j < n && k < TGSTORE_GAP_BATCH; j++)
      if(gap[j] && chats[j] == chats[i]) {
        idx[k] = j;
        ids[k++] = msgs[j];
        gap[j] = false;
      }
    tgstore_gap_group(b, chats[i], ids, k, ok);
    for(int m = 0; m < k; m++) {
      rcs[idx[m]] = ok[m] ? BLOB_OK : BLOB_ERR;
      handled[idx[m]] = true;
    }
  }
out:
  free(chats);
  free(msgs);
  free(gap);
}
