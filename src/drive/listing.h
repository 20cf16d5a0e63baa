/* listing: the one query behind folder and file listings (API §4 rules).
 * Both tables share the columns a listing filters and sorts on (owner_id,
 * is_deleted, is_starred, trashed_with, name_key, size, created_at,
 * updated_at), so one set of SQL texts, built at compile time from the
 * table, its columns and its parent column, serves both. No SQL is built at
 * run time: the mode, sort and order only pick a fixed text. */
#ifndef NETRA_DRIVE_LISTING_H
#define NETRA_DRIVE_LISTING_H
#include "db/db.h"
#include "drive/drive.h"

/* LISTING_BINNED: the bin browsed inside a binned folder, where every row
 * is in the bin whatever its own flag (files; see files.h). */
enum { LISTING_ROOT, LISTING_PARENT, LISTING_BIN, LISTING_ANY, LISTING_BINNED, LISTING_MODES };

/* Parameters: $1 owner, $2 is_deleted, $3 starred-only, then $4 limit,
 * $5 offset, $6 parent (select) or $4 parent (count), keeping PostgreSQL's
 * placeholders contiguous. `del` tests the bin state ($2). */
#define LISTING_DEL "is_deleted = $2"
#define LISTING_BASE_D(table, del) \
  "FROM " table " WHERE owner_id = $1 AND " del " AND ($3 = 0 OR is_starred = 1) AND "
#define LISTING_BASE(table) LISTING_BASE_D(table, LISTING_DEL)
#define LISTING_SEL(cols, table, del, w, order) \
  "SELECT " cols " " LISTING_BASE_D(table, del) w " ORDER BY " order " LIMIT $4 OFFSET $5"
/* Ties break by name then id in the same direction, so desc = reversed asc.
 * Rows follow enum drive_sort. */
#define LISTING_SORTS_D(cols, table, del, w)                                                   \
  {                                                                                            \
    {LISTING_SEL(cols, table, del, w, "name_key ASC, id ASC"),                                 \
     LISTING_SEL(cols, table, del, w, "name_key DESC, id DESC")},                              \
    {LISTING_SEL(cols, table, del, w, "size ASC, name_key ASC, id ASC"),                       \
     LISTING_SEL(cols, table, del, w, "size DESC, name_key DESC, id DESC")},                   \
    {LISTING_SEL(cols, table, del, w, "created_at ASC, name_key ASC, id ASC"),                 \
     LISTING_SEL(cols, table, del, w, "created_at DESC, name_key DESC, id DESC")},             \
    {LISTING_SEL(cols, table, del, w, "updated_at ASC, name_key ASC, id ASC"),                 \
     LISTING_SEL(cols, table, del, w, "updated_at DESC, name_key DESC, id DESC")},             \
  }
#define LISTING_SORTS(cols, table, w) LISTING_SORTS_D(cols, table, LISTING_DEL, w)

/* Deep pages (offset >= LISTING_SEEK_FROM) of the root or a folder, not
 * starred-only: the row at the offset is found first by reading only the
 * sort index (no table rows for the skipped ones), then the page is read
 * from that key on (a keyset seek). Same rows as LIMIT/OFFSET. Key query:
 * $1 owner, $2 is_deleted, $3 offset, $4 parent. Seek: $1 owner, $2
 * is_deleted, $3 limit, $4..$6 the key (sort column, name_key, id), $7
 * parent. The sort column of a name sort is name_key again. */
#define LISTING_SEEK_FROM 1000
#define LISTING_KEY_SEL(table, w, keycols, order)                                    \
  "SELECT " keycols " FROM " table " WHERE owner_id = $1 AND is_deleted = $2 AND " w \
  " ORDER BY " order " LIMIT 1 OFFSET $3"
#define LISTING_SEEK_SEL(cols, table, w, keycols, cmp, order)                           \
  "SELECT " cols " FROM " table " WHERE owner_id = $1 AND is_deleted = $2 AND " w      \
  " AND (" keycols ") " cmp " ($4, $5, $6) ORDER BY " order " LIMIT $3"
#define LISTING_KEYS(table, w)                                                                \
  {                                                                                           \
    {LISTING_KEY_SEL(table, w, "name_key, name_key, id", "name_key ASC, id ASC"),             \
     LISTING_KEY_SEL(table, w, "name_key, name_key, id", "name_key DESC, id DESC")},          \
    {LISTING_KEY_SEL(table, w, "size, name_key, id", "size ASC, name_key ASC, id ASC"),       \
     LISTING_KEY_SEL(table, w, "size, name_key, id", "size DESC, name_key DESC, id DESC")},   \
    {LISTING_KEY_SEL(table, w, "created_at, name_key, id",                                    \
                     "created_at ASC, name_key ASC, id ASC"),                                 \
     LISTING_KEY_SEL(table, w, "created_at, name_key, id",                                    \
                     "created_at DESC, name_key DESC, id DESC")},                             \
    {LISTING_KEY_SEL(table, w, "updated_at, name_key, id",                                    \
                     "updated_at ASC, name_key ASC, id ASC"),                                 \
     LISTING_KEY_SEL(table, w, "updated_at, name_key, id",                                    \
                     "updated_at DESC, name_key DESC, id DESC")},                             \
  }
#define LISTING_SEEKS(cols, table, w)                                                         \
  {                                                                                           \
    {LISTING_SEEK_SEL(cols, table, w, "name_key, name_key, id", ">=", "name_key ASC, id ASC"), \
     LISTING_SEEK_SEL(cols, table, w, "name_key, name_key, id", "<=",                         \
                      "name_key DESC, id DESC")},                                             \
    {LISTING_SEEK_SEL(cols, table, w, "size, name_key, id", ">=",                             \
                      "size ASC, name_key ASC, id ASC"),                                      \
     LISTING_SEEK_SEL(cols, table, w, "size, name_key, id", "<=",                             \
                      "size DESC, name_key DESC, id DESC")},                                  \
    {LISTING_SEEK_SEL(cols, table, w, "created_at, name_key, id", ">=",                       \
                      "created_at ASC, name_key ASC, id ASC"),                                \
     LISTING_SEEK_SEL(cols, table, w, "created_at, name_key, id", "<=",                       \
                      "created_at DESC, name_key DESC, id DESC")},                            \
    {LISTING_SEEK_SEL(cols, table, w, "updated_at, name_key, id", ">=",                       \
                      "updated_at ASC, name_key ASC, id ASC"),                                \
     LISTING_SEEK_SEL(cols, table, w, "updated_at, name_key, id", "<=",                       \
                      "updated_at DESC, name_key DESC, id DESC")},                            \
  }

/* $3 is still bound (as in count), so the parameters stay the same. */
#define LISTING_COUNT_ALL_D(table, del, w) \
  "SELECT COUNT(*) FROM " table " WHERE owner_id = $1 AND " del " AND $3 = 0 AND " w
#define LISTING_COUNT_ALL(table, w) LISTING_COUNT_ALL_D(table, LISTING_DEL, w)

struct listing_sql {
  const char *count[LISTING_MODES];
  /* The same without the starred test, for listings that are not
   * starred-only: then the count reads the sort index alone (SQLite's
   * covering index, PostgreSQL's index-only scan), no table rows. */
  const char *count_all[LISTING_MODES];
  const char *select[LISTING_MODES][4][2]; /* [mode][sort][desc] */
  const char *key[2][4][2];                /* [ROOT or PARENT][sort][desc] */
  const char *seek[2][4][2];
  /* The live children of one folder or the root, not starred-only: its row
   * of child_counts (migration 016), kept exact by triggers. $1 owner, $2
   * folder ("" = root). No row: none ever. */
  const char *counter;
  /* The same counter, read by the page's own statement of the root or a
   * folder as one more column after the row's (at this index): a full
   * first page then costs one statement, not two (on PostgreSQL, one
   * round trip less). Meaningful when not in the bin nor starred-only. */
  int counter_col;
};

/* The counter column of a page of the root or a folder: a scalar subquery,
 * evaluated once per statement. NULL: no counter row (none ever). */
#define LISTING_COUNTER_COL(ccol, folder) \
  ", (SELECT " ccol " FROM child_counts WHERE owner_id = $1 AND folder_id = " folder ")"

/* The texts for `table` with `cols` (`ncols` of them) selected, `parent`
 * its parent column and `ccol` its column in child_counts. The bin lists
 * what was binned directly (trashed_with IS NULL); starred lists every
 * starred live row wherever it is (`live`: the row's other liveness test,
 * "1 = 1" for none); `binned` tests $2 (1) inside a binned parent. */
#define LISTING_SQL(cols, ncols, table, parent, live, binned, ccol)                            \
  {                                                                                            \
    .count = {"SELECT COUNT(*) " LISTING_BASE(table) parent " IS NULL",                         \
              "SELECT COUNT(*) " LISTING_BASE(table) parent " = $4",                            \
              "SELECT COUNT(*) " LISTING_BASE(table) "trashed_with IS NULL",                    \
              "SELECT COUNT(*) " LISTING_BASE(table) live,                                      \
              "SELECT COUNT(*) " LISTING_BASE_D(table, binned) parent " = $4"},                 \
    .count_all = {LISTING_COUNT_ALL(table, parent " IS NULL"),                                 \
                  LISTING_COUNT_ALL(table, parent " = $4"),                                    \
                  LISTING_COUNT_ALL(table, "trashed_with IS NULL"),                            \
                  LISTING_COUNT_ALL(table, live),                                              \
                  LISTING_COUNT_ALL_D(table, binned, parent " = $4")},                         \
    .select = {LISTING_SORTS(cols LISTING_COUNTER_COL(ccol, "''"), table, parent " IS NULL"),  \
               LISTING_SORTS(cols LISTING_COUNTER_COL(ccol, "$6"), table, parent " = $6"),      \
               LISTING_SORTS(cols, table, "trashed_with IS NULL"),                             \
               LISTING_SORTS(cols, table, live),                                               \
               LISTING_SORTS_D(cols, table, binned, parent " = $6")},                          \
    .key = {LISTING_KEYS(table, parent " IS NULL"), LISTING_KEYS(table, parent " = $4")},      \
    .seek = {LISTING_SEEKS(cols, table, parent " IS NULL"),                                    \
             LISTING_SEEKS(cols, table, parent " = $7")},                                      \
    .counter = "SELECT " ccol " FROM child_counts WHERE owner_id = $1 AND folder_id = $2",     \
    .counter_col = ncols,                                                                      \
  }

/** Called once per row (columns as selected); non-zero stops the listing
 *  and is returned. */
typedef int (*listing_row_fn)(db_stmt_t *st, void *arg);

/** Counts the rows `q` selects into *total and calls `row` for the page
 *  asked. The caller has checked the parent (q->parent_id, if any) is the
 *  owner's folder; `parent_binned` says it is in the bin (then nothing in
 *  it is live). DRIVE_OK or a DRIVE_* error. */
int listing_run(db_t *db, const char *owner_id, const struct drive_listing *q,
                bool parent_binned, const struct listing_sql *sql, listing_row_fn row, void *arg,
                int64_t *total);

#endif
