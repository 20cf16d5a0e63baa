/* Unit tests for drive/upload through its public header, on the real local
 * chunk store (drive_init on a temp DATA_DIR) and a real SQLite file: the
 * commit (file, content, chunks byte for byte, no garbage left, usage and
 * folder sizes), dedup by linking and by refusing, an upload given up
 * before or while its chunks land, the size limit, a folder that goes away
 * before the commit, a store that takes no chunk, and the wake that follows
 * every DRIVE_PENDING. Each test starts a drive of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "drive/content.h"
#include "drive/folders.h"
#include "drive/store.h"
#include "util/checksum.h"
#include "testdrive.h"

#define UID "uploader"
#define CHUNK 65536u

static int setup(void **state)
{
  if(testdrive_start("upload", CHUNK, false) != 0 || testdb_add_user(db_get(), UID) != 0)
    return -1;
  testdrive_upload_opts(0, false);
  return 0;
}

static int teardown(void **state)
{
  testdrive_stop();
  return 0;
}

static void sum_of(enum checksum_kind kind, const char *data, size_t n, char out[CHECKSUM_TEXT_MAX])
{
  struct checksum c;
  assert_int_equal(checksum_init(&c, kind), 0);
  checksum_update(&c, data, n);
  assert_int_equal(checksum_final(&c, out), 0);
  checksum_free(&c);
}

/* The chunk file behind `locator` holds exactly these bytes. */
static void chunk_holds(const char *locator, const char *data, size_t n)
{
  char path[256];
  chunk_path(locator, path, sizeof(path));
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = malloc(n + 1);
  assert_non_null(buf);
  size_t got = fread(buf, 1, n + 1, f);
  fclose(f);
  assert_int_equal(got, n);
  assert_memory_equal(buf, data, n);
  free(buf);
}

static void test_commit_stores_file(void **state)
{
  struct folder p, c;
  const char *why = NULL;
  char id[ID_LEN + 1], sha[CHECKSUM_TEXT_MAX], cid[ID_LEN + 1];
  const size_t n = 2 * CHUNK + 1000;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 1);
  assert_int_equal(folder_create(UID, NULL, "p", &p, &why), DRIVE_OK);
  assert_int_equal(folder_create(UID, p.id, "c", &c, &why), DRIVE_OK);

  assert_int_equal(upload_bytes(UID, c.id, "data.bin", data, n, id), DRIVE_OK);
  assert_true(id_valid(id));

  sum_of(CHECKSUM_SHA256, data, n, sha);
  db_stmt_t *st = db_query(db_get(), "SELECT owner_id, folder_id, name, size, sha256, content_id, "
                                     "is_deleted FROM files WHERE id = $1", "t", id);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  assert_string_equal(db_col_text(st, 0), UID);
  assert_string_equal(db_col_text(st, 1), c.id);
  assert_string_equal(db_col_text(st, 2), "data.bin");
  assert_int_equal(db_col_int(st, 3), n);
  assert_string_equal(db_col_text(st, 4), sha);
  snprintf(cid, sizeof(cid), "%s", db_col_text(st, 5));
  assert_int_equal(db_col_int(st, 6), 0);
  db_finalize(st);

  st = db_query(db_get(), "SELECT owner_id, sha256, size, chunk_size, chunk_count, backend, refcount "
                          "FROM contents WHERE id = $1", "t", cid);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  assert_string_equal(db_col_text(st, 0), UID);
  assert_string_equal(db_col_text(st, 1), sha);
  assert_int_equal(db_col_int(st, 2), n);
  assert_int_equal(db_col_int(st, 3), CHUNK);
  assert_int_equal(db_col_int(st, 4), 3);
  assert_string_equal(db_col_text(st, 5), "local");
  assert_int_equal(db_col_int(st, 6), 1);
  db_finalize(st);

  /* Three chunks in order, each with its XXH3-128 and its bytes on disk. */
  const size_t sizes[3] = {CHUNK, CHUNK, 1000};
  st = db_query(db_get(), "SELECT idx, size, checksum, locator FROM chunks WHERE content_id = $1 "
                          "ORDER BY idx", "t", cid);
  assert_non_null(st);
  size_t off = 0;
  for(int i = 0; i < 3; i++) {
    char want[CHECKSUM_TEXT_MAX];
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_col_int(st, 0), i);
    assert_int_equal(db_col_int(st, 1), sizes[i]);
    sum_of(CHECKSUM_XXH128, data + off, sizes[i], want);
    assert_string_equal(db_col_text(st, 2), want);
    chunk_holds(db_col_text(st, 3), data + off, sizes[i]);
    off += sizes[i];
  }
  assert_int_equal(db_step(st), DB_DONE);
  db_finalize(st);

  assert_int_equal(rows("pending_deletes"), 0);
  assert_int_equal(chunk_files(), 3);
  assert_int_equal(spool_files(), 0);
  testdrive_usage_is(UID, (int64_t)n, 1, 0, (int64_t)n);
  assert_int_equal(testdrive_folder_size(UID, c.id), n);
  assert_int_equal(testdrive_folder_size(UID, p.id), n);
  free(data);
}

static void test_dedup_links_content(void **state)
{
  char a[ID_LEN + 1], b[ID_LEN + 1];
  const size_t n = CHUNK + 500;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 2);
  assert_int_equal(upload_bytes(UID, NULL, "a", data, n, a), DRIVE_OK);
  assert_int_equal(upload_bytes(UID, NULL, "b", data, n, b), DRIVE_OK);
  assert_string_not_equal(a, b);

  assert_int_equal(rows("files"), 2);
  assert_int_equal(rows("contents"), 1);
  assert_int_equal(q_int("SELECT COUNT(DISTINCT content_id) FROM files", NULL), 1);
  assert_int_equal(q_int("SELECT refcount FROM contents", NULL), 2);
  /* The second copy's chunks were never recorded and are gone already:
   * removing a local chunk is one unlink, done at the commit. */
  assert_int_equal(rows("chunks"), 2);
  assert_int_equal(chunk_files(), 2);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, 2 * (int64_t)n, 2, 0, (int64_t)n);
  free(data);
}

static void test_dedup_reject(void **state)
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  char a[ID_LEN + 1], b[ID_LEN + 1];
  const size_t n = CHUNK + 500;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 3);
  testdrive_upload_opts(0, true);
  assert_int_equal(upload_bytes(UID, NULL, "a", data, n, a), DRIVE_OK);

  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, "again", &why), DRIVE_OK);
  assert_int_equal(upload_feed(u, &w, data, n, 4096), DRIVE_OK);
  assert_int_equal(upload_finish_wait(u, &w, b), DRIVE_DUPLICATE);
  /* Nothing committed; the copy's two chunks are still staged ... */
  assert_int_equal(rows("files"), 1);
  assert_int_equal(q_int("SELECT refcount FROM contents", NULL), 1);
  assert_int_equal(garbage_in("staged"), 2);
  assert_int_equal(chunk_files(), 4);
  /* ... until the request lets go: then they are deletions. */
  upload_free(u);
  assert_int_equal(garbage_in("staged"), 0);
  assert_int_equal(garbage_in("delete"), 2);
  assert_int_equal(store_sweep(db_get(), 64), 2);
  assert_int_equal(chunk_files(), 2);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, (int64_t)n, 1, 0, (int64_t)n);

  /* Other bytes are welcome. */
  data[0] ^= 1;
  assert_int_equal(upload_bytes(UID, NULL, "other", data, n, b), DRIVE_OK);
  assert_int_equal(rows("files"), 2);
  free(data);
}

static void test_abandon_after_chunks_landed(void **state)
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  const size_t n = 3 * CHUNK + 10;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 4);
  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, "gone", &why), DRIVE_OK);
  assert_int_equal(upload_feed(u, &w, data, n, 8192), DRIVE_OK);
  assert_int_equal(upload_size(u), n);
  /* Every full chunk lands and is recorded as staged; 10 bytes spooled. */
  EVENTUALLY(garbage_in("staged") == 3);
  assert_int_equal(chunk_files(), 3);
  assert_int_equal(spool_files(), 1);

  upload_free(u);
  assert_int_equal(garbage_in("staged"), 0);
  assert_int_equal(garbage_in("delete"), 3);
  assert_int_equal(spool_files(), 0);
  assert_int_equal(rows("files"), 0);
  assert_int_equal(rows("contents"), 0);
  assert_int_equal(rows("chunks"), 0);
  testdrive_usage_is(UID, 0, 0, 0, 0);
  assert_int_equal(store_sweep(db_get(), 64), 3);
  assert_int_equal(chunk_files(), 0);
  assert_int_equal(rows("pending_deletes"), 0);
  free(data);
}

static void test_abandon_in_flight(void **state)
{
  const char *why = NULL;
  const size_t n = 6 * CHUNK;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 5);
  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  assert_int_equal(upload_set_name(u, "racing", &why), DRIVE_OK);
  /* Six chunks in one go (under the in-flight limit), freed at once. */
  assert_int_equal(upload_write(u, data, n), DRIVE_OK);
  upload_free(u);
  /* Whatever landed late became a deletion; nothing stays staged or
   * spooled, and every chunk file on disk is queued for removal. */
  EVENTUALLY(garbage_in("staged") == 0 && spool_files() == 0 &&
             chunk_files() == garbage_in("delete"));
  assert_int_equal(rows("files"), 0);
  assert_int_equal(rows("contents"), 0);
  int64_t queued = garbage_in("delete");
  assert_int_equal(store_sweep(db_get(), 64), queued);
  assert_int_equal(chunk_files(), 0);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, 0, 0, 0, 0);
  free(data);
}

static void test_max_size(void **state)
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  char id[ID_LEN + 1];
  const size_t max = 150000;
  char *data = malloc(max + 1);
  assert_non_null(data);
  fill(data, max + 1, 6);
  testdrive_upload_opts(max, false);
  /* Exactly the limit is fine. */
  assert_int_equal(upload_bytes(UID, NULL, "exact", data, max, id), DRIVE_OK);
  assert_int_equal(rows("files"), 1);
  assert_int_equal(chunk_files(), 3);

  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, "over", &why), DRIVE_OK);
  data[0] ^= 1;   /* not a duplicate */
  assert_int_equal(upload_write(u, data, 100000), DRIVE_OK);
  EVENTUALLY(garbage_in("staged") == 1);   /* its first chunk landed */
  assert_int_equal(upload_write(u, data + 100000, max + 1 - 100000), DRIVE_TOO_BIG);
  assert_int_equal(upload_size(u), 100000);   /* the refused bytes were not taken */
  assert_int_equal(upload_write(u, data, 1), DRIVE_OK);   /* still under: accepted */
  upload_free(u);
  /* The one full chunk it stored becomes a deletion, the spool goes. */
  assert_int_equal(garbage_in("staged"), 0);
  assert_int_equal(garbage_in("delete"), 1);
  assert_int_equal(spool_files(), 0);
  assert_int_equal(rows("files"), 1);
  assert_int_equal(rows("contents"), 1);
  testdrive_usage_is(UID, (int64_t)max, 1, 0, (int64_t)max);
  free(data);
}

static void test_folder_gone_before_finish(void **state)
{
  for(int mode = 0; mode < 2; mode++) {
    struct folder p, f;
    struct waiter w = WAITER_INIT;
    const char *why = NULL;
    char id[ID_LEN + 1];
    const size_t n = CHUNK + 4464;
    char data[CHUNK + 4464];
    fill(data, n, 7 + (unsigned)mode);
    assert_int_equal(folder_create(UID, NULL, mode ? "deleted" : "binned", &p, &why), DRIVE_OK);
    assert_int_equal(folder_create(UID, p.id, "in", &f, &why), DRIVE_OK);
    struct upload *u = upload_new(UID, f.id);
    assert_non_null(u);
    upload_set_wake(u, waiter_suspend, waiter_wake, &w);
    assert_int_equal(upload_set_name(u, "late", &why), DRIVE_OK);
    assert_int_equal(upload_feed(u, &w, data, n, 5000), DRIVE_OK);
    if(mode == 0)
      assert_int_equal(folder_bin(UID, p.id), DRIVE_OK);   /* f goes with it */
    else
      assert_int_equal(folder_delete(UID, f.id), DRIVE_OK);
    assert_int_equal(upload_finish_wait(u, &w, id), DRIVE_NOT_FOUND);
    /* Nothing committed: no file, content or chunk, no usage, no size. */
    assert_int_equal(rows("files"), 0);
    assert_int_equal(rows("contents"), 0);
    assert_int_equal(rows("chunks"), 0);
    testdrive_usage_is(UID, 0, 0, 0, 0);
    if(mode == 0) {
      assert_int_equal(testdrive_folder_size(UID, p.id), 0);
      assert_int_equal(testdrive_folder_size(UID, f.id), 0);
    }
    assert_int_equal(garbage_in("staged"), 2);
    upload_free(u);
    assert_int_equal(garbage_in("staged"), 0);
    assert_int_equal(garbage_in("delete"), 2);
    assert_int_equal(store_sweep(db_get(), 64), 2);
    assert_int_equal(chunk_files(), 0);
  }
}

/* Every chunk directory name is taken by a plain file, so the local store
 * cannot move any chunk into place: the upload fails with DRIVE_STORAGE and
 * leaves nothing behind (no rows, no garbage, no spool files). */
static void test_store_failure(void **state)
{
  static const char idc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char path[128], id[ID_LEN + 1];
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  for(int i = 0; i < 64; i++)
    for(int j = 0; j < 64; j++) {
      snprintf(path, sizeof(path), "%s/chunks/%c%c", testdrive_dir, idc[i], idc[j]);
      FILE *f = fopen(path, "w");
      assert_non_null(f);
      fclose(f);
    }
  const size_t n = 2 * CHUNK + 7;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 10);
  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, "doomed", &why), DRIVE_OK);
  int rc = upload_feed(u, &w, data, n, 16384);
  if(rc == DRIVE_OK)
    rc = upload_finish_wait(u, &w, id);
  assert_int_equal(rc, DRIVE_STORAGE);
  upload_free(u);
  assert_int_equal(rows("files"), 0);
  assert_int_equal(rows("contents"), 0);
  /* A chunk still in flight when the upload gave up goes its way first. */
  EVENTUALLY(spool_files() == 0);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, 0, 0, 0, 0);
  free(data);
}

/* Twenty chunks in one write: more than the upload keeps in flight, so it
 * usually asks to wait. Every DRIVE_PENDING comes with exactly one suspend
 * and is followed by a wake; the file comes out whole. */
static void test_backpressure_wakes(void **state)
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  char id[ID_LEN + 1], sha[CHECKSUM_TEXT_MAX];
  const size_t n = 20 * CHUNK;
  int pendings = 0, rc;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 9);
  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, "big", &why), DRIVE_OK);
  rc = upload_write(u, data, n);
  assert_true(rc == DRIVE_OK || rc == DRIVE_PENDING);
  if(rc == DRIVE_PENDING) {
    pendings++;
    assert_int_equal(w.suspends, 1);
    assert_true(waiter_wait(&w));
  }
  assert_int_equal(upload_size(u), n);   /* consumed either way */
  while((rc = upload_finish(u, id, sizeof(id))) == DRIVE_PENDING) {
    pendings++;
    assert_int_equal(w.suspends, pendings);
    assert_true(waiter_wait(&w));
  }
  assert_int_equal(rc, DRIVE_OK);
  assert_int_equal(w.suspends, pendings);
  assert_true(w.wakes >= pendings);
  upload_free(u);
  sum_of(CHECKSUM_SHA256, data, n, sha);
  assert_int_equal(q_int("SELECT COUNT(*) FROM files WHERE sha256 = $1", sha), 1);
  assert_int_equal(q_int("SELECT chunk_count FROM contents", NULL), 20);
  assert_int_equal(rows("chunks"), 20);
  assert_int_equal(chunk_files(), 20);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, (int64_t)n, 1, 0, (int64_t)n);
  free(data);
}

static void test_empty_twice_and_bad_name(void **state)
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  char id[ID_LEN + 1], again[ID_LEN + 1];
  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, "a/b", &why), DRIVE_INVALID);
  assert_non_null(why);
  assert_int_equal(upload_set_name(u, "empty.txt", &why), DRIVE_OK);
  assert_int_equal(upload_finish_wait(u, &w, id), DRIVE_OK);
  /* A finished upload does not commit twice. */
  assert_int_equal(upload_finish(u, again, sizeof(again)), DRIVE_STORAGE);
  upload_free(u);
  assert_int_equal(rows("files"), 1);
  assert_int_equal(q_int("SELECT size FROM files WHERE id = $1", id), 0);
  assert_int_equal(q_int("SELECT chunk_count FROM contents", NULL), 0);
  assert_int_equal(q_int("SELECT COUNT(*) FROM contents WHERE sha256 = "
                         "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'",
                         NULL), 1);
  assert_int_equal(rows("chunks"), 0);
  assert_int_equal(chunk_files(), 0);
  testdrive_usage_is(UID, 0, 1, 0, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_commit_stores_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dedup_links_content, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dedup_reject, setup, teardown),
    cmocka_unit_test_setup_teardown(test_abandon_after_chunks_landed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_abandon_in_flight, setup, teardown),
    cmocka_unit_test_setup_teardown(test_max_size, setup, teardown),
    cmocka_unit_test_setup_teardown(test_folder_gone_before_finish, setup, teardown),
    cmocka_unit_test_setup_teardown(test_store_failure, setup, teardown),
    cmocka_unit_test_setup_teardown(test_backpressure_wakes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_empty_twice_and_bad_name, setup, teardown),
  };
  if(getenv("TEST_FILTER"))
    cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
