/* users: /api/v1/users (SPEC §3 and §7): the signed-in account. */
#include "api/api.h"
#include "db/db.h"
#include "drive/users.h"
#include "util/timefmt.h"

/* GET /me -> {id, username, email, is_verified, created_at} */
static int users_me(struct http_req *r)
{
  struct user u;
  char created[32];
  db_t *db = db_get();
  int rc = db ? users_get(db, r->user_id, &u) : DB_UNAVAILABLE;
  if(rc == USERS_NOT_FOUND)
    return http_reply_not_found(r, "User");
  if(rc != USERS_OK)
    return api_reply_db_error(r, rc);
  time_rfc3339(u.created_at, created);
  return http_reply_json(r, MHD_HTTP_OK,
                         json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", u.id, "username", u.username,
                                   "email", u.email, "is_verified", (int)u.is_verified,
                                   "created_at", created));
}

/* GET /me/storage -> the usage counters kept with every change (O(1)). */
static int users_storage(struct http_req *r)
{
  db_t *db = db_get();
  if(!db)
    return api_reply_db_error(r, DB_UNAVAILABLE);
  db_stmt_t *st = db_query(db, "SELECT total_usage_bytes, file_count, bin_bytes, stored_bytes "
                               "FROM users WHERE id = $1", "t", r->user_id);
  int rc = db_step(st);
  json_t *body = NULL;
  if(rc == DB_ROW)
    body = json_pack("{s:I,s:I,s:I,s:I}", "total_usage_bytes", (json_int_t)db_col_int(st, 0),
                     "file_count", (json_int_t)db_col_int(st, 1),
                     "bin_bytes", (json_int_t)db_col_int(st, 2),
                     "stored_bytes", (json_int_t)db_col_int(st, 3));
  int frc = db_finalize(st);
  if(rc == DB_DONE)
    return http_reply_not_found(r, "User");
  if(rc != DB_ROW || frc != DB_OK) {
    json_decref(body);
    return api_reply_db_error(r, rc < 0 ? rc : frc);
  }
  return http_reply_json(r, MHD_HTTP_OK, body);
}

const struct http_route api_user_routes[] = {
  {"GET", "/api/v1/users/me", users_me, HTTP_AUTH, NULL},
  {"GET", "/api/v1/users/me/storage", users_storage, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
