/* testdb: a throw-away SQLite database for unit tests that need one. Include
 * after db/db.h; one database per test program (db.h keeps it global). */
#ifndef NETRA_TESTDB_H
#define NETRA_TESTDB_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "db/db.h"

static char testdb_dir[64];

/* Creates /tmp/netra-test-<name>-XXXXXX/t.db with the migrations applied.
 * 0, or -1 with the reason on stderr. */
static inline int testdb_open(const char *name)
{
  char url[128], err[256];
  snprintf(testdb_dir, sizeof(testdb_dir), "/tmp/netra-test-%s-XXXXXX", name);
  if(!mkdtemp(testdb_dir))
    return -1;
  snprintf(url, sizeof(url), "sqlite://%s/t.db", testdb_dir);
  if(db_init(url, err, sizeof(err)) != 0) {
    fprintf(stderr, "db_init: %s\n", err);
    return -1;
  }
  return 0;
}

/* A verified user whose id, username and email are all `id`. */
static inline int testdb_add_user(db_t *db, const char *id)
{
  return db_exec(db,
                 "INSERT INTO users (id, username, username_key, email, email_key, "
                 "password_hash, is_verified, created_at, updated_at) "
                 "VALUES ($1, $1, $1, $1, $1, 'x', 1, 0, 0)",
                 "t", id) == DB_OK ? 0 : -1;
}

/* Closes the database and removes its files and directory. */
static inline void testdb_close(void)
{
  char path[128];
  static const char *const files[] = {"t.db", "t.db-wal", "t.db-shm"};
  db_shutdown();
  for(size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", testdb_dir, files[i]);
    unlink(path);
  }
  rmdir(testdb_dir);
}

#endif
