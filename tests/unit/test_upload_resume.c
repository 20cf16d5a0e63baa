/* Unit tests for drive/upload_resume on the real local store and a real
 * SQLite file: the stored prefix of a resumable upload (chunks in order,
 * the file hash's state, the head), kept across upload_free; an upload
 * resumed from it commits the same file as one upload of all the bytes
 * (same SHA-256, the old chunks adopted, no garbage left); one given up
 * releases the adopted chunks; a bad hash state is refused. Plus the
 * SHA-256 state export of util/checksum it relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "drive/garbage.h"
#include "drive/store.h"
#include "util/checksum.h"
#include "testdrive.h"

#define UID "resumer"
#define CHUNK 65536u

static int setup(void **state)
{
  if(testdrive_start("upload_resume", CHUNK, false) != 0 || testdb_add_user(db_get(), UID) != 0)
    return -1;
  testdrive_upload_opts(0, false);
  return 0;
}

static int teardown(void **state)
{
  testdrive_stop();
  return 0;
}

static void sha_of(const char *data, size_t n, char out[CHECKSUM_TEXT_MAX])
{
  struct checksum c;
  assert_int_equal(checksum_init(&c, CHECKSUM_SHA256), 0);
  checksum_update(&c, data, n);
  assert_int_equal(checksum_final(&c, out), 0);
  checksum_free(&c);
}

static void test_checksum_state_round_trip(void **state)
{
  char data[1000], whole[CHECKSUM_TEXT_MAX], resumed[CHECKSUM_TEXT_MAX];
  char saved[CHECKSUM_STATE_MAX];
  fill(data, sizeof(data), 9);
  sha_of(data, sizeof(data), whole);
  /* Split anywhere, including inside a 64-byte block. */
  size_t cuts[] = {0, 1, 63, 64, 65, 500, 999, 1000};
  for(size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
    struct checksum a, b;
    assert_int_equal(checksum_init(&a, CHECKSUM_SHA256), 0);
    checksum_update(&a, data, cuts[i]);
    assert_int_equal(checksum_export(&a, saved), 0);
    checksum_free(&a);
    assert_int_equal(checksum_import(&b, saved), 0);
    checksum_update(&b, data + cuts[i], sizeof(data) - cuts[i]);
    assert_int_equal(checksum_final(&b, resumed), 0);
    checksum_free(&b);
    assert_string_equal(resumed, whole);
  }
  struct checksum x, bad;
  assert_int_equal(checksum_init(&x, CHECKSUM_XXH128), 0);
  assert_int_equal(checksum_export(&x, saved), -1);   /* SHA-256 only */
  checksum_free(&x);
  assert_int_equal(checksum_import(&bad, "sha256-state:1234"), -1);
  assert_int_equal(checksum_import(&bad, "nonsense"), -1);
}

/* Writes n bytes into a new resumable upload and waits until its stored
 * prefix has `want` chunks; returns the upload. */
static struct upload *resumable_with(struct waiter *w, const char *data, size_t n, size_t want,
                                     struct upload_prefix *p)
{
  struct upload *u = upload_new(UID, NULL);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, w);
  upload_set_resumable(u);
  assert_int_equal(upload_feed(u, w, data, n, 10000), DRIVE_OK);
  int64_t end = time_now_ms() + 5000;
  for(;;) {
    assert_int_equal(upload_stored_prefix(u, 0, p), DRIVE_OK);
    if(p->count == want || time_now_ms() > end)
      break;
    upload_prefix_free(p);
    sleep_ms(5);
  }
  assert_int_equal(p->count, want);
  return u;
}

static void test_resume_commits_same_file(void **state)
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  const size_t n = 5 * CHUNK + 3000, cut = 3 * CHUNK + 777;
  char *data = malloc(n), id[ID_LEN + 1], sha[CHECKSUM_TEXT_MAX];
  assert_non_null(data);
  fill(data, n, 7);
  struct upload_prefix p;
  /* The first process got `cut` bytes: 3 chunks stored, 777 bytes spooled. */
  struct upload *u = resumable_with(&w, data, cut, 3, &p);
  assert_int_equal(p.bytes, 3 * CHUNK);
  assert_int_equal(p.chunk_size, CHUNK);
  assert_int_equal(p.head_len, MIME_HEAD_MAX);
  assert_memory_equal(p.head, data, MIME_HEAD_MAX);
  /* Only the pieces from `first` on are copied. */
  struct upload_prefix later;
  assert_int_equal(upload_stored_prefix(u, 2, &later), DRIVE_OK);
  assert_int_equal(later.count, 3);
  assert_int_equal(later.first, 2);
  assert_string_equal(later.pieces[0].locator, p.pieces[2].locator);
  upload_prefix_free(&later);
  /* What urljob_resume_save does with them, then the process stops. */
  for(size_t i = 0; i < p.count; i++)
    assert_int_equal(garbage_hold(db_get(), p.pieces[i].staged_id), DRIVE_OK);
  upload_keep_stored(u, p.count);
  upload_free(u);
  assert_int_equal(garbage_in("held"), 3);
  assert_int_equal(garbage_in("delete"), 0);
  assert_int_equal(store_reclaim_staged(time_now_ms() + 1, true), DRIVE_OK); /* a restart */
  assert_int_equal(garbage_in("held"), 3);
  for(size_t i = 0; i < p.count; i++)
    assert_true(chunk_exists(p.pieces[i].locator));

  /* The next process goes on at byte 3 * CHUNK. */
  struct waiter w2 = WAITER_INIT;
  struct upload *r = upload_resume(UID, NULL, &p);
  assert_non_null(r);
  upload_set_wake(r, waiter_suspend, waiter_wake, &w2);
  assert_int_equal(upload_size(r), 3 * CHUNK);
  assert_int_equal(upload_set_name(r, "resumed.bin", &why), DRIVE_OK);
  assert_int_equal(upload_feed(r, &w2, data + p.bytes, n - p.bytes, 10000), DRIVE_OK);
  assert_int_equal(upload_finish_wait(r, &w2, id), DRIVE_OK);
  upload_free(r);

  sha_of(data, n, sha);
  assert_int_equal(q_int("SELECT size FROM files WHERE id = $1", id), n);
  db_stmt_t *st = db_query(db_get(), "SELECT sha256, mime_type FROM files WHERE id = $1", "t", id);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  assert_string_equal(db_col_text(st, 0), sha);
  db_finalize(st);
  /* The old chunks are the content's first three, confirmed. */
  assert_int_equal(rows("chunks"), 6);
  for(size_t i = 0; i < p.count; i++)
    assert_int_equal(q_int("SELECT idx FROM chunks WHERE locator = $1", p.pieces[i].locator),
                     (int64_t)i);
  assert_int_equal(rows("pending_deletes"), 0);
  assert_int_equal(chunk_files(), 6);
  upload_prefix_free(&p);
  free(data);
}

static void test_resume_given_up_releases(void **state)
{
  struct waiter w = WAITER_INIT;
  const size_t n = 2 * CHUNK + 5;
  char *data = malloc(n);
  assert_non_null(data);
  fill(data, n, 8);
  struct upload_prefix p;
  struct upload *u = resumable_with(&w, data, n, 2, &p);
  for(size_t i = 0; i < p.count; i++)
    assert_int_equal(garbage_hold(db_get(), p.pieces[i].staged_id), DRIVE_OK);
  upload_keep_stored(u, p.count);
  upload_free(u);
  struct upload *r = upload_resume(UID, NULL, &p);
  assert_non_null(r);
  upload_free(r);   /* the job failed after all */
  assert_int_equal(garbage_in("held"), 0);
  assert_int_equal(garbage_in("delete"), 2);
  assert_int_equal(store_sweep(db_get(), 64), 2);
  assert_int_equal(chunk_files(), 0);
  /* A state that cannot be read is refused. */
  snprintf(p.hash_state, sizeof(p.hash_state), "garbage");
  assert_null(upload_resume(UID, NULL, &p));
  upload_prefix_free(&p);
  free(data);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_checksum_state_round_trip),
    cmocka_unit_test_setup_teardown(test_resume_commits_same_file, setup, teardown),
    cmocka_unit_test_setup_teardown(test_resume_given_up_releases, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
