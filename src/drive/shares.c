/* shares: link records in the shares table and the access rules of /s/{id}. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "drive/folder_ops.h"
#include "drive/shares.h"
#include "drive/throttle.h"
#include "drive/throttle_db.h"
#include "util/timefmt.h"

/* Wrong passwords one client may try on one link per window. Each try costs
 * an Argon2id verification, so this also bounds the work a client can cause. */
#define SHARE_PW_MAX_FAILURES 10
#define SHARE_PW_WINDOW_S 300
#define SHARE_PW_THROTTLE_CAPACITY 4096

#define SHARE_COLS "id, file_id, owner_id, is_active, views, created_at, expires_at, password_hash"
#define SHARE_COLS_S                                                                        \
  "s.id, s.file_id, s.owner_id, s.is_active, s.views, s.created_at, s.expires_at, " \
  "s.password_hash"
#define SHARE_NCOLS 8

static const char share_insert_sql[] =
    "INSERT INTO shares (id, file_id, owner_id, is_active, views, password_hash, expires_at, "
    "created_at) VALUES ($1, $2, $3, 1, 0, $4, $5, $6)";

static pthread_once_t share_once = PTHREAD_ONCE_INIT;
static throttle_t *share_throttle;

static void share_throttle_init(void)
{
  share_throttle = throttle_new(SHARE_PW_MAX_FAILURES, SHARE_PW_WINDOW_S,
                                SHARE_PW_THROTTLE_CAPACITY);
}

static void share_copy(char *dst, size_t n, const char *src)
{
  snprintf(dst, n, "%s", src ? src : "");
}

/* SHARE_COLS into a share. */
static void share_from_row(db_stmt_t *st, struct share *s)
{
  memset(s, 0, sizeof(*s));
  db_col_copy(st, 0, s->id, sizeof(s->id));
  db_col_copy(st, 1, s->file_id, sizeof(s->file_id));
  db_col_copy(st, 2, s->owner_id, sizeof(s->owner_id));
  s->is_active = db_col_int(st, 3) != 0;
  s->views = db_col_int(st, 4);
  s->created_at = db_col_int(st, 5);
  s->expires_at = db_col_null(st, 6) ? 0 : db_col_int(st, 6);
  db_col_copy(st, 7, s->password_hash, sizeof(s->password_hash));
}

const char *share_options_check(const struct share_options *opt)
{
  if(opt->expires && (opt->expires_in_s < 1 || opt->expires_in_s > SHARE_EXPIRES_MAX_S))
    return "expires_in_seconds must be from 1 to 31536000";
  if(opt->password) {
    size_t n = strlen(opt->password);
    if(n < 1 || n > SHARE_PASSWORD_MAX)
      return "password must be 1 to 1024 bytes long";
  }
  return NULL;
}

static void share_fill(db_stmt_t *st, void *s)
{
  share_from_row(st, s);
}

/* A link with its file: SHARE_COLS, then the file's columns. */
struct share_open_row {
  struct share *s;
  struct file_rec *f;
};

static void share_open_fill(db_stmt_t *st, void *arg)
{
  struct share_open_row *row = arg;
  share_from_row(st, row->s);
  file_from_row(st, SHARE_NCOLS, row->f);
}

/* The newest live, password-free link of the file, in the caller's
 * transaction. DRIVE_OK (filled), DRIVE_NOT_FOUND or a fault. */
static int share_find_plain(db_t *db, const char *owner_id, const char *file_id, int64_t now,
                            struct share *out)
{
  db_stmt_t *st = db_query(db, "SELECT " SHARE_COLS " FROM shares WHERE file_id = $1 "
                           "AND owner_id = $2 AND is_active = 1 AND password_hash IS NULL "
                           "AND (expires_at IS NULL OR expires_at > $3) "
                           "ORDER BY created_at DESC, id LIMIT 1",
                           "tti", file_id, owner_id, now);
  return drive_read_one(st, share_fill, out);
}

int share_generate(const char *owner_id, const char *file_id,
                   const struct share_options *opt, struct share *out, bool *created,
                   const char **why)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  struct file_rec f;
  struct share s;
  bool plain = !opt->expires && !opt->password;
  *created = false;
  if((*why = share_options_check(opt)) != NULL)
    return DRIVE_INVALID;
  if(!id_valid(file_id))
    return DRIVE_NOT_FOUND;

  memset(&s, 0, sizeof(s));
  /* Hashing is slow on purpose: do it before taking the write lock. */
  if(opt->password && users_hash_password(opt->password, s.password_hash) != 0)
    return DRIVE_DB;
  int rc = folder_ops_tx_begin(db, owner_id);
  if(rc)
    return rc;
  int64_t now = time_now_ms();
  rc = file_get(owner_id, file_id, &f);
  if(rc == DRIVE_OK && f.is_deleted)
    rc = DRIVE_NOT_FOUND;
  if(rc)
    goto out;
  if(plain) {
    rc = share_find_plain(db, owner_id, file_id, now, out);
    if(rc != DRIVE_NOT_FOUND)
      goto out; /* found one (DRIVE_OK), or a fault */
  }
  id_new(s.id);
  share_copy(s.file_id, sizeof(s.file_id), file_id);
  share_copy(s.owner_id, sizeof(s.owner_id), owner_id);
  s.is_active = true;
  s.created_at = now;
  s.expires_at = opt->expires ? now + opt->expires_in_s * 1000 : 0;
  const char *hash = s.password_hash[0] ? s.password_hash : NULL;
  /* "Never" is stored as NULL ('n' binds it without an argument). */
  int dbrc = s.expires_at
                 ? db_exec(db, share_insert_sql, "ttttii", s.id, s.file_id, s.owner_id, hash,
                           s.expires_at, s.created_at)
                 : db_exec(db, share_insert_sql, "ttttni", s.id, s.file_id, s.owner_id, hash,
                           s.created_at);
  rc = dbrc == DB_OK ? DRIVE_OK : drive_from_db(dbrc);
  if(rc == DRIVE_OK) {
    *out = s;
    *created = true;
  }
out:
  return drive_tx_end(db, rc);
}

int share_list(const char *owner_id, share_each_fn each, void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, "SELECT " SHARE_COLS " FROM shares WHERE owner_id = $1 "
                           "AND is_active = 1 AND (expires_at IS NULL OR expires_at > $2) "
                           "ORDER BY created_at DESC, id",
                           "ti", owner_id, time_now_ms());
  if(!st)
    return DRIVE_DB;
  int rc = DRIVE_OK, step;
  while((step = db_step(st)) == DB_ROW) {
    struct share s;
    share_from_row(st, &s);
    if((rc = each(&s, arg)) != 0)
      break;
  }
  int end = drive_stmt_end(st, step);
  return rc ? rc : end;
}

int share_revoke(const char *owner_id, const char *share_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(share_id))
    return DRIVE_NOT_FOUND;
  int rc = db_exec(db, "UPDATE shares SET is_active = 0 WHERE id = $1 AND owner_id = $2 "
                   "AND is_active = 1", "tt", share_id, owner_id);
  if(rc != DB_OK)
    return drive_from_db(rc);
  return db_changes(db) > 0 ? DRIVE_OK : DRIVE_NOT_FOUND;
}

int share_open(const char *share_id, struct share *s, struct file_rec *f)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(share_id))
    return DRIVE_NOT_FOUND;
  db_stmt_t *st = db_query(db, "SELECT " SHARE_COLS_S ", " FILE_COLUMNS_F " FROM shares s "
                           "JOIN files f ON f.id = s.file_id AND f.owner_id = s.owner_id "
                           "WHERE s.id = $1 AND s.is_active = 1 "
                           "AND (s.expires_at IS NULL OR s.expires_at > $2) AND "
                           FILE_LIVE("f"),
                           "ti", share_id, time_now_ms());
  struct share_open_row row = {s, f};
  return drive_read_one(st, share_open_fill, &row);
}

int share_check_password(const struct share *s, const char *client,
                                       const char *password, int *retry_after)
{
  char key[THROTTLE_KEY_MAX];
  *retry_after = 0;
  if(!s->password_hash[0])
    return DRIVE_OK;
  if(!password || !*password)
    return DRIVE_PASSWORD;
  pthread_once(&share_once, share_throttle_init);
  snprintf(key, sizeof(key), "share:%s:%s", s->id, client ? client : "");
  /* Nodes sharing a PostgreSQL count the failures in it (throttle_db.h). */
  db_t *db = db_get();
  bool shared = db && db_conn_dialect(db) == DB_POSTGRES;
  int64_t now = shared ? time_now_ms() : time_mono_ms();
  const int64_t window_ms = SHARE_PW_WINDOW_S * 1000LL;
  *retry_after = shared ? throttle_db_check(db, key, SHARE_PW_MAX_FAILURES, window_ms, now)
                 : share_throttle ? throttle_check(share_throttle, key, now) : 0;
  if(*retry_after > 0)
    return DRIVE_THROTTLED;
  if(strlen(password) <= SHARE_PASSWORD_MAX && users_check_password(s->password_hash, password))
    return DRIVE_OK;
  if(shared)
    throttle_db_fail(db, key, SHARE_PW_MAX_FAILURES, window_ms, time_now_ms());
  else if(share_throttle)
    throttle_fail(share_throttle, key, time_mono_ms());
  return DRIVE_PASSWORD;
}

int share_count_view(const char *share_id)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int rc = db_exec(db, "UPDATE shares SET views = views + 1 WHERE id = $1", "t", share_id);
  return rc == DB_OK ? DRIVE_OK : drive_from_db(rc);
}
