/* Unit test for the listing queries' plans (drive/listing.h, migration 008):
 * a folder's listing, in every sort order and direction, walks an index in
 * that order and never sorts every child in a temporary b-tree first; its
 * total is one probe of child_counts (migration 016). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "db/db.h"
#include "drive/bin.h"
#include "drive/files.h"
#include "drive/folder_key.h"
#include "drive/folder_sql.h"
#include "drive/folders.h"
#include "drive/listing.h"
#include "testdb.h"

/* As in drive/files.c and drive/folders.c. */
static const struct listing_sql files_sql =
  LISTING_SQL(FILE_COLUMNS, FILE_NCOLS, "files", "folder_id", FILE_IN_LIVE_FOLDER("files"), "$2 = 1",
              "live_files");
static const struct listing_sql folders_sql =
  LISTING_SQL(FOLDER_COLS, FOLDER_NCOLS, "folders", "parent_id", "1 = 1", LISTING_DEL, "live_folders");

static int setup(void **state)
{
  return testdb_open("listing-plan") == 0 && testdb_add_user(db_get(), "U") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
  testdb_close();
  return 0;
}

/* An EXPLAIN QUERY PLAN statement's rows as one line; finalizes it. */
static void plan_read(db_stmt_t *st, char *out, size_t outsz)
{
  assert_non_null(st);
  out[0] = 0;
  while(db_step(st) == DB_ROW) {
    strncat(out, db_col_text(st, 3), outsz - strlen(out) - 2);
    strncat(out, "; ", outsz - strlen(out) - 1);
  }
  db_finalize(st);
}

/* The plan of `text` (placeholders bound to plausible values) as one line. */
static void plan_of(const char *text, bool parent, char *out, size_t outsz)
{
  char sql[4096];
  snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", text);
  db_stmt_t *st = parent ? db_query(db_get(), sql, "tiiiit", "U", 0, 0, 100, 0, "F")
                         : db_query(db_get(), sql, "tiiii", "U", 0, 0, 100, 0);
  plan_read(st, out, outsz);
}

static void check_table(const struct listing_sql *sql, const char *table)
{
  static const int modes[] = {LISTING_ROOT, LISTING_PARENT};
  for(size_t m = 0; m < 2; m++) {
    for(int sort = 0; sort < 4; sort++) {
      for(int desc = 0; desc < 2; desc++) {
        char plan[1024];
        plan_of(sql->select[modes[m]][sort][desc], modes[m] == LISTING_PARENT, plan,
                sizeof(plan));
        char own[64];
        snprintf(own, sizeof(own), " %s USING ", table);
        /* The table's own rows through an index; the counter column one
         * probe of child_counts' key. */
        const char *at = strstr(plan, own);
        if(strstr(plan, "TEMP B-TREE") || !at || !strstr(at, "INDEX") ||
           !strstr(plan, "SEARCH child_counts USING INDEX sqlite_autoindex_child_counts_1 "
                         "(owner_id=? AND folder_id=?)"))
          fail_msg("%s mode %d sort %d desc %d: %s", table, modes[m], sort, desc, plan);
      }
    }
  }
}

static void test_files_listing_needs_no_sort(void **state)
{
  check_table(&files_sql, "files");
}

static void test_folders_listing_needs_no_sort(void **state)
{
  check_table(&folders_sql, "folders");
}

/* The tree walk (drive/folder_tree.c): a page of roots is a range of
 * folders_tree (migration 017) in order; a batch of children is the JSON
 * array of their parents as the outer loop and one range of folders_tree
 * per parent, in order (the walk relies on that order: no sort); neither
 * reads the table. */
static void test_tree_walk_needs_no_sort(void **state)
{
  const char *const texts[] = {TREE_SQLITE_ROOTS, TREE_SQLITE_CHILDREN};
  const char *const want[] = {"SEARCH folders USING COVERING INDEX folders_tree "
                              "(owner_id=? AND parent_id=? AND name_key>?)",
                              "SEARCH f USING COVERING INDEX folders_tree "
                              "(owner_id=? AND parent_id=? AND name_key>?)"};
  for(size_t i = 0; i < 2; i++) {
    char sql[4096], plan[1024] = "";
    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", texts[i]);
    db_stmt_t *st = i ? db_query(db_get(), sql, "ttti", "U", "[\"F\"]", "", (int64_t)128)
                      : db_query(db_get(), sql, "tti", "U", "", (int64_t)128);
    plan_read(st, plan, sizeof(plan));
    if(strstr(plan, "TEMP B-TREE") || strstr(plan, "SCAN f") || strstr(plan, "SCAN folders") ||
       !strstr(plan, want[i]) || (i && strncmp(plan, "SCAN p VIRTUAL TABLE", 20) != 0))
      fail_msg("tree walk %zu: %s", i, plan);
  }
}

/* The tree in its stored order (migration 022) is one range of
 * folders_keyed, which holds every column read, in key order: no sort,
 * no table. A rekey's step finds the next keys of its range the same way. */
static void test_keyed_tree_and_rekey_read_one_range(void **state)
{
  char sql[4096], plan[1024] = "";
  snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", TREE_KEYED_SQLITE);
  db_stmt_t *st = db_query(db_get(), sql, "tti", "U", "", (int64_t)512);
  plan_read(st, plan, sizeof(plan));
  if(strcmp(plan, "SEARCH folders USING COVERING INDEX folders_keyed "
                  "(owner_id=? AND tree_key>?); "))
    fail_msg("keyed tree: %s", plan);
  snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", REKEY_SQLITE);
  st = db_query(db_get(), sql, "tttti", "b\001", "a\001", "U", "a\002", (int64_t)16);
  plan_read(st, plan, sizeof(plan));
  if(!strstr(plan, "SEARCH folders USING COVERING INDEX folders_keyed "
                   "(owner_id=? AND tree_key>? AND tree_key<?)") ||
     strstr(plan, "SCAN folders"))
    fail_msg("rekey step: %s", plan);
}

/* A restore's name search (folder_bin.c) reads one range of the parent's
 * live children by name_key, never every sibling of the parent. */
static void test_name_search_reads_one_range(void **state)
{
  char sql[4096], plan[1024] = "";
  snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", FOLDER_PREFIX_ROOT_SQLITE);
  plan_read(db_query(db_get(), sql, "ttt", "U", "work", "work\xF4\x8F\xBF\xBF"), plan,
            sizeof(plan));
  if(!strstr(plan, "USING COVERING INDEX") || !strstr(plan, "name_key>? AND name_key<?)") ||
     strstr(plan, "SCAN"))
    fail_msg("name search at the root: %s", plan);
  snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", FOLDER_PREFIX_IN_SQLITE);
  plan_read(db_query(db_get(), sql, "tttt", "U", "work", "work\xF4\x8F\xBF\xBF", "F"), plan,
            sizeof(plan));
  if(!strstr(plan, "USING COVERING INDEX") || !strstr(plan, "name_key>? AND name_key<?)") ||
     strstr(plan, "SCAN"))
    fail_msg("name search in a folder: %s", plan);
}

/* A file's liveness (drive/file_sql.h) costs one primary key probe of its
 * folder per row read, never a scan of the folders: in a folder's listing,
 * in the starred view and in the bin browsed inside a binned folder. */
static void test_file_liveness_probes_its_folder(void **state)
{
  const char *const texts[] = {files_sql.select[LISTING_PARENT][0][0],
                               files_sql.select[LISTING_ANY][0][0],
                               files_sql.select[LISTING_BINNED][2][1]};
  for(size_t i = 0; i < 3; i++) {
    char plan[1024];
    plan_of(texts[i], i != 1, plan, sizeof(plan));
    if(strstr(plan, "SCAN") || !strstr(plan, "SEARCH bf USING INDEX sqlite_autoindex_folders_1 (id=?)"))
      fail_msg("file liveness %zu: %s", i, plan);
  }
}

/* A folder's total (migration 016): one probe of child_counts' key. */
static void test_counter_is_one_probe(void **state)
{
  const struct listing_sql *sqls[] = {&files_sql, &folders_sql};
  for(size_t i = 0; i < 2; i++) {
    char sql[512], plan[512] = "";
    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", sqls[i]->counter);
    db_stmt_t *st = db_query(db_get(), sql, "tt", "U", "F");
    plan_read(st, plan, sizeof(plan));
    if(strcmp(plan, "SEARCH child_counts USING INDEX sqlite_autoindex_child_counts_1 "
                    "(owner_id=? AND folder_id=?); "))
      fail_msg("counter %zu: %s", i, plan);
  }
}

/* Columns in a SELECT list: its commas outside parentheses, plus one. */
static int columns_in(const char *cols)
{
  int n = 1, depth = 0;
  for(const char *p = cols; *p; p++) {
    depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
    n += *p == ',' && depth == 0;
  }
  return n;
}

/* The page's counter column (listing_run reads it at counter_col) comes
 * right after the row's columns: a wrong index would read a row column, or
 * nothing, and the page would pay the separate counter statement again. */
static void test_counter_column_follows_the_row(void **state)
{
  assert_int_equal(columns_in(FILE_COLUMNS), FILE_NCOLS);
  assert_int_equal(columns_in(FOLDER_COLS), FOLDER_NCOLS);
  assert_int_equal(files_sql.counter_col, FILE_NCOLS);
  assert_int_equal(folders_sql.counter_col, FOLDER_NCOLS);
  static const char head[] = "SELECT " FILE_COLUMNS ", (SELECT live_files FROM child_counts ";
  for(int m = LISTING_ROOT; m <= LISTING_PARENT; m++)
    assert_int_equal(strncmp(files_sql.select[m][0][0], head, strlen(head)), 0);
}

/* The janitor's purge picks (drive/bin.h, migration 021): a range of the
 * partial index of directly binned items, never a scan of the table. */
static void test_bin_purge_reads_its_index(void **state)
{
  static const char *const tables[] = {"files", "folders"};
  const char *const texts[] = {BIN_PURGE_PICK_ANY("files"), BIN_PURGE_PICK_ANY("folders")};
  for(size_t i = 0; i < 2; i++) {
    char sql[512], want[128], plan[512] = "";
    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", texts[i]);
    db_stmt_t *st = db_query(db_get(), sql, "ii", (int64_t)1000, (int64_t)64);
    plan_read(st, plan, sizeof(plan));
    snprintf(want, sizeof(want), "SEARCH %s USING INDEX %s_bin_age (deleted_at<?); ",
             tables[i], tables[i]);
    if(strcmp(plan, want))
      fail_msg("purge pick %s: %s", tables[i], plan);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_files_listing_needs_no_sort),
    cmocka_unit_test(test_folders_listing_needs_no_sort),
    cmocka_unit_test(test_tree_walk_needs_no_sort),
    cmocka_unit_test(test_file_liveness_probes_its_folder),
    cmocka_unit_test(test_counter_is_one_probe),
    cmocka_unit_test(test_counter_column_follows_the_row),
    cmocka_unit_test(test_bin_purge_reads_its_index),
    cmocka_unit_test(test_keyed_tree_and_rekey_read_one_range),
    cmocka_unit_test(test_name_search_reads_one_range),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
