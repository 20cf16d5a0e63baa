/* db_copy_tables: what `netradrive migrate --from --to` copies, table by
 * table, in an order that satisfies the foreign keys (users before what
 * they own, folders parents first, contents before chunks and files, files
 * before shares). Derived data is not here: SQLite's search_items and its
 * FTS index are filled by their triggers as files and folders arrive, and
 * PostgreSQL's search_items is a view. schema_version is written by the
 * migrations run on the target. */
#ifndef NETRA_DB_COPY_TABLES_H
#define NETRA_DB_COPY_TABLES_H

#define COPY_MAX_COLS 16   /* columns of the widest table */
#define COPY_MAX_KEYS 4

struct copy_table {
  const char *name;
  int ncols;               /* copied columns: the first ncols of a SELECT */
  int nkeys;               /* the order key: these SELECT columns (folders: depth, id) */
  int keys[COPY_MAX_KEYS];
  const char *count_sql;
  const char *first_sql;   /* the first batch, in key order */
  const char *next_sql;    /* the batch after the key ($1, $2: text) */
  const char *insert_sql;  /* ncols text parameters; skips rows already there */
};

extern const struct copy_table copy_tables[];
extern const int copy_table_count;

#endif
