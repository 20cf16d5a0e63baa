/* davfs: names and lookups of the WebDAV tree (rule in davfs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folder_ops.h"
#include "drive/content.h"
#include "drive/davfs.h"
#include "drive/drive.h"
#include "util/timefmt.h"

#define DAVFS_SUFFIX 8   /* id characters in a duplicate's suffix */

/* "folder_id = $2" cannot match the root's NULL: each query has two forms,
 * both constant text (the statement cache is keyed by the text's address, so
 * text built at run time would be prepared again on every call). */
#define IN_FOLDER(col) col " = $2"
#define IN_ROOT(col) "($2 = '' AND " col " IS NULL)"
#define BY_PARENT(parent, Q) ((parent) ? Q(IN_FOLDER) : Q(IN_ROOT))

static void folder_fill(db_stmt_t *st, void *out)
{
  folder_from_row(st, out);
}

int davfs_folder(const char *owner_id, const char *parent_id, const char *name,
                 struct folder *out)
{
  db_t *db = db_get();
#define Q(IN) "SELECT " FOLDER_COLS " FROM folders WHERE owner_id = $1 AND " IN("parent_id") \
              " AND name = $3 AND is_deleted = 0"
  const char *sql = BY_PARENT(parent_id, Q);
#undef Q
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, sql, "ttt", owner_id, parent_id ? parent_id : "", name);
  return drive_read_one(st, folder_fill, out);
}

static void file_fill(db_stmt_t *st, void *out)
{
  file_from_row(st, 0, out);
}

/* The oldest live file named exactly `name`, or with `idpre` the one whose
 * id starts with it. */
static int davfs_named(const char *owner_id, const char *parent_id, const char *name,
                       const char *idpre, struct file_rec *out)
{
  db_t *db = db_get();
#define Q(IN) "SELECT " FILE_COLUMNS " FROM files WHERE owner_id = $1 AND " IN("folder_id") \
              " AND name = $3 AND is_deleted = 0 ORDER BY created_at, id LIMIT 1"
#define QPRE(IN) "SELECT " FILE_COLUMNS " FROM files WHERE owner_id = $1 AND " IN("folder_id") \
                 " AND name = $3 AND is_deleted = 0 AND substr(id, 1, 8) = $4 " \
                 "ORDER BY created_at, id LIMIT 1"
  const char *sql = idpre ? BY_PARENT(parent_id, QPRE) : BY_PARENT(parent_id, Q);
#undef Q
#undef QPRE
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, sql, idpre ? "tttt" : "ttt", owner_id, parent_id ? parent_id : "",
                           name, idpre);
  return drive_read_one(st, file_fill, out);
}

/* Splits "stem~XXXXXXXX.ext" into the plain name "stem.ext" and the id
 * prefix; false when `name` has no such suffix. */
static bool davfs_unsuffix(const char *name, char *plain, size_t plainsz, char *idpre)
{
  const char *dot = strrchr(name, '.');
  if(!dot || dot == name)
    dot = name + strlen(name);
  if(dot - name < DAVFS_SUFFIX + 2 || dot[-DAVFS_SUFFIX - 1] != '~')
    return false;
  const char *sfx = dot - DAVFS_SUFFIX;
  for(int i = 0; i < DAVFS_SUFFIX; i++) {
    char c = sfx[i];
    if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_'))
      return false;
  }
  memcpy(idpre, sfx, DAVFS_SUFFIX);
  idpre[DAVFS_SUFFIX] = 0;
  int n = snprintf(plain, plainsz, "%.*s%s", (int)(sfx - 1 - name), name, dot);
  return n > 0 && (size_t)n < plainsz;
}

int davfs_file(const char *owner_id, const char *parent_id, const char *name,
               struct file_rec *out)
{
  struct folder fo;
  int rc = davfs_folder(owner_id, parent_id, name, &fo);
  if(rc == DRIVE_OK)
    return DRIVE_NOT_FOUND;   /* the folder holds the name */
  if(rc != DRIVE_NOT_FOUND)
    return rc;
  rc = davfs_named(owner_id, parent_id, name, NULL, out);
  if(rc != DRIVE_NOT_FOUND)
    return rc;
  char plain[DAVFS_NAME_MAX], idpre[DAVFS_SUFFIX + 1];
  struct file_rec first;
  if(!davfs_unsuffix(name, plain, sizeof(plain), idpre))
    return DRIVE_NOT_FOUND;
  if((rc = davfs_named(owner_id, parent_id, plain, idpre, out)) != DRIVE_OK)
    return rc;
  /* Only a file that does not hold the plain name goes by the suffix. */
  rc = davfs_folder(owner_id, parent_id, plain, &fo);
  if(rc == DRIVE_OK)
    return DRIVE_OK;
  if(rc != DRIVE_NOT_FOUND)
    return rc;
  if((rc = davfs_named(owner_id, parent_id, plain, NULL, &first)) != DRIVE_OK)
    return rc;
  return strcmp(first.id, out->id) ? DRIVE_OK : DRIVE_NOT_FOUND;
}

/* The suffixed name of a file that does not hold its plain name. */
static void davfs_suffixed(const struct file_rec *f, char *out, size_t outsz)
{
  const char *dot = strrchr(f->name, '.');
  if(!dot || dot == f->name)
    dot = f->name + strlen(f->name);
  snprintf(out, outsz, "%.*s~%.8s%s", (int)(dot - f->name), f->name, f->id, dot);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void davfs_cursor_init(struct davfs_cursor *cur, const char *owner_id, const char *parent_id)
{
  memset(cur, 0, sizeof(*cur));
  snprintf(cur->owner_id, sizeof(cur->owner_id), "%s", owner_id);
  snprintf(cur->parent_id, sizeof(cur->parent_id), "%s", parent_id ? parent_id : "");
}

bool davfs_cursor_done(const struct davfs_cursor *cur)
{
  return cur->phase == DAVFS_DONE;
}

void davfs_cursor_free(struct davfs_cursor *cur)
{
  for(size_t i = 0; i < cur->nf; i++)
    free(cur->fnames[i]);
  free(cur->fnames);
  cur->fnames = NULL;
  cur->nf = cur->capf = 0;
}

/* Keeps a folder's name for the files' duplicate rule. */
static int cursor_keep_name(struct davfs_cursor *cur, const char *name)
{
  if(cur->nf == cur->capf) {
    size_t cap = cur->capf ? cur->capf * 2 : 64;
    char **n = realloc(cur->fnames, cap * sizeof(*n));
    if(!n)
      return DRIVE_INTERNAL;
    cur->fnames = n;
    cur->capf = cap;
  }
  if(!(cur->fnames[cur->nf] = strdup(name)))
    return DRIVE_INTERNAL;
  cur->nf++;
  return DRIVE_OK;
}

/* One row of the current phase into cur->e with its WebDAV name. */
static int cursor_row(struct davfs_cursor *cur, db_stmt_t *st)
{
  struct davfs_entry *e = &cur->e;
  memset(e, 0, sizeof(*e));
  if(cur->phase == DAVFS_FOLDERS) {
    e->is_folder = true;
    folder_from_row(st, &e->fo);
    snprintf(e->name, sizeof(e->name), "%s", e->fo.name);
    snprintf(cur->last, sizeof(cur->last), "%s", e->fo.name);
    return cursor_keep_name(cur, e->fo.name);
  }
  file_from_row(st, 0, &e->fi);
  const char *key = e->fi.name;
  bool taken = (cur->any && !strcmp(cur->last, e->fi.name)) ||
               (cur->nf && bsearch(&key, cur->fnames, cur->nf, sizeof(*cur->fnames), cmp_str));
  if(taken)
    davfs_suffixed(&e->fi, e->name, sizeof(e->name));
  else
    snprintf(e->name, sizeof(e->name), "%s", e->fi.name);
  snprintf(cur->last, sizeof(cur->last), "%s", e->fi.name);
  cur->last_created = e->fi.created_at;
  snprintf(cur->last_id, sizeof(cur->last_id), "%s", e->fi.id);
  return DRIVE_OK;
}

/* The next page's query: after the last row seen (keyset), in the order
 * of the rule (folders by name; files by name, created_at, id). */
static db_stmt_t *cursor_query(db_t *db, const struct davfs_cursor *cur, size_t limit)
{
  bool in = cur->parent_id[0] != 0;
  int64_t lim = limit ? (int64_t)limit : INT64_MAX;
  if(cur->phase == DAVFS_FOLDERS) {
#define Q(IN) "SELECT " FOLDER_COLS " FROM folders WHERE owner_id = $1 AND " IN("parent_id") \
              " AND is_deleted = 0 ORDER BY name LIMIT $3"
#define QNEXT(IN) "SELECT " FOLDER_COLS " FROM folders WHERE owner_id = $1 AND " IN("parent_id") \
                  " AND is_deleted = 0 AND name > $3 ORDER BY name LIMIT $4"
    if(cur->any)
      return db_query(db, BY_PARENT(in, QNEXT), "ttti", cur->owner_id, cur->parent_id, cur->last,
                      lim);
    return db_query(db, BY_PARENT(in, Q), "tti", cur->owner_id, cur->parent_id, lim);
#undef Q
#undef QNEXT
  }
#define Q(IN) "SELECT " FILE_COLUMNS " FROM files WHERE owner_id = $1 AND " IN("folder_id") \
              " AND is_deleted = 0 ORDER BY name, created_at, id LIMIT $3"
#define QNEXT(IN) "SELECT " FILE_COLUMNS " FROM files WHERE owner_id = $1 AND " IN("folder_id") \
                  " AND is_deleted = 0 AND name >= $3 AND (name > $3 OR created_at > $4 OR " \
                  "(created_at = $4 AND id > $5)) ORDER BY name, created_at, id LIMIT $6"
  if(cur->any)
    return db_query(db, BY_PARENT(in, QNEXT), "tttiti", cur->owner_id, cur->parent_id, cur->last,
                    cur->last_created, cur->last_id, lim);
  return db_query(db, BY_PARENT(in, Q), "tti", cur->owner_id, cur->parent_id, lim);
#undef Q
#undef QNEXT
}

int davfs_cursor_next(struct davfs_cursor *cur, size_t limit,
                      int (*each)(const struct davfs_entry *e, void *arg), void *arg)
{
  db_t *db = db_get();
  size_t n = 0;
  int rc = DRIVE_OK, step = DB_DONE;
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(cur->phase == DAVFS_DONE)
    return DRIVE_OK;
  db_stmt_t *st = cursor_query(db, cur, limit);
  if(!st)
    return DRIVE_DB;
  while(rc == DRIVE_OK && (step = db_step(st)) == DB_ROW) {
    n++;
    if((rc = cursor_row(cur, st)) == DRIVE_OK)
      rc = each(&cur->e, arg);
    cur->any = true;
  }
  if(rc != DRIVE_OK) {
    db_finalize(st);
    return rc;
  }
  if((rc = drive_stmt_end(st, step)) != DRIVE_OK)
    return rc;
  if(!limit || n < limit) {   /* the phase is over */
    if(cur->phase == DAVFS_FOLDERS && cur->nf)
      qsort(cur->fnames, cur->nf, sizeof(*cur->fnames), cmp_str);
    cur->phase++;
    cur->any = false;
    cur->last[0] = 0;
  }
  return DRIVE_OK;
}

int davfs_children(const char *owner_id, const char *parent_id,
                   int (*each)(const struct davfs_entry *e, void *arg), void *arg)
{
  struct davfs_cursor *cur = malloc(sizeof(*cur));   /* big: off the stack */
  int rc = DRIVE_OK;
  if(!cur)
    return DRIVE_INTERNAL;
  davfs_cursor_init(cur, owner_id, parent_id);
  while(rc == DRIVE_OK && !davfs_cursor_done(cur))
    rc = davfs_cursor_next(cur, 0, each, arg);
  davfs_cursor_free(cur);
  free(cur);
  return rc;
}

int davfs_has_children(const char *owner_id, const char *parent_id, bool *out)
{
  db_t *db = db_get();
  int64_t n = 0;
#define Q(IN) "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM folders WHERE owner_id = $1 AND " \
              IN("parent_id") " AND is_deleted = 0 LIMIT 1) a) + (SELECT COUNT(*) FROM " \
              "(SELECT 1 FROM files WHERE owner_id = $1 AND " IN("folder_id") \
              " AND is_deleted = 0 LIMIT 1) b)"
  const char *sql = BY_PARENT(parent_id, Q);
#undef Q
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(db_query_int(db, &n, sql, "tt", owner_id, parent_id ? parent_id : "") < 0)
    return DRIVE_DB;
  *out = n > 0;
  return DRIVE_OK;
}

/* The copy's rows inside the transaction. */
static int davfs_copy_tx(db_t *db, const struct file_rec *src, const char *folder_id,
                         const char *name, char *new_id)
{
  char key[1024];
  int64_t now = time_now_ms();
  int rc = folder_check_live(src->owner_id, folder_id);
  if(rc != DRIVE_OK)
    return rc;
  if(utf8_fold(name, key, sizeof(key)) != 0)
    snprintf(key, sizeof(key), "%s", name);
  id_new(new_id);
  if(db_exec(db, "INSERT INTO files (id, owner_id, folder_id, content_id, name, name_key, "
                 "mime_type, size, sha256, created_at, updated_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
             "tttttttitii", new_id, src->owner_id, folder_id, src->content_id, name, key,
             src->mime_type, src->size, src->sha256, now, src->updated_at) ||
     db_exec(db, "UPDATE contents SET refcount = refcount + 1 WHERE id = $1", "t",
             src->content_id))
    return DRIVE_DB;
  rc = folder_add_size(db, folder_id, src->size);
  if(rc == DRIVE_OK)
    rc = usage_add(db, src->owner_id, src->size, 1, 0, 0);
  return rc;
}

int davfs_copy_file(const char *owner_id, const char *file_id, const char *folder_id,
                    const char *name, struct file_rec *out, const char **why)
{
  char clean[NAME_MAX_BYTES + 1], new_id[ID_LEN + 1];
  struct file_rec src;
  const char *bad = name_clean(name, clean, sizeof(clean));
  if(bad) {
    *why = bad;
    return DRIVE_INVALID;
  }
  int rc = folder_ops_settle(owner_id);
  if(rc == DRIVE_OK)
    rc = file_get(owner_id, file_id, &src);
  if(rc != DRIVE_OK)
    return rc;
  if(src.is_deleted)
    return DRIVE_NOT_FOUND;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if((rc = folder_ops_tx_begin(db, owner_id)) != DRIVE_OK)
    return rc;
  rc = drive_tx_end(db, davfs_copy_tx(db, &src, folder_id, clean, new_id));
  return rc == DRIVE_OK ? file_get(owner_id, new_id, out) : rc;
}

int davfs_set_mtime(const char *owner_id, const char *file_id, int64_t mtime_ms)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int rc = folder_ops_settle(owner_id);
  if(rc)
    return rc;
  return drive_db(db_exec(db, "UPDATE files SET updated_at = $1 WHERE id = $2 AND owner_id = $3 "
                              "AND " FILE_LIVE("files"), "itt", mtime_ms, file_id, owner_id));
}
