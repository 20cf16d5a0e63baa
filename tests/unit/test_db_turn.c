/* Unit tests for db.c's write turns (SQLite): a writer whose turn does not
 * come within the wait gives its ticket up and goes on to BEGIN (SQLite's
 * busy handler decides), and the tickets given up are skipped, so later
 * writers still get theirs: a held turn never hangs anyone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "db/db.c"
#include "testdb.h"

static int setup(void **state)
{
  return testdb_open("dbturn");
}

static int teardown(void **state)
{
  testdb_close();
  return 0;
}

static int64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static atomic_int holder_in;

/* Holds a write transaction (and the turn) for 600 ms. */
static void *holder(void *arg)
{
  db_t *db = db_get();
  assert_int_equal(db_begin(db), DB_OK);
  atomic_store(&holder_in, 1);
  usleep(600 * 1000);
  assert_int_equal(db_commit(db), DB_OK);
  return arg;
}

static void test_a_held_turn_is_given_up_not_waited_for(void **state)
{
  db_turn_wait_ms = 150;
  db_t *db = db_get();
  assert_int_equal(db_exec(db, "CREATE TABLE t (v INTEGER)", ""), DB_OK);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, holder, NULL), 0);
  while(!atomic_load(&holder_in))
    usleep(1000);
  /* Our turn does not come: after the wait we go to BEGIN, which SQLite's
   * busy handler holds until the holder commits. */
  int64_t t0 = mono_ms();
  assert_int_equal(db_begin(db), DB_OK);
  int64_t took = mono_ms() - t0;
  assert_false(db_turn_held);   /* went on without the turn */
  assert_int_equal(db_exec(db, "INSERT INTO t (v) VALUES (1)", ""), DB_OK);
  assert_int_equal(db_commit(db), DB_OK);
  assert_true(took >= 140);
  pthread_join(th, NULL);
  /* The given-up ticket was skipped: the next writer's turn is at once. */
  pthread_mutex_lock(&db_turn_mu);
  assert_int_equal(db_turn_nskip, 0);
  assert_true(db_turn_serving == db_turn_next);
  pthread_mutex_unlock(&db_turn_mu);
  t0 = mono_ms();
  assert_int_equal(db_begin(db), DB_OK);
  assert_true(db_turn_held);
  assert_int_equal(db_exec(db, "INSERT INTO t (v) VALUES (2)", ""), DB_OK);
  assert_int_equal(db_commit(db), DB_OK);
  assert_true(mono_ms() - t0 < 100);
  db_turn_wait_ms = DB_TURN_WAIT_MS;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_a_held_turn_is_given_up_not_waited_for, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
