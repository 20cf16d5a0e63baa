/* Unit tests for db/ with the SQLite driver: the prepared-statement cache
 * (keyed by the SQL text's address, confirmed by its text), bindings, and a
 * statement opened while its cache slot is busy, and write transactions
 * taking turns in arrival order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "db/db_sqlite.c"
#include "testdb.h"

static int setup(void **state)
{
  return testdb_open("db");
}

static int teardown(void **state)
{
  testdb_close();
  return 0;
}

static int64_t query_int(const char *sql)
{
  int64_t v = -1;
  assert_int_equal(db_query_int(db_get(), &v, sql, ""), DB_ROW);
  return v;
}

static struct sq_cached *slot_of(const char *sql)
{
  struct sq_conn *c = (struct sq_conn *)db_get();
  return &c->cache[((uintptr_t)sql >> 3) % SQ_CACHE];
}

/* Two different SQL texts at the same address (a reused buffer) must each
 * run their own statement, not the one cached for the other. */
static void test_same_address_different_sql(void **state)
{
  static char sql[64];
  strcpy(sql, "SELECT 1");
  assert_int_equal(query_int(sql), 1);
  assert_ptr_equal(slot_of(sql)->key, sql);
  strcpy(sql, "SELECT 2");
  assert_int_equal(query_int(sql), 2);
  strcpy(sql, "SELECT 1");
  assert_int_equal(query_int(sql), 1);
  /* Same length, one character apart. */
  strcpy(sql, "SELECT 7");
  assert_int_equal(query_int(sql), 7);
}

/* A stack buffer reused by two calls: the usual way two strings share an
 * address without anyone noticing. */
static int64_t query_built(int n)
{
  char sql[32];
  snprintf(sql, sizeof(sql), "SELECT %d", n);
  return query_int(sql);
}

static void test_stack_buffer(void **state)
{
  for(int i = 0; i < 5; i++)
    assert_int_equal(query_built(i * 11), i * 11);
}

/* The same constant twice reuses its prepared statement (the cache still
 * works), and its bindings are cleared between uses. */
static void test_hit_reuses_statement(void **state)
{
  static const char sql[] = "SELECT $1 + 1";
  int64_t v = 0;
  assert_int_equal(db_query_int(db_get(), &v, sql, "i", (int64_t)41), DB_ROW);
  assert_int_equal(v, 42);
  sqlite3_stmt *first = slot_of(sql)->stmt;
  assert_non_null(first);
  assert_int_equal(db_query_int(db_get(), &v, sql, "i", (int64_t)9), DB_ROW);
  assert_int_equal(v, 10);
  assert_ptr_equal(slot_of(sql)->stmt, first);
  assert_string_equal(slot_of(sql)->text, sql);
  /* NULL binds NULL, and NULL + 1 is NULL. */
  db_stmt_t *st = db_query(db_get(), sql, "n");
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  assert_true(db_col_null(st, 0));
  assert_int_equal(db_finalize(st), DB_OK);
}

/* A statement opened while the same SQL is still stepping gets its own
 * uncached statement; both read their own rows. */
static void test_busy_slot(void **state)
{
  static const char sql[] = "SELECT $1";
  db_stmt_t *a = db_query(db_get(), sql, "i", (int64_t)1);
  assert_non_null(a);
  assert_true(slot_of(sql)->in_use);
  db_stmt_t *b = db_query(db_get(), sql, "i", (int64_t)2);
  assert_non_null(b);
  assert_int_equal(db_step(a), DB_ROW);
  assert_int_equal(db_step(b), DB_ROW);
  assert_int_equal(db_col_int(a, 0), 1);
  assert_int_equal(db_col_int(b, 0), 2);
  assert_int_equal(db_finalize(b), DB_OK);
  assert_true(slot_of(sql)->in_use);
  assert_int_equal(db_finalize(a), DB_OK);
  assert_false(slot_of(sql)->in_use);
}

/* A slot whose SQL failed to prepare stays empty, and the next query for
 * that slot still works. */
static void test_bad_sql_leaves_slot_empty(void **state)
{
  static char sql[64];
  strcpy(sql, "SELEKT 1");
  assert_null(db_query(db_get(), sql, ""));
  assert_null(slot_of(sql)->stmt);
  assert_null(slot_of(sql)->text);
  strcpy(sql, "SELECT 3");
  assert_int_equal(query_int(sql), 3);
}

/* Write turns (db_begin on SQLite): a thread that commits and begins again
 * at once must not starve another thread waiting to write. The hog runs
 * 300 short write transactions back to back; the waiter, started once the
 * hog is going, must get its turn long before the hog is done (SQLite's
 * busy handler alone let it in only at the end, or not within its timeout). */
static atomic_int hog_done, hog_started;

static void *hog(void *arg)
{
  db_t *db = db_get();
  for(int i = 0; i < 300; i++) {
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_exec(db, "INSERT INTO t (v) VALUES ($1)", "i", (int64_t)i), DB_OK);
    atomic_store(&hog_started, 1);
    /* Some work inside the transaction, as a batch of a bin has. */
    for(volatile int k = 0; k < 20000; k++)
      ;
    assert_int_equal(db_commit(db), DB_OK);
    atomic_fetch_add(&hog_done, 1);
  }
  return arg;
}

static void test_writers_take_turns(void **state)
{
  db_t *db = db_get();
  assert_int_equal(db_exec(db, "CREATE TABLE t (v INTEGER)", ""), DB_OK);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, hog, NULL), 0);
  while(!atomic_load(&hog_started))
    sched_yield();
  int before = atomic_load(&hog_done);
  assert_int_equal(db_begin(db), DB_OK);
  int seen = atomic_load(&hog_done) - before;
  assert_int_equal(db_exec(db, "INSERT INTO t (v) VALUES (-1)", ""), DB_OK);
  assert_int_equal(db_commit(db), DB_OK);
  pthread_join(th, NULL);
  /* In arrival order: the waiter came in after at most a few of the hog's
   * transactions (scheduling on a busy machine), not after all 300. */
  assert_true(seen < 30);
  assert_int_equal(query_int("SELECT COUNT(*) FROM t"), 301);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
    T(test_same_address_different_sql), T(test_stack_buffer), T(test_hit_reuses_statement),
    T(test_busy_slot),                  T(test_bad_sql_leaves_slot_empty),
    T(test_writers_take_turns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
