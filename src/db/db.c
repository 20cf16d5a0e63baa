/* db: thread-local connections, dispatch to the driver, and migrations. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db/driver.h"
#include "util/log.h"

#define DB_MAX_CONNS 512

/* Every connection begins with a pointer to its driver. */
struct db {
  const struct db_driver *drv;
};
struct db_stmt {
  const struct db_driver *drv;
};

static const struct db_driver *db_drv;
static char *db_url;
static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static db_t *db_conns[DB_MAX_CONNS];
static int db_nconns;
static __thread db_t *db_thread_conn;

/* The driver a URL names, or NULL. */
static const struct db_driver *db_driver_for(const char *url)
{
  if(!strncmp(url, "sqlite://", 9))
    return &db_sqlite_driver;
  if(!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11))
    return &db_pg_driver;
  return NULL;
}

int db_init(const char *url, char *err, size_t errlen)
{
  db_drv = db_driver_for(url);
  if(!db_drv) {
    snprintf(err, errlen, "DATABASE_URL: must start with sqlite:// or postgresql://");
    return -1;
  }
  free(db_url);
  db_url = strdup(url);
  db_t *db = db_drv->open(url, err, errlen);
  if(!db)
    return -1;
  pthread_mutex_lock(&db_lock);
  db_conns[db_nconns++] = db;
  pthread_mutex_unlock(&db_lock);
  db_thread_conn = db;
  return db_migrate(db, err, errlen) < 0 ? -1 : 0;
}

void db_shutdown(void)
{
  if(db_drv && db_drv->stop)
    db_drv->stop();
  pthread_mutex_lock(&db_lock);
  for(int i = 0; i < db_nconns; i++)
    db_drv->close(db_conns[i]);
  db_nconns = 0;
  pthread_mutex_unlock(&db_lock);
  db_thread_conn = NULL;
  free(db_url);
  db_url = NULL;
}

db_t *db_get(void)
{
  if(db_thread_conn)
    return db_thread_conn;
  if(!db_drv || !db_url)
    return NULL;
  char err[256];
  db_t *db = db_drv->open(db_url, err, sizeof(err));
  if(!db) {
    log_error("db: %s", err);
    return NULL;
  }
  pthread_mutex_lock(&db_lock);
  if(db_nconns >= DB_MAX_CONNS) {
    pthread_mutex_unlock(&db_lock);
    db_drv->close(db);
    log_error("db: too many connections");
    return NULL;
  }
  db_conns[db_nconns++] = db;
  pthread_mutex_unlock(&db_lock);
  db_thread_conn = db;
  return db;
}

db_t *db_open_url(const char *url, char *err, size_t errlen)
{
  const struct db_driver *drv = db_driver_for(url);
  if(!drv) {
    snprintf(err, errlen, "must start with sqlite:// or postgresql://");
    return NULL;
  }
  return drv->open(url, err, errlen);
}

db_t *db_open_own(void)
{
  char err[256];
  db_t *db = db_drv && db_url ? db_drv->open(db_url, err, sizeof(err)) : NULL;
  if(!db && db_drv && db_url)
    log_error("db: %s", err);
  return db;
}

void db_close(db_t *db)
{
  if(db)
    db->drv->close(db);
}

enum db_dialect db_conn_dialect(db_t *db)
{
  return db->drv->dialect;
}

enum db_dialect db_dialect(void)
{
  return db_drv ? db_drv->dialect : DB_SQLITE;
}

const char *db_sql(const char *sqlite_sql, const char *pg_sql)
{
  return db_dialect() == DB_POSTGRES ? pg_sql : sqlite_sql;
}

bool db_ping(db_t *db)
{
  int64_t v = 0;
  return db && db_query_int(db, &v, "SELECT 1", "") == DB_ROW && v == 1;
}

/* A batch (db_batch_begin) on this thread: the transactions inside it are
 * folded into the batch's one; a rollback inside fails the whole batch. */
static _Thread_local int db_batch_depth;
static _Thread_local bool db_batch_failed;

/* SQLite's write transactions of this process take turns in arrival order
 * (a ticket lock) before BEGIN IMMEDIATE. Left to SQLite's busy handler, a
 * waiting writer sleeps and polls, and a thread that commits and begins
 * again at once (a bin in batches) wins every time: the waiter starved for
 * the whole job. PostgreSQL's advisory lock already queues in order. */
static pthread_mutex_t db_turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t db_turn_cv = PTHREAD_COND_INITIALIZER;
static uint64_t db_turn_next, db_turn_serving;
static _Thread_local bool db_turn_held;

/* A writer never waits for its turn forever: after DB_TURN_WAIT_MS (SQLite's
 * own busy timeout) it gives its ticket up and goes to BEGIN anyway, where
 * the busy handler decides, so a turn held by a thread that is itself stuck
 * costs a slow answer, never a hang. Given-up tickets are skipped. */
#define DB_TURN_WAIT_MS 10000
static int db_turn_wait_ms = DB_TURN_WAIT_MS;   /* a unit test shortens it */
#define DB_TURN_SKIP_MAX 64
static uint64_t db_turn_skip[DB_TURN_SKIP_MAX];
static int db_turn_nskip;

/* Under db_turn_mu: moves past the serving ticket and any given up after it. */
static void db_turn_advance(void)
{
  db_turn_serving++;
  for(int i = 0; i < db_turn_nskip; i++)
    if(db_turn_skip[i] == db_turn_serving) {
      db_turn_skip[i] = db_turn_skip[--db_turn_nskip];
      db_turn_serving++;
      i = -1;   /* the next one may be given up too */
    }
  pthread_cond_broadcast(&db_turn_cv);
}

static void db_turn_take(db_t *db)
{
  if(db->drv->dialect != DB_SQLITE || db_turn_held)
    return;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += db_turn_wait_ms / 1000;
  until.tv_nsec += (long)(db_turn_wait_ms % 1000) * 1000000L;
  if(until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&db_turn_mu);
  uint64_t mine = db_turn_next++;
  while(mine != db_turn_serving) {
    if(pthread_cond_timedwait(&db_turn_cv, &db_turn_mu, &until) == ETIMEDOUT &&
       mine != db_turn_serving && db_turn_nskip < DB_TURN_SKIP_MAX) {
      db_turn_skip[db_turn_nskip++] = mine;
      pthread_mutex_unlock(&db_turn_mu);
      log_warn("db: waited %d ms for a write turn; going on without it", db_turn_wait_ms);
      return;
    }
  }
  pthread_mutex_unlock(&db_turn_mu);
  db_turn_held = true;
}

static void db_turn_give(void)
{
  if(!db_turn_held)
    return;
  db_turn_held = false;
  pthread_mutex_lock(&db_turn_mu);
  db_turn_advance();
  pthread_mutex_unlock(&db_turn_mu);
}

bool db_writers_waiting(db_t *db)
{
  if(db->drv->dialect != DB_SQLITE)
    return true;   /* the advisory lock's queue is not seen from here */
  pthread_mutex_lock(&db_turn_mu);
  bool waiting = db_turn_next - db_turn_serving > (db_turn_held ? 1 : 0) + (uint64_t)db_turn_nskip;
  pthread_mutex_unlock(&db_turn_mu);
  return waiting;
}

int db_begin(db_t *db)
{
  if(db_batch_depth)
    return db_batch_failed ? DB_ERROR : DB_OK;
  db_turn_take(db);
  int rc = db->drv->exec_script(db, db->drv->begin_sql);
  if(rc != DB_OK)
    db_turn_give();
  return rc;
}

int db_commit(db_t *db)
{
  if(db_batch_depth)
    return db_batch_failed ? DB_ERROR : DB_OK;
  int rc = db->drv->exec_script(db, "COMMIT");
  if(rc == DB_OK)
    db_turn_give(); /* else the caller rolls back, which gives the turn */
  return rc;
}

int db_rollback(db_t *db)
{
  if(db_batch_depth) {
    db_batch_failed = true;
    return DB_OK;
  }
  int rc = db->drv->exec_script(db, "ROLLBACK");
  db_turn_give();
  return rc;
}

int db_read_begin(db_t *db)
{
  return db_batch_depth ? DB_ERROR : db->drv->exec_script(db, "BEGIN");
}

int db_read_begin_snapshot(db_t *db)
{
  return db_batch_depth ? DB_ERROR
         : db->drv->exec_script(db, db->drv->dialect == DB_POSTGRES
                                      ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                                      : "BEGIN");
}

int db_read_end(db_t *db)
{
  /* Nothing to keep: ROLLBACK ends it even where a COMMIT could fail and
   * leave the snapshot open on this thread's connection. */
  return db->drv->exec_script(db, "ROLLBACK");
}

int db_batch_begin(db_t *db)
{
  int rc = db_begin(db);
  if(rc == DB_OK) {
    db_batch_depth = 1;
    db_batch_failed = false;
  }
  return rc;
}

int db_batch_end(db_t *db)
{
  bool failed = db_batch_failed;
  db_batch_depth = 0;
  db_batch_failed = false;
  if(failed) {
    db_rollback(db);
    return DB_ERROR;
  }
  return db_commit(db);
}

db_stmt_t *db_query(db_t *db, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  db_stmt_t *st = db->drv->query(db, sql, types, ap);
  va_end(ap);
  return st;
}

int db_step(db_stmt_t *st)
{
  return st ? st->drv->step(st) : DB_ERROR;
}

const char *db_col_text(db_stmt_t *st, int col)
{
  return st->drv->col_text(st, col);
}

int64_t db_col_int(db_stmt_t *st, int col)
{
  return st->drv->col_int(st, col);
}

size_t db_col_copy(db_stmt_t *st, int col, char *out, size_t outsz)
{
  const char *v = db_col_text(st, col);
  size_t n = v ? strlen(v) : 0;
  if(outsz == 0)
    return n;
  size_t k = n < outsz ? n : outsz - 1;
  memcpy(out, v ? v : "", k);
  out[k] = 0;
  return n;
}

bool db_col_null(db_stmt_t *st, int col)
{
  return st->drv->col_null(st, col);
}

int db_finalize(db_stmt_t *st)
{
  return st ? st->drv->finalize(st) : DB_ERROR;
}

int db_data_version(db_t *db, uint64_t out[2])
{
  return db->drv->data_version ? db->drv->data_version(db, out) : DB_ERROR;
}

int64_t db_changes(db_t *db)
{
  return db->drv->changes(db);
}

int db_exec(db_t *db, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  db_stmt_t *st = db->drv->query(db, sql, types, ap);
  va_end(ap);
  if(!st)
    return DB_ERROR;
  int rc;
  while((rc = db_step(st)) == DB_ROW)
    ;
  int frc = db_finalize(st);
  return rc == DB_DONE ? frc : rc;
}

int db_query_int(db_t *db, int64_t *out, const char *sql, const char *types, ...)
{
  va_list ap;
  va_start(ap, types);
  db_stmt_t *st = db->drv->query(db, sql, types, ap);
  va_end(ap);
  if(!st)
    return DB_ERROR;
  int rc = db_step(st);
  if(rc == DB_ROW)
    *out = db_col_int(st, 0);
  int frc = db_finalize(st);
  return frc != DB_OK ? frc : rc;
}

int db_migrate(db_t *db, char *err, size_t errlen)
{
  int64_t version = 0;
  if(db->drv->exec_script(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)") ||
     db_query_int(db, &version, "SELECT MAX(version) FROM schema_version", "") < 0) {
    snprintf(err, errlen, "DATABASE_URL: cannot read the schema version");
    return -1;
  }
  /* A newer node migrated this database: an older binary would run SQL the
   * schema no longer fits (several nodes upgrade one at a time). */
  int known = db_migration_count > 0 ? db_migrations[db_migration_count - 1].version : 0;
  if(version > known) {
    snprintf(err, errlen, "DATABASE_URL: the database schema is version %lld, newer than this "
             "build knows (%d); run a newer netradrive", (long long)version, known);
    return -1;
  }
  /* Every migration not yet recorded, in order: not only those above the
   * highest, so one that was missing below it (a test that takes it back
   * out, a development database of branches numbered apart) runs too. */
  for(int i = 0; i < db_migration_count; i++) {
    int64_t done = 0;
    int v = db_migrations[i].version;
    if(db_query_int(db, &done, "SELECT COUNT(*) FROM schema_version WHERE version = $1", "i",
                    (int64_t)v) < 0) {
      snprintf(err, errlen, "DATABASE_URL: cannot read the schema version");
      return -1;
    }
    if(done)
      continue;
    if(db_migration_apply(db, v, err, errlen))
      return -1;
    if(v > version)
      version = v;
  }
  return (int)version;
}

int db_migration_apply(db_t *db, int version, char *err, size_t errlen)
{
  const struct db_migration *m = NULL;
  for(int i = 0; i < db_migration_count && !m; i++)
    if(db_migrations[i].version == version)
      m = &db_migrations[i];
  if(!m) {
    snprintf(err, errlen, "DATABASE_URL: no migration %03d", version);
    return -1;
  }
  const char *sql = db->drv->dialect == DB_POSTGRES ? m->sql_pg : m->sql;
  if(db_begin(db) || db->drv->exec_script(db, sql) ||
     db_exec(db, "INSERT INTO schema_version (version) VALUES ($1)", "i", (int64_t)m->version) ||
     db_commit(db)) {
    db_rollback(db);
    snprintf(err, errlen, "DATABASE_URL: migration %03d_%s failed", m->version, m->name);
    return -1;
  }
  log_info("db: applied migration %03d_%s", m->version, m->name);
  return 0;
}

int db_backup(const char *url, const char *dest, int64_t *pages, char *err, size_t errlen)
{
  if(strncmp(url, "sqlite://", 9)) {
    snprintf(err, errlen, "backup: DATABASE_URL is not SQLite; back PostgreSQL up with its "
             "own tools (pg_dump)");
    return -1;
  }
  return db_sqlite_driver.backup(url, dest, pages, err, errlen);
}

db_listener_t *db_listen_open(const char *listen_sql)
{
  if(db_drv != &db_pg_driver || !db_url)
    return NULL;
  return pg_listen_open(db_url, listen_sql);
}

int db_listen_wait(db_listener_t *l, int timeout_ms, char *payload, size_t len)
{
  return pg_listen_wait(l, timeout_ms, payload, len);
}

void db_listen_close(db_listener_t *l)
{
  pg_listen_close(l);
}

bool db_job_try_lock(db_t *db, int64_t key)
{
  if(db_drv != &db_pg_driver)
    return true;
  int64_t got = 0;
  return db_query_int(db, &got, "SELECT pg_try_advisory_lock($1)::int", "i", key) == DB_ROW &&
         got == 1;
}

void db_job_unlock(db_t *db, int64_t key)
{
  int64_t ok = 0;
  if(db_drv == &db_pg_driver)
    db_query_int(db, &ok, "SELECT pg_advisory_unlock($1)::int", "i", key);
}
