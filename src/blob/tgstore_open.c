/* tgstore_open: opening and closing the Telegram backend. At open each
 * token is checked with getMe (its id must be the token's digits) and each
 * chat with getChat for every bot (numeric id; a chat listed twice is
 * refused), so a misconfiguration stops the start instead of failing
 * uploads later. Also the backend's table of hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blob/tgstore.h"
#include "util/log.h"
#include "util/strlist.h"

/* Telegram's limits: about 1 message/s per chat with short bursts, 20 a
 * minute in a group or channel, about 30/s per bot overall. We stay a
 * little under. Telegram counts a message when it arrives, and documents
 * take varying time to travel; so a pace charges a send when it lands (its
 * reply) and counts a send in flight as charged already (tg_pace.h). */
#define TGSTORE_CHAT_PER_SEC 0.9
#define TGSTORE_CHAT_BURST 3
#define TGSTORE_CHAT_PER_MIN 20
#define TGSTORE_BOT_PER_SEC 25.0
#define TGSTORE_BOT_BURST 25
#define TGSTORE_CHECK_ATTEMPTS 3   /* start-up getMe / getChat */
#define TGSTORE_CHECK_TIMEOUT_S 20

int tgstore_bot_by_id(const struct tgstore *b, int64_t id)
{
  for(int i = 0; i < b->nbots; i++)
    if(b->bots[i].id == id)
      return i;
  return -1;
}

static void tgstore_free(struct tgstore *b)
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
static int tgstore_check_bot(struct tgstore *b, struct tgstore_bot *bot, const char *api_url,
                             char *err, size_t errlen)
{
  struct tg_result res;
  struct tg_call_opts opts = {.max_attempts = TGSTORE_CHECK_ATTEMPTS,
                              .timeout_s = TGSTORE_CHECK_TIMEOUT_S};
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
static int tgstore_check_chat(struct tgstore *b, struct tgstore_chat *chat, const char *api_url,
                              char *err, size_t errlen)
{
  struct tg_param params[] = {{"chat_id", chat->name}};
  struct tg_call_opts opts = {.max_attempts = TGSTORE_CHECK_ATTEMPTS,
                              .timeout_s = TGSTORE_CHECK_TIMEOUT_S};
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
        snprintf(err, errlen,
                 "TELEGRAM_STORAGE_CHAT_ID: chat %s cannot be used by bot %s (%d %s); %s",
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

static void *tgstore_open(const struct blob_options *opt, char *err, size_t errlen)
{
  char items[TGSTORE_MAX_BOTS > TGSTORE_MAX_CHATS ? TGSTORE_MAX_BOTS : TGSTORE_MAX_CHATS][256];
  char dir[BLOB_PATH_MAX];
  struct tgstore *b = calloc(1, sizeof(*b));
  if(!b) {
    snprintf(err, errlen, "telegram: out of memory");
    return NULL;
  }
  pthread_mutex_init(&b->lock, NULL);
  atomic_init(&b->put_seq, 0);
  b->local_mode = opt->telegram.local_mode;
  b->pacing = opt->telegram.pacing;
  b->parallel = opt->telegram.parallel > 0 ? opt->telegram.parallel : 1;
  b->chunk_size = opt->chunk_size;

  int n = strlist_split(opt->telegram.bot_tokens, items[0], sizeof(items[0]), TGSTORE_MAX_BOTS);
  if(n <= 0) {
    snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: %s", n == 0 ? "no bot token given"
                                                           : "too many bot tokens (at most 64)");
    goto fail;
  }
  int64_t now = tg_loop_now();
  for(int i = 0; i < n; i++) {
    struct tgstore_bot *bot = &b->bots[b->nbots];
    char *end = NULL;
    long long id = strtoll(items[i], &end, 10);
    tg_token_mask(items[i], bot->masked);
    if(id <= 0 || !end || *end != ':') {
      snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: '%s' is not a bot token", bot->masked);
      goto fail;
    }
    if(tgstore_bot_by_id(b, id) >= 0) {
      snprintf(err, errlen, "TELEGRAM_BOT_TOKEN: bot %lld is listed twice", id);
      goto fail;
    }
    if(!(bot->token = strdup(items[i]))) {
      snprintf(err, errlen, "telegram: out of memory");
      goto fail;
    }
    bot->id = id;
    tg_pace_init(&bot->pace, TGSTORE_BOT_PER_SEC, TGSTORE_BOT_BURST, 0, now);
    b->nbots++;
  }
  n = strlist_split(opt->telegram.chat_ids, items[0], sizeof(items[0]), TGSTORE_MAX_CHATS);
  if(n <= 0) {
    snprintf(err, errlen, "TELEGRAM_STORAGE_CHAT_ID: %s",
             n == 0 ? "no chat given" : "too many chats (at most 64)");
    goto fail;
  }
  for(int i = 0; i < n; i++) {
    struct tgstore_chat *chat = &b->chats[b->nchats++];
    snprintf(chat->name, sizeof(chat->name), "%.79s", items[i]);
    tg_pace_init(&chat->pace, TGSTORE_CHAT_PER_SEC, TGSTORE_CHAT_BURST, TGSTORE_CHAT_PER_MIN, now);
  }

  b->fp = calloc(1, sizeof(*b->fp));
  b->api = b->fp ? tg_api_new(opt->telegram.api_url, err, errlen) : NULL;
  if(!b->api) {
    if(!b->fp)
      snprintf(err, errlen, "telegram: out of memory");
    goto fail;
  }
  b->loop = tg_api_loop(b->api);
  for(int i = 0; i < b->nbots; i++)
    if(tgstore_check_bot(b, &b->bots[i], opt->telegram.api_url, err, errlen) != 0)
      goto fail;
  for(int i = 0; i < b->nchats; i++) {
    if(tgstore_check_chat(b, &b->chats[i], opt->telegram.api_url, err, errlen) != 0)
      goto fail;
    for(int j = 0; j < i; j++)
      if(b->chats[j].id == b->chats[i].id) {
        snprintf(err, errlen, "TELEGRAM_STORAGE_CHAT_ID: chat %s is listed twice",
                 b->chats[i].name);
        goto fail;
      }
  }
  if(snprintf(dir, sizeof(dir), "%s/cache", opt->data_dir) >= (int)sizeof(dir)) {
    snprintf(err, errlen, "DATA_DIR: path too long");
    goto fail;
  }
  b->cache = cache_open(dir, opt->cache_size, err, errlen);
  if(!b->cache)
    goto fail;
  log_info("telegram: %d bot%s, %d chat%s, up to %d uploads at once%s%s", b->nbots,
           b->nbots == 1 ? "" : "s", b->nchats, b->nchats == 1 ? "" : "s", b->parallel,
           b->local_mode ? ", local Bot API server" : "", b->pacing ? "" : ", pacing off");
  return b;
fail:
  tgstore_free(b);
  return NULL;
}

static void tgstore_close(void *self)
{
  tgstore_free(self);
}

static int tgstore_ping(void *self)
{
  struct tgstore *b = self;
  return tg_api_healthy(b->api);
}

const struct blob_backend blob_telegram_backend = {
  .name = "telegram",
  .open = tgstore_open,
  .close = tgstore_close,
  .ping = tgstore_ping,
  .put = tgstore_put,
  .reader_open = tgstore_reader_open,
  .reader_pread = tgstore_reader_pread,
  .reader_set_wake = tgstore_reader_set_wake,
  .reader_close = tgstore_reader_close,
  .del = tgstore_delete,
  .del_many = tgstore_delete_many,
  .cancel = tgstore_cancel,
  .fetch_parallel = tgstore_fetch_parallel,
  .put_parallel = tgstore_put_parallel,
  .chunk_size = tgstore_chunk_size,
  .sequence = tgstore_sequence,
  .gap_locator = tgstore_gap_locator,
};
