/* throttle_db: see throttle_db.h. */
#include "drive/throttle_db.h"
#include "util/log.h"

/* Seconds left of a lock, from a row's failures and window start. */
static int throttle_db_left(int64_t failures, int64_t start, int max_failures, int64_t window_ms,
                            int64_t now_ms)
{
  int64_t left = start + window_ms - now_ms;
  if(failures < max_failures || left <= 0)
    return 0;
  return (int)((left + 999) / 1000);
}

static int throttle_db_read(db_t *db, const char *key, int max_failures, int64_t window_ms,
                            int64_t now_ms)
{
  db_stmt_t *st = db_query(db, "SELECT failures, window_start FROM login_failures WHERE key = $1",
                           "t", key);
  if(!st)
    return 0;
  int left = 0, rc = db_step(st);
  if(rc == DB_ROW)
    left = throttle_db_left(db_col_int(st, 0), db_col_int(st, 1), max_failures, window_ms, now_ms);
  else if(rc != DB_DONE)
    log_warn("throttle: cannot read the failures of a key (%d)", rc);
  db_finalize(st);
  return left;
}

int throttle_db_check(db_t *db, const char *key, int max_failures, int64_t window_ms,
                      int64_t now_ms)
{
  return throttle_db_read(db, key, max_failures, window_ms, now_ms);
}

int throttle_db_fail(db_t *db, const char *key, int max_failures, int64_t window_ms,
                     int64_t now_ms)
{
  /* A window that has passed starts again with this failure. */
  int rc = db_exec(db, "INSERT INTO login_failures (key, failures, window_start) "
                       "VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET "
                       "failures = CASE WHEN login_failures.window_start <= $3 THEN 1 "
                       "ELSE login_failures.failures + 1 END, "
                       "window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 "
                       "ELSE login_failures.window_start END",
                   "tii", key, now_ms, now_ms - window_ms);
  if(rc != DB_OK) {
    log_warn("throttle: cannot record a failure (%d)", rc);
    return 0;
  }
  return throttle_db_read(db, key, max_failures, window_ms, now_ms);
}

void throttle_db_clear(db_t *db, const char *key)
{
  if(db_exec(db, "DELETE FROM login_failures WHERE key = $1", "t", key) != DB_OK)
    log_warn("throttle: cannot clear a key");
}

int throttle_db_forget(db_t *db, int64_t before_ms)
{
  return drive_db(db_exec(db, "DELETE FROM login_failures WHERE window_start < $1", "i",
                          before_ms));
}
