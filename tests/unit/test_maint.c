/* Unit tests for drive/maint (`netradrive fsck` and `gc`) on the real local
 * chunk store with files uploaded through the pipeline: a healthy store
 * reports nothing; truncated, altered and missing chunks are found, and
 * --repair removes exactly the damaged files and their contents with
 * folder sizes (live and bin) and usage corrected; unreferenced chunk files
 * older than an hour are reported and removed, younger or queued ones are
 * not, unless the command runs with no server (fsck --repair, gc
 * --all-staged): then any age goes; gc carries out deletions, reclaims old
 * staged chunks and removes stale spool files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/time.h>
#include <unistd.h>
#include "drive/content.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "drive/garbage.h"
#include "drive/maint.h"
#include "drive/store.h"
#include "testdrive.h"

#define UID "checker"
#define CHUNK 65536u
#define HOUR_S 3600

static int setup(void **state)
{
  if(testdrive_start("maint", CHUNK, false) != 0 || testdb_add_user(db_get(), UID) != 0)
    return -1;
  testdrive_upload_opts(0, false);
  return 0;
}

static int teardown(void **state)
{
  testdrive_stop();
  return 0;
}

/* A report's text, captured. */
struct out {
  char *text;
  size_t len;
  FILE *f;
};

static void out_open(struct out *o)
{
  o->text = NULL;
  o->f = open_memstream(&o->text, &o->len);
  assert_non_null(o->f);
}

static void out_close(struct out *o)
{
  fclose(o->f);
  free(o->text);
}

static bool out_has(struct out *o, const char *s)
{
  fflush(o->f);
  return o->text && strstr(o->text, s) != NULL;
}

static void up(const char *folder, unsigned seed, size_t n, char id[ID_LEN + 1])
{
  char *buf = malloc(n), name[32];
  assert_non_null(buf);
  fill(buf, n, seed);
  snprintf(name, sizeof(name), "m%u", seed);
  assert_int_equal(upload_bytes(UID, folder, name, buf, n, id), DRIVE_OK);
  free(buf);
}

/* The locator of chunk `idx` of a file's content. */
static void locator_of(const char *file_id, int idx, char out[BLOB_LOCATOR_MAX])
{
  db_stmt_t *st = db_query(db_get(), "SELECT c.locator FROM chunks c JOIN files f ON "
                                     "f.content_id = c.content_id WHERE f.id = $1 AND c.idx = $2",
                           "ti", file_id, (int64_t)idx);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  snprintf(out, BLOB_LOCATOR_MAX, "%s", db_col_text(st, 0));
  db_finalize(st);
}

static void set_age(const char *path, long seconds)
{
  struct timeval tv[2];
  gettimeofday(&tv[0], NULL);
  tv[0].tv_sec -= seconds;
  tv[1] = tv[0];
  assert_int_equal(utimes(path, tv), 0);
}

/* A chunk file nothing references, `age_s` old; its locator in `loc`. */
static void orphan(long age_s, char loc[ID_LEN + 4])
{
  char id[ID_LEN + 1], path[256];
  id_new(id);
  snprintf(loc, ID_LEN + 4, "%.2s/%s", id, id);
  snprintf(path, sizeof(path), "%s/chunks/%.2s", testdrive_dir, id);
  mkdir(path, 0700);
  chunk_path(loc, path, sizeof(path));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("orphan", f);
  fclose(f);
  set_age(path, age_s);
}

static bool file_exists(const char *id)
{
  struct file_rec f;
  int rc = file_get(UID, id, &f);
  assert_true(rc == DRIVE_OK || rc == DRIVE_NOT_FOUND);
  return rc == DRIVE_OK;
}

static void test_fsck_healthy(void **state)
{
  char a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1], young[ID_LEN + 4];
  struct maint_report rep;
  struct out o;
  up(NULL, 1, CHUNK + 10, a);
  up(NULL, 2, 3000, b);
  up(NULL, 2, 3000, c);   /* b's content */
  orphan(60, young);      /* unreferenced, but may be a live upload's */
  for(int repair = 0; repair < 2; repair++) {
    out_open(&o);
    memset(&rep, 0x55, sizeof(rep));
    assert_int_equal(maint_fsck(repair, o.f, NULL, &rep), 0);
    assert_int_equal(rep.chunks_checked, 3);
    assert_int_equal(rep.chunks_missing, 0);
    assert_int_equal(rep.chunks_corrupt, 0);
    assert_int_equal(rep.files_damaged, 0);
    assert_int_equal(rep.files_removed, 0);
    /* --repair runs with no server: the young orphan is nobody's. */
    assert_int_equal(rep.orphans_found, repair);
    assert_int_equal(rep.orphans_removed, repair);
    assert_true(out_has(&o, "fsck: 3 chunks checked, 0 missing, 0 corrupt, 0 files damaged, "));
    out_close(&o);
    assert_int_equal(rows("files"), 3);
    assert_int_equal(rows("pending_deletes"), 0);
    assert_int_equal(chunk_exists(young), !repair);
    assert_int_equal(chunk_files(), 4 - repair);
  }
}

static void test_fsck_damage_and_repair(void **state)
{
  struct folder p, c, d;
  const char *why = NULL;
  char t[ID_LEN + 1], t2[ID_LEN + 1], x[ID_LEN + 1], m[ID_LEN + 1], ok[ID_LEN + 1], ok2[ID_LEN + 1];
  char loc_t0[BLOB_LOCATOR_MAX], loc_t1[BLOB_LOCATOR_MAX], loc_x[BLOB_LOCATOR_MAX];
  char loc_m[BLOB_LOCATOR_MAX], loc_ok[BLOB_LOCATOR_MAX], path[256];
  struct maint_report rep;
  struct out o;
  const int64_t tsz = CHUNK + 100;
  assert_int_equal(folder_create(UID, NULL, "p", &p, &why), DRIVE_OK);
  assert_int_equal(folder_create(UID, p.id, "c", &c, &why), DRIVE_OK);
  assert_int_equal(folder_create(UID, NULL, "d", &d, &why), DRIVE_OK);
  up(c.id, 1, (size_t)tsz, t);   /* its second chunk gets truncated */
  up(NULL, 1, (size_t)tsz, t2);  /* the same content */
  up(p.id, 2, 3000, x);          /* bytes flipped, size kept */
  up(d.id, 3, 700, m);           /* chunk file lost, file in the bin */
  up(c.id, 4, 1000, ok);
  up(d.id, 5, 500, ok2);
  assert_int_equal(folder_bin(UID, d.id), DRIVE_OK);
  locator_of(t, 0, loc_t0);
  locator_of(t, 1, loc_t1);
  locator_of(x, 0, loc_x);
  locator_of(m, 0, loc_m);
  locator_of(ok, 0, loc_ok);

  chunk_path(loc_t1, path, sizeof(path));
  assert_int_equal(truncate(path, 50), 0);
  chunk_path(loc_x, path, sizeof(path));
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  assert_int_equal(fseek(f, 1500, SEEK_SET), 0);
  int ch = fgetc(f);
  assert_int_equal(fseek(f, 1500, SEEK_SET), 0);
  fputc(ch ^ 0x20, f);
  fclose(f);
  chunk_path(loc_m, path, sizeof(path));
  assert_int_equal(unlink(path), 0);

  const int64_t total = 2 * tsz + 3000 + 700 + 1000 + 500;
  testdrive_usage_is(UID, total, 6, 1200, total - tsz);
  assert_int_equal(testdrive_folder_size(UID, c.id), tsz + 1000);
  assert_int_equal(testdrive_folder_size(UID, p.id), tsz + 1000 + 3000);
  assert_int_equal(testdrive_folder_size(UID, d.id), 1200);

  /* Found, reported, nothing changed. */
  out_open(&o);
  assert_int_equal(maint_fsck(false, o.f, NULL, &rep), 0);
  assert_int_equal(rep.chunks_checked, 6);
  assert_int_equal(rep.chunks_corrupt, 2);
  assert_int_equal(rep.chunks_missing, 1);
  assert_int_equal(rep.files_damaged, 4);
  assert_int_equal(rep.files_removed, 0);
  assert_int_equal(rep.orphans_found, 0);
  assert_true(out_has(&o, "chunk 1 is corrupt"));
  assert_true(out_has(&o, "chunk 0 is missing"));
  out_close(&o);
  assert_int_equal(rows("files"), 6);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, total, 6, 1200, total - tsz);

  /* Repaired: the four damaged files and their three contents go, with
   * their accounting; the chunks they held are queued for removal. */
  out_open(&o);
  assert_int_equal(maint_fsck(true, o.f, NULL, &rep), 0);
  assert_int_equal(rep.files_damaged, 4);
  assert_int_equal(rep.files_removed, 4);
  assert_true(out_has(&o, "removed damaged file"));
  out_close(&o);
  assert_false(file_exists(t));
  assert_false(file_exists(t2));
  assert_false(file_exists(x));
  assert_false(file_exists(m));
  assert_true(file_exists(ok));
  assert_true(file_exists(ok2));
  assert_int_equal(rows("contents"), 2);
  assert_int_equal(rows("chunks"), 2);
  assert_int_equal(garbage_in("delete"), 4);
  assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE locator = $1", loc_ok), 0);
  assert_int_equal(testdrive_folder_size(UID, c.id), 1000);
  assert_int_equal(testdrive_folder_size(UID, p.id), 1000);
  assert_int_equal(testdrive_folder_size(UID, d.id), 500);
  testdrive_usage_is(UID, 1500, 2, 500, 1500);

  /* Clean afterwards; the sweep clears the damaged chunks off the disk. */
  out_open(&o);
  assert_int_equal(maint_fsck(false, o.f, NULL, &rep), 0);
  assert_int_equal(rep.chunks_checked, 2);
  assert_int_equal(rep.files_damaged, 0);
  assert_int_equal(rep.chunks_corrupt + rep.chunks_missing + rep.orphans_found, 0);
  out_close(&o);
  assert_int_equal(store_sweep(db_get(), 64), 4);
  assert_false(chunk_exists(loc_t0));
  assert_false(chunk_exists(loc_t1));
  assert_false(chunk_exists(loc_x));
  assert_true(chunk_exists(loc_ok));
  assert_int_equal(chunk_files(), 2);
}

static void test_orphans(void **state)
{
  char a[ID_LEN + 1], loc_a[BLOB_LOCATOR_MAX], path[256], sid[ID_LEN + 1];
  char old[ID_LEN + 4], young[ID_LEN + 4], staged[ID_LEN + 4], later[ID_LEN + 4];
  struct maint_report rep;
  struct out o;
  up(NULL, 1, 2000, a);
  locator_of(a, 0, loc_a);
  chunk_path(loc_a, path, sizeof(path));
  set_age(path, 2 * HOUR_S);   /* old, but referenced */
  orphan(2 * HOUR_S, old);
  orphan(HOUR_S - 60, young);
  orphan(2 * HOUR_S, staged);  /* old, but an upload still owns it */
  assert_int_equal(garbage_record_staged(db_get(), "local", staged, sid), DRIVE_OK);

  out_open(&o);
  assert_int_equal(maint_fsck(false, o.f, NULL, &rep), 0);
  assert_int_equal(rep.orphans_found, 1);
  assert_int_equal(rep.orphans_removed, 0);
  assert_int_equal(rep.files_damaged, 0);
  assert_true(out_has(&o, old));
  assert_false(out_has(&o, young));
  assert_false(out_has(&o, staged));
  out_close(&o);
  assert_true(chunk_exists(old));

  /* gc removes the old ones too, and keeps a young one (a server may run). */
  orphan(2 * HOUR_S, later);
  out_open(&o);
  assert_int_equal(maint_gc(testdrive_dir, 24LL * HOUR_S * 1000, o.f, NULL, &rep), 0);
  assert_int_equal(rep.orphans_removed, 2);
  assert_true(out_has(&o, "removed unreferenced chunk"));
  out_close(&o);
  assert_false(chunk_exists(old));
  assert_false(chunk_exists(later));
  assert_true(chunk_exists(young));
  assert_true(chunk_exists(staged));
  assert_true(chunk_exists(loc_a));
  assert_true(file_exists(a));
  assert_int_equal(chunk_files(), 3);
}

/* With no server running (fsck --repair, gc --all-staged) nothing can be
 * writing a chunk: an unreferenced one just written goes at once, not after
 * an hour. A staged one is still an upload's until gc reclaims it. */
static void test_orphans_offline(void **state)
{
  char a[ID_LEN + 1], loc_a[BLOB_LOCATOR_MAX], sid[ID_LEN + 1];
  char young[ID_LEN + 4], staged[ID_LEN + 4], young2[ID_LEN + 4];
  struct maint_report rep;
  struct out o;
  up(NULL, 1, 2000, a);
  locator_of(a, 0, loc_a);
  orphan(0, young);
  orphan(0, staged);
  assert_int_equal(garbage_record_staged(db_get(), "local", staged, sid), DRIVE_OK);

  out_open(&o);
  assert_int_equal(maint_fsck(true, o.f, NULL, &rep), 0);
  assert_int_equal(rep.orphans_found, 1);
  assert_int_equal(rep.orphans_removed, 1);
  assert_true(out_has(&o, young));
  out_close(&o);
  assert_false(chunk_exists(young));
  assert_true(chunk_exists(staged));
  assert_true(chunk_exists(loc_a));

  orphan(0, young2);
  /* "Every staged chunk" means created before now: a millisecond back. */
  assert_int_equal(db_exec(db_get(), "UPDATE pending_deletes SET created_at = created_at - 1000 "
                                     "WHERE id = $1", "t", sid), DB_OK);
  out_open(&o);
  assert_int_equal(maint_gc(testdrive_dir, 0, o.f, NULL, &rep), 0);
  assert_int_equal(rep.orphans_removed, 1);
  assert_int_equal(rep.garbage_removed, 1);   /* the staged chunk, reclaimed */
  out_close(&o);
  assert_false(chunk_exists(young2));
  assert_false(chunk_exists(staged));
  assert_true(chunk_exists(loc_a));
  assert_true(file_exists(a));
  assert_int_equal(chunk_files(), 1);
}

static void test_gc(void **state)
{
  char a[ID_LEN + 1], d1[ID_LEN + 4], d2[ID_LEN + 4], s_old[ID_LEN + 4], s_new[ID_LEN + 4];
  char sid_old[ID_LEN + 1], sid_new[ID_LEN + 1], loc_a[BLOB_LOCATOR_MAX];
  char stale[256], fresh[256];
  struct maint_report rep;
  struct out o;
  db_t *db = db_get();
  up(NULL, 1, 2000, a);
  locator_of(a, 0, loc_a);
  orphan(60, d1);
  orphan(60, d2);
  orphan(60, s_old);
  orphan(60, s_new);
  assert_int_equal(garbage_record_delete(db, "local", d1), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "local", d2), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "local", "zz/refused"), DRIVE_OK);
  assert_int_equal(garbage_record_staged(db, "local", s_old, sid_old), DRIVE_OK);
  assert_int_equal(garbage_record_staged(db, "local", s_new, sid_new), DRIVE_OK);
  assert_int_equal(db_exec(db, "UPDATE pending_deletes SET created_at = created_at - $1 "
                               "WHERE id = $2", "it", (int64_t)25 * HOUR_S * 1000, sid_old), DB_OK);
  /* A second old: "every staged chunk" means created before now, and the
   * whole test may well run within one millisecond. */
  assert_int_equal(db_exec(db, "UPDATE pending_deletes SET created_at = created_at - 1000 "
                               "WHERE id = $1", "t", sid_new), DB_OK);
  /* Spool files: one a crash left a day ago, one a live upload writes. */
  snprintf(stale, sizeof(stale), "%s/tmp/stale.part", testdrive_dir);
  snprintf(fresh, sizeof(fresh), "%s/tmp/fresh.part", testdrive_dir);
  FILE *f = fopen(stale, "w");
  assert_non_null(f);
  fclose(f);
  f = fopen(fresh, "w");
  assert_non_null(f);
  fclose(f);
  set_age(stale, 25 * HOUR_S);

  out_open(&o);
  assert_int_equal(maint_gc(testdrive_dir, 24LL * HOUR_S * 1000, o.f, NULL, &rep), 0);
  assert_int_equal(rep.garbage_removed, 3);   /* d1, d2 and the reclaimed s_old */
  assert_int_equal(rep.orphans_removed, 0);
  assert_true(out_has(&o, "removed stale spool file stale.part"));
  assert_true(out_has(&o, "gc: 3 chunks removed, 0 unreferenced chunks removed, "
                          "1 deletions still pending"));
  out_close(&o);
  assert_false(chunk_exists(d1));
  assert_false(chunk_exists(d2));
  assert_false(chunk_exists(s_old));
  assert_true(chunk_exists(s_new));
  assert_true(chunk_exists(loc_a));
  assert_int_equal(access(stale, F_OK), -1);
  assert_int_equal(access(fresh, F_OK), 0);
  assert_int_equal(garbage_in("staged"), 1);
  assert_int_equal(q_int("SELECT attempts FROM pending_deletes WHERE locator = 'zz/refused'",
                         NULL), 1);
  assert_true(file_exists(a));

  /* --all-staged: every staged chunk goes. */
  out_open(&o);
  assert_int_equal(maint_gc(testdrive_dir, 0, o.f, NULL, &rep), 0);
  assert_int_equal(rep.garbage_removed, 1);
  out_close(&o);
  assert_false(chunk_exists(s_new));
  assert_int_equal(garbage_in("staged"), 0);
}

/* gc carries out every due deletion, also those due behind a full batch of
 * removals that all fail (it used to stop at the first batch that removed
 * nothing). Here 64 refused locators come first. */
static void test_gc_past_a_failing_batch(void **state)
{
  char loc[ID_LEN + 4], bad[32];
  struct maint_report rep;
  struct out o;
  db_t *db = db_get();
  for(int i = 0; i < 64; i++) {
    snprintf(bad, sizeof(bad), "zz/refused-%d", i);
    assert_int_equal(garbage_record_delete(db, "local", bad), DRIVE_OK);
  }
  assert_int_equal(db_exec(db, "UPDATE pending_deletes SET next_attempt_at = 0", ""), DB_OK);
  orphan(60, loc);
  assert_int_equal(garbage_record_delete(db, "local", loc), DRIVE_OK);
  out_open(&o);
  assert_int_equal(maint_gc(testdrive_dir, 24LL * HOUR_S * 1000, o.f, NULL, &rep), 0);
  out_close(&o);
  assert_false(chunk_exists(loc));
  assert_int_equal(rep.garbage_removed, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_fsck_healthy, setup, teardown),
    cmocka_unit_test_setup_teardown(test_fsck_damage_and_repair, setup, teardown),
    cmocka_unit_test_setup_teardown(test_orphans, setup, teardown),
    cmocka_unit_test_setup_teardown(test_orphans_offline, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
    cmocka_unit_test_setup_teardown(test_gc_past_a_failing_batch, setup, teardown),
  };
  if(getenv("TEST_FILTER"))
    cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
