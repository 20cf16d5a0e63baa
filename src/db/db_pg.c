/* db_pg: the PostgreSQL driver (libpq). One connection per thread (db.c),
 * statements prepared once per connection and cached by their SQL text,
 * results read whole (PQexecPrepared), so a caller may run a second query
 * while it walks the rows of a first, as it may on SQLite.
 *
 * Transactions: db_begin is BEGIN (READ COMMITTED) plus a transaction-level
 * advisory lock that every write transaction takes, so write transactions
 * run one at a time as under SQLite's BEGIN IMMEDIATE and see each other's
 * commits: a caller's read-then-write logic stays correct without retries.
 *
 * Failures: class 23 (unique, foreign key, not null) is DB_CONSTRAINT; a
 * lost connection is DB_UNAVAILABLE, and the next call outside a
 * transaction reconnects. A serialization failure or deadlock (40001,
 * 40P01) of a statement outside a transaction is re-run here; inside one it
 * is returned (only the caller could re-run its transaction). */
#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db/driver.h"
#include "util/log.h"

#define PG_CACHE 256      /* prepared statements per connection */
#define PG_PARAMS 32      /* parameters per statement */
#define PG_RETRIES 5      /* re-runs of a statement hit by 40001/40P01 */
#define PG_INT_LEN 24

/* The advisory lock key of write transactions ("netradrv" in ASCII). */
#define PG_BEGIN_SQL "BEGIN; SELECT pg_advisory_xact_lock(7954893602245981814)"

struct pg_cached {
  char *text;           /* the SQL text (NULL: free slot) */
  char name[16];        /* its prepared statement's name on the server */
};

struct pg_conn {
  const struct db_driver *drv; /* must be first (see db.c) */
  PGconn *h;
  bool in_tx;                  /* between BEGIN and COMMIT/ROLLBACK */
  bool broken;                 /* the connection died inside a transaction */
  int64_t changes;
  unsigned next_name;
  struct pg_cached cache[PG_CACHE];
};

struct pg_stmt {
  const struct db_driver *drv; /* must be first */
  struct pg_conn *c;
  const char *name;            /* prepared statement name */
  int nparams;
  char *values[PG_PARAMS];
  char ints[PG_PARAMS][PG_INT_LEN];
  char *texts[PG_PARAMS];      /* copies of the text values, owned */
  PGresult *res;
  int row;                     /* the current row; -1 before the first step */
  bool ran;
  int err;
};

/* Maps a failed result (or a dead connection) to a db.h code. */
static int pg_code(struct pg_conn *c, const PGresult *res)
{
  if(PQstatus(c->h) != CONNECTION_OK)
    return DB_UNAVAILABLE;
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  if(!state)
    return DB_UNAVAILABLE; /* no answer from the server at all */
  if(!strncmp(state, "23", 2))
    return DB_CONSTRAINT;
  /* connection exceptions, admin shutdown, cannot connect now, too many connections */
  if(!strncmp(state, "08", 2) || !strncmp(state, "57P", 3) || !strcmp(state, "53300"))
    return DB_UNAVAILABLE;
  return DB_ERROR;
}

static bool pg_retryable(const PGresult *res)
{
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return state && (!strcmp(state, "40001") || !strcmp(state, "40P01"));
}

static void pg_cache_clear(struct pg_conn *c)
{
  for(int i = 0; i < PG_CACHE; i++) {
    free(c->cache[i].text);
    c->cache[i].text = NULL;
  }
}

/* Drops a notice (libpq's default prints it on stderr). */
static void pg_notice_drop(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

static db_t *pg_open(const char *url, char *err, size_t errlen)
{
  struct pg_conn *c = calloc(1, sizeof(*c));
  if(!c) {
    snprintf(err, errlen, "DATABASE_URL: out of memory");
    return NULL;
  }
  c->drv = &db_pg_driver;
  c->h = PQconnectdb(url);
  if(!c->h || PQstatus(c->h) != CONNECTION_OK) {
    /* The message may hold the host, never the password (libpq's own text). */
    const char *m = c->h ? PQerrorMessage(c->h) : "out of memory";
    snprintf(err, errlen, "DATABASE_URL: cannot connect to PostgreSQL: %.*s",
             (int)strcspn(m, "\n"), m);
    PQfinish(c->h);
    free(c);
    return NULL;
  }
  /* Notices (e.g. "relation already exists, skipping") are not our logs. */
  PQsetNoticeProcessor(c->h, pg_notice_drop, NULL); /* NULL would keep the default */
  return (db_t *)c;
}

static void pg_close(db_t *db)
{
  struct pg_conn *c = (struct pg_conn *)db;
  if(!c)
    return;
  pg_cache_clear(c);
  PQfinish(c->h);
  free(c);
}

/* Outside a transaction, a dead connection is reset before use (the server
 * may be back); inside one it stays failed until ROLLBACK, since a new
 * connection would run the rest of the transaction's statements alone. */
static bool pg_usable(struct pg_conn *c)
{
  if(PQstatus(c->h) == CONNECTION_OK && !c->broken)
    return true;
  if(c->in_tx) {
    c->broken = true;
    return false;
  }
  PQreset(c->h);
  pg_cache_clear(c); /* prepared statements died with the old session */
  c->broken = false;
  if(PQstatus(c->h) != CONNECTION_OK)
    return false;
  log_info("db: reconnected to PostgreSQL");
  return true;
}

static int pg_exec_script(db_t *db, const char *sql)
{
  struct pg_conn *c = (struct pg_conn *)db;
  bool end = !strcmp(sql, "COMMIT") || !strcmp(sql, "ROLLBACK");
  if(!pg_usable(c)) {
    if(end) { /* the server dropped the transaction already */
      c->in_tx = false;
      return strcmp(sql, "ROLLBACK") ? DB_UNAVAILABLE : DB_OK;
    }
    return DB_UNAVAILABLE;
  }
  PGresult *res = PQexec(c->h, sql);
  ExecStatusType s = PQresultStatus(res);
  int rc = DB_OK;
  if(s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
    rc = pg_code(c, res);
    log_error("postgres: %.200s (in: %.80s)", PQerrorMessage(c->h), sql);
  }
  PQclear(res);
  if(!strcmp(sql, PG_BEGIN_SQL))
    c->in_tx = rc == DB_OK;
  else if(end)
    c->in_tx = false;
  if(rc == DB_UNAVAILABLE && c->in_tx)
    c->broken = true;
  return rc;
}

/* djb2 over the text: statements are cached by what they say. */
static unsigned pg_hash(const char *s)
{
  unsigned h = 5381;
  while(*s)
    h = h * 33 + (unsigned char)*s++;
  return h;
}

/* The name of sql's prepared statement on this connection, preparing it on
 * first use. A slot taken by another text is given over (DEALLOCATE). */
static const char *pg_prepared(struct pg_conn *c, const char *sql, const char *types, int *rc)
{
  struct pg_cached *slot = &c->cache[pg_hash(sql) % PG_CACHE];
  if(slot->text && !strcmp(slot->text, sql))
    return slot->name;
  if(slot->text) {
    char dealloc[32];
    snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", slot->name);
    PQclear(PQexec(c->h, dealloc));
    free(slot->text);
    slot->text = NULL;
  }
  /* Declared types: text for 't', bigint for 'i' and 'b' (0/1 flags are
   * INTEGER columns), left to the server for 'n'. */
  Oid oids[PG_PARAMS];
  int n = 0;
  for(const char *t = types; *t && n < PG_PARAMS; t++, n++)
    oids[n] = *t == 't' ? 25 : *t == 'n' ? 0 : 20;
  snprintf(slot->name, sizeof(slot->name), "s%u", c->next_name++);
  PGresult *res = PQprepare(c->h, slot->name, sql, n, oids);
  if(PQresultStatus(res) != PGRES_COMMAND_OK) {
    *rc = pg_code(c, res);
    log_error("postgres: prepare failed: %.200s (in: %.120s)", PQerrorMessage(c->h), sql);
    PQclear(res);
    return NULL;
  }
  PQclear(res);
  slot->text = strdup(sql);
  if(!slot->text) {
    *rc = DB_ERROR;
    return NULL;
  }
  return slot->name;
}

static db_stmt_t *pg_query(db_t *db, const char *sql, const char *types, va_list ap)
{
  struct pg_conn *c = (struct pg_conn *)db;
  struct pg_stmt *st = calloc(1, sizeof(*st));
  if(!st)
    return NULL;
  st->drv = &db_pg_driver;
  st->c = c;
  st->row = -1;
  for(const char *t = types; *t && !st->err; t++, st->nparams++) {
    int i = st->nparams;
    if(i == PG_PARAMS) {
      log_error("postgres: too many parameters for: %.120s", sql);
      st->err = DB_ERROR;
      break;
    }
    switch(*t) {
    case 't': {
      const char *v = va_arg(ap, const char *);
      /* copied, as SQLite's SQLITE_TRANSIENT does: the caller's buffer may
       * change before the statement runs at its first step */
      if(v && !(st->values[i] = st->texts[i] = strdup(v)))
        st->err = DB_ERROR;
      break;
    }
    case 'i':
      snprintf(st->ints[i], PG_INT_LEN, "%lld", (long long)va_arg(ap, int64_t));
      st->values[i] = st->ints[i];
      break;
    case 'b':
      snprintf(st->ints[i], PG_INT_LEN, "%d", va_arg(ap, int) ? 1 : 0);
      st->values[i] = st->ints[i];
      break;
    case 'n': st->values[i] = NULL; break;
    default:
      log_error("postgres: bad parameter type '%c' for: %.120s", *t, sql);
      st->err = DB_ERROR;
      break;
    }
  }
  if(st->err)
    return (db_stmt_t *)st;
  if(!pg_usable(c)) {
    st->err = DB_UNAVAILABLE;
    return (db_stmt_t *)st;
  }
  int rc = DB_ERROR;
  st->name = pg_prepared(c, sql, types, &rc);
  if(!st->name)
    st->err = rc;
  return (db_stmt_t *)st;
}

/* Runs the prepared statement: a statement outside a transaction that lost
 * to a concurrent one (40001/40P01) was rolled back whole, so it runs again. */
static int pg_run(struct pg_stmt *st)
{
  struct pg_conn *c = st->c;
  for(int attempt = 0;; attempt++) {
    st->res = PQexecPrepared(c->h, st->name, st->nparams, (const char *const *)st->values,
                             NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(st->res);
    if(s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
      const char *n = PQcmdTuples(st->res);
      c->changes = *n ? strtoll(n, NULL, 10) : 0;
      return DB_OK;
    }
    if(!c->in_tx && attempt < PG_RETRIES && pg_retryable(st->res)) {
      PQclear(st->res);
      st->res = NULL;
      nanosleep(&(struct timespec){0, (long)(attempt + 1) * 5000000L}, NULL);
      continue;
    }
    int rc = pg_code(c, st->res);
    if(rc == DB_UNAVAILABLE && c->in_tx)
      c->broken = true;
    if(rc != DB_CONSTRAINT)
      log_error("postgres: %.200s", PQerrorMessage(c->h));
    return rc;
  }
}

static int pg_step(db_stmt_t *dst)
{
  struct pg_stmt *st = (struct pg_stmt *)dst;
  if(st->err)
    return st->err;
  if(!st->ran) {
    st->ran = true;
    int rc = pg_run(st);
    if(rc != DB_OK)
      return st->err = rc;
  }
  if(st->row + 1 < PQntuples(st->res)) {
    st->row++;
    return DB_ROW;
  }
  st->row = PQntuples(st->res);
  return DB_DONE;
}

static const char *pg_col_text(db_stmt_t *dst, int col)
{
  struct pg_stmt *st = (struct pg_stmt *)dst;
  if(!st->res || st->row < 0 || st->row >= PQntuples(st->res) || col >= PQnfields(st->res) ||
     PQgetisnull(st->res, st->row, col))
    return NULL;
  return PQgetvalue(st->res, st->row, col);
}

/* Integers come as text; a boolean expression (x IS NOT NULL) as t/f. */
static int64_t pg_col_int(db_stmt_t *dst, int col)
{
  const char *v = pg_col_text(dst, col);
  if(!v)
    return 0;
  if(v[0] == 't' && !v[1])
    return 1;
  return strtoll(v, NULL, 10);
}

static bool pg_col_null(db_stmt_t *dst, int col)
{
  return pg_col_text(dst, col) == NULL;
}

static int pg_finalize(db_stmt_t *dst)
{
  struct pg_stmt *st = (struct pg_stmt *)dst;
  int err = st->err;
  for(int i = 0; i < st->nparams && i < PG_PARAMS; i++)
    free(st->texts[i]);
  PQclear(st->res);
  free(st);
  return err;
}

static int64_t pg_changes(db_t *db)
{
  return ((struct pg_conn *)db)->changes;
}

/* No cheap "has anything changed" stamp on PostgreSQL: caches keep nothing. */
static int pg_data_version(db_t *db, uint64_t out[2])
{
  return DB_ERROR;
}

const struct db_driver db_pg_driver = {
  .name = "postgres",
  .dialect = DB_POSTGRES,
  .open = pg_open,
  .close = pg_close,
  .exec_script = pg_exec_script,
  .query = pg_query,
  .step = pg_step,
  .col_text = pg_col_text,
  .col_int = pg_col_int,
  .col_null = pg_col_null,
  .finalize = pg_finalize,
  .changes = pg_changes,
  .data_version = pg_data_version,
  .begin_sql = PG_BEGIN_SQL,
};

/* ---- LISTEN: a connection of its own, waited on with poll() ---------------- */

struct pg_listener {
  PGconn *h;
  char listen_sql[64];
};

static bool pg_listen_connect(struct pg_listener *l)
{
  if(PQstatus(l->h) != CONNECTION_OK)
    PQreset(l->h);
  if(PQstatus(l->h) != CONNECTION_OK)
    return false;
  PGresult *res = PQexec(l->h, l->listen_sql);
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  return ok;
}

struct pg_listener *pg_listen_open(const char *url, const char *listen_sql)
{
  struct pg_listener *l = calloc(1, sizeof(*l));
  if(!l)
    return NULL;
  snprintf(l->listen_sql, sizeof(l->listen_sql), "%s", listen_sql);
  l->h = PQconnectdb(url);
  if(!l->h) {
    free(l);
    return NULL;
  }
  PQsetNoticeProcessor(l->h, NULL, NULL);
  if(!pg_listen_connect(l))
    log_warn("db: cannot listen on PostgreSQL yet; retrying");
  return l;
}

int pg_listen_wait(struct pg_listener *l, int timeout_ms, char *payload, size_t len)
{
  if(PQstatus(l->h) != CONNECTION_OK) {
    /* Notifications sent meanwhile are lost: LISTEN holds only while connected. */
    nanosleep(&(struct timespec){timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L}, NULL);
    if(!pg_listen_connect(l))
      return DB_UNAVAILABLE;
    log_info("db: listening on PostgreSQL again");
  }
  PGnotify *n = PQnotifies(l->h);
  if(!n) {
    struct pollfd p = {.fd = PQsocket(l->h), .events = POLLIN};
    if(poll(&p, 1, timeout_ms) < 0 || !PQconsumeInput(l->h)) {
      if(PQstatus(l->h) == CONNECTION_OK)
        return DB_DONE;   /* EINTR */
      log_warn("db: the PostgreSQL listener lost its connection");
      return DB_UNAVAILABLE;
    }
    n = PQnotifies(l->h);
  }
  if(!n)
    return DB_DONE;
  snprintf(payload, len, "%s", n->extra);
  PQfreemem(n);
  return DB_ROW;
}

void pg_listen_close(struct pg_listener *l)
{
  if(!l)
    return;
  PQfinish(l->h);
  free(l);
}
