#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "drive/hasher.h"
#include "drive/store.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SWEEP_INTERVAL_MS 5000
#define SWEEP_BATCH 64
#define SWEEP_MAX_BACKOFF_MS (60 * 60 * 1000)

static struct blob *store;
static pthread_t sweeper;
static bool sweeper_running;
static bool sweeper_stop;
static bool sweeper_kicked;
static pthread_mutex_t sweeper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweeper_cond = PTHREAD_COND_INITIALIZER;

struct blob *store_blob(void)
{
  return store;
}

struct sweep_item {
  char id[64];
  char locator[BLOB_LOCATOR_MAX];
  int64_t attempts;
};

int store_sweep(db_t *db, int max_items)
{
  struct sweep_item items[SWEEP_BATCH];
  int n = 0, removed = 0;
  if(max_items > SWEEP_BATCH)
    max_items = SWEEP_BATCH;
  int64_t now = time_now_ms();
  db_stmt_t *st = db_query(db,
                           "SELECT id, locator, attempts FROM pending_deletes WHERE state = 'delete' "
                           "AND backend = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3",
                           "tii", blob_backend_name(store), now, (int64_t)max_items);
  while(st && n < max_items && db_step(st) == DB_ROW) {
    snprintf(items[n].id, sizeof(items[n].id), "%s", db_col_text(st, 0));
    snprintf(items[n].locator, sizeof(items[n].locator), "%s", db_col_text(st, 1));
    items[n].attempts = db_col_int(st, 2);
    n++;
  }
  db_finalize(st);
  /* One batch: a remote store removes many in one call. */
  const char *locators[SWEEP_BATCH];
  int rcs[SWEEP_BATCH];
  for(int i = 0; i < n; i++)
    locators[i] = items[i].locator;
  if(n > 0)
    blob_delete_many(store, locators, n, rcs);
  for(int i = 0; i < n; i++) {
    if(rcs[i] == BLOB_OK) {
      db_exec(db, "DELETE FROM pending_deletes WHERE id = $1", "t", items[i].id);
      removed++;
      continue;
    }
    /* Exponential backoff, capped: storage may be down for a while. */
    int64_t delay = 1000;
    for(int64_t k = 0; k < items[i].attempts && delay < SWEEP_MAX_BACKOFF_MS; k++)
      delay *= 2;
    if(delay > SWEEP_MAX_BACKOFF_MS)
      delay = SWEEP_MAX_BACKOFF_MS;
    log_warn("store: removing chunk failed (attempt %lld), retrying in %llds",
             (long long)items[i].attempts + 1, (long long)delay / 1000);
    db_exec(db, "UPDATE pending_deletes SET attempts = attempts + 1, next_attempt_at = $1, "
                "last_error = 'delete failed' WHERE id = $2", "it", now + delay, items[i].id);
  }
  return removed;
}

int store_reclaim_staged(db_t *db, int64_t before_ms)
{
  int rc = db_exec(db, "UPDATE pending_deletes SET state = 'delete' WHERE state = 'staged' "
                       "AND created_at < $1", "i", before_ms);
  if(rc != DB_OK)
    return -1;
  int64_t n = db_changes(db);
  if(n > 0)
    log_info("store: %lld chunks of interrupted uploads queued for removal", (long long)n);
  return (int)n;
}

static void *sweeper_main(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&sweeper_lock);
  while(!sweeper_stop) {
    pthread_mutex_unlock(&sweeper_lock);
    db_t *db = db_get();
    if(db) {
      while(store_sweep(db, SWEEP_BATCH) == SWEEP_BATCH && !sweeper_stop)
        ;
    }
    pthread_mutex_lock(&sweeper_lock);
    if(sweeper_stop)
      break;
    if(!sweeper_kicked) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += SWEEP_INTERVAL_MS / 1000;
      pthread_cond_timedwait(&sweeper_cond, &sweeper_lock, &ts);
    }
    sweeper_kicked = false;
  }
  pthread_mutex_unlock(&sweeper_lock);
  return NULL;
}

void store_kick(void)
{
  pthread_mutex_lock(&sweeper_lock);
  sweeper_kicked = true;
  pthread_cond_signal(&sweeper_cond);
  pthread_mutex_unlock(&sweeper_lock);
}

/* blob takes only what it needs from the configuration. */
static void store_blob_options(const struct config *cfg, struct blob_options *opt)
{
  *opt = (struct blob_options){
    .kind = cfg->storage_backend == STORAGE_TELEGRAM ? BLOB_KIND_TELEGRAM : BLOB_KIND_LOCAL,
    .data_dir = cfg->data_dir,
    .chunk_size = cfg->chunk_size,
    .cache_size = cfg->cache_size,
    .telegram = {
      .bot_tokens = cfg->telegram_bot_token,
      .chat_ids = cfg->telegram_storage_chat_id,
      .api_url = cfg->telegram_api_url,
      .local_mode = cfg->telegram_local_mode,
      .parallel = cfg->telegram_parallel,
      .pacing = cfg->telegram_pacing,
    },
  };
}

int store_init(const struct config *cfg, bool with_sweeper, char *err, size_t errlen)
{
  struct blob_options opt;
  store_blob_options(cfg, &opt);
  store = blob_open(&opt, err, errlen);
  if(!store)
    return -1;
  if(!with_sweeper)
    return 0;
  /* Chunk hashes, off the request threads: one thread per core, a few at most. */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if(hasher_start(cores > 0 ? (int)cores : 1) != 0) {
    snprintf(err, errlen, "cannot start the chunk hasher threads");
    blob_close(store);
    store = NULL;
    return -1;
  }
  sweeper_stop = false;
  if(pthread_create(&sweeper, NULL, sweeper_main, NULL) != 0) {
    snprintf(err, errlen, "cannot start the storage sweeper thread");
    hasher_stop();
    blob_close(store);
    store = NULL;
    return -1;
  }
  sweeper_running = true;
  return 0;
}

void store_shutdown(void)
{
  if(sweeper_running) {
    pthread_mutex_lock(&sweeper_lock);
    sweeper_stop = true;
    pthread_cond_signal(&sweeper_cond);
    pthread_mutex_unlock(&sweeper_lock);
    pthread_join(sweeper, NULL);
    sweeper_running = false;
  }
  hasher_stop();   /* queued chunks still reach the store */
  blob_close(store);
  store = NULL;
}
