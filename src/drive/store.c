/* store: see store.h. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "drive/garbage.h"
#include "drive/store.h"
#include "util/log.h"
#include "util/timefmt.h"

#define SWEEP_INTERVAL_MS 5000
#define SWEEP_BATCH 64
#define SWEEP_MAX_BACKOFF_MS (60 * 60 * 1000)

static struct blob *store;
static const char *store_backend;   /* the backend's name: a constant, outlives the store */
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

const char *store_backend_name(void)
{
  return store_backend ? store_backend : "";
}

/* ---- put completions -------------------------------------------------------
 * A store reports a put from its own thread (the Telegram loop, the local
 * writer). What the owner does then (record the chunk, update its task)
 * writes to the database, and a store thread must never wait on it: a long
 * write elsewhere would freeze every transfer. So each outcome is queued
 * and the owner's callback runs here, on the completion thread. */

static pthread_t done_thread;
static bool done_running, done_stop;
static struct store_op *done_head, **done_tail = &done_head;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

/* The store's callback: queue the outcome, never block on anything else. */
static void store_put_landed(void *arg, int rc, const char *locator)
{
  struct store_op *d = arg;
  d->rc = rc;
  snprintf(d->locator, sizeof(d->locator), "%s", rc == BLOB_OK && locator ? locator : "");
  pthread_mutex_lock(&done_lock);
  d->next = NULL;
  *done_tail = d;
  done_tail = &d->next;
  pthread_cond_signal(&done_cond);
  pthread_mutex_unlock(&done_lock);
}

static void *store_done_main(void *unused)
{
  (void)unused;
  pthread_setname_np(pthread_self(), "nd-storedone");   /* for top -H and perf */
  pthread_mutex_lock(&done_lock);
  for(;;) {
    while(!done_head && !done_stop)
      pthread_cond_wait(&done_cond, &done_lock);
    struct store_op *d = done_head;
    if(!d)
      break;   /* stopping, and nothing left */
    done_head = d->next;
    if(!done_head)
      done_tail = &done_head;
    pthread_mutex_unlock(&done_lock);
    d->fn(d->arg, d->rc, d->rc == BLOB_OK ? d->locator : NULL);   /* may free d */
    pthread_mutex_lock(&done_lock);
  }
  pthread_mutex_unlock(&done_lock);
  return NULL;
}

int store_put(struct store_op *op, const char *spool_path, uint64_t size, const char *checksum,
              blob_done_fn done, void *arg)
{
  memset(op, 0, sizeof(*op));
  op->fn = done;
  op->arg = arg;
  return blob_put(store, spool_path, size, checksum, store_put_landed, op);
}

int store_cancel(struct store_op *op)
{
  return store ? blob_cancel(store, op) : BLOB_ERR;
}

/* One batch: removes up to max_items due deletions; *due says how many were
 * due (tried). Returns how many were removed. */
static int store_sweep_batch(db_t *db, int max_items, int *due)
{
  struct garbage_item items[SWEEP_BATCH];
  const char *locators[SWEEP_BATCH];
  int rcs[SWEEP_BATCH];
  int removed = 0;
  if(max_items > SWEEP_BATCH)
    max_items = SWEEP_BATCH;
  int64_t now = time_now_ms();
  int n = garbage_due(db, store_backend_name(), now, items, max_items);
  *due = n > 0 ? n : 0;
  if(n <= 0)
    return 0;
  /* One batch: a remote store removes many in one call. */
  for(int i = 0; i < n; i++)
    locators[i] = items[i].locator;
  blob_delete_many(store, locators, n, rcs);
  for(int i = 0; i < n; i++) {
    if(rcs[i] == BLOB_OK) {
      garbage_done(db, items[i].id);
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
    garbage_retry(db, items[i].id, now + delay, "delete failed");
  }
  return removed;
}

int store_sweep(db_t *db, int max_items)
{
  int due;
  return store_sweep_batch(db, max_items, &due);
}

int store_sweep_all(db_t *db, const bool *stop)
{
  int due, removed = 0;
  /* One node sweeps at a time; the others' rounds find the lock taken. */
  if(!db_job_try_lock(db, DB_JOB_SWEEP))
    return 0;
  /* A failed removal is rescheduled into the future, so a full batch means
   * more may be due behind it, whatever was removed; a short one means none. */
  do
    removed += store_sweep_batch(db, SWEEP_BATCH, &due);
  while(due == SWEEP_BATCH && !(stop && __atomic_load_n(stop, __ATOMIC_RELAXED)));
  db_job_unlock(db, DB_JOB_SWEEP);
  return removed;
}

int store_reclaim_staged(int64_t before_ms, bool any_node)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int64_t n = garbage_reclaim_staged(db, before_ms, any_node);
  if(n < 0)
    return (int)n;
  if(n > 0)
    log_info("store: %lld chunks of interrupted uploads queued for removal", (long long)n);
  return DRIVE_OK;
}

static void *sweeper_main(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&sweeper_lock);
  while(!sweeper_stop) {
    pthread_mutex_unlock(&sweeper_lock);
    db_t *db = db_get();
    if(db) {
      store_sweep_all(db, &sweeper_stop);
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
int store_init(const struct blob_options *opt, bool with_sweeper, char *err, size_t errlen)
{
  store = blob_open(opt, err, errlen);
  if(!store)
    return -1;
  store_backend = blob_backend_name(store);
  done_stop = false;
  if(pthread_create(&done_thread, NULL, store_done_main, NULL) != 0) {
    snprintf(err, errlen, "cannot start the storage completion thread");
    goto fail;
  }
  done_running = true;
  if(!with_sweeper)
    return 0;
  sweeper_stop = false;
  if(pthread_create(&sweeper, NULL, sweeper_main, NULL) != 0) {
    snprintf(err, errlen, "cannot start the storage sweeper thread");
    goto fail;
  }
  sweeper_running = true;
  return 0;
fail:
  store_shutdown();
  return -1;
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
  /* Every put's outcome is queued once the store has closed (it drains);
   * the completion thread runs what is left, then stops. The callbacks
   * see store_blob() NULL from here on. */
  if(store)
    blob_close(store);
  store = NULL;
  if(done_running) {
    pthread_mutex_lock(&done_lock);
    done_stop = true;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    pthread_join(done_thread, NULL);
    done_running = false;
  }
}
