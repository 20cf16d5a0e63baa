/* db_copy: see db_copy.h.
 *
 * The checksum of a table: each row is serialised column by column ('N' for
 * NULL, else 'V', the column's text and a NUL byte; integers as decimal
 * text, which is what both engines give through db_col_text), hashed with
 * SHA-256, and the row hashes are added up as 256-bit numbers. The sum does
 * not depend on the order the rows come in, and that matters: the engines
 * order text keys differently (SQLite by bytes, PostgreSQL by the
 * database's collation), so "ordered by primary key" is not one order on
 * both. What is printed is the first 16 hex digits of the SHA-256 of the
 * sum; the comparison uses all of it, and the row count beside it. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include "db/db.h"
#include "db/db_copy.h"
#include "db/db_copy_tables.h"
#include "util/progress.h"
#include "util/timefmt.h"

#define COPY_KEY_MAX 1024

/* Where a table's batches have got to: the key of the last row read. */
struct copy_cursor {
  bool started;
  char key[COPY_MAX_KEYS][COPY_KEY_MAX];
};

struct copy_sum {
  int64_t rows;       /* rows read */
  int64_t count;      /* SELECT COUNT(*) */
  unsigned char sum[32];
};

/* The next batch of `t` after the cursor (the first when it has not
 * started); NULL on failure. */
static db_stmt_t *copy_batch(db_t *db, const struct copy_table *t, struct copy_cursor *c)
{
  if(!c->started)
    return db_query(db, t->first_sql, "");
  static const char *const types[COPY_MAX_KEYS + 1] = {"", "t", "tt", "ttt", "tttt"};
  return db_query(db, t->next_sql, types[t->nkeys], c->key[0], c->key[1], c->key[2], c->key[3]);
}

/* Remembers the current row's key; -1 when a key is too long to keep. */
static int copy_keep(db_stmt_t *st, const struct copy_table *t, struct copy_cursor *c)
{
  for(int k = 0; k < t->nkeys; k++)
    if(db_col_copy(st, t->keys[k], c->key[k], COPY_KEY_MAX) >= COPY_KEY_MAX)
      return -1;
  c->started = true;
  return 0;
}

/* Adds the current row's hash to the sum. */
static void copy_hash_row(db_stmt_t *st, const struct copy_table *t, unsigned char sum[32])
{
  crypto_hash_sha256_state h;
  unsigned char d[32];
  crypto_hash_sha256_init(&h);
  for(int i = 0; i < t->ncols; i++) {
    const char *v = db_col_text(st, i);
    if(!v) {
      crypto_hash_sha256_update(&h, (const unsigned char *)"N", 1);
      continue;
    }
    crypto_hash_sha256_update(&h, (const unsigned char *)"V", 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)v, strlen(v) + 1);
  }
  crypto_hash_sha256_final(&h, d);
  unsigned carry = 0;
  for(int i = 0; i < 32; i++) {
    carry += (unsigned)sum[i] + d[i];
    sum[i] = (unsigned char)carry;
    carry >>= 8;
  }
}

/* Counts and sums one table of `db`. 0, or -1 (logged by the driver). */
static int copy_checksum(db_t *db, const struct copy_table *t, struct copy_sum *s)
{
  struct copy_cursor c = {0};
  memset(s, 0, sizeof(*s));
  if(db_query_int(db, &s->count, t->count_sql, "") != DB_ROW)
    return -1;
  for(;;) {
    db_stmt_t *st = copy_batch(db, t, &c);
    int rc, n = 0;
    while((rc = db_step(st)) == DB_ROW) {
      copy_hash_row(st, t, s->sum);
      if(copy_keep(st, t, &c) < 0)
        rc = DB_ERROR;
      if(rc != DB_ROW)
        break;
      n++;
    }
    int frc = db_finalize(st);
    if(rc != DB_DONE || frc != DB_OK)
      return -1;
    if(n == 0)
      return 0;
    s->rows += n;
  }
}

/* Copies one batch of `t` after the cursor in one target transaction.
 * Returns the rows read (0: the table is done), or -1. */
static int copy_one_batch(db_t *src, db_t *dst, const struct copy_table *t,
                          struct copy_cursor *c)
{
  /* Every value binds as text ('t' per column); the extra pointers past
   * ncols are passed and never read (va_arg stops at the types). */
  static const char types[COPY_MAX_COLS + 1] = "tttttttttttttttt";
  db_stmt_t *st = copy_batch(src, t, c);
  if(!st || db_begin(dst) != DB_OK) {
    db_finalize(st);
    return -1;
  }
  int rc, n = 0;
  while((rc = db_step(st)) == DB_ROW) {
    const char *v[COPY_MAX_COLS] = {0};
    for(int i = 0; i < t->ncols; i++)
      v[i] = db_col_text(st, i);
    if(db_exec(dst, t->insert_sql, types + (COPY_MAX_COLS - t->ncols), v[0], v[1], v[2], v[3],
               v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14],
               v[15]) != DB_OK || copy_keep(st, t, c) < 0) {
      rc = DB_ERROR;
      break;
    }
    n++;
  }
  int frc = db_finalize(st);
  if(rc != DB_DONE || frc != DB_OK || db_commit(dst) != DB_OK) {
    db_rollback(dst);
    return -1;
  }
  return n;
}

/* The number of columns of a table of `db` (DB_ROW with it in *ncols). */
static int copy_columns(db_t *db, const char *table, int64_t *ncols)
{
  if(db_conn_dialect(db) == DB_POSTGRES)
    return db_query_int(db, ncols, "SELECT COUNT(*) FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = $1", "t", table);
  return db_query_int(db, ncols, "SELECT COUNT(*) FROM pragma_table_info($1)", "t", table);
}

/* The target's schema must hold exactly the copied tables (besides
 * schema_version, derived data (search, child_counts: the target's triggers
 * rebuild it from the rows copied) and the state of running servers:
 * nodes, login_failures) with these column counts. */
static int copy_check_schema(db_t *dst, FILE *errf)
{
  static const char *sqlite_sql =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
    "AND name NOT LIKE 'search_%' "
    "AND name NOT IN ('schema_version', 'nodes', 'login_failures', 'child_counts') ORDER BY name";
  static const char *pg_sql =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE' "
    "AND table_name NOT IN ('schema_version', 'nodes', 'login_failures', 'child_counts') "
    "ORDER BY table_name";
  int rc, bad = 0, seen = 0;
  db_stmt_t *st = db_query(dst, db_conn_dialect(dst) == DB_POSTGRES ? pg_sql : sqlite_sql, "");
  while((rc = db_step(st)) == DB_ROW) {
    const char *name = db_col_text(st, 0);
    int i = 0;
    while(i < copy_table_count && strcmp(copy_tables[i].name, name))
      i++;
    if(i == copy_table_count) {
      fprintf(errf, "netradrive: migrate: table %s is not in the copy list "
              "(src/db/db_copy_tables.c); nothing copied\n", name);
      bad = 1;
    }
    seen++;
  }
  if(db_finalize(st) != DB_OK || rc != DB_DONE)
    return -1;
  for(int i = 0; i < copy_table_count && !bad; i++) {
    int64_t n = 0;
    if(copy_columns(dst, copy_tables[i].name, &n) != DB_ROW)
      return -1;
    if(n != copy_tables[i].ncols) {
      fprintf(errf, "netradrive: migrate: table %s has %" PRId64 " columns, the copy list %d "
              "(src/db/db_copy_tables.c); nothing copied\n", copy_tables[i].name, n,
              copy_tables[i].ncols);
      bad = 1;
    }
  }
  if(!bad && seen != copy_table_count) {
    fprintf(errf, "netradrive: migrate: the target schema lacks tables of the copy list\n");
    bad = 1;
  }
  return bad ? -1 : 0;
}

/* Whether `db` has a table or view named `name`: 1, 0, or -1. */
static int copy_has_table(db_t *db, const char *name)
{
  int64_t n = 0;
  int rc = db_conn_dialect(db) == DB_POSTGRES
    ? db_query_int(db, &n, "SELECT COUNT(*) FROM information_schema.tables "
                   "WHERE table_schema = current_schema() AND table_name = $1", "t", name)
    : db_query_int(db, &n, "SELECT COUNT(*) FROM sqlite_master WHERE name = $1", "t", name);
  return rc == DB_ROW ? n > 0 : -1;
}

/* Opens one side. For a SQLite source the file must exist (opening would
 * create an empty one). */
static db_t *copy_open(const char *flag, const char *url, bool source, FILE *errf)
{
  char err[300];
  struct stat sb;
  if(source && !strncmp(url, "sqlite://", 9) && stat(url + 9, &sb) != 0) {
    fprintf(errf, "netradrive: %s: cannot open %s: %s\n", flag, url + 9, strerror(errno));
    return NULL;
  }
  db_t *db = db_open_url(url, err, sizeof(err));
  if(!db) {
    /* the drivers' messages begin with the setting they were made for */
    const char *m = !strncmp(err, "DATABASE_URL: ", 14) ? err + 14 : err;
    fprintf(errf, "netradrive: %s: %s\n", flag, m);
  }
  return db;
}

/* The source's schema must be the one this binary makes on the target. */
static int copy_check_source(db_t *src, int version, FILE *errf)
{
  int64_t v = 0;
  int has = copy_has_table(src, "schema_version");
  if(has <= 0 || db_query_int(src, &v, "SELECT MAX(version) FROM schema_version", "") != DB_ROW) {
    fprintf(errf, "netradrive: --from: not a NetraDrive database (no schema_version table)\n");
    return -1;
  }
  if(v != version) {
    fprintf(errf, "netradrive: --from: schema version %" PRId64 ", this netradrive makes %d: %s\n",
            v, version, v < version ? "run `netradrive migrate` with DATABASE_URL set to the "
            "source first" : "use the netradrive that wrote it");
    return -1;
  }
  return 0;
}

/* A target that has rows is the same copy, interrupted, only if each of its
 * users is one of the source's. 0 (same), or -1 with the reason printed. */
static int copy_same_users(db_t *src, db_t *dst, FILE *errf)
{
  const struct copy_table *t = &copy_tables[0]; /* users */
  struct copy_cursor c = {0};
  for(;;) {
    db_stmt_t *st = copy_batch(dst, t, &c);
    int rc, n = 0, foreign = 0;
    while((rc = db_step(st)) == DB_ROW) {
      int64_t one = 0;
      if(copy_keep(st, t, &c) < 0 ||
         db_query_int(src, &one, "SELECT 1 FROM users WHERE id = $1", "t", c.key[0]) < 0) {
        rc = DB_ERROR;
        break;
      }
      if(one != 1) {
        foreign = 1;
        break;
      }
      n++;
    }
    int frc = db_finalize(st);
    if(foreign) {
      fprintf(errf, "netradrive: --to: the target database already holds other data (users "
              "the source does not have); migrate copies into an empty database only\n");
      return -1;
    }
    if((rc != DB_DONE && rc != DB_ROW) || frc != DB_OK)
      return -1;
    if(n == 0)
      return 0;
  }
}

/* Counts and checksums of every table on both sides; prints a line each.
 * Returns the number of tables that differ, or -1. */
static int copy_verify(db_t *src, db_t *dst, FILE *out, bool print)
{
  int bad = 0;
  for(int i = 0; i < copy_table_count; i++) {
    const struct copy_table *t = &copy_tables[i];
    struct copy_sum a, b;
    if(copy_checksum(src, t, &a) < 0 || copy_checksum(dst, t, &b) < 0)
      return -1;
    unsigned char d[32];
    char hex[65];
    crypto_hash_sha256(d, a.sum, sizeof(a.sum));
    sodium_bin2hex(hex, sizeof(hex), d, 8);
    bool same = a.count == b.count && a.rows == a.count && b.rows == b.count &&
                !memcmp(a.sum, b.sum, sizeof(a.sum));
    if(print && same)
      fprintf(out, "verify %-16s %8" PRId64 " rows  sha256:%s  ok\n", t->name, a.count, hex);
    else if(print) {
      char hex2[65];
      crypto_hash_sha256(d, b.sum, sizeof(b.sum));
      sodium_bin2hex(hex2, sizeof(hex2), d, 8);
      fprintf(out, "verify %-16s %8" PRId64 " rows  sha256:%s  MISMATCH: target %" PRId64
              " rows  sha256:%s%s\n", t->name, a.count, hex, b.count, hex2,
              a.rows != a.count ? " (source rows unreachable in key order)" : "");
    }
    bad += !same;
  }
  return bad;
}

/* Copies every table, with the progress line. 0, or -1 with a line. */
static int copy_all(db_t *src, db_t *dst, int64_t total, int64_t *copied, FILE *errf)
{
  struct progress p;
  char what[64] = "migrate";
  progress_start(&p, errf, what, "rows", total);
  *copied = 0;
  for(int i = 0; i < copy_table_count; i++) {
    const struct copy_table *t = &copy_tables[i];
    struct copy_cursor c = {0};
    snprintf(what, sizeof(what), "migrate %s (%d/%d)", t->name, i + 1, copy_table_count);
    int n;
    while((n = copy_one_batch(src, dst, t, &c)) > 0) {
      *copied += n;
      progress_set(&p, *copied);
    }
    if(n < 0) {
      progress_end(&p);
      fprintf(errf, "netradrive: migrate: copying %s failed (see the log line above); "
              "run the same command again to resume\n", t->name);
      return -1;
    }
  }
  progress_end(&p);
  return 0;
}

int db_copy(const char *from, const char *to, FILE *out, FILE *errf)
{
  int rc = 1, version = 0;
  char err[300];
  db_t *src = NULL, *dst = NULL;
  int64_t start = time_mono_ms();
  if(!strcmp(from, to)) {
    fprintf(errf, "netradrive: --to: the same database as --from\n");
    return 1;
  }
  if(!(src = copy_open("--from", from, true, errf)) || !(dst = copy_open("--to", to, false, errf)))
    goto done;
  if((version = db_migrate(dst, err, sizeof(err))) < 0) {
    fprintf(errf, "netradrive: --to: %s\n", !strncmp(err, "DATABASE_URL: ", 14) ? err + 14 : err);
    goto done;
  }
  if(copy_check_source(src, version, errf) < 0 || copy_check_schema(dst, errf) < 0)
    goto done;
  int64_t total = 0, present = 0;
  for(int i = 0; i < copy_table_count; i++) {
    int64_t a = 0, b = 0;
    if(db_query_int(src, &a, copy_tables[i].count_sql, "") != DB_ROW ||
       db_query_int(dst, &b, copy_tables[i].count_sql, "") != DB_ROW) {
      fprintf(errf, "netradrive: migrate: cannot count the rows of %s\n", copy_tables[i].name);
      goto done;
    }
    total += a;
    present += b;
  }
  int64_t copied = 0;
  if(present > 0) {
    int bad = copy_verify(src, dst, out, false);
    if(bad == 0) {
      copy_verify(src, dst, out, true);
      fprintf(out, "migrate: already copied, verified: %" PRId64 " rows in %d tables match\n",
              total, copy_table_count);
      rc = 0;
      goto done;
    }
    if(bad < 0 || copy_same_users(src, dst, errf) < 0)
      goto done;
    fprintf(errf, "migrate: the target holds %" PRId64 " rows of an earlier copy; resuming\n",
            present);
  }
  if(copy_all(src, dst, total, &copied, errf) < 0)
    goto done;
  int bad = copy_verify(src, dst, out, true);
  if(bad < 0) {
    fprintf(errf, "netradrive: migrate: verification could not read the tables\n");
    goto done;
  }
  int64_t ms = time_mono_ms() - start;
  if(bad) {
    fprintf(out, "migrate: copied %" PRId64 " rows, but %d of %d tables differ (is a server "
            "still writing to the source?)\n", copied, bad, copy_table_count);
    goto done;
  }
  fprintf(out, "migrate: copied %" PRId64 " rows in %d tables in %.1fs (%.0f rows/s); "
          "verified: counts and checksums match\n", copied, copy_table_count, (double)ms / 1000,
          ms > 0 ? (double)copied * 1000 / (double)ms : 0.0);
  rc = 0;
done:
  db_close(dst);
  db_close(src);
  return rc;
}
