/* sq_ckpt: SQLite's WAL checkpoints off the committing thread.
 *
 * By default the commit that takes the WAL past 1,000 frames copies them
 * into the database file and fsyncs both, before its COMMIT returns and
 * while db.c's write turn is still held: beside a bin in batches that was
 * whichever request happened to commit then, another user's cheap write
 * included, waiting 10-40 ms for pages it never wrote (issue 14). Here the
 * commit only wakes a thread, which runs the same PASSIVE checkpoint on its
 * own connection: it takes no write lock, so writers go on beside it. Only
 * a WAL past SQ_CKPT_INLINE_PAGES (the thread falling behind) makes the
 * committer checkpoint itself again, so the WAL stays bounded.
 *
 * One database file is served (the server's); a connection to another
 * file keeps SQLite's own automatic checkpoints. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "db/sq_ckpt.h"
#include "util/log.h"
#include "util/metric_list.h"

static pthread_mutex_t ck_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ck_cv = PTHREAD_COND_INITIALIZER;
static char ck_path[4096];    /* the file served; "" before the first attach */
static pthread_t ck_thread;
static sqlite3 *ck_conn;      /* the thread's own connection */
static bool ck_running, ck_due, ck_stopping;
static bool ck_failed;        /* could not start: commits checkpoint until the next stop */

static void *ck_main(void *arg)
{
  sqlite3 *h = arg;
  pthread_mutex_lock(&ck_mu);
  for(;;) {
    while(!ck_due && !ck_stopping)
      pthread_cond_wait(&ck_cv, &ck_mu);
    if(ck_stopping)
      break;
    ck_due = false;
    pthread_mutex_unlock(&ck_mu);
    /* PASSIVE: copies what no reader still needs, waits for nobody. BUSY
     * only means another checkpoint is running (a connection closing). */
    int rc = sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if(rc != SQLITE_OK && rc != SQLITE_BUSY)
      log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(h));
    metric_inc(&metric_db_checkpoints, (const char *[]){"thread"});
    pthread_mutex_lock(&ck_mu);
  }
  pthread_mutex_unlock(&ck_mu);
  return NULL;
}

/* Under ck_mu: the thread and its connection, started once. */
static bool ck_start(void)
{
  if(ck_running)
    return true;
  if(!ck_path[0] || ck_failed)   /* stopped, or failed once: not tried at every commit */
    return false;
  if(sqlite3_open_v2(ck_path, &ck_conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
     SQLITE_OK)
    goto fail;
  /* A connection finds the file in WAL mode at its first read: before
   * that its checkpoints do nothing. */
  sqlite3_busy_timeout(ck_conn, 1000);
  if(sqlite3_exec(ck_conn, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  if(pthread_create(&ck_thread, NULL, ck_main, ck_conn) != 0)
    goto fail;
  ck_running = true;
  return true;
fail:
  log_warn("sqlite: no checkpoint thread (%s): commits checkpoint themselves",
           ck_conn ? sqlite3_errmsg(ck_conn) : "out of memory");
  sqlite3_close(ck_conn);
  ck_conn = NULL;
  ck_failed = true;
  return false;
}

/* Wakes the thread; false when there is none (the caller checkpoints). */
static bool ck_wake(void)
{
  pthread_mutex_lock(&ck_mu);
  bool ok = !ck_stopping && ck_start();
  if(ok) {
    ck_due = true;
    pthread_cond_signal(&ck_cv);
  }
  pthread_mutex_unlock(&ck_mu);
  return ok;
}

/* sqlite3_wal_hook: called after each commit with the WAL's frame count. */
static int ck_hook(void *arg, sqlite3 *h, const char *db, int frames)
{
  (void)arg;
  if(frames < SQ_CKPT_PAGES)
    return SQLITE_OK;
  if(frames < SQ_CKPT_INLINE_PAGES && ck_wake())
    return SQLITE_OK;
  metric_inc(&metric_db_checkpoints, (const char *[]){"commit"});
  sqlite3_wal_checkpoint_v2(h, db, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  return SQLITE_OK;
}

void sq_ckpt_attach(sqlite3 *h, const char *path)
{
  pthread_mutex_lock(&ck_mu);
  if(!ck_path[0] && strlen(path) < sizeof(ck_path))
    snprintf(ck_path, sizeof(ck_path), "%s", path);
  bool ours = !strcmp(path, ck_path);
  pthread_mutex_unlock(&ck_mu);
  if(ours)
    sqlite3_wal_hook(h, ck_hook, NULL);   /* replaces SQLite's automatic checkpoints */
}

void sq_ckpt_stop(void)
{
  pthread_mutex_lock(&ck_mu);
  if(ck_running) {
    ck_stopping = true;
    pthread_cond_signal(&ck_cv);
    pthread_mutex_unlock(&ck_mu);
    pthread_join(ck_thread, NULL);
    pthread_mutex_lock(&ck_mu);
    sqlite3_close(ck_conn);
    ck_conn = NULL;
    ck_running = ck_due = ck_stopping = false;
  }
  ck_path[0] = '\0';   /* the next attach names the file */
  ck_failed = false;
  pthread_mutex_unlock(&ck_mu);
}
