/* search: name search over search_items / search_fts (migration 002). */
#include <stdio.h>
#include <string.h>
#include "drive/search.h"
#include "util/names.h"

_Static_assert(SEARCH_QUERY_MAX <= UTF8_NFC_MAX, "search_prepare NFC-normalises whole queries");

/* The FTS5 trigram tokenizer only matches queries of 3+ characters. */
#define SEARCH_TRIGRAM 3

/* Parameters common to the four statements: $1 owner, $2 folded query,
 * $3 limit, and for the indexed ones $4 the quoted FTS5 query. instr() is
 * the literal substring test (no LIKE wildcards to escape); on the indexed
 * path it confirms what the trigram match found. */
#define SEARCH_ORDER                                                               \
  " ORDER BY CASE WHEN s.name_key = $2 THEN 0 WHEN instr(s.name_key, $2) = 1 THEN 1 " \
  "ELSE 2 END, s.name_key, x.name, x.id LIMIT $3"

/* Scan of the owner's names (short queries). */
#define SEARCH_SCAN(kind, table, cols)                                        \
  "SELECT " cols " FROM search_items s JOIN " table " x ON x.id = s.item_id " \
  "WHERE s.owner_id = $1 AND s.kind = '" kind "' AND instr(s.name_key, $2) > 0 " \
  "AND x.is_deleted = 0" SEARCH_ORDER

/* Trigram index first, then the owner and the literal check. */
#define SEARCH_FTS(kind, table, cols)                                                   \
  "SELECT " cols " FROM search_fts JOIN search_items s ON s.sid = search_fts.rowid "   \
  "JOIN " table " x ON x.id = s.item_id WHERE search_fts MATCH $4 AND s.owner_id = $1 " \
  "AND s.kind = '" kind "' AND instr(s.name_key, $2) > 0 AND x.is_deleted = 0" SEARCH_ORDER

/* PostgreSQL (migration 002's @postgres block): search_items is a view of
 * the live rows, strpos() is instr(), and the trigram index is pg_trgm's GIN
 * index, which serves LIKE; $4 is then the LIKE pattern (search_like). */
#define SEARCH_ORDER_PG                                                             \
  " ORDER BY CASE WHEN s.name_key = $2 THEN 0 WHEN strpos(s.name_key, $2) = 1 THEN 1 " \
  "ELSE 2 END, s.name_key, x.name, x.id LIMIT $3"
#define SEARCH_SCAN_PG(kind, table, cols)                                      \
  "SELECT " cols " FROM search_items s JOIN " table " x ON x.id = s.item_id " \
  "WHERE s.owner_id = $1 AND s.kind = '" kind "' AND strpos(s.name_key, $2) > 0 " \
  "AND x.is_deleted = 0" SEARCH_ORDER_PG
#define SEARCH_TRGM_PG(kind, table, cols)                                      \
  "SELECT " cols " FROM search_items s JOIN " table " x ON x.id = s.item_id " \
  "WHERE s.owner_id = $1 AND s.kind = '" kind "' AND s.name_key LIKE $4 "     \
  "AND x.is_deleted = 0" SEARCH_ORDER_PG

static const char search_folders_scan[] = SEARCH_SCAN("folder", "folders", FOLDER_COLS_X);
static const char search_folders_fts[] = SEARCH_FTS("folder", "folders", FOLDER_COLS_X);
static const char search_files_scan[] = SEARCH_SCAN("file", "files", FILE_COLUMNS_X);
static const char search_files_fts[] = SEARCH_FTS("file", "files", FILE_COLUMNS_X);
static const char search_folders_scan_pg[] = SEARCH_SCAN_PG("folder", "folders", FOLDER_COLS_X);
static const char search_folders_trgm_pg[] = SEARCH_TRGM_PG("folder", "folders", FOLDER_COLS_X);
static const char search_files_scan_pg[] = SEARCH_SCAN_PG("file", "files", FILE_COLUMNS_X);
static const char search_files_trgm_pg[] = SEARCH_TRGM_PG("file", "files", FILE_COLUMNS_X);

static bool search_is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int search_prepare(const char *raw, size_t len, char *out, size_t outsz)
{
  char buf[SEARCH_QUERY_MAX + 1];
  if(outsz)
    out[0] = 0;
  if(!raw)
    return DRIVE_MISSING;
  while(len && search_is_space(raw[0])) {
    raw++;
    len--;
  }
  while(len && search_is_space(raw[len - 1]))
    len--;
  if(!len)
    return DRIVE_MISSING;
  if(memchr(raw, 0, len) || !utf8_valid(raw, len))
    return DRIVE_INVALID;
  if(len > SEARCH_QUERY_MAX)
    return DRIVE_OK; /* out is "": matches nothing */
  /* Names are stored in NFC, so the query is too: "cafe" + U+0301 finds
   * "caf" + U+00E9. An NFC form that outgrows buf is over 3 * NAME_MAX_BYTES
   * bytes, which folding (at most threefold shorter) cannot bring to a name's
   * length: it matches nothing. */
  if(utf8_nfc(raw, len, buf, sizeof(buf)) < 0)
    return DRIVE_OK;
  if(utf8_fold(buf, out, outsz) != 0)
    return DRIVE_INVALID; /* valid UTF-8, so only a too-small `out` */
  if(strlen(out) > NAME_MAX_BYTES)
    out[0] = 0; /* longer than any name can be: matches nothing */
  return DRIVE_OK;
}

int search_fts_quote(const char *text, char *out, size_t outsz)
{
  size_t o = 0;
  if(outsz < 3)
    return -1;
  out[o++] = '"';
  for(const char *p = text; *p; p++) {
    size_t need = *p == '"' ? 2 : 1;
    if(o + need + 2 > outsz) /* room for this, the closing quote and the NUL */
      goto fail;
    out[o++] = *p;
    if(*p == '"')
      out[o++] = '"';
  }
  out[o++] = '"';
  out[o] = 0;
  return 0;
fail:
  out[0] = 0;
  return -1;
}

int search_like(const char *text, char *out, size_t outsz)
{
  size_t o = 0;
  if(outsz < 3)
    return -1;
  out[o++] = '%';
  for(const char *p = text; *p; p++) {
    bool special = *p == '%' || *p == '_' || *p == '\\';
    if(o + (special ? 2 : 1) + 2 > outsz) /* room for this, the closing % and the NUL */
      goto fail;
    if(special)
      out[o++] = '\\'; /* LIKE's default escape character */
    out[o++] = *p;
  }
  out[o++] = '%';
  out[o] = 0;
  return 0;
fail:
  out[0] = 0;
  return -1;
}

size_t search_char_count(const char *s)
{
  size_t n = 0;
  for(; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80; /* count lead bytes, not continuations */
  return n;
}

/* Runs one search statement and hands each row to the sink. */
static int search_run(db_t *db, const char *sql, const char *owner_id, const char *key,
                      int64_t limit, const char *fts, bool folders,
                      const struct search_sink *sink)
{
  db_stmt_t *st = fts ? db_query(db, sql, "ttit", owner_id, key, limit, fts)
                      : db_query(db, sql, "tti", owner_id, key, limit);
  if(!st)
    return DRIVE_DB;
  int rc = DRIVE_OK, step;
  while((step = db_step(st)) == DB_ROW) {
    if(folders) {
      struct folder f;
      folder_from_row(st, &f);
      rc = sink->folder ? sink->folder(&f, sink->arg) : DRIVE_OK;
    }
    else {
      struct file_rec f;
      file_from_row(st, 0, &f);
      rc = sink->file ? sink->file(&f, sink->arg) : DRIVE_OK;
    }
    if(rc)
      break;
  }
  int end = drive_stmt_end(st, step);
  return rc ? rc : end;
}

int search_names(const char *owner_id, const char *key, int64_t limit,
                 const struct search_sink *sink)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* The quoted form (or the LIKE pattern) is at most 2 * NAME_MAX_BYTES + 3 bytes. */
  char fts[2 * NAME_MAX_BYTES + 3];
  const char *match = NULL;
  if(!*key || limit < 1 || limit > SEARCH_LIMIT_MAX || strlen(key) > NAME_MAX_BYTES)
    return DRIVE_INVALID;
  bool pg = db_dialect() == DB_POSTGRES;
  if(search_char_count(key) >= SEARCH_TRIGRAM) {
    if((pg ? search_like(key, fts, sizeof(fts)) : search_fts_quote(key, fts, sizeof(fts))) != 0)
      return DRIVE_INVALID;
    match = fts;
  }
  const char *folders_sql = match ? db_sql(search_folders_fts, search_folders_trgm_pg)
                                  : db_sql(search_folders_scan, search_folders_scan_pg);
  const char *files_sql = match ? db_sql(search_files_fts, search_files_trgm_pg)
                                : db_sql(search_files_scan, search_files_scan_pg);
  int rc = search_run(db, folders_sql, owner_id, key, limit, match, true, sink);
  if(rc == DRIVE_OK)
    rc = search_run(db, files_sql, owner_id, key, limit, match, false, sink);
  return rc;
}
