/* Unit tests for sq_ckpt.c: a commit that takes the WAL past 1,000 pages
 * leaves the checkpoint to the thread (it does not run it itself); one past
 * SQ_CKPT_INLINE_PAGES runs it itself; a connection to another file keeps
 * SQLite's own automatic checkpoints; the thread stops with the database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/sq_ckpt.h"
#include "testdb.h"
#include "util/metric_list.h"
#include "util/metrics.h"

static int setup(void **state)
{
  (void)state;
  return testdb_open("sqckpt");
}

static int teardown(void **state)
{
  (void)state;
  testdb_close();
  return 0;
}

static int64_t ckpts(const char *by)
{
  return metric_value(&metric_db_checkpoints, (const char *[]){by});
}

/* One transaction of about `pages` new 4 KiB pages. */
static void write_pages(db_t *db, int64_t pages)
{
  assert_int_equal(db_exec(db, "CREATE TABLE IF NOT EXISTS t (b BLOB)", ""), DB_OK);
  assert_int_equal(db_exec(db,
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < $1) INSERT INTO t SELECT randomblob(3500) FROM n",
                           "i", pages), DB_OK);
}

/* Waits up to 5 s for the thread's count to pass `before`. */
static bool thread_ran_since(int64_t before)
{
  for(int i = 0; i < 500; i++) {
    if(ckpts("thread") > before)
      return true;
    usleep(10 * 1000);
  }
  return false;
}

static void test_a_big_commit_leaves_the_checkpoint_to_the_thread(void **state)
{
  (void)state;
  db_t *db = db_get();
  int64_t thread0 = ckpts("thread"), commit0 = ckpts("commit");
  write_pages(db, 100);   /* under the threshold: nothing due */
  usleep(50 * 1000);
  assert_int_equal(ckpts("thread"), thread0);
  write_pages(db, 1500);
  assert_true(thread_ran_since(thread0));
  assert_int_equal(ckpts("commit"), commit0);   /* the committer did not */
  /* The thread copied the log: a checkpoint now finds every frame done. */
  int log = -1, done = -1;
  sqlite3 *h = NULL;
  char path[128];
  snprintf(path, sizeof(path), "%s/t.db", testdb_dir);
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done),
                   SQLITE_OK);
  assert_true(log > 1000);
  assert_int_equal(done, log);
  sqlite3_close(h);
}

static void test_a_wal_far_past_the_threshold_is_checkpointed_by_the_commit(void **state)
{
  (void)state;
  db_t *db = db_get();
  int64_t commit0 = ckpts("commit");
  write_pages(db, SQ_CKPT_INLINE_PAGES + 500);
  assert_int_equal(ckpts("commit"), commit0 + 1);
}

static void test_another_file_keeps_sqlites_own_checkpoints(void **state)
{
  (void)state;
  char url[160], err[256];
  snprintf(url, sizeof(url), "sqlite://%s/other.db", testdb_dir);
  db_t *other = db_open_url(url, err, sizeof(err));
  assert_non_null(other);
  int64_t thread0 = ckpts("thread"), commit0 = ckpts("commit");
  write_pages(other, 1500);
  usleep(100 * 1000);
  assert_int_equal(ckpts("thread"), thread0);
  assert_int_equal(ckpts("commit"), commit0);
  /* SQLite's automatic checkpoint ran in that commit: the pages are in the
   * database file already, not only in the log. */
  int64_t rows = -1;
  assert_int_equal(db_query_int(other, &rows, "SELECT count(*) FROM t", ""), DB_ROW);
  char path[160];
  struct stat stt;
  snprintf(path, sizeof(path), "%s/other.db", testdb_dir);
  assert_int_equal(stat(path, &stt), 0);
  assert_true(stt.st_size > (off_t)1000 * 4096);
  db_close(other);
  sqlite3 *h = NULL;
  int nlog = -1, done = -1;
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  assert_int_equal(sqlite3_exec(h, "PRAGMA journal_mode", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &done),
                   SQLITE_OK);
  assert_int_equal(done, nlog);
  sqlite3_close(h);
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  for(size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
    snprintf(path, sizeof(path), "%s/other.db%s", testdb_dir, suffixes[i]);
    unlink(path);
  }
}

static void test_the_thread_stops_with_the_database(void **state)
{
  (void)state;
  write_pages(db_get(), 1500);
  testdb_close();  /* db_shutdown joins the thread: nothing left on the files */
  sq_ckpt_stop();  /* a second stop is harmless */
  assert_int_equal(testdb_open("sqckpt2"), 0);   /* a new file is served */
  int64_t thread0 = ckpts("thread");
  write_pages(db_get(), 1500);
  assert_true(thread_ran_since(thread0));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_a_big_commit_leaves_the_checkpoint_to_the_thread, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
      test_a_wal_far_past_the_threshold_is_checkpointed_by_the_commit, setup, teardown),
    cmocka_unit_test_setup_teardown(test_another_file_keeps_sqlites_own_checkpoints, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_the_thread_stops_with_the_database, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
