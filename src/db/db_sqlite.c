/* db_sqlite: the SQLite driver. WAL mode, a busy timeout, foreign keys on,
 * and a small per-connection cache of prepared statements. The cache is
 * looked up by the SQL text's address (callers pass string constants, so
 * that is one hash and no scan), and a hit is confirmed by comparing the
 * text: a different SQL string may sit at an address another one used
 * before (a reused buffer, a freed string), and must not get its statement. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "db/driver.h"
#include "db/sq_ckpt.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/metric_list.h"

#define SQ_CACHE 128

struct sq_cached {
  const char *key;      /* the caller's SQL address: where to look */
  char *text;           /* a copy of its text: what a hit must match */
  sqlite3_stmt *stmt;
  bool in_use;
};

struct sq_conn {
  const struct db_driver *drv; /* must be first (see db.c) */
  sqlite3 *h;
  struct sq_cached cache[SQ_CACHE];
};

struct sq_stmt {
  const struct db_driver *drv; /* must be first */
  struct sq_conn *c;
  sqlite3_stmt *s;
  struct sq_cached *slot;      /* NULL when not cached */
  int err;
};

static int sq_code(int rc)
{
  switch(rc & 0xff) {
  case SQLITE_OK: return DB_OK;
  case SQLITE_ROW: return DB_ROW;
  case SQLITE_DONE: return DB_DONE;
  case SQLITE_CONSTRAINT: return DB_CONSTRAINT;
  case SQLITE_CANTOPEN: case SQLITE_NOTADB: case SQLITE_CORRUPT: case SQLITE_IOERR:
  case SQLITE_FULL: case SQLITE_READONLY:
    return DB_UNAVAILABLE;
  default: return DB_ERROR;
  }
}

/* Counts a failed statement for /metrics by the kind of its result code. */
static void sq_count_error(int rc)
{
  const char *kind;
  switch(rc & 0xff) {
  case SQLITE_BUSY: case SQLITE_LOCKED: kind = "busy"; break;
  case SQLITE_CONSTRAINT: kind = "constraint"; break;
  case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_READONLY: case SQLITE_CANTOPEN: kind = "io"; break;
  case SQLITE_CORRUPT: case SQLITE_NOTADB: kind = "corrupt"; break;
  case SQLITE_MISUSE: case SQLITE_RANGE: kind = "misuse"; break;
  default: kind = "other"; break;
  }
  const char *v[] = {kind};
  metric_inc(&metric_db_errors, v);
}

/* SQLite's own busy timeout, counted: the same sleeps sqlite3_busy_timeout
 * makes (1 ms growing to 100 ms), given up after SQ_BUSY_TIMEOUT_MS. */
#define SQ_BUSY_TIMEOUT_MS 10000

static int sq_busy(void *arg, int count)
{
  static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  static const int totals[] = {0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228};
  const int n = (int)(sizeof(delays) / sizeof(delays[0]));
  int delay, prior;
  (void)arg;
  if(count < n) {
    delay = delays[count];
    prior = totals[count];
  }
  else {
    delay = delays[n - 1];
    prior = totals[n - 1] + delay * (count - (n - 1));
  }
  if(prior + delay > SQ_BUSY_TIMEOUT_MS) {
    delay = SQ_BUSY_TIMEOUT_MS - prior;
    if(delay <= 0)
      return 0;
  }
  metric_add(&metric_db_busy_waits, NULL, 1);
  sqlite3_sleep(delay);
  return 1;
}

static db_t *sq_open(const char *url, char *err, size_t errlen)
{
  const char *path = url + strlen("sqlite://");
  if(!*path) {
    snprintf(err, errlen, "DATABASE_URL: sqlite:// needs a file path");
    return NULL;
  }
  struct sq_conn *c = calloc(1, sizeof(*c));
  if(!c)
    return NULL;
  c->drv = &db_sqlite_driver;
  int rc = sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                           SQLITE_OPEN_NOMUTEX, NULL);
  if(rc != SQLITE_OK) {
    snprintf(err, errlen, "DATABASE_URL: cannot open %s: %s", path,
             c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
    goto fail;
  }
  sqlite3_busy_handler(c->h, sq_busy, NULL);
  sqlite3_extended_result_codes(c->h, 1);
  /* WAL lets readers run beside the single writer; NORMAL sync is durable
   * across application crashes and keeps commits cheap. */
  char *emsg = NULL;
  rc = sqlite3_exec(c->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-16000;", NULL, NULL, &emsg);
  if(rc != SQLITE_OK) {
    snprintf(err, errlen, "DATABASE_URL: cannot set up %s: %s", path, emsg ? emsg : "?");
    sqlite3_free(emsg);
    goto fail;
  }
  sq_ckpt_attach(c->h, path);
  return (db_t *)c;
fail:
  sqlite3_close(c->h);
  free(c);
  return NULL;
}

static void sq_close(db_t *db)
{
  struct sq_conn *c = (struct sq_conn *)db;
  if(!c)
    return;
  for(int i = 0; i < SQ_CACHE; i++) {
    sqlite3_finalize(c->cache[i].stmt);
    free(c->cache[i].text);
  }
  sqlite3_close(c->h);
  free(c);
}

/* The guard (debug builds: -DNETRA_DB_GUARD, on in SANITIZE=1 builds): a
 * write that starts on a connection holding a read snapshot outside a write
 * transaction (a statement of its own still at a row, or a deferred BEGIN)
 * must upgrade that snapshot, and fails at once with SQLITE_BUSY, without
 * the busy wait, whenever another connection wrote since (issue 11). Most
 * runs win that race, so the guard names the pattern itself, every time.
 * Release builds compile it out. */
#ifdef NETRA_DB_GUARD
static atomic_long sq_guard_hits;   /* read by its unit test */

static void sq_guard(struct sq_conn *c, sqlite3_stmt *s, const char *sql)
{
  if(s ? sqlite3_stmt_busy(s) || sqlite3_stmt_readonly(s)
        : !strncmp(sql, "COMMIT", 6) || !strncmp(sql, "ROLLBACK", 8))
    return;
  if(sqlite3_txn_state(c->h, "main") != SQLITE_TXN_READ)
    return;
  atomic_fetch_add(&sq_guard_hits, 1);
  log_error("sqlite: db guard: a write begins on a connection that holds a read snapshot "
            "(a statement still at a row, or a deferred BEGIN); it fails at once when "
            "another connection has written since (in: %.120s)", s ? sqlite3_sql(s) : sql);
}
#else
#define sq_guard(c, s, sql) ((void)0)
#endif

static int sq_exec_script(db_t *db, const char *sql)
{
  struct sq_conn *c = (struct sq_conn *)db;
  sq_guard(c, NULL, sql);
  char *emsg = NULL;
  int rc = sqlite3_exec(c->h, sql, NULL, NULL, &emsg);
  if(rc != SQLITE_OK) {
    sq_count_error(rc);
    log_error("sqlite: %s (in: %.80s)", emsg ? emsg : sqlite3_errstr(rc), sql);
    sqlite3_free(emsg);
    return sq_code(rc);
  }
  return DB_OK;
}

/* Rewrites PostgreSQL placeholders $N into SQLite's ?N outside of quotes. */
static char *sq_translate(const char *sql)
{
  char *out = strdup(sql);
  if(!out)
    return NULL;
  char quote = 0;
  for(char *p = out; *p; p++) {
    if(quote) {
      if(*p == quote)
        quote = 0;
    }
    else if(*p == '\'' || *p == '"')
      quote = *p;
    else if(*p == '$' && p[1] >= '0' && p[1] <= '9')
      *p = '?';
  }
  return out;
}

static sqlite3_stmt *sq_prepare(struct sq_conn *c, const char *sql, bool persistent)
{
  char *tsql = sq_translate(sql);
  if(!tsql)
    return NULL;
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v3(c->h, tsql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
  if(rc != SQLITE_OK) {
    sq_count_error(rc);
    log_error("sqlite: prepare failed: %s (in: %.120s)", sqlite3_errmsg(c->h), sql);
    s = NULL;
  }
  free(tsql);
  return s;
}

static db_stmt_t *sq_query(db_t *db, const char *sql, const char *types, va_list ap)
{
  struct sq_conn *c = (struct sq_conn *)db;
  struct sq_stmt *st = calloc(1, sizeof(*st));
  if(!st)
    return NULL;
  st->drv = &db_sqlite_driver;
  st->c = c;
  struct sq_cached *slot = &c->cache[((uintptr_t)sql >> 3) % SQ_CACHE];
  if(slot->in_use) /* taken by an open statement: this one is not cached */
    st->s = sq_prepare(c, sql, false);
  else if(slot->key == sql && slot->stmt && !strcmp(slot->text, sql)) {
    st->s = slot->stmt;
    st->slot = slot;
  }
  else {
    sqlite3_finalize(slot->stmt);
    free(slot->text);
    slot->stmt = NULL;
    slot->text = NULL;
    slot->key = NULL;
    st->s = sq_prepare(c, sql, true);
    slot->text = st->s ? strdup(sql) : NULL;
    if(slot->text) {
      slot->key = sql;
      slot->stmt = st->s;
      st->slot = slot;
    }
  }
  if(!st->s) {
    free(st);
    return NULL;
  }
  if(st->slot)
    st->slot->in_use = true;

  int idx = 1, rc = SQLITE_OK;
  for(const char *t = types; *t && rc == SQLITE_OK; t++, idx++) {
    switch(*t) {
    case 't': {
      const char *v = va_arg(ap, const char *);
      rc = v ? sqlite3_bind_text(st->s, idx, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st->s, idx);
      break;
    }
    case 'i': rc = sqlite3_bind_int64(st->s, idx, va_arg(ap, int64_t)); break;
    case 'b': rc = sqlite3_bind_int(st->s, idx, va_arg(ap, int) ? 1 : 0); break;
    case 'n': rc = sqlite3_bind_null(st->s, idx); break;
    default: rc = SQLITE_MISUSE; break;
    }
  }
  if(rc != SQLITE_OK) {
    sq_count_error(rc);
    log_error("sqlite: bind failed (%s) for: %.120s", sqlite3_errstr(rc), sql);
    st->err = DB_ERROR;
  }
  return (db_stmt_t *)st;
}

static int sq_step(db_stmt_t *dst)
{
  struct sq_stmt *st = (struct sq_stmt *)dst;
  if(st->err)
    return st->err;
  sq_guard(st->c, st->s, NULL);
  int rc = sqlite3_step(st->s);
  if(rc == SQLITE_ROW || rc == SQLITE_DONE)
    return sq_code(rc);
  st->err = sq_code(rc);
  sq_count_error(rc);
  if(st->err != DB_CONSTRAINT)
    log_error("sqlite: %s (in: %.120s)", sqlite3_errmsg(st->c->h), sqlite3_sql(st->s));
  return st->err;
}

static const char *sq_col_text(db_stmt_t *dst, int col)
{
  return (const char *)sqlite3_column_text(((struct sq_stmt *)dst)->s, col);
}

static int64_t sq_col_int(db_stmt_t *dst, int col)
{
  return sqlite3_column_int64(((struct sq_stmt *)dst)->s, col);
}

static bool sq_col_null(db_stmt_t *dst, int col)
{
  return sqlite3_column_type(((struct sq_stmt *)dst)->s, col) == SQLITE_NULL;
}

static int sq_finalize(db_stmt_t *dst)
{
  struct sq_stmt *st = (struct sq_stmt *)dst;
  int err = st->err;
  if(st->slot) {
    sqlite3_reset(st->s);
    sqlite3_clear_bindings(st->s);
    st->slot->in_use = false;
  }
  else
    sqlite3_finalize(st->s);
  free(st);
  return err;
}

static int64_t sq_changes(db_t *db)
{
  return sqlite3_changes64(((struct sq_conn *)db)->h);
}

/* SQLite's data_version changes when another connection committed since
 * this one last looked (the PRAGMA opens a read transaction, so it is
 * current); this connection's own writes show in its total_changes. */
static int sq_data_version(db_t *db, uint64_t out[2])
{
  int64_t v = 0;
  if(db_query_int(db, &v, "PRAGMA data_version", "") != DB_ROW)
    return DB_ERROR;
  out[0] = (uint64_t)v;
  out[1] = (uint64_t)sqlite3_total_changes64(((struct sq_conn *)db)->h);
  return DB_OK;
}

/* fsync of a file, or of a directory: 0 or -1 (errno set). */
static int sq_fsync_path(const char *path, int flags)
{
  int fd = open(path, flags | O_CLOEXEC);
  if(fd < 0)
    return -1;
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}

/* The backup API copies `step` pages at a time. The source holds one read
 * transaction from the first step to the last: without it every commit of
 * another connection (the running server) would restart the copy, which
 * might then never finish; with it the copy is the database as of that
 * moment, and in WAL mode an open reader blocks no writer (the WAL only
 * grows until the reader is done). The destination is DEST.tmp, closed,
 * fsynced, then renamed over DEST, so DEST is either the old file or a
 * whole copy. */
static int sq_backup(const char *url, const char *dest, int64_t *pages, char *err, size_t errlen)
{
  const char *path = url + strlen("sqlite://");
  sqlite3 *src = NULL, *dst = NULL;
  sqlite3_backup *b = NULL;
  char tmp[4096], dir[4096];
  struct stat sst, dstst;
  int rc = -1, step = SQLITE_OK, busy = 0;
  *pages = 0;
  if(snprintf(tmp, sizeof(tmp), "%s.tmp", dest) >= (int)sizeof(tmp)) {
    snprintf(err, errlen, "backup: destination path too long");
    return -1;
  }
  if(stat(path, &sst) != 0) {
    snprintf(err, errlen, "backup: cannot open the database %s: %s", path, strerror(errno));
    return -1;
  }
  if(stat(dest, &dstst) == 0 && dstst.st_dev == sst.st_dev && dstst.st_ino == sst.st_ino) {
    snprintf(err, errlen, "backup: %s is the database itself", dest);
    return -1;
  }
  if(sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "backup: cannot open the database %s: %s", path,
             src ? sqlite3_errmsg(src) : "out of memory");
    goto out;
  }
  sqlite3_busy_timeout(src, 10000);
  if(sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "backup: cannot read the database %s: %s", path, sqlite3_errmsg(src));
    goto out;
  }
  unlink(tmp);
  if(sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                     NULL) != SQLITE_OK) {
    snprintf(err, errlen, "backup: cannot create %s: %s", tmp,
             dst ? sqlite3_errmsg(dst) : "out of memory");
    goto out;
  }
  b = sqlite3_backup_init(dst, "main", src, "main");
  if(!b) {
    snprintf(err, errlen, "backup: %s", sqlite3_errmsg(dst));
    goto out;
  }
  /* 256 pages (1 MiB at 4 KiB pages) per step, a short pause in between. */
  while((step = sqlite3_backup_step(b, 256)) != SQLITE_DONE) {
    if(step == SQLITE_BUSY || step == SQLITE_LOCKED) {
      if(++busy > 1000)   /* 10 s */
        break;
      sqlite3_sleep(10);
    }
    else if(step != SQLITE_OK)
      break;
    else
      sqlite3_sleep(1);
  }
  *pages = sqlite3_backup_pagecount(b);
  int frc = sqlite3_backup_finish(b);
  b = NULL;
  if(step != SQLITE_DONE || frc != SQLITE_OK) {
    snprintf(err, errlen, "backup: copying to %s failed: %s", tmp,
             sqlite3_errstr(step != SQLITE_DONE ? step : frc));
    goto out;
  }
  int crc = sqlite3_close(dst);
  dst = NULL;
  if(crc != SQLITE_OK) {
    snprintf(err, errlen, "backup: closing %s failed: %s", tmp, sqlite3_errstr(crc));
    goto out;
  }
  snprintf(dir, sizeof(dir), "%s", dest);
  if(sq_fsync_path(tmp, O_RDONLY) != 0 || rename(tmp, dest) != 0 ||
     sq_fsync_path(dirname(dir), O_RDONLY | O_DIRECTORY) != 0) {
    snprintf(err, errlen, "backup: writing %s failed: %s", dest, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  if(b)
    sqlite3_backup_finish(b);
  if(dst)
    sqlite3_close(dst);
  if(rc != 0)
    unlink(tmp);
  if(src) {
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(src);
  }
  return rc;
}

const struct db_driver db_sqlite_driver = {
  .name = "sqlite",
  .dialect = DB_SQLITE,
  .open = sq_open,
  .close = sq_close,
  .exec_script = sq_exec_script,
  .query = sq_query,
  .step = sq_step,
  .col_text = sq_col_text,
  .col_int = sq_col_int,
  .col_null = sq_col_null,
  .finalize = sq_finalize,
  .changes = sq_changes,
  .data_version = sq_data_version,
  .begin_sql = "BEGIN IMMEDIATE",
  .backup = sq_backup,
  .stop = sq_ckpt_stop,
};
