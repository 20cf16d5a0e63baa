#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include "db/db.h"
#include "drive/bin.h"
#include "drive/folder_ops.h"
#include "drive/janitor.h"
#include "drive/orphans.h"
#include "drive/store.h"
#include "drive/throttle_db.h"
#include "drive/tokens.h"
#include "util/log.h"
#include "util/timefmt.h"

#define JANITOR_INTERVAL_S 60

static int jan_retention_days;
static pthread_t jan_thread;
static bool jan_running, jan_stop;
static pthread_mutex_t jan_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jan_cond = PTHREAD_COND_INITIALIZER;

void janitor_run_once(int bin_retention_days)
{
  db_t *db = db_get();
  /* One node's janitor at a time (several nodes on PostgreSQL). */
  if(!db || !db_job_try_lock(db, DB_JOB_JANITOR))
    return;
  /* A big bin or restore cut short between its batches (a crash, another
   * node that died): completed before anything reads the bin. */
  if(folder_ops_settle(NULL) != DRIVE_OK)
    log_warn("janitor: completing pending bin batches failed; will retry");
  int64_t now = time_now_ms();
  if(bin_retention_days > 0) {
    int64_t cutoff = now - (int64_t)bin_retention_days * 86400 * 1000;
    if(drive_purge_bin_older_than(db, cutoff) != DRIVE_OK)
      log_warn("janitor: purging old bin items failed; will retry");
  }
  if(tokens_forget_expired(db, now) != DRIVE_OK)
    log_warn("janitor: forgetting expired tokens failed; will retry");
  if(throttle_db_forget(db, now - THROTTLE_DB_KEEP_MS) != DRIVE_OK)
    log_warn("janitor: forgetting old login failures failed; will retry");
  /* Unrecorded chunks: rarely, and only those recorded neighbours show to
   * be older than the grace period (a put may be landing right now). */
  static int64_t orphans_last;
  if(now - orphans_last >= ORPHANS_INTERVAL_MS) {
    orphans_last = now;
    if(orphans_sweep(now, ORPHANS_GRACE_MS) > 0)
      store_kick();
  }
  db_job_unlock(db, DB_JOB_JANITOR);
}

static void *janitor_main(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&jan_lock);
  while(!jan_stop) {
    pthread_mutex_unlock(&jan_lock);
    janitor_run_once(jan_retention_days);
    pthread_mutex_lock(&jan_lock);
    if(jan_stop)
      break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += JANITOR_INTERVAL_S;
    pthread_cond_timedwait(&jan_cond, &jan_lock, &ts);
  }
  pthread_mutex_unlock(&jan_lock);
  return NULL;
}

int janitor_start(int bin_retention_days)
{
  jan_retention_days = bin_retention_days;
  jan_stop = false;
  if(pthread_create(&jan_thread, NULL, janitor_main, NULL) != 0)
    return -1;
  jan_running = true;
  return 0;
}

void janitor_stop(void)
{
  if(!jan_running)
    return;
  pthread_mutex_lock(&jan_lock);
  jan_stop = true;
  pthread_cond_signal(&jan_cond);
  pthread_mutex_unlock(&jan_lock);
  pthread_join(jan_thread, NULL);
  jan_running = false;
}
