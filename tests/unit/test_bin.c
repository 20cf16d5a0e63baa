/* Unit tests for drive/bin (drive_bin_empty, drive_purge_bin_older_than)
 * over files stored for real through the upload pipeline on the local
 * chunk store: what is binned goes (directly or carried with a folder),
 * live items and other users' bins stay, contents lose exactly their
 * references (shared content survives), the chunks of contents that died
 * are queued for removal and nothing else is, and the usage counters and
 * folder sizes are exact afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "drive/bin.h"
#include "drive/content.h"
#include "drive/files.h"
#include "drive/folders.h"
#include "drive/store.h"
#include "util/timefmt.h"
#include "testdrive.h"

#define UID "binner"
#define OTHER "neighbour"
#define CHUNK 65536u

static int setup(void **state)
{
  if(testdrive_start("bin", CHUNK, false) != 0 || testdb_add_user(db_get(), UID) != 0 ||
     testdb_add_user(db_get(), OTHER) != 0)
    return -1;
  testdrive_upload_opts(0, false);
  return 0;
}

static int teardown(void **state)
{
  testdrive_stop();
  return 0;
}

/* One file of `n` bytes made from `seed` (same seed and size: same content). */
static void up(const char *owner, const char *folder, unsigned seed, size_t n, char id[ID_LEN + 1])
{
  char buf[8192], name[32];
  assert_true(n <= sizeof(buf));
  fill(buf, n, seed);
  snprintf(name, sizeof(name), "f%u-%zu", seed, n);
  assert_int_equal(upload_bytes(owner, folder, name, buf, n, id), DRIVE_OK);
}

static void mk(const char *parent, const char *name, char id[ID_LEN + 1])
{
  struct folder f;
  const char *why = NULL;
  assert_int_equal(folder_create(UID, parent, name, &f, &why), DRIVE_OK);
  memcpy(id, f.id, ID_LEN + 1);
}

/* The locator of a one-chunk file's chunk. */
static void locator_of(const char *file_id, char out[BLOB_LOCATOR_MAX])
{
  db_stmt_t *st = db_query(db_get(), "SELECT c.locator FROM chunks c JOIN files f "
                                     "ON f.content_id = c.content_id WHERE f.id = $1", "t", file_id);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  snprintf(out, BLOB_LOCATOR_MAX, "%s", db_col_text(st, 0));
  assert_int_equal(db_step(st), DB_DONE);
  db_finalize(st);
}

static bool queued(const char *locator)
{
  return q_int("SELECT COUNT(*) FROM pending_deletes WHERE state = 'delete' AND locator = $1",
               locator) == 1;
}

static bool file_exists(const char *owner, const char *id)
{
  struct file_rec f;
  int rc = file_get(owner, id, &f);
  assert_true(rc == DRIVE_OK || rc == DRIVE_NOT_FOUND);
  return rc == DRIVE_OK;
}

static bool folder_exists(const char *id)
{
  struct folder f;
  int rc = folder_get(UID, id, &f);
  assert_true(rc == DRIVE_OK || rc == DRIVE_NOT_FOUND);
  return rc == DRIVE_OK;
}

static int64_t refcount_of(const char *file_id)
{
  return q_int("SELECT c.refcount FROM contents c JOIN files f ON f.content_id = c.id "
               "WHERE f.id = $1", file_id);
}

static void test_empty_bin(void **state)
{
  char a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1];
  char a1[ID_LEN + 1], b1[ID_LEN + 1], c1[ID_LEN + 1], c2[ID_LEN + 1], r1[ID_LEN + 1];
  char live[ID_LEN + 1], s_live[ID_LEN + 1], s_bin[ID_LEN + 1], o1[ID_LEN + 1];
  char loc[5][BLOB_LOCATOR_MAX], loc_shared[BLOB_LOCATOR_MAX], loc_other[BLOB_LOCATOR_MAX];
  mk(NULL, "a", a);
  mk(a, "b", b);
  mk(NULL, "c", c);
  up(UID, a, 1, 1000, a1);
  up(UID, b, 2, 2000, b1);
  up(UID, c, 3, 3000, c1);
  up(UID, c, 4, 4000, c2);
  up(UID, NULL, 5, 5000, r1);
  up(UID, NULL, 6, 6000, live);
  up(UID, NULL, 7, 700, s_live);
  up(UID, a, 7, 700, s_bin);   /* the same bytes: shares s_live's content */
  up(OTHER, NULL, 8, 800, o1);
  const char *gone[5] = {a1, b1, c2, r1, NULL};
  for(int i = 0; i < 4; i++)
    locator_of(gone[i], loc[i]);
  locator_of(s_live, loc_shared);
  locator_of(o1, loc_other);
  assert_int_equal(refcount_of(s_live), 2);

  assert_int_equal(folder_bin(UID, a), DRIVE_OK);      /* carries b, a1, b1, s_bin */
  assert_int_equal(file_bin(UID, c2), DRIVE_OK);       /* directly, from a live folder */
  assert_int_equal(file_bin(UID, r1), DRIVE_OK);       /* directly, from the root */
  assert_int_equal(file_bin(OTHER, o1), DRIVE_OK);
  testdrive_usage_is(UID, 22400, 8, 1000 + 2000 + 700 + 4000 + 5000, 21700);
  assert_int_equal(testdrive_folder_size(UID, c), 3000);
  assert_int_equal(rows("pending_deletes"), 0);

  assert_int_equal(drive_bin_empty(UID), DRIVE_OK);
  /* Binned items are gone, live ones and the neighbour's bin stay. */
  assert_false(folder_exists(a));
  assert_false(folder_exists(b));
  assert_true(folder_exists(c));
  const char *gone_files[] = {a1, b1, c2, r1, s_bin};
  for(size_t i = 0; i < 5; i++)
    assert_false(file_exists(UID, gone_files[i]));
  assert_true(file_exists(UID, c1));
  assert_true(file_exists(UID, live));
  assert_true(file_exists(UID, s_live));
  assert_true(file_exists(OTHER, o1));
  assert_int_equal(q_int("SELECT COUNT(*) FROM files WHERE owner_id = $1", UID), 3);
  /* Contents: the shared one lost one reference, the others died and their
   * chunks (only theirs) are queued for removal. */
  assert_int_equal(refcount_of(s_live), 1);
  assert_int_equal(q_int("SELECT COUNT(*) FROM contents WHERE owner_id = $1", UID), 3);
  assert_int_equal(garbage_in("delete"), 4);
  for(int i = 0; i < 4; i++)
    assert_true(queued(loc[i]));
  assert_false(queued(loc_shared));
  assert_false(queued(loc_other));
  testdrive_usage_is(UID, 9700, 3, 0, 9700);
  testdrive_usage_is(OTHER, 800, 1, 800, 800);
  assert_int_equal(testdrive_folder_size(UID, c), 3000);

  /* The sweeper's work: exactly those chunk files disappear. */
  assert_int_equal(chunk_files(), 8);
  assert_int_equal(store_sweep(db_get(), 64), 4);
  for(int i = 0; i < 4; i++)
    assert_false(chunk_exists(loc[i]));
  assert_true(chunk_exists(loc_shared));
  assert_true(chunk_exists(loc_other));
  assert_int_equal(chunk_files(), 4);

  /* An empty bin empties to nothing. */
  assert_int_equal(drive_bin_empty(UID), DRIVE_OK);
  assert_int_equal(rows("pending_deletes"), 0);
  testdrive_usage_is(UID, 9700, 3, 0, 9700);
}

/* A file binned on its own, then its folder binned and restored: the file
 * stays its own bin item (the folder's restore only brings back what was
 * live in it), and restores into its folder afterwards. A file carried
 * with its folder and restored alone goes to the root and leaves the
 * binned folder's size. */
static void test_file_alone_then_folder(void **state)
{
  char p[ID_LEN + 1], g[ID_LEN + 1], f1[ID_LEN + 1], f2[ID_LEN + 1], f3[ID_LEN + 1];
  struct file_rec f;
  mk(NULL, "p", p);
  mk(p, "g", g);
  up(UID, g, 1, 1000, f1);
  up(UID, g, 2, 2000, f2);
  up(UID, g, 3, 400, f3);
  assert_int_equal(file_bin(UID, f1), DRIVE_OK);
  assert_int_equal(folder_bin(UID, g), DRIVE_OK);
  testdrive_usage_is(UID, 3400, 3, 3400, 3400);
  assert_int_equal(testdrive_folder_size(UID, p), 0);
  assert_int_equal(testdrive_folder_size(UID, g), 2400);
  /* The carried files read as binned, dated by their folder's binning. */
  assert_int_equal(file_get(UID, f2, &f), DRIVE_OK);
  assert_true(f.is_deleted);
  assert_true(f.carried);
  assert_int_equal(f.deleted_at, q_int("SELECT deleted_at FROM folders WHERE id = $1", g));
  assert_int_equal(file_get(UID, f1, &f), DRIVE_OK);
  assert_true(f.is_deleted);
  assert_false(f.carried);
  /* Binned items are read-only; binning a carried file again is a no-op. */
  const char *why;
  assert_int_equal(file_rename(UID, f2, "x", &f, &why), DRIVE_NOT_FOUND);
  assert_int_equal(file_set_starred(UID, f2, true, &f), DRIVE_NOT_FOUND);
  assert_int_equal(file_move(UID, f2, NULL, &f, &why), DRIVE_NOT_FOUND);
  assert_int_equal(file_bin(UID, f2), DRIVE_OK);
  testdrive_usage_is(UID, 3400, 3, 3400, 3400);

  /* f3 carried, restored alone: to the root, out of g's size. */
  assert_int_equal(file_restore(UID, f3), DRIVE_OK);
  assert_int_equal(file_get(UID, f3, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_string_equal(f.folder_id, "");
  assert_int_equal(testdrive_folder_size(UID, g), 2000);
  testdrive_usage_is(UID, 3400, 3, 3000, 3400);

  assert_int_equal(folder_restore(UID, g), DRIVE_OK);
  assert_int_equal(file_get(UID, f2, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_false(f.carried);
  assert_int_equal(f.deleted_at, 0);
  assert_int_equal(file_get(UID, f1, &f), DRIVE_OK);
  assert_true(f.is_deleted); /* binned on its own before: still in the bin */
  assert_int_equal(testdrive_folder_size(UID, g), 2000);
  assert_int_equal(testdrive_folder_size(UID, p), 2000);
  testdrive_usage_is(UID, 3400, 3, 1000, 3400);

  assert_int_equal(file_restore(UID, f1), DRIVE_OK);
  assert_int_equal(file_get(UID, f1, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_string_equal(f.folder_id, g);
  assert_int_equal(testdrive_folder_size(UID, p), 3000);
  testdrive_usage_is(UID, 3400, 3, 0, 3400);
}

/* A database written by the code before migration 015, which marked every
 * file of a binned folder (is_deleted = 1, trashed_with = the group) and
 * moved them in batches: the migration brings its rows to the new form.
 * g: binned, its files carried the old way; k: a restore cut short (folder
 * live, a file still carried); m: a binning cut short (folder binned, a
 * file not yet marked); a file binned on its own in g stays as it is. */
static void test_upgrade_from_file_marks(void **state)
{
  char g[ID_LEN + 1], k[ID_LEN + 1], m[ID_LEN + 1];
  char g1[ID_LEN + 1], g2[ID_LEN + 1], g3[ID_LEN + 1], k1[ID_LEN + 1], m1[ID_LEN + 1];
  struct file_rec f;
  db_t *db = db_get();
  mk(NULL, "g", g);
  mk(NULL, "k", k);
  mk(NULL, "m", m);
  up(UID, g, 1, 1000, g1);
  up(UID, g, 2, 2000, g2);
  up(UID, g, 3, 700, g3);
  up(UID, k, 4, 500, k1);
  up(UID, m, 5, 600, m1);
  assert_int_equal(file_bin(UID, g3), DRIVE_OK);
  assert_int_equal(folder_bin(UID, g), DRIVE_OK);
  assert_int_equal(folder_bin(UID, m), DRIVE_OK);
  /* The old code's rows and bin bytes (it counted marked files only). */
  assert_int_equal(db_exec(db, "UPDATE files SET is_deleted = 1, deleted_at = 5, trashed_with = "
                               "folder_id WHERE folder_id IN ($1, $2) AND is_deleted = 0",
                           "tt", g, k), DB_OK);
  assert_int_equal(db_exec(db, "UPDATE users SET bin_bytes = 3000 + 700 + 500 WHERE id = $1",
                           "t", UID), DB_OK);
  /* Migration 015 again, alone (the later ones stay applied). */
  assert_int_equal(db_exec(db, "DELETE FROM schema_version WHERE version = 15", ""), DB_OK);
  char err[256];
  assert_int_equal(db_migration_apply(db, 15, err, sizeof(err)), 0);

  assert_int_equal(q_int("SELECT COUNT(*) FROM files WHERE trashed_with IS NOT NULL", NULL), 0);
  testdrive_usage_is(UID, 4800, 5, 3000 + 700 + 600, 4800);
  assert_int_equal(file_get(UID, g1, &f), DRIVE_OK);
  assert_true(f.is_deleted && f.carried);
  assert_int_equal(file_get(UID, k1, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_int_equal(file_get(UID, m1, &f), DRIVE_OK);
  assert_true(f.is_deleted && f.carried);

  /* And they work as new rows: restore g (g3 stays), empty the bin. */
  assert_int_equal(folder_restore(UID, g), DRIVE_OK);
  assert_int_equal(file_get(UID, g1, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_int_equal(file_get(UID, g3, &f), DRIVE_OK);
  assert_true(f.is_deleted);
  testdrive_usage_is(UID, 4800, 5, 1300, 4800);
  assert_int_equal(drive_bin_empty(UID), DRIVE_OK);
  assert_false(file_exists(UID, g3));
  assert_false(file_exists(UID, m1));
  assert_false(folder_exists(m));
  assert_true(file_exists(UID, k1));
  testdrive_usage_is(UID, 3500, 3, 0, 3500);
  assert_int_equal(testdrive_folder_size(UID, g), 3000);
  assert_int_equal(testdrive_folder_size(UID, k), 500);
}

static void test_empty_after_restore(void **state)
{
  char a[ID_LEN + 1], a1[ID_LEN + 1], a2[ID_LEN + 1], a3[ID_LEN + 1];
  char loc2[BLOB_LOCATOR_MAX];
  mk(NULL, "a", a);
  up(UID, a, 1, 1000, a1);
  up(UID, a, 2, 2000, a2);
  up(UID, a, 2, 2000, a3);   /* shares a2's content: both go, so it dies */
  locator_of(a2, loc2);
  assert_int_equal(testdrive_folder_size(UID, a), 5000);
  assert_int_equal(folder_bin(UID, a), DRIVE_OK);
  assert_int_equal(file_restore(UID, a1), DRIVE_OK);
  struct file_rec f;
  assert_int_equal(file_get(UID, a1, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_string_equal(f.folder_id, "");   /* its folder is binned: the root */
  testdrive_usage_is(UID, 5000, 3, 4000, 3000);

  assert_int_equal(drive_bin_empty(UID), DRIVE_OK);
  assert_false(folder_exists(a));
  assert_true(file_exists(UID, a1));
  assert_false(file_exists(UID, a2));
  assert_false(file_exists(UID, a3));
  assert_int_equal(rows("contents"), 1);
  assert_int_equal(garbage_in("delete"), 1);
  assert_true(queued(loc2));
  testdrive_usage_is(UID, 1000, 1, 0, 1000);
}

static void test_purge_older_than(void **state)
{
  char old[ID_LEN + 1], old_sub[ID_LEN + 1], young[ID_LEN + 1], x[ID_LEN + 1];
  char o1[ID_LEN + 1], o2[ID_LEN + 1], n1[ID_LEN + 1], x1[ID_LEN + 1];
  char fo[ID_LEN + 1], fn[ID_LEN + 1], l[ID_LEN + 1], oo[ID_LEN + 1];
  char loc_o1[BLOB_LOCATOR_MAX], loc_o2[BLOB_LOCATOR_MAX], loc_x1[BLOB_LOCATOR_MAX];
  char loc_oo[BLOB_LOCATOR_MAX], loc_l[BLOB_LOCATOR_MAX];
  mk(NULL, "old", old);
  mk(old, "sub", old_sub);
  mk(NULL, "young", young);
  mk(young, "x", x);
  up(UID, old, 1, 1100, o1);
  up(UID, old_sub, 2, 1200, o2);
  up(UID, young, 3, 1300, n1);
  up(UID, x, 4, 1600, x1);
  up(UID, NULL, 5, 1400, fo);
  up(UID, NULL, 5, 1400, l);   /* fo's bytes: one content, kept alive by l */
  up(UID, NULL, 6, 1500, fn);
  up(OTHER, NULL, 7, 900, oo);
  locator_of(o1, loc_o1);
  locator_of(o2, loc_o2);
  locator_of(x1, loc_x1);
  locator_of(oo, loc_oo);
  locator_of(l, loc_l);

  /* x goes to the bin on its own first, then young (x is not carried). */
  assert_int_equal(folder_bin(UID, x), DRIVE_OK);
  assert_int_equal(folder_bin(UID, old), DRIVE_OK);
  assert_int_equal(folder_bin(UID, young), DRIVE_OK);
  assert_int_equal(file_bin(UID, fo), DRIVE_OK);
  assert_int_equal(file_bin(UID, fn), DRIVE_OK);
  assert_int_equal(file_bin(OTHER, oo), DRIVE_OK);
  /* Age the items binned "long ago". */
  assert_int_equal(db_exec(db_get(), "UPDATE folders SET deleted_at = 1000 WHERE id IN ($1, $2)",
                           "tt", old, x), DB_OK);
  assert_int_equal(db_exec(db_get(), "UPDATE files SET deleted_at = 1000 WHERE id IN ($1, $2)",
                           "tt", fo, oo), DB_OK);
  testdrive_usage_is(UID, 9500, 7, 2300 + 1300 + 1600 + 1400 + 1500, 8100);
  assert_int_equal(testdrive_folder_size(UID, young), 1300);

  /* A cutoff at or before the binning takes nothing. */
  assert_int_equal(drive_purge_bin_older_than(db_get(), 1000), DRIVE_OK);
  assert_int_equal(rows("files"), 8);
  assert_int_equal(rows("folders"), 4);
  assert_int_equal(rows("pending_deletes"), 0);

  assert_int_equal(drive_purge_bin_older_than(db_get(), time_now_ms() - 60000), DRIVE_OK);
  assert_false(folder_exists(old));
  assert_false(folder_exists(old_sub));
  assert_false(folder_exists(x));
  assert_true(folder_exists(young));
  assert_false(file_exists(UID, o1));
  assert_false(file_exists(UID, o2));
  assert_false(file_exists(UID, x1));
  assert_false(file_exists(UID, fo));
  assert_false(file_exists(OTHER, oo));   /* every user's */
  assert_true(file_exists(UID, n1));
  assert_true(file_exists(UID, fn));
  assert_true(file_exists(UID, l));
  assert_int_equal(refcount_of(l), 1);
  assert_int_equal(garbage_in("delete"), 4);
  assert_true(queued(loc_o1));
  assert_true(queued(loc_o2));
  assert_true(queued(loc_x1));
  assert_true(queued(loc_oo));
  assert_false(queued(loc_l));
  testdrive_usage_is(UID, 4200, 3, 1300 + 1500, 4200);
  testdrive_usage_is(OTHER, 0, 0, 0, 0);
  assert_int_equal(testdrive_folder_size(UID, young), 1300);

  /* What stayed is still a proper bin item: it restores. */
  assert_int_equal(folder_restore(UID, young), DRIVE_OK);
  assert_int_equal(testdrive_folder_size(UID, young), 1300);
  testdrive_usage_is(UID, 4200, 3, 1500, 4200);
  assert_int_equal(store_sweep(db_get(), 64), 4);
  assert_int_equal(chunk_files(), 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_empty_bin, setup, teardown),
    cmocka_unit_test_setup_teardown(test_empty_after_restore, setup, teardown),
    cmocka_unit_test_setup_teardown(test_file_alone_then_folder, setup, teardown),
    cmocka_unit_test_setup_teardown(test_upgrade_from_file_marks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_purge_older_than, setup, teardown),
  };
  if(getenv("TEST_FILTER"))
    cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
