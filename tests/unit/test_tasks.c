/* Unit tests for drive/tasks (the registry: lifecycle, cancel, commit point,
 * release, pruning, persistence and history, speed and ETA on a fake clock,
 * concurrent use) and for the Task JSON of api/tasks, against a throw-away
 * SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "api/task_render.h"

#include "drive/tasks.c"
#include "testdb.h"

#define UID "AAAAAAAAAAAAAAAAAAAAAA"
#define OTHER "BBBBBBBBBBBBBBBBBBBBBB"
#define FILE_ID "CCCCCCCCCCCCCCCCCCCCCC"
#define MB (1024 * 1024)

static db_t *db;
static int64_t fake_now = 1000000;

static int64_t fake_clock(void)
{
  return fake_now;
}

static int setup_db(void **state)
{
  if(testdb_open("tasks") != 0)
    return -1;
  db = db_get();
  const char *ids[] = {UID, OTHER};
  for(int i = 0; i < 2; i++)
    if(testdb_add_user(db, ids[i]) != 0)
      return -1;
  tasks_clock = fake_clock;
  return 0;
}

static int teardown_db(void **state)
{
  tasks_shutdown();
  testdb_close();
  return 0;
}

/* Each test starts with an empty registry and table. */
static int reset(void **state)
{
  tasks_shutdown();
  fake_now += TASKS_KEEP_MS;
  return db_exec(db, "DELETE FROM tasks", "") == DB_OK ? 0 : -1;
}

static struct task *start(const char *user, const char *name, uint64_t total,
                          task_cancel_fn cancel, void *arg)
{
  struct task_spec spec = {.user_id = user, .type = "upload", .file_name = name, .total = total};
  struct task *t = task_start(&spec, cancel, arg);
  assert_non_null(t);
  return t;
}

/* The one task of `user` named `name` in the registry. */
static struct task_view view_of(const char *user, const char *name)
{
  struct task_view *v, found;
  size_t n, hits = 0;
  assert_int_equal(tasks_list(user, &v, &n), DRIVE_OK);
  for(size_t i = 0; i < n; i++)
    if(!strcmp(v[i].file_name, name)) {
      found = v[i];
      hits++;
    }
  free(v);
  assert_int_equal(hits, 1);
  return found;
}

static size_t count_of(const char *user)
{
  struct task_view *v;
  size_t n;
  assert_int_equal(tasks_list(user, &v, &n), DRIVE_OK);
  free(v);
  return n;
}

static const char *db_status(const char *id)
{
  static char status[32];
  db_stmt_t *st = db_query(db, "SELECT status FROM tasks WHERE id = $1", "t", id);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  snprintf(status, sizeof(status), "%s", db_col_text(st, 0));
  db_finalize(st);
  return status;
}

static int cancel_calls;
static void *cancel_arg_seen;

static void on_cancel(void *arg)
{
  cancel_calls++;
  cancel_arg_seen = arg;
}

static void test_start_list_and_persist(void **state)
{
  struct task *t = start(UID, "a.bin", 5 * MB, NULL, NULL);
  struct task_view v = view_of(UID, "a.bin");
  assert_true(id_valid(v.id));
  assert_string_equal(v.type, "upload");
  assert_int_equal(v.status, TASK_IN_PROGRESS);
  assert_int_equal(v.total, 5 * MB);
  assert_int_equal(v.transferred, 0);
  assert_true(v.can_cancel);
  assert_int_equal(v.eta_s, -1);         /* no speed yet */
  assert_true(v.speed == 0);
  assert_string_equal(v.file_id, "");
  assert_string_equal(v.error, "");
  assert_true(v.created_at > 0 && v.updated_at >= v.created_at);
  assert_string_equal(db_status(v.id), "in_progress");
  assert_int_equal(count_of(OTHER), 0);  /* nobody else sees it */

  /* Newest first. */
  struct task *t2 = start(UID, "b.bin", 0, NULL, NULL);
  struct task_view *all;
  size_t n;
  assert_int_equal(tasks_list(UID, &all, &n), DRIVE_OK);
  assert_int_equal(n, 2);
  assert_string_equal(all[0].file_name, "b.bin");
  assert_string_equal(all[1].file_name, "a.bin");
  free(all);

  /* Queued tasks start when told to. */
  struct task_spec spec = {.user_id = UID, .type = "url_upload", .file_name = "c.bin",
                           .url = "https://example.com/c.bin", .queued = true};
  struct task *t3 = task_start(&spec, NULL, NULL);
  assert_non_null(t3);
  v = view_of(UID, "c.bin");
  assert_int_equal(v.status, TASK_QUEUED);
  assert_true(v.can_cancel);
  assert_string_equal(db_status(v.id), "queued");
  task_set_running(t3);
  assert_int_equal(view_of(UID, "c.bin").status, TASK_IN_PROGRESS);
  assert_string_equal(db_status(v.id), "in_progress");

  task_complete(t, FILE_ID, 5 * MB);
  task_fail(t2, "Storage unavailable");
  task_fail(t3, NULL);
  task_release(t);
  task_release(t2);
  task_release(t3);
  v = view_of(UID, "b.bin");
  assert_int_equal(v.status, TASK_FAILED);
  assert_string_equal(v.error, "Storage unavailable");
  assert_false(v.can_cancel);
  assert_string_equal(view_of(UID, "c.bin").error, TASK_INTERRUPTED);
}

static void test_complete(void **state)
{
  struct task *t = start(UID, "done.bin", 3 * MB + 200, on_cancel, NULL);
  task_progress(t, MB);
  assert_int_equal(task_commit_begin(t), DRIVE_OK);
  struct task_view v = view_of(UID, "done.bin");
  assert_int_equal(v.status, TASK_IN_PROGRESS);
  assert_false(v.can_cancel);            /* the file is about to appear */
  cancel_calls = 0;
  assert_int_equal(tasks_cancel(UID, v.id), DRIVE_CONFLICT);
  assert_int_equal(cancel_calls, 0);
  task_complete(t, FILE_ID, 3 * MB);
  v = view_of(UID, "done.bin");
  assert_int_equal(v.status, TASK_COMPLETED);
  assert_string_equal(v.file_id, FILE_ID);
  assert_int_equal(v.transferred, 3 * MB);
  assert_int_equal(v.total, 3 * MB);
  assert_int_equal(v.eta_s, -1);
  assert_true(v.speed == 0);
  assert_string_equal(db_status(v.id), "completed");
  /* Nothing moves a finished task. */
  task_progress(t, MB);
  task_fail(t, "late");
  task_release(t);
  v = view_of(UID, "done.bin");
  assert_int_equal(v.status, TASK_COMPLETED);
  assert_int_equal(v.transferred, 3 * MB);
  assert_string_equal(v.error, "");
  assert_string_equal(db_status(v.id), "completed");
}

static void test_cancel(void **state)
{
  int owner;
  struct task *t = start(UID, "c.bin", 10 * MB, on_cancel, &owner);
  struct task_view v = view_of(UID, "c.bin");
  cancel_calls = 0;
  assert_int_equal(tasks_cancel(OTHER, v.id), DRIVE_NOT_FOUND);   /* not theirs */
  assert_int_equal(tasks_cancel(UID, "ZZZZZZZZZZZZZZZZZZZZZZ"), DRIVE_NOT_FOUND);
  assert_int_equal(cancel_calls, 0);
  assert_int_equal(tasks_cancel(UID, v.id), DRIVE_OK);
  assert_int_equal(cancel_calls, 1);
  assert_ptr_equal(cancel_arg_seen, &owner);
  assert_true(task_cancelled(t));
  v = view_of(UID, "c.bin");
  assert_int_equal(v.status, TASK_CANCELLED);
  assert_false(v.can_cancel);
  assert_string_equal(db_status(v.id), "cancelled");
  /* Twice: already finished; the owner can no longer commit. */
  assert_int_equal(tasks_cancel(UID, v.id), DRIVE_CONFLICT);
  assert_int_equal(cancel_calls, 1);
  assert_int_equal(task_commit_begin(t), DRIVE_CONFLICT);
  task_fail(t, "The upload was interrupted");   /* the owner's later view: ignored */
  task_release(t);
  v = view_of(UID, "c.bin");
  assert_int_equal(v.status, TASK_CANCELLED);
  assert_string_equal(v.error, "");
  assert_string_equal(db_status(v.id), "cancelled");
}

static void test_release_detaches(void **state)
{
  struct task *t = start(UID, "r.bin", 0, on_cancel, NULL);
  struct task_view v = view_of(UID, "r.bin");
  cancel_calls = 0;
  task_release(t);   /* the owner went away without an outcome */
  v = view_of(UID, "r.bin");
  assert_int_equal(v.status, TASK_FAILED);
  assert_string_equal(v.error, TASK_INTERRUPTED);
  assert_int_equal(tasks_cancel(UID, v.id), DRIVE_CONFLICT);
  assert_int_equal(cancel_calls, 0);
  task_release(NULL);
}

static void test_prune_keeps_history(void **state)
{
  struct task *run = start(UID, "running.bin", 0, NULL, NULL);
  struct task *t = start(UID, "old.bin", 0, NULL, NULL);
  task_complete(t, FILE_ID, 10);
  task_release(t);
  char id[ID_LEN + 1];
  snprintf(id, sizeof(id), "%s", view_of(UID, "old.bin").id);
  fake_now += TASKS_KEEP_MS - 1;
  assert_int_equal(count_of(UID), 2);
  fake_now += 1;
  assert_int_equal(count_of(UID), 1);                  /* only the running one */
  assert_int_equal(view_of(UID, "running.bin").status, TASK_IN_PROGRESS);
  /* Gone from memory, still known: cancelling it is "finished", not 404. */
  assert_int_equal(tasks_cancel(UID, id), DRIVE_CONFLICT);
  assert_int_equal(tasks_cancel(OTHER, id), DRIVE_NOT_FOUND);
  /* A running task is never pruned, however old. */
  fake_now += 10 * TASKS_KEEP_MS;
  assert_int_equal(count_of(UID), 1);
  task_release(run);
  assert_int_equal(count_of(UID), 1);                  /* failed: listed for a while */
}

static void test_prune_caps_finished(void **state)
{
  assert_int_equal(db_begin(db), DB_OK);   /* one transaction: fast inserts */
  for(int i = 0; i < TASKS_KEEP_MAX + 5; i++) {
    char name[32];
    snprintf(name, sizeof(name), "f%d", i);
    struct task *t = start(OTHER, name, 0, NULL, NULL);
    task_fail(t, "x");
    task_release(t);
  }
  assert_int_equal(db_commit(db), DB_OK);
  struct task *one = start(OTHER, "last", 0, NULL, NULL);   /* prunes */
  assert_int_equal(count_of(OTHER), TASKS_KEEP_MAX + 1);
  task_release(one);
}

struct hist {
  char names[8][TASK_NAME_MAX];
  int n;
};

static int hist_one(const struct task_view *v, void *arg)
{
  struct hist *h = arg;
  if(h->n < 8)
    snprintf(h->names[h->n++], sizeof(h->names[0]), "%s", v->file_name);
  return 0;
}

static void test_history(void **state)
{
  const char *names[] = {"h1", "h2", "h3", "h4"};
  for(int i = 0; i < 4; i++) {
    struct task *t = start(UID, names[i], 100, NULL, NULL);
    /* Distinct finish times: the history is ordered by them. */
    usleep(2000);
    if(i == 1)
      tasks_cancel(UID, view_of(UID, names[i]).id);
    else if(i == 2)
      task_fail(t, "boom");
    else
      task_complete(t, FILE_ID, 100);
    task_release(t);
  }
  struct task *running = start(UID, "h5", 0, NULL, NULL);
  struct hist h = {0};
  assert_int_equal(tasks_history(UID, -1, 50, 0, hist_one, &h), DRIVE_OK);
  assert_int_equal(h.n, 4);   /* not the running one */
  assert_string_equal(h.names[0], "h4");
  assert_string_equal(h.names[3], "h1");
  memset(&h, 0, sizeof(h));
  assert_int_equal(tasks_history(UID, TASK_COMPLETED, 50, 0, hist_one, &h), DRIVE_OK);
  assert_int_equal(h.n, 2);
  assert_string_equal(h.names[0], "h4");
  assert_string_equal(h.names[1], "h1");
  memset(&h, 0, sizeof(h));
  assert_int_equal(tasks_history(UID, -1, 2, 1, hist_one, &h), DRIVE_OK);
  assert_int_equal(h.n, 2);
  assert_string_equal(h.names[0], "h3");
  assert_string_equal(h.names[1], "h2");
  memset(&h, 0, sizeof(h));
  assert_int_equal(tasks_history(OTHER, -1, 50, 0, hist_one, &h), DRIVE_OK);
  assert_int_equal(h.n, 0);
  task_release(running);
}

static void test_init_fails_leftovers(void **state)
{
  assert_int_equal(db_exec(db, "INSERT INTO tasks (id, user_id, type, status, file_name, "
                               "created_at, updated_at) VALUES ($1, $2, 'upload', "
                               "'in_progress', 'x', 1, 1)",
                           "tt", "DDDDDDDDDDDDDDDDDDDDDD", UID),
                   DB_OK);
  assert_int_equal(tasks_init(), DRIVE_OK);
  assert_string_equal(db_status("DDDDDDDDDDDDDDDDDDDDDD"), "failed");
}

static void test_speed_and_eta(void **state)
{
  struct task *t = start(UID, "s.bin", 20 * MB, NULL, NULL);
  /* 1 MiB confirmed every second: 1 MiB/s, steady. */
  for(int i = 0; i < 10; i++) {
    fake_now += 1000;
    task_progress(t, MB);
  }
  struct task_view v = view_of(UID, "s.bin");
  assert_int_equal(v.transferred, 10 * MB);
  assert_true(v.speed > 0.99 * MB && v.speed < 1.01 * MB);
  assert_int_equal(v.eta_s, 10);
  /* Bursts closer than the sampling step are added up: 4 at once. */
  fake_now += 4000;
  for(int i = 0; i < 4; i++)
    task_progress(t, MB);
  v = view_of(UID, "s.bin");
  assert_true(v.speed > 0.99 * MB && v.speed < 1.01 * MB);
  assert_int_equal(v.eta_s, 6);
  /* A normal pause does not move it; a stall drags it down and the ETA up. */
  fake_now += 1500;
  assert_true(view_of(UID, "s.bin").speed > 0.99 * MB);
  fake_now += 30000;
  v = view_of(UID, "s.bin");
  assert_true(v.speed < 0.01 * MB);
  assert_true(v.eta_s > 600);
  /* Faster again: it follows within a few time constants. */
  for(int i = 0; i < 40; i++) {
    fake_now += 500;
    task_progress(t, MB);
  }
  v = view_of(UID, "s.bin");
  assert_true(v.speed > 1.9 * MB && v.speed < 2.01 * MB);
  /* Past the announced total: nothing left to wait for. */
  assert_int_equal(v.eta_s, 0);
  task_complete(t, FILE_ID, 54 * MB);
  task_release(t);

  /* Unknown total: no ETA, but a speed. */
  t = start(UID, "u.bin", 0, NULL, NULL);
  fake_now += 2000;
  task_progress(t, 2 * MB);
  v = view_of(UID, "u.bin");
  assert_true(v.speed > 0.99 * MB && v.speed < 1.01 * MB);
  assert_int_equal(v.eta_s, -1);
  task_set_total(t, 3 * MB);
  assert_int_equal(view_of(UID, "u.bin").eta_s, 1);
  task_release(t);
}

static json_t *render(const struct task_view *v)
{
  json_t *j = task_render(v);
  assert_non_null(j);
  return j;
}

static void test_render(void **state)
{
  static const char *const keys[] = {
    "task_id", "file_name", "status", "type", "progress_percent", "transferred",
    "transferred_hr", "total", "total_hr", "speed_bytes_per_sec", "eta_seconds",
    "eta_friendly", "can_cancel", "created_at", "updated_at", "error", "file_id"};
  struct task_view v;
  memset(&v, 0, sizeof(v));
  snprintf(v.id, sizeof(v.id), "%s", FILE_ID);
  snprintf(v.type, sizeof(v.type), "upload");
  snprintf(v.file_name, sizeof(v.file_name), "movie.mkv");
  v.status = TASK_IN_PROGRESS;
  v.transferred = 12939428;      /* 12.34 MB */
  v.total = 104857600;           /* 100.00 MB */
  v.speed = 1048576.4;
  v.eta_s = 3785;
  v.can_cancel = true;
  v.created_at = 1795515330123LL;
  v.updated_at = 1795515331000LL;
  json_t *j = render(&v);
  assert_int_equal(json_object_size(j), sizeof(keys) / sizeof(keys[0]));
  for(size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
    assert_non_null(json_object_get(j, keys[i]));
  assert_string_equal(json_string_value(json_object_get(j, "task_id")), FILE_ID);
  assert_string_equal(json_string_value(json_object_get(j, "status")), "in_progress");
  assert_string_equal(json_string_value(json_object_get(j, "type")), "upload");
  assert_true(json_real_value(json_object_get(j, "progress_percent")) == 12.34);
  assert_int_equal(json_integer_value(json_object_get(j, "transferred")), 12939428);
  assert_string_equal(json_string_value(json_object_get(j, "transferred_hr")), "12.34 MB");
  assert_string_equal(json_string_value(json_object_get(j, "total_hr")), "100.00 MB");
  assert_int_equal(json_integer_value(json_object_get(j, "speed_bytes_per_sec")), 1048576);
  assert_int_equal(json_integer_value(json_object_get(j, "eta_seconds")), 3785);
  assert_string_equal(json_string_value(json_object_get(j, "eta_friendly")), "1h 3m 5s");
  assert_true(json_is_true(json_object_get(j, "can_cancel")));
  assert_string_equal(json_string_value(json_object_get(j, "created_at")),
                      "2026-11-24T10:15:30.123Z");
  assert_true(json_is_null(json_object_get(j, "error")));
  assert_true(json_is_null(json_object_get(j, "file_id")));
  json_decref(j);

  /* Unknown speed and size; a failure with its reason. */
  v.status = TASK_FAILED;
  v.transferred = 0;
  v.total = 0;
  v.speed = 0;
  v.eta_s = -1;
  v.can_cancel = false;
  snprintf(v.error, sizeof(v.error), "Storage unavailable");
  j = render(&v);
  assert_true(json_real_value(json_object_get(j, "progress_percent")) == 0);
  assert_string_equal(json_string_value(json_object_get(j, "total_hr")), "0 B");
  assert_true(json_is_null(json_object_get(j, "eta_seconds")));
  assert_string_equal(json_string_value(json_object_get(j, "eta_friendly")), "N/A");
  assert_true(json_is_false(json_object_get(j, "can_cancel")));
  assert_string_equal(json_string_value(json_object_get(j, "error")), "Storage unavailable");
  json_decref(j);

  /* Completed: 100 %, with the file; an overshoot is capped at 100. */
  v.status = TASK_COMPLETED;
  v.error[0] = 0;
  snprintf(v.file_id, sizeof(v.file_id), "%s", FILE_ID);
  j = render(&v);
  assert_true(json_real_value(json_object_get(j, "progress_percent")) == 100);
  assert_string_equal(json_string_value(json_object_get(j, "file_id")), FILE_ID);
  json_decref(j);
  v.status = TASK_IN_PROGRESS;
  v.transferred = 300;
  v.total = 200;
  j = render(&v);
  assert_true(json_real_value(json_object_get(j, "progress_percent")) == 100);
  json_decref(j);
}

static void test_status_names(void **state)
{
  for(int s = TASK_QUEUED; s <= TASK_CANCELLED; s++)
    assert_int_equal(task_status_parse(task_status_name((enum task_status)s)), s);
  assert_int_equal(task_status_parse("done"), -1);
  assert_int_equal(task_status_parse(NULL), -1);
  assert_false(task_status_final(TASK_QUEUED));
  assert_false(task_status_final(TASK_IN_PROGRESS));
  assert_true(task_status_final(TASK_COMPLETED));
  assert_true(task_status_final(TASK_FAILED));
  assert_true(task_status_final(TASK_CANCELLED));
}

/* Progress from several threads while another lists: totals add up. */
struct worker {
  struct task *t;
};

static void *worker_main(void *arg)
{
  struct worker *w = arg;
  for(int i = 0; i < 2000; i++)
    task_progress(w->t, 10);
  return NULL;
}

static void test_threads(void **state)
{
  struct task *t = start(UID, "mt.bin", 0, NULL, NULL);
  pthread_t th[4];
  struct worker w = {t};
  tasks_clock = time_mono_ms;
  for(int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w), 0);
  for(int i = 0; i < 200; i++)
    count_of(UID);
  for(int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  tasks_clock = fake_clock;
  assert_int_equal(view_of(UID, "mt.bin").transferred, 4 * 2000 * 10);
  task_release(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_start_list_and_persist, reset),
    cmocka_unit_test_setup(test_complete, reset),
    cmocka_unit_test_setup(test_cancel, reset),
    cmocka_unit_test_setup(test_release_detaches, reset),
    cmocka_unit_test_setup(test_prune_keeps_history, reset),
    cmocka_unit_test_setup(test_prune_caps_finished, reset),
    cmocka_unit_test_setup(test_history, reset),
    cmocka_unit_test_setup(test_init_fails_leftovers, reset),
    cmocka_unit_test_setup(test_speed_and_eta, reset),
    cmocka_unit_test(test_render),
    cmocka_unit_test(test_status_names),
    cmocka_unit_test_setup(test_threads, reset),
  };
  return cmocka_run_group_tests_name("tasks", tests, setup_db, teardown_db);
}
