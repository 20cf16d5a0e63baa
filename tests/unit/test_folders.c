/* Unit tests for drive/folders and drive/bin against a throw-away SQLite
 * file: folder sizes through upload-like inserts, move, bin, restore and
 * delete; bin groups; name clashes; the move-into-descendant check; the
 * automatic purge (which no API route reaches); and a deep chain through
 * tree load, render and path without recursion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "api/render.h"
#include "db/db.h"
#include "drive/bin.h"
#include "drive/content.h"
#include "drive/folder_ops.h"
#include "drive/folders.h"
#include "util/timefmt.h"
#include "testdb.h"

#define UID "AAAAAAAAAAAAAAAAAAAAAA"
#define OTHER "BBBBBBBBBBBBBBBBBBBBBB"

static db_t *db;

static int setup_db(void **state)
{
  if(testdb_open("folders") != 0)
    return -1;
  db = db_get();
  const char *ids[] = {UID, OTHER};
  for(int i = 0; i < 2; i++)
    if(testdb_add_user(db, ids[i]) != 0)
      return -1;
  return 0;
}

static int teardown_db(void **state)
{
  testdb_close();
  return 0;
}

static void mk(const char *owner, const char *parent, const char *name, char id[ID_LEN + 1])
{
  struct folder f;
  const char *why = NULL;
  assert_int_equal(folder_create(owner, parent, name, &f, &why), DRIVE_OK);
  memcpy(id, f.id, ID_LEN + 1);
}

/* What the upload code does: a content, a file, sizes and usage. */
static void put_file(const char *folder, int64_t size)
{
  char cid[ID_LEN + 1], fid[ID_LEN + 1], hash[65];
  id_new(cid);
  id_new(fid);
  snprintf(hash, sizeof(hash), "%s", cid);
  assert_int_equal(db_begin(db), DB_OK);
  assert_int_equal(db_exec(db,
                           "INSERT INTO contents (id, owner_id, sha256, size, chunk_size, "
                           "chunk_count, backend, refcount, created_at) "
                           "VALUES ($1, $2, $3, $4, 1, 0, 'local', 1, 0)",
                           "ttti", cid, UID, hash, size),
                   DB_OK);
  assert_int_equal(db_exec(db,
                           "INSERT INTO files (id, owner_id, folder_id, content_id, name, "
                           "name_key, mime_type, size, sha256, created_at, updated_at) "
                           "VALUES ($1, $2, $3, $4, $1, $1, 'x/y', $5, $6, 0, 0)",
                           "ttttit", fid, UID, folder, cid, size, hash),
                   DB_OK);
  assert_int_equal(folder_add_size(db, folder, size), DRIVE_OK);
  assert_int_equal(usage_add(db, UID, size, 1, 0, size), DB_OK);
  assert_int_equal(db_commit(db), DB_OK);
}

static int64_t size_of(const char *id)
{
  struct folder f;
  assert_int_equal(folder_get(UID, id, &f), DRIVE_OK);
  return f.size;
}

static void usage_is(int64_t total, int64_t count, int64_t bin)
{
  int64_t v = -1;
  assert_int_equal(db_query_int(db, &v, "SELECT total_usage_bytes FROM users WHERE id = $1", "t", UID), DB_ROW);
  assert_int_equal(v, total);
  assert_int_equal(db_query_int(db, &v, "SELECT file_count FROM users WHERE id = $1", "t", UID), DB_ROW);
  assert_int_equal(v, count);
  assert_int_equal(db_query_int(db, &v, "SELECT bin_bytes FROM users WHERE id = $1", "t", UID), DB_ROW);
  assert_int_equal(v, bin);
}

static void test_sizes_through_everything(void **state)
{
  char a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1], x[ID_LEN + 1];
  struct folder f;
  const char *why;
  mk(UID, NULL, "sz-a", a);
  mk(UID, a, "b", b);
  mk(UID, b, "c", c);
  mk(UID, NULL, "sz-x", x);
  put_file(c, 100);
  put_file(b, 20);
  put_file(a, 3);
  assert_int_equal(size_of(a), 123);
  assert_int_equal(size_of(b), 120);
  assert_int_equal(size_of(c), 100);

  assert_int_equal(folder_move(UID, c, x, &f, &why), DRIVE_OK);
  assert_int_equal(size_of(a), 23);
  assert_int_equal(size_of(x), 100);
  assert_int_equal(folder_move(UID, c, b, &f, &why), DRIVE_OK);
  assert_int_equal(size_of(a), 123);
  assert_int_equal(size_of(x), 0);

  /* Bin b: a loses it, b and c keep what they carry. */
  assert_int_equal(folder_bin(UID, b), DRIVE_OK);
  assert_int_equal(size_of(a), 3);
  assert_int_equal(size_of(b), 120);
  assert_int_equal(size_of(c), 100);
  usage_is(123, 3, 120);
  /* Binning again changes nothing. */
  assert_int_equal(folder_bin(UID, b), DRIVE_OK);
  usage_is(123, 3, 120);
  /* The bin is read-only. */
  assert_int_equal(folder_rename(UID, c, "z", &f, &why), DRIVE_NOT_FOUND);
  assert_int_equal(folder_set_starred(UID, c, true, &f), DRIVE_NOT_FOUND);
  assert_int_equal(folder_move(UID, c, NULL, &f, &why), DRIVE_NOT_FOUND);

  /* Restoring the carried c alone: to the root, out of b's group. */
  assert_int_equal(folder_restore(UID, c), DRIVE_OK);
  assert_int_equal(folder_get(UID, c, &f), DRIVE_OK);
  assert_false(f.is_deleted);
  assert_string_equal(f.parent_id, "");
  assert_int_equal(size_of(b), 20);
  usage_is(123, 3, 20);
  assert_int_equal(folder_restore(UID, b), DRIVE_OK);
  assert_int_equal(size_of(a), 23);
  usage_is(123, 3, 0);

  /* Permanent delete of a live tree with a binned child inside. */
  assert_int_equal(folder_move(UID, c, b, &f, &why), DRIVE_OK);
  assert_int_equal(folder_bin(UID, c), DRIVE_OK);
  usage_is(123, 3, 100);
  assert_int_equal(folder_delete(UID, a), DRIVE_OK);
  usage_is(0, 0, 0);
  assert_int_equal(folder_get(UID, c, &f), DRIVE_NOT_FOUND);
  int64_t n = -1;
  assert_int_equal(db_query_int(db, &n, "SELECT COUNT(*) FROM contents", ""), DB_ROW);
  assert_int_equal(n, 0);
  assert_int_equal(folder_delete(UID, x), DRIVE_OK);
}

static void test_clash_cycle_and_scope(void **state)
{
  char a[ID_LEN + 1], b[ID_LEN + 1], c[ID_LEN + 1], o[ID_LEN + 1];
  struct folder f;
  const char *why = NULL;
  mk(UID, NULL, "cl-a", a);
  mk(UID, a, "Same", b);
  mk(UID, b, "c", c);
  mk(OTHER, NULL, "theirs", o);
  assert_int_equal(folder_create(UID, a, "  sAME ", &f, &why), DRIVE_CONFLICT);
  assert_int_equal(folder_create(UID, a, "a/b", &f, &why), DRIVE_INVALID);
  assert_string_equal(why, "Name must not contain '/'");
  assert_int_equal(folder_move(UID, a, c, &f, &why), DRIVE_INVALID);
  assert_string_equal(why, "Cannot move a folder into itself or one of its subfolders");
  assert_int_equal(folder_move(UID, a, a, &f, &why), DRIVE_INVALID);
  assert_int_equal(folder_move(UID, c, o, &f, &why), DRIVE_NOT_FOUND);
  assert_int_equal(folder_get(OTHER, a, &f), DRIVE_NOT_FOUND);
  assert_int_equal(folder_bin(OTHER, a), DRIVE_NOT_FOUND);
  assert_int_equal(folder_delete(OTHER, a), DRIVE_NOT_FOUND);
  assert_int_equal(folder_check_live(UID, NULL), DRIVE_OK);
  assert_int_equal(folder_check_live(UID, o), DRIVE_NOT_FOUND);
  assert_int_equal(folder_check_live(UID, "not an id"), DRIVE_NOT_FOUND);

  /* Restore into a taken name: "Same (1)". */
  assert_int_equal(folder_bin(UID, b), DRIVE_OK);
  char b2[ID_LEN + 1];
  mk(UID, a, "same", b2);
  assert_int_equal(folder_restore(UID, b), DRIVE_OK);
  assert_int_equal(folder_get(UID, b, &f), DRIVE_OK);
  assert_string_equal(f.name, "Same (1)");
  assert_string_equal(f.parent_id, a);
  /* A 255-byte name keeps within the limit when suffixed, at a character
   * boundary. */
  char longname[256];
  memset(longname, 'x', 250);
  memcpy(longname + 250, "\xc3\xa9\xc3\xa9", 5); /* 254 bytes: 250 x + éé */
  char l1[ID_LEN + 1], l2[ID_LEN + 1];
  mk(UID, a, longname, l1);
  assert_int_equal(folder_bin(UID, l1), DRIVE_OK);
  mk(UID, a, longname, l2);
  assert_int_equal(folder_restore(UID, l1), DRIVE_OK);
  assert_int_equal(folder_get(UID, l1, &f), DRIVE_OK);
  assert_int_equal(strlen(f.name), 254); /* the cut falls inside an é */
  assert_memory_equal(f.name + 249, "x (1)", 6);
  assert_int_equal(folder_delete(UID, a), DRIVE_OK);
  assert_int_equal(folder_delete(OTHER, o), DRIVE_OK);
}

static void test_purge_older_than(void **state)
{
  char a[ID_LEN + 1], b[ID_LEN + 1], keep[ID_LEN + 1];
  struct folder f;
  mk(UID, NULL, "pg-a", a);
  mk(UID, a, "b", b);
  mk(UID, NULL, "pg-keep", keep);
  put_file(b, 10);
  put_file(keep, 5);
  assert_int_equal(folder_bin(UID, a), DRIVE_OK);
  assert_int_equal(folder_bin(UID, keep), DRIVE_OK);
  /* Age a's binning; keep's stays recent. */
  assert_int_equal(db_exec(db, "UPDATE folders SET deleted_at = 1000 WHERE id = $1", "t", a), DB_OK);
  usage_is(15, 2, 15);
  assert_int_equal(drive_purge_bin_older_than(db, time_now_ms() - 60000), DRIVE_OK);
  assert_int_equal(folder_get(UID, a, &f), DRIVE_NOT_FOUND);
  assert_int_equal(folder_get(UID, b, &f), DRIVE_NOT_FOUND);
  assert_int_equal(folder_get(UID, keep, &f), DRIVE_OK);
  usage_is(5, 1, 5);
  assert_int_equal(drive_bin_empty(UID), DRIVE_OK);
  usage_is(0, 0, 0);
  assert_int_equal(folder_get(UID, keep, &f), DRIVE_NOT_FOUND);
}

/* The tree walk rendered as GET /folders/tree does. */
struct tree_out {
  buf_t out;
  bool first;
  int opened;
};

static int tree_out_step(void *arg, const struct folder *f)
{
  struct tree_out *t = arg;
  if(!f) {
    t->first = false;
    return buf_puts(&t->out, "]}");
  }
  if(!t->first)
    buf_puts(&t->out, ",");
  t->first = true;
  t->opened++;
  return render_tree_open(f, &t->out);
}

static void test_deep_chain(void **state)
{
  enum { DEPTH = 3000 };
  char parent[ID_LEN + 1] = "", top[ID_LEN + 1] = "", name[16];
  for(int i = 0; i < DEPTH; i++) {
    char id[ID_LEN + 1];
    snprintf(name, sizeof(name), "d%d", i);
    mk(UID, parent[0] ? parent : NULL, name, id);
    memcpy(parent, id, sizeof(id));
    if(i == 0)
      memcpy(top, id, sizeof(id));
  }
  put_file(parent, 7);
  assert_int_equal(size_of(top), 7);

  struct folder_crumb *crumbs = NULL;
  size_t n = 0;
  assert_int_equal(folder_path(UID, parent, &crumbs, &n), DRIVE_OK);
  assert_int_equal(n, DEPTH);
  assert_string_equal(crumbs[0].name, "d0");
  assert_string_equal(crumbs[DEPTH - 1].id, parent);
  free(crumbs);

  struct tree_out to = {.first = true};
  buf_t *out = &to.out;
  buf_init(out, 64 * 1024 * 1024);
  struct folder_tree_cursor *cur;
  assert_int_equal(folder_tree_open(UID, &cur), DRIVE_OK);
  buf_puts(out, "[");
  while(!folder_tree_done(cur))   /* a few steps at a time, as a stream */
    assert_int_equal(folder_tree_next(cur, 7, tree_out_step, &to), DRIVE_OK);
  buf_puts(out, "]");
  folder_tree_close(cur);
  assert_int_equal(to.opened, DEPTH);
  /* Balanced, and nested DEPTH arrays deep below the top one (no string in
   * this tree holds a bracket). */
  int depth = 0, max = 0;
  for(size_t i = 0; i < out->len; i++) {
    depth += out->data[i] == '[' ? 1 : out->data[i] == ']' ? -1 : 0;
    assert_true(depth >= 0);
    if(depth > max)
      max = depth;
  }
  assert_int_equal(depth, 0);
  assert_int_equal(max, DEPTH + 1);
  assert_int_equal(strncmp(out->data, "[{\"_id\"", 7), 0);
  buf_free(out);

  struct folder f;
  const char *why;
  assert_int_equal(folder_move(UID, top, parent, &f, &why), DRIVE_INVALID);
  assert_int_equal(folder_bin(UID, top), DRIVE_OK);
  assert_int_equal(folder_restore(UID, top), DRIVE_OK);
  assert_int_equal(size_of(top), 7);
  assert_int_equal(folder_delete(UID, top), DRIVE_OK);
  usage_is(0, 0, 0);
}

static int64_t count_of(const char *sql, const char *arg)
{
  int64_t v = -1;
  assert_int_equal(db_query_int(db, &v, sql, "t", arg), DB_ROW);
  return v;
}

/* A bin in batches of two folder rows (drive/folder_ops.h): the first
 * transaction by hand, as folder_bin runs it, leaves the subtree half
 * marked and the operation recorded; another user's write leaves it so,
 * the owner's next write completes it first (and so finds its folder
 * binned). Then a bin and a restore run whole, batch after batch. */
static void test_batches_and_settle(void **state)
{
  (void)state;
  folder_ops_configure(2, 1000, 0);
  char top[ID_LEN + 1], a[ID_LEN + 1], b[ID_LEN + 1], leaf[ID_LEN + 1] = "", name[16];
  mk(UID, NULL, "batched", top);
  for(int i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "a%d", i);
    mk(UID, top, name, a);
    for(int j = 0; j < 3; j++) {
      snprintf(name, sizeof(name), "b%d", j);
      mk(UID, a, name, b);
      for(int k = 0; k < 3; k++) {
        snprintf(name, sizeof(name), "c%d", k);
        mk(UID, b, name, leaf);
      }
    }
  }
  put_file(leaf, 5);
  struct folder_op op = {.op = FOLDER_OP_BIN, .at = 123};
  memcpy(op.folder_id, top, sizeof(top));
  memcpy(op.group_id, top, sizeof(top));
  memcpy(op.owner_id, UID, sizeof(UID));
  bool more = false;
  assert_int_equal(db_begin(db), DB_OK);
  assert_int_equal(db_exec(db, "UPDATE folders SET is_deleted = 1, deleted_at = 123 WHERE id = $1",
                           "t", top), DB_OK);
  assert_int_equal(folder_ops_start(db, &op, &more), DRIVE_OK);
  assert_int_equal(db_commit(db), DB_OK);
  assert_true(more);
  const char *marked = "SELECT COUNT(*) FROM folders WHERE trashed_with = $1 AND is_deleted = 1";
  const char *ops = "SELECT COUNT(*) FROM folder_ops WHERE owner_id = $1";
  assert_int_equal(count_of(marked, top), 2);
  assert_int_equal(count_of(ops, UID), 1);

  char other[ID_LEN + 1], late[ID_LEN + 1];
  mk(OTHER, NULL, "elsewhere", other);
  assert_int_equal(count_of(ops, UID), 1);
  struct folder f;
  const char *why = NULL;
  assert_int_equal(folder_create(UID, leaf, "late", &f, &why), DRIVE_NOT_FOUND);
  assert_int_equal(count_of(ops, UID), 0);
  assert_int_equal(count_of(marked, top), 39);

  /* Whole, in batches: back, out again, back. */
  assert_int_equal(folder_restore(UID, top), DRIVE_OK);
  assert_int_equal(count_of(marked, top), 0);
  mk(UID, leaf, "late", late);
  assert_int_equal(folder_bin(UID, top), DRIVE_OK);
  assert_int_equal(count_of(marked, top), 40);
  assert_int_equal(count_of(ops, UID), 0);
  assert_int_equal(folder_restore(UID, top), DRIVE_OK);
  assert_int_equal(count_of(marked, top), 0);
  assert_int_equal(count_of("SELECT COUNT(*) FROM folders WHERE owner_id = $1 AND is_deleted = 0",
                            UID), 41);
  assert_int_equal(size_of(top), 5);
  assert_int_equal(folder_delete(UID, top), DRIVE_OK);
  folder_ops_configure(0, 0, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sizes_through_everything),
    cmocka_unit_test(test_clash_cycle_and_scope),
    cmocka_unit_test(test_purge_older_than),
    cmocka_unit_test(test_deep_chain),
    cmocka_unit_test(test_batches_and_settle),
  };
  return cmocka_run_group_tests(tests, setup_db, teardown_db);
}
