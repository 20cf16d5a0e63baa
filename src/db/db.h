/* db: the one small, portable interface to the metadata database.
 *
 * SQL is written once in the dialect SQLite and PostgreSQL share, with
 * PostgreSQL-style placeholders $1..$n (the SQLite driver maps them).
 *
 * The rule for SQL text: it is a string constant (a literal, or a static
 * table of literals), never built at run time and never from user input.
 * Values are always bound, never spliced into the text. Drivers cache
 * prepared statements per SQL string (the SQLite one looks them up by the
 * text's address and checks the text on a hit), so a built string would
 * still run correctly, but would only churn the cache.
 *
 * Each thread uses its own connection (db_get()); a statement lives between
 * db_query()/db_prepare() and db_finalize() on that thread. Timestamps are
 * BIGINT milliseconds since the epoch, booleans INTEGER 0/1. */
#ifndef NETRA_DB_H
#define NETRA_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  DB_OK = 0,
  DB_ROW = 1,           /* db_step: a row is ready */
  DB_DONE = 2,          /* db_step: no more rows */
  DB_ERROR = -1,        /* any other failure (logged) */
  DB_CONSTRAINT = -2,   /* unique / foreign-key violation */
  DB_UNAVAILABLE = -3   /* cannot reach/open the database */
};

/** The SQL dialect of the open database. */
enum db_dialect { DB_SQLITE, DB_POSTGRES };

typedef struct db db_t;
typedef struct db_stmt db_stmt_t;

/** Checks the URL, opens a first connection and applies migrations.
 *  Returns 0, or -1 with one line in err. */
int db_init(const char *url, char *err, size_t errlen);
/** Closes every connection (call after all worker threads stopped). */
void db_shutdown(void);
/** The calling thread's connection, opened on first use; NULL when the
 *  database cannot be opened. */
db_t *db_get(void);
/** A connection of its own to the database at `url` (sqlite:// or
 *  postgresql://), beside the per-thread ones of db_init: for commands that
 *  work on two databases (migrate --from --to). Applies no migrations; every
 *  call below that takes a db_t works on it, on the thread that opened it.
 *  NULL with one line in err. Close it with db_close. */
db_t *db_open_url(const char *url, char *err, size_t errlen);
/** A connection of its own to the database db_init opened, outside the
 *  per-thread ones: for state that outlives a call and moves between threads
 *  (used by one at a time), such as a streamed reply's cursor. NULL (logged)
 *  when it cannot be opened. Close it with db_close. */
db_t *db_open_own(void);
void db_close(db_t *db);
/** The dialect of one connection (db_dialect() is the global one's). */
enum db_dialect db_conn_dialect(db_t *db);
/** The dialect of the database db_init opened (DB_SQLITE before). */
enum db_dialect db_dialect(void);
/** Picks a statement's text for the open database's dialect: for the few
 *  statements the two engines spell differently (both are constants). */
const char *db_sql(const char *sqlite_sql, const char *pg_sql);
/** Applies pending migrations; returns the schema version or -1. */
int db_migrate(db_t *db, char *err, size_t errlen);
/** Applies the one migration `version` in a transaction and records it
 *  (db_migrate's step; tests of an upgrade's data rewrite run it again). */
int db_migration_apply(db_t *db, int version, char *err, size_t errlen);
/** Cheap liveness query for /readyz. */
bool db_ping(db_t *db);

/** Transactions. db_begin takes the write lock at once (SQLite: IMMEDIATE). */
int db_begin(db_t *db);
/** A read-only transaction (one snapshot, no write turn) for a run of short
 *  reads: SQLite then takes the WAL read lock once, not per query. End it
 *  with db_read_end; never write inside it. */
int db_read_begin(db_t *db);
/** The same, its statements all reading one snapshot on PostgreSQL too
 *  (REPEATABLE READ; a SQLite read transaction always is). */
int db_read_begin_snapshot(db_t *db);
int db_read_end(db_t *db);
int db_commit(db_t *db);
int db_rollback(db_t *db);
/** Inside a write transaction: true when another write transaction of this
 *  process waits for its turn (SQLite; PostgreSQL: always true, its lock's
 *  queue is not seen), so a long job in batches may end its batch early
 *  only when someone waits. */
bool db_writers_waiting(db_t *db);
/** A batch for bulk loaders (bench/seed): one transaction on this thread
 *  that the db_begin/db_commit pairs run inside it join, so thousands of
 *  small changes commit once. A db_rollback inside fails the batch (later
 *  db_begin and db_commit calls fail too); db_batch_end then rolls it all
 *  back and returns DB_ERROR, else commits. Not for request handlers: the
 *  write lock is held for the whole batch. */
int db_batch_begin(db_t *db);
int db_batch_end(db_t *db);

/** Prepares `sql` and binds the arguments described by `types`, one char per
 *  parameter: 't' const char * (NULL binds NULL), 'i' int64_t, 'n' NULL (no
 *  argument consumed), 'b' int (0/1). Returns NULL on failure (logged). */
db_stmt_t *db_query(db_t *db, const char *sql, const char *types, ...);
/** Advances: DB_ROW, DB_DONE or an error code. */
int db_step(db_stmt_t *st);
/** Column accessors for the current row (0-based). Text is valid until the
 *  next step/finalize; NULL for SQL NULL. */
const char *db_col_text(db_stmt_t *st, int col);
int64_t db_col_int(db_stmt_t *st, int col);
bool db_col_null(db_stmt_t *st, int col);
/** Copies a text column into out (NUL-terminated, cut to fit; SQL NULL reads
 *  as ""). Returns the column's full length, so n >= outsz means it was cut. */
size_t db_col_copy(db_stmt_t *st, int col, char *out, size_t outsz);
/** Releases the statement; returns the first error seen, or DB_OK. */
int db_finalize(db_stmt_t *st);

/** Runs a statement with bound arguments to completion; DB_OK or an error. */
int db_exec(db_t *db, const char *sql, const char *types, ...);
/** Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t db_changes(db_t *db);
/** A version of everything this connection can read: equal in two calls
 *  only if no connection (this one, another thread's, another process's)
 *  changed the database in between. For caches of rendered data. DB_OK, or
 *  DB_ERROR when the engine cannot tell (then cache nothing). */
int db_data_version(db_t *db, uint64_t out[2]);
/** Runs one query expected to produce at most one integer; returns DB_ROW
 *  (value in *out), DB_DONE (no row) or an error. */
int db_query_int(db_t *db, int64_t *out, const char *sql, const char *types, ...);
/** Copies the database at `url` into the file `dest` while servers keep
 *  using it: SQLite's backup API, a few pages per step, over one read
 *  snapshot (in WAL mode that blocks no writer). The copy goes to DEST.tmp,
 *  is fsynced and renamed over `dest`. SQLite only. Returns 0 with the pages
 *  copied in *pages, or -1 with one line in err. */
int db_backup(const char *url, const char *dest, int64_t *pages, char *err, size_t errlen);

/* Background jobs that exactly one node may run at a time (bin purge, the
 * storage delete sweep, ...): a lock per kind of job, across every node on
 * the database. PostgreSQL: a session-level advisory lock of the calling
 * thread's connection, so a node that dies lets go with its connection and
 * another node takes the job over at its next round. SQLite: one node by
 * construction, always granted. Keys are the DB_JOB_* constants. */
#define DB_JOB_JANITOR 7954893602245981815LL   /* bin purge, tokens, orphans */
#define DB_JOB_SWEEP 7954893602245981816LL     /* storage deletes (pending_deletes) */
/** True when this thread now holds the job's lock (another node runs it: false). */
bool db_job_try_lock(db_t *db, int64_t key);
/** Lets go of a lock db_job_try_lock granted. */
void db_job_unlock(db_t *db, int64_t key);

/* Notifications between the nodes sharing one PostgreSQL (LISTEN/NOTIFY):
 * a node sends with db_exec(db, "SELECT pg_notify('channel', $1)", "t", msg)
 * and listens on a connection of its own, outside the per-thread pool. */
typedef struct pg_listener db_listener_t;
/** Opens the listening connection and runs `listen_sql` ("LISTEN channel",
 *  a constant) on it, again after each reconnect. NULL on SQLite (one node
 *  by construction) or when out of memory. */
db_listener_t *db_listen_open(const char *listen_sql);
/** Waits up to timeout_ms for one notification: DB_ROW with its payload in
 *  `payload` (cut to fit), DB_DONE when none came, DB_UNAVAILABLE while the
 *  database is unreachable (the next call reconnects, after timeout_ms). */
int db_listen_wait(db_listener_t *l, int timeout_ms, char *payload, size_t len);
/** Closes the connection. NULL is fine. */
void db_listen_close(db_listener_t *l);

#endif
