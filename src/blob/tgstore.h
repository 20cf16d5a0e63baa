/* tgstore: the Telegram backend of blob (blob_telegram_backend): chunks as
 * documents in private Telegram chats. Private to src/blob/tgstore_*.c.
 *
 * Several bots (TELEGRAM_BOT_TOKEN) and several chats
 * (TELEGRAM_STORAGE_CHAT_ID); every bot must be in every chat. A chunk goes
 * to the next chat whose pace allows a message now, sent by the next bot
 * whose pace allows it, so chunks spread round-robin over bots x chats and a
 * rate-limited chat is skipped while it cools down. At most
 * TELEGRAM_PARALLEL_UPLOADS documents are being sent at once. Pacing per
 * chat and per bot can be turned off with TELEGRAM_PACING=false for a fake
 * server; 429s are honoured either way. Failed or redundant chunks are
 * deleted by the sweeper, in deleteMessages batches per bot and chat.
 *
 * Threads: everything Telegram-side runs on the tg_loop thread (one libcurl
 * multi handle): the put queue, the scheduler, the paces, the file_path
 * cache, fetches. Other threads only post work to it. blob_put returns at
 * once and `done` runs later on that thread (or at once when the put cannot
 * be queued). Reads go through the disk chunk cache (blob/cache): a reader
 * reads what has arrived and waits (BLOB_AGAIN + wake) for the rest; opening
 * a reader starts fetching the chunk (read-ahead) and a read far ahead of
 * that fetch starts a Range fetch of its own. In local mode
 * (TELEGRAM_LOCAL_MODE, a self-hosted Bot API server) getFile gives an
 * absolute path on this machine, read directly.
 *
 * The locator is tg_locator's "tg1:<bot id>:<chat id>:<message id>:
 * <file_unique_id>:<file_id>"; the cache key is the file_unique_id.
 *
 * Files: tgstore_open.c (open/close, start-up checks, the backend table),
 * tgstore_put.c (put queue, scheduler, cancel, upload rounds),
 * tgstore_fetch.c (getFile and downloads into cache fills),
 * tgstore_reader.c (readers, local mode), tgstore_delete.c
 * (deleteMessage(s)), tgstore_gap.c (messages nobody recorded). */
#ifndef NETRA_TGSTORE_H
#define NETRA_TGSTORE_H
#include <pthread.h>
#include <stdatomic.h>
#include "blob/backend.h"
#include "blob/cache.h"
#include "telegram/tg_api.h"
#include "telegram/tg_fpcache.h"
#include "telegram/tg_locator.h"

#define TGSTORE_MAX_BOTS 64
#define TGSTORE_MAX_CHATS 64

struct tgstore_bot {
  char *token;
  int64_t id;
  char masked[TG_TOKEN_MASKED_MAX];
  struct tg_pace pace; /* loop thread */
};

struct tgstore_chat {
  int64_t id;          /* numeric, from getChat */
  char name[80];       /* as configured, for messages */
  struct tg_pace pace; /* loop thread */
};

struct tgstore_put;

struct tgstore {
  struct tg_api *api;
  struct tg_loop *loop;
  struct tgstore_bot bots[TGSTORE_MAX_BOTS];
  int nbots;
  struct tgstore_chat chats[TGSTORE_MAX_CHATS];
  int nchats;
  bool local_mode;
  bool pacing;
  int parallel;
  uint64_t chunk_size;        /* CHUNK_SIZE */
  struct cache *cache;
  pthread_mutex_t lock;       /* readers' local-mode state */
  atomic_uint_fast64_t put_seq; /* numbers puts, for blob_cancel */
  /* Loop thread only: */
  struct tgstore_put *queue, *queue_tail;
  struct tgstore_put *flight; /* being sent */
  int sending;
  int rr_chat, rr_bot;
  bool sched_pending;         /* a scheduler timer is set */
  struct tg_fpcache *fp;
};

/* tgstore_open.c */
/** The index of the configured bot with this id, or -1. */
int tgstore_bot_by_id(const struct tgstore *b, int64_t id);

/* tgstore_put.c: the backend's put and cancel (see blob_put, blob_cancel). */
int tgstore_put(void *self, const char *spool_path, uint64_t size, const char *checksum,
                blob_done_fn done, void *arg);
int tgstore_cancel(void *self, void *put_arg);
/** See blob_put_parallel and blob_chunk_size. */
int tgstore_put_parallel(const void *self);
uint64_t tgstore_chunk_size(const void *self, uint64_t size_min, uint64_t size_max);

/* tgstore_fetch.c */
/** Validates getFile's answer for a `size`-byte file; its file_path or NULL. */
const char *tgstore_file_path(const struct tg_result *res, uint64_t size, const char *file_id);
/** Starts fetching a fill from any thread; a fill that cannot start ends
 *  failed (waking its waiters). */
void tgstore_fetch_post(struct tgstore *b, struct cache_fill *fill, int bot,
                        const struct tg_locator *loc, uint64_t size);
/** Posts a read-ahead of the chunk for a reader just opened (any thread). */
void tgstore_prefetch_post(struct tgstore *b, int bot, const struct tg_locator *loc,
                           uint64_t size);
/** See blob_fetch_parallel. */
int tgstore_fetch_parallel(const void *self);

/* tgstore_reader.c: the backend's reader (see blob_reader_*). */
int tgstore_reader_open(void *self, const char *locator, uint64_t size, void **out);
ssize_t tgstore_reader_pread(void *self, void *buf, size_t n, uint64_t off);
void tgstore_reader_set_wake(void *self, void (*wake)(void *arg), void *arg);
void tgstore_reader_close(void *self);

/* tgstore_delete.c */
/** Sends deleteMessage without waiting (loop thread or any): best effort. */
void tgstore_delete_async(struct tgstore *b, int bot, int64_t chat_id, int64_t message_id);
/** The backend's delete and batched delete (see blob_delete, blob_delete_many). */
int tgstore_delete(void *self, const char *locator);
void tgstore_delete_many(void *self, const char *const *locators, int n, int *rcs);

/* tgstore_gap.c: messages nobody recorded (see blob_sequence). */
int tgstore_sequence(const void *self, const char *locator, char series[BLOB_SERIES_MAX],
                     int64_t *seq);
int tgstore_gap_locator(const void *self, const char *series, int64_t seq, char *out,
                        size_t outsz);
/** Deletes the gap locators among `locators` that are not `handled` yet,
 *  with every bot (waits: not on the loop thread); sets their rcs and
 *  marks them handled. */
void tgstore_gap_delete_many(struct tgstore *b, const char *const *locators, int n, int *rcs,
                             bool *handled);

#endif
