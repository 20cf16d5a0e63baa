/* throttle_db: failed-attempt counters kept in the database (table
 * login_failures, migration 010), for nodes sharing one PostgreSQL: a
 * failure made through one node counts on every node. The rule is
 * throttle.h's: a key with `max_failures` failures within one window of
 * `window_ms`, counted from its first failure, is locked until that window
 * has passed. Times are wall-clock milliseconds (time_now_ms: the nodes'
 * clocks must agree, as for heartbeats). */
#ifndef NETRA_THROTTLE_DB_H
#define NETRA_THROTTLE_DB_H
#include <stdint.h>
#include "drive/drive.h"

/** 0 when `key` may try now, else the seconds (>= 1) until its lock ends.
 *  A database fault lets the attempt through (logged): throttling must not
 *  lock everyone out while the database stutters. */
int throttle_db_check(db_t *db, const char *key, int max_failures, int64_t window_ms,
                      int64_t now_ms);
/** Records one failure for `key` (one atomic upsert, so failures made on
 *  several nodes at once all count); returns the seconds until the lock ends
 *  when this failure locked it, else 0. */
int throttle_db_fail(db_t *db, const char *key, int max_failures, int64_t window_ms,
                     int64_t now_ms);
/** Forgets `key` (a successful login). */
void throttle_db_clear(db_t *db, const char *key);
/** The longest window any caller uses (LOGIN_WINDOW_SECONDS is at most a
 *  day): a key whose window began longer ago is forgotten by the janitor. */
#define THROTTLE_DB_KEEP_MS (86400LL * 1000)
/** Forgets the keys whose window began before `before_ms` (the janitor). */
int throttle_db_forget(db_t *db, int64_t before_ms);

#endif
