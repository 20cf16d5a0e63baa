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

const struct http_route api_user_routes[] = {
  {"GET", "/api/v1/users/me", users_me, HTTP_AUTH, NULL},
  /* GET /api/v1/users/me/storage (SPEC §7) joins here. */
  {NULL, NULL, NULL, 0, NULL},
};
