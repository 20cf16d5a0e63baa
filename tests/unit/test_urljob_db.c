/* Unit tests for urljob_db's pick-up of a dead node's URL jobs (issue 11):
 * the callback may write on its own connection while other threads write
 * on theirs, as urljob_recover does (the claim, the task, the status) while
 * the store's sweeper and the fetch thread write at start. On SQLite a
 * connection whose query is still open keeps its read snapshot, and then
 * its own write fails at once ("database is locked", no busy wait) once
 * another connection has written: the claim or the job's status was lost,
 * and a job claimed but never started stayed "downloading" for good. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "db/db.h"
#include "drive/nodes.h"
#include "drive/urljob_db.h"
#include "testdb.h"

#define DEAD_NODE "deadnodedeadnodedeadno"   /* not in the nodes table */

/* Another thread's write, on that thread's own connection, finished before
 * this returns. */
static void *other_write_main(void *arg)
{
  (void)arg;
  int *rc = malloc(sizeof(*rc));
  *rc = db_exec(db_get(), "UPDATE users SET updated_at = updated_at + 1 WHERE id = 'u1'", "");
  return rc;
}

static void other_write(void)
{
  pthread_t t;
  void *res = NULL;
  assert_int_equal(pthread_create(&t, NULL, other_write_main, NULL), 0);
  assert_int_equal(pthread_join(t, &res), 0);
  assert_int_equal(*(int *)res, DB_OK);
  free(res);
}

static void add_job(const char *id, const char *node, int64_t created)
{
  assert_int_equal(db_exec(db_get(), "INSERT INTO url_jobs (id, user_id, url, status, "
                                     "transferred, total, created_at, updated_at, node_id) "
                                     "VALUES ($1, 'u1', 'http://example.test/f', "
                                     "'downloading', 1000, 4000, $2, $2, $3)",
                           "tit", id, created, node),
                   DB_OK);
}

static int64_t jobs_where(const char *status)
{
  int64_t n = -1;
  assert_int_equal(db_query_int(db_get(), &n, "SELECT COUNT(*) FROM url_jobs WHERE status = $1",
                                "t", status),
                   DB_ROW);
  return n;
}

static int setup(void **state)
{
  (void)state;
  if(testdb_open("urljob_db") != 0 || testdb_add_user(db_get(), "u1") != 0)
    return -1;
  return nodes_start(NULL) == DRIVE_OK ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  nodes_stop();
  testdb_close();
  return 0;
}

static int picked;

/* What urljob_recover does with a job, with other threads writing in
 * between: claim it, then record a status. */
static void recover_with_writers(struct urljob_row *r, void *arg)
{
  (void)arg;
  picked++;
  other_write();
  assert_true(urljob_db_claim(r));
  assert_string_equal(r->node_id, nodes_self());
  other_write();
  snprintf(r->status, sizeof(r->status), "failed");
  snprintf(r->error, sizeof(r->error), "Interrupted by a server restart");
  assert_int_equal(urljob_db_update(r), DRIVE_OK);
}

static void test_callback_writes_beside_other_writers(void **state)
{
  (void)state;
  add_job("job1", DEAD_NODE, 1);
  add_job("job2", DEAD_NODE, 2);
  picked = 0;
  assert_int_equal(urljob_db_unfinished(recover_with_writers, NULL), DRIVE_OK);
  assert_int_equal(picked, 2);
  assert_int_equal(jobs_where("failed"), 2);
  assert_int_equal(jobs_where("downloading"), 0);
  /* Claimed and ended: not picked up again. */
  picked = 0;
  assert_int_equal(urljob_db_unfinished(recover_with_writers, NULL), DRIVE_OK);
  assert_int_equal(picked, 0);
}

static void count_only(struct urljob_row *r, void *arg)
{
  (void)r;
  (void)arg;
  picked++;
}

static void claim_and_end(struct urljob_row *r, void *arg)
{
  (void)arg;
  picked++;
  assert_true(urljob_db_claim(r));
  snprintf(r->status, sizeof(r->status), "cancelled");
  assert_int_equal(urljob_db_update(r), DRIVE_OK);
}

static void test_batches(void **state)
{
  (void)state;
  char id[32];
  for(int i = 0; i < 40; i++) {
    snprintf(id, sizeof(id), "batch%02d", i);
    add_job(id, DEAD_NODE, 100 + i);
  }
  /* A live node's job (this one) is never handed out. */
  add_job("mine", nodes_self(), 50);
  picked = 0;
  assert_int_equal(urljob_db_unfinished(claim_and_end, NULL), DRIVE_OK);
  assert_int_equal(picked, 32);
  picked = 0;
  assert_int_equal(urljob_db_unfinished(claim_and_end, NULL), DRIVE_OK);
  assert_int_equal(picked, 8);
  picked = 0;
  assert_int_equal(urljob_db_unfinished(count_only, NULL), DRIVE_OK);
  assert_int_equal(picked, 0);
}

static void claim_and_release(struct urljob_row *r, void *arg)
{
  (void)arg;
  picked++;
  assert_true(urljob_db_claim(r));
  urljob_db_release(r);
  assert_string_equal(r->node_id, "");
}

static void test_release_gives_it_back(void **state)
{
  (void)state;
  add_job("given", DEAD_NODE, 1000);
  picked = 0;
  assert_int_equal(urljob_db_unfinished(claim_and_release, NULL), DRIVE_OK);
  assert_int_equal(picked, 1);
  /* No node runs it: the next pass (of any node) picks it up again. */
  picked = 0;
  assert_int_equal(urljob_db_unfinished(claim_and_end, NULL), DRIVE_OK);
  assert_int_equal(picked, 1);
  picked = 0;
  assert_int_equal(urljob_db_unfinished(count_only, NULL), DRIVE_OK);
  assert_int_equal(picked, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_callback_writes_beside_other_writers, setup, teardown),
    cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
    cmocka_unit_test_setup_teardown(test_release_gives_it_back, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
