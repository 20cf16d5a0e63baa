/* search: name search over search_items / search_fts (migration 002). */
#include <stdio.h>
#include <string.h>
#include "drive/search.h"
#include "util/names.h"

_Static_assert(SEARCH_QUERY_MAX <= UTF8_NFC_MAX, "search_prepare NFC-normalises whole queries");

/* The FTS5 trigram tokenizer only matches queries of 3+ characters. */
#define SEARCH_TRIGRAM 3

/* How many names, in name order, the walk looks at for a query's matches
 * before it hands over to the trigram index (see search_names). */
#define SEARCH_WALK 5000

/* Results: names starting with the query (the exact name is the first of
 * them in name order), then the other names holding it, each group by
 * name_key (byte order on both engines), then name and id. Each group has
 * its own statements. Parameters: $1 owner, $2 folded query, $3 limit, $4
 * the prefix's upper bound (prefix), SEARCH_WALK (walk), the quoted FTS5
 * query or LIKE pattern (trigram); the scan has three. */
#define SEARCH_TAIL " ORDER BY s.name_key, x.name, x.id LIMIT $3"

/* `live`: the row is live (x.is_deleted = 0, and for files also no binned
 * folder: FILE_LIVE, a primary key probe per candidate row). */
#define SEARCH_LIVE_FILE FILE_LIVE("x")
#define SEARCH_LIVE_FOLDER "x.is_deleted = 0"

/* Prefix: a range of the (owner, kind, name_key) index. */
#define SEARCH_PREFIX(kind, table, cols, live)                                    \
  "SELECT " cols " FROM search_items s JOIN " table " x ON x.id = s.item_id "    \
  "WHERE s.owner_id = $1 AND s.kind = '" kind "' AND s.name_key >= $2 AND "      \
  "s.name_key < $4 AND " live SEARCH_TAIL
/* Walk: names up to the SEARCH_WALK-th in name order (a bound read from the
 * index alone), those holding the query past their start, read in index
 * order so a common query stops after a page. */
#define SEARCH_WALK_SQL(kind, table, cols, live)                                        \
  "SELECT " cols " FROM search_items s JOIN " table " x ON x.id = s.item_id WHERE "    \
  "s.owner_id = $1 AND s.kind = '" kind "' AND s.name_key <= COALESCE((SELECT "        \
  "name_key FROM search_items WHERE owner_id = $1 AND kind = '" kind "' ORDER BY "     \
  "name_key LIMIT 1 OFFSET $4), char(1114111)) AND instr(s.name_key, $2) > 1 AND "     \
  live SEARCH_TAIL
/* Trigram index first (queries of 3+ characters), then the owner and the
 * literal check: few matches when the walk did not fill the page. */
#define SEARCH_FTS(kind, table, cols, live)                                             \
  "SELECT " cols " FROM search_fts JOIN search_items s ON s.sid = search_fts.rowid "   \
  "JOIN " table " x ON x.id = s.item_id WHERE search_fts MATCH $4 AND s.owner_id = $1 " \
  "AND s.kind = '" kind "' AND instr(s.name_key, $2) > 1 AND " live SEARCH_TAIL
/* Scan of the owner's names (short queries). */
#define SEARCH_SCAN(kind, table, cols, live)                                  \
  "SELECT " cols " FROM search_items s JOIN " table " x ON x.id = s.item_id " \
  "WHERE s.owner_id = $1 AND s.kind = '" kind "' AND instr(s.name_key, $2) > 1 " \
  "AND " live SEARCH_TAIL

/* PostgreSQL: the tables themselves, with migration 011's (owner, name_key
 * COLLATE "C", id) indexes of live rows for prefix and walk (byte order, as
 * on SQLite), strpos() for instr(), and migration 002's pg_trgm GIN indexes
 * serving LIKE ($4, search_like). */
#define SEARCH_TAIL_PG " ORDER BY s.name_key COLLATE \"C\", x.name, x.id LIMIT $3"
#define SEARCH_TAIL_PG_X " ORDER BY x.name_key COLLATE \"C\", x.name, x.id LIMIT $3"
#define SEARCH_PREFIX_PG(table, cols, live)                                        \
  "SELECT " cols " FROM " table " x WHERE "        \
  "x.owner_id = $1 AND x.is_deleted = 0 AND x.name_key COLLATE \"C\" >= $2 AND "   \
  "x.name_key COLLATE \"C\" < $4 AND " live SEARCH_TAIL_PG_X
#define SEARCH_WALK_PG(table, cols, live)                                            \
  "SELECT " cols " FROM (SELECT id, name_key FROM " table " WHERE owner_id = $1 AND " \
  "is_deleted = 0 ORDER BY name_key COLLATE \"C\" LIMIT $4) s JOIN " table " x ON "  \
  "x.id = s.id WHERE strpos(s.name_key, $2) > 1 AND " live SEARCH_TAIL_PG
#define SEARCH_TRGM_PG(table, cols, live)                                           \
  "SELECT " cols " FROM " table " x WHERE "         \
  "x.owner_id = $1 AND x.is_deleted = 0 AND x.name_key LIKE $4 AND "                \
  "strpos(x.name_key, $2) > 1 AND " live SEARCH_TAIL_PG_X
#define SEARCH_SCAN_PG(table, cols, live)                                           \
  "SELECT " cols " FROM " table " x WHERE "         \
  "x.owner_id = $1 AND x.is_deleted = 0 AND strpos(x.name_key, $2) > 1 AND " live    \
  SEARCH_TAIL_PG_X

enum { SEARCH_Q_PREFIX, SEARCH_Q_WALK, SEARCH_Q_TRIGRAM, SEARCH_Q_SCAN, SEARCH_QS };

#define SEARCH_SETS(kind, table, cols, live)                                                \
  {{SEARCH_PREFIX(kind, table, cols, live), SEARCH_WALK_SQL(kind, table, cols, live),      \
    SEARCH_FTS(kind, table, cols, live), SEARCH_SCAN(kind, table, cols, live)},            \
   {SEARCH_PREFIX_PG(table, cols, live), SEARCH_WALK_PG(table, cols, live),                \
    SEARCH_TRGM_PG(table, cols, live), SEARCH_SCAN_PG(table, cols, live)}}

/* [folders?][engine: 0 SQLite, 1 PostgreSQL][statement] */
static const char *const search_sql[2][2][SEARCH_QS] = {
  SEARCH_SETS("file", "files", FILE_COLUMNS_X, SEARCH_LIVE_FILE),
  SEARCH_SETS("folder", "folders", FOLDER_COLS_X, SEARCH_LIVE_FOLDER),
};

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

/* Runs one search statement ($4: `text`, or `num` when text is NULL; none
 * for the scan) and hands each row to the sink, or only counts them when
 * sink is NULL. *rows gets the count. */
static int search_run(db_t *db, const char *sql, int q, const char *owner_id, const char *key,
                      int64_t limit, const char *text, int64_t num, bool folders,
                      const struct search_sink *sink, int64_t *rows)
{
  db_stmt_t *st = q == SEARCH_Q_SCAN ? db_query(db, sql, "tti", owner_id, key, limit)
                  : text             ? db_query(db, sql, "ttit", owner_id, key, limit, text)
                                     : db_query(db, sql, "ttii", owner_id, key, limit, num);
  if(!st)
    return DRIVE_DB;
  int rc = DRIVE_OK, step;
  *rows = 0;
  while((step = db_step(st)) == DB_ROW) {
    (*rows)++;
    if(!sink)
      continue;
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

/* One kind (folders or files): the prefix group, then the others. Those
 * come from the walk when it finds enough of them (a common query: it is
 * asked first to count, then again to hand them over, both cheap); else
 * the matches are few, and the trigram index (or, for a short query, a scan
 * of the owner's names) finds them all. */
static int search_kind(db_t *db, bool folders, const char *owner_id, const char *key,
                       int64_t limit, const char *upper, const char *match,
                       const struct search_sink *sink)
{
  const char *const *sql = search_sql[folders][db_dialect() == DB_POSTGRES];
  int64_t got = 0, walked = 0;
  int rc = search_run(db, sql[SEARCH_Q_PREFIX], SEARCH_Q_PREFIX, owner_id, key, limit, upper, 0,
                      folders, sink, &got);
  int64_t need = limit - got;
  if(rc || need <= 0)
    return rc;
  rc = search_run(db, sql[SEARCH_Q_WALK], SEARCH_Q_WALK, owner_id, key, need, NULL, SEARCH_WALK,
                  folders, NULL, &walked);
  if(rc)
    return rc;
  if(walked == need)
    return search_run(db, sql[SEARCH_Q_WALK], SEARCH_Q_WALK, owner_id, key, need, NULL,
                      SEARCH_WALK, folders, sink, &walked);
  if(match)
    return search_run(db, sql[SEARCH_Q_TRIGRAM], SEARCH_Q_TRIGRAM, owner_id, key, need, match, 0,
                      folders, sink, &walked);
  return search_run(db, sql[SEARCH_Q_SCAN], SEARCH_Q_SCAN, owner_id, key, need, NULL, 0, folders,
                    sink, &walked);
}

int search_names(const char *owner_id, const char *key, int64_t limit,
                 const struct search_sink *sink)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* The quoted form (or the LIKE pattern) is at most 2 * NAME_MAX_BYTES + 3 bytes. */
  char fts[2 * NAME_MAX_BYTES + 3], upper[NAME_MAX_BYTES + 5];
  const char *match = NULL;
  if(!*key || limit < 1 || limit > SEARCH_LIMIT_MAX || strlen(key) > NAME_MAX_BYTES)
    return DRIVE_INVALID;
  bool pg = db_dialect() == DB_POSTGRES;
  if(search_char_count(key) >= SEARCH_TRIGRAM) {
    if((pg ? search_like(key, fts, sizeof(fts)) : search_fts_quote(key, fts, sizeof(fts))) != 0)
      return DRIVE_INVALID;
    match = fts;
  }
  /* Every name starting with key sorts from key up to key + U+10FFFF. */
  snprintf(upper, sizeof(upper), "%s" UTF8_TOP, key);
  int rc = search_kind(db, true, owner_id, key, limit, upper, match, sink);
  if(rc == DRIVE_OK)
    rc = search_kind(db, false, owner_id, key, limit, upper, match, sink);
  return rc;
}
