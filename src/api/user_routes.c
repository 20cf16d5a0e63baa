/* users: /api/v1/users (API §3 and §7): the signed-in account. */
#include "api/api.h"
#include "drive/content.h"
#include "drive/users.h"
#include "util/timefmt.h"

/* GET /me -> {id, username, email, is_verified, created_at} */
static int users_me(struct http_req *r)
{
  struct user u;
  char created[32];
  int rc = users_get(api_user_id(r), &u);
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "User not found" : NULL);
  time_rfc3339(u.created_at, created);
  return http_reply_json(r, HTTP_OK,
                         json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", u.id, "username", u.username,
                                   "email", u.email, "is_verified", (int)u.is_verified,
                                   "created_at", created));
}

/* GET /me/storage -> the usage counters kept with every change (O(1)). */
static int users_storage(struct http_req *r)
{
  struct usage u;
  int rc = usage_get(api_user_id(r), &u);
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "User not found" : NULL);
  return http_reply_json(r, HTTP_OK,
                         json_pack("{s:I,s:I,s:I,s:I}", "total_usage_bytes", (json_int_t)u.total_bytes,
                                   "file_count", (json_int_t)u.file_count,
                                   "bin_bytes", (json_int_t)u.bin_bytes,
                                   "stored_bytes", (json_int_t)u.stored_bytes));
}

const struct http_route api_user_routes[] = {
  {"GET", "/api/v1/users/me", users_me, HTTP_AUTH, NULL},
  {"GET", "/api/v1/users/me/storage", users_storage, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
