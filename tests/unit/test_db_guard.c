/* Unit tests for the SQLite driver's debug guard (NETRA_DB_GUARD): a write
 * that starts while its connection holds a read snapshot outside a write
 * transaction is named in the log, and only then. The first test shows why:
 * such a write fails at once, without the busy wait, when another
 * connection wrote in between (issue 11's lost claim). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#ifndef NETRA_DB_GUARD
#define NETRA_DB_GUARD 1
#endif
#include "db/db_sqlite.c"
#include "testdb.h"

static int setup(void **state)
{
  if(testdb_open("db_guard") != 0)
    return -1;
  for(int i = 0; i < 3; i++)
    if(db_exec(db_get(), "INSERT INTO schema_version (version) VALUES ($1)", "i",
               (int64_t)(1000 + i)) != DB_OK)
      return -1;
  atomic_store(&sq_guard_hits, 0);
  return 0;
}

static int teardown(void **state)
{
  testdb_close();
  return 0;
}

#define SELECT_ROWS "SELECT version FROM schema_version WHERE version >= 1000"
#define WRITE_ROW "INSERT INTO schema_version (version) VALUES (2000)"

/* A write on another thread's connection, done when this returns. */
static void *other_write_main(void *arg)
{
  (void)arg;
  intptr_t rc = db_exec(db_get(), "INSERT INTO schema_version (version) VALUES (3000)", "");
  return (void *)rc;
}

static void other_write(void)
{
  pthread_t t;
  void *res = NULL;
  assert_int_equal(pthread_create(&t, NULL, other_write_main, NULL), 0);
  assert_int_equal(pthread_join(t, &res), 0);
  assert_int_equal((intptr_t)res, DB_OK);
}

/* The pattern itself: a row of a query still open, another connection
 * writes, then this one writes. It fails (no busy wait could help: the
 * snapshot is old), and the guard has named it. */
static void test_write_beside_open_read_fails_and_is_named(void **state)
{
  db_t *db = db_get();
  db_stmt_t *st = db_query(db, SELECT_ROWS, "");
  assert_int_equal(db_step(st), DB_ROW);
  other_write();
  assert_int_not_equal(db_exec(db, WRITE_ROW, ""), DB_OK);
  assert_int_equal(atomic_load(&sq_guard_hits), 1);
  assert_int_equal(db_finalize(st), DB_OK);
  /* Read first, finalize, then write: fine, and not named. */
  assert_int_equal(db_exec(db, WRITE_ROW, ""), DB_OK);
  assert_int_equal(atomic_load(&sq_guard_hits), 1);
}

/* Without another writer the same write succeeds: the race most runs win.
 * The guard names it anyway, so the test suite catches it every time. */
static void test_named_even_when_it_succeeds(void **state)
{
  db_t *db = db_get();
  db_stmt_t *st = db_query(db, SELECT_ROWS, "");
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_exec(db, WRITE_ROW, ""), DB_OK);
  assert_int_equal(atomic_load(&sq_guard_hits), 1);
  assert_int_equal(db_finalize(st), DB_OK);
}

/* Inside a write transaction (BEGIN IMMEDIATE) a query may stay open while
 * the same connection writes: the snapshot is already the writer's. */
static void test_quiet_inside_write_transaction(void **state)
{
  db_t *db = db_get();
  assert_int_equal(db_begin(db), DB_OK);
  db_stmt_t *st = db_query(db, SELECT_ROWS, "");
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_exec(db, WRITE_ROW, ""), DB_OK);
  assert_int_equal(db_finalize(st), DB_OK);
  assert_int_equal(db_commit(db), DB_OK);
  assert_int_equal(atomic_load(&sq_guard_hits), 0);
}

/* A query that ran to its end holds no snapshot, finalized or not; reads
 * beside reads are fine. */
static void test_quiet_after_done_and_for_reads(void **state)
{
  db_t *db = db_get();
  db_stmt_t *st = db_query(db, SELECT_ROWS " AND version > 5000", "");
  assert_int_equal(db_step(st), DB_DONE);
  assert_int_equal(db_exec(db, WRITE_ROW, ""), DB_OK);
  assert_int_equal(db_finalize(st), DB_OK);
  st = db_query(db, SELECT_ROWS, "");
  assert_int_equal(db_step(st), DB_ROW);
  int64_t n = 0;
  assert_int_equal(db_query_int(db, &n, "SELECT COUNT(*) FROM schema_version", ""), DB_ROW);
  assert_int_equal(db_finalize(st), DB_OK);
  assert_int_equal(atomic_load(&sq_guard_hits), 0);
}

/* BEGIN IMMEDIATE while a query is open must upgrade the same snapshot. */
static void test_begin_beside_open_read_is_named(void **state)
{
  db_t *db = db_get();
  db_stmt_t *st = db_query(db, SELECT_ROWS, "");
  assert_int_equal(db_step(st), DB_ROW);
  if(db_begin(db) == DB_OK)
    db_rollback(db);
  assert_int_equal(atomic_load(&sq_guard_hits), 1);
  assert_int_equal(db_finalize(st), DB_OK);
}

/* The reverse: a deferred BEGIN that read, then writes. */
static void test_deferred_read_then_write_is_named(void **state)
{
  db_t *db = db_get();
  assert_int_equal(sq_exec_script(db, "BEGIN"), DB_OK);
  int64_t n = 0;
  assert_int_equal(db_query_int(db, &n, "SELECT COUNT(*) FROM schema_version", ""), DB_ROW);
  assert_int_equal(db_exec(db, WRITE_ROW, ""), DB_OK);
  assert_int_equal(sq_exec_script(db, "COMMIT"), DB_OK);
  assert_int_equal(atomic_load(&sq_guard_hits), 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
    T(test_write_beside_open_read_fails_and_is_named),
    T(test_named_even_when_it_succeeds),
    T(test_quiet_inside_write_transaction),
    T(test_quiet_after_done_and_for_reads),
    T(test_begin_beside_open_read_is_named),
    T(test_deferred_read_then_write_is_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
