/* driver: what a database backend implements behind db.h. */
#ifndef NETRA_DB_DRIVER_H
#define NETRA_DB_DRIVER_H
#include <stdarg.h>
#include <stdint.h>
#include "db/db.h"

struct db_driver {
  const char *name;
  enum db_dialect dialect;
  db_t *(*open)(const char *url, char *err, size_t errlen);
  void (*close)(db_t *db);
  int (*exec_script)(db_t *db, const char *sql); /* several statements, no params */
  db_stmt_t *(*query)(db_t *db, const char *sql, const char *types, va_list ap);
  int (*step)(db_stmt_t *st);
  const char *(*col_text)(db_stmt_t *st, int col);
  int64_t (*col_int)(db_stmt_t *st, int col);
  bool (*col_null)(db_stmt_t *st, int col);
  int (*finalize)(db_stmt_t *st);
  int64_t (*changes)(db_t *db);
  /* A value that changes whenever the data may have (NULL: not known). */
  int (*data_version)(db_t *db, uint64_t out[2]);
  const char *begin_sql;
  /* Online copy of the database at `url` into `dest` (see db_backup). */
  int (*backup)(const char *url, const char *dest, int64_t *pages, char *err, size_t errlen);
  /* Stops the driver's own threads before its connections close (NULL: none). */
  void (*stop)(void);
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* PostgreSQL's LISTEN connection (db_pg.c), behind db_listen_* (db.c). */
struct pg_listener *pg_listen_open(const char *url, const char *listen_sql);
int pg_listen_wait(struct pg_listener *l, int timeout_ms, char *payload, size_t len);
void pg_listen_close(struct pg_listener *l);

/** The migrations, generated from src/db/migrations/NNN_*.sql at build time:
 *  one source per migration, whose `-- @sqlite` / `-- @postgres` blocks
 *  (each ended by `-- @end`) go to that engine's text only. */
struct db_migration {
  int version;
  const char *name;
  const char *sql;      /* SQLite */
  const char *sql_pg;   /* PostgreSQL */
};
extern const struct db_migration db_migrations[];
extern const int db_migration_count;

#endif
