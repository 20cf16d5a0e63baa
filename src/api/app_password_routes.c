/* app_password_routes: /api/v1/users/me/app-passwords (SPEC §13): the
 * signed-in user's WebDAV app passwords. The secret is in the reply to the
 * POST only; listings never carry it. */
#include <sodium.h>
#include "api/api.h"
#include "drive/app_passwords.h"
#include "util/jsonx.h"
#include "util/timefmt.h"

/* {id, name, created_at, last_used_at} */
static json_t *ap_render(const struct app_password *p)
{
  char created[32], used[32];
  time_rfc3339(p->created_at, created);
  if(p->last_used_at)
    time_rfc3339(p->last_used_at, used);
  return json_pack("{s:s,s:s,s:s,s:o}", "id", p->id, "name", p->name, "created_at", created,
                   "last_used_at", p->last_used_at ? json_string(used) : json_null());
}

/* POST {name} -> 201 {id, name, password, created_at} */
static int ap_create(struct http_req *r)
{
  struct app_password p;
  char name[APP_PASSWORD_NAME_BYTES + 1], secret[APP_PASSWORD_LEN + 1];
  const char *raw = NULL, *why;
  int rc;
  json_t *body = http_json_body(r, false);
  if(!body)
    return 0;
  int g = jsonx_get_str(body, "name", &raw);
  if(g != 0)
    rc = http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT,
                          g > 0 ? "Field 'name' is required"
                                : g == -2 ? "Name must not contain control characters"
                                          : "Field 'name' must be a string");
  else if((why = app_password_name_check(raw, name)) != NULL)
    rc = http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, why);
  else if((rc = app_password_create(api_user_id(r), name, &p, secret)) != DRIVE_OK)
    rc = api_reply_error(r, rc, rc == DRIVE_CONFLICT
                                    ? "You have 50 app passwords, the most allowed. "
                                      "Delete one you no longer use first."
                                    : NULL);
  else {
    char created[32];
    time_rfc3339(p.created_at, created);
    rc = http_reply_json(r, HTTP_CREATED,
                         json_pack("{s:s,s:s,s:s,s:s}", "id", p.id, "name", p.name, "password",
                                   secret, "created_at", created));
    sodium_memzero(secret, sizeof(secret));
  }
  json_decref(body);
  return rc;
}

static int ap_add(const struct app_password *p, void *arg)
{
  return json_array_append_new(arg, ap_render(p)) == 0 ? 0 : DRIVE_INTERNAL;
}

/* GET -> [{id, name, created_at, last_used_at}], newest first */
static int ap_list(struct http_req *r)
{
  json_t *a = json_array();
  int rc = a ? app_password_list(api_user_id(r), ap_add, a) : DRIVE_INTERNAL;
  if(rc != DRIVE_OK) {
    json_decref(a);
    return api_reply_error(r, rc, NULL);
  }
  return http_reply_json(r, HTTP_OK, a);
}

/* DELETE /{id} -> 204 */
static int ap_delete(struct http_req *r)
{
  int rc = app_password_delete(api_user_id(r), http_param(r, "id"));
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "App password not found" : NULL);
  struct http_response *resp = http_response_buffer(0, "", HTTP_MEM_PERSISTENT);
  if(!resp)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  return http_reply_response(r, HTTP_NO_CONTENT, resp);
}

const struct http_route api_app_password_routes[] = {
  {"POST", "/api/v1/users/me/app-passwords", ap_create, HTTP_AUTH, NULL},
  {"GET", "/api/v1/users/me/app-passwords", ap_list, HTTP_AUTH, NULL},
  {"DELETE", "/api/v1/users/me/app-passwords/{id}", ap_delete, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
