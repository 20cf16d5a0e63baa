/* shares: /api/v1/share (create, list, revoke links) and the public link
 * route /s/{id} (API §8). Parses requests, calls drive/shares, renders JSON,
 * and hands the bytes of a shared file to the download responder. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api/api.h"
#include "api/download_routes.h"
#include "drive/shares.h"
#include "util/jsonx.h"
#include "util/timefmt.h"

/* The one answer for every link that cannot be used (never says why). */
#define SHARE_GONE "Share link not found"

/* The share object: {_id,id,file_id,is_active,owner_id,created_at,views,
 * expires_at|null,has_password}. The password hash never leaves drive/. */
static json_t *share_render(const struct share *s)
{
  char created[32], expires[32];
  time_rfc3339(s->created_at, created);
  time_rfc3339(s->expires_at, expires);
  return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:I,s:o,s:b}",
                   "_id", s->id,
                   "id", s->id,
                   "file_id", s->file_id,
                   "is_active", (int)s->is_active,
                   "owner_id", s->owner_id,
                   "created_at", created,
                   "views", (json_int_t)s->views,
                   "expires_at", s->expires_at ? json_string(expires) : json_null(),
                   "has_password", s->password_hash[0] != 0);
}

/* Reads the optional options body; replies and returns -1 on a bad one. */
static int share_read_options(struct http_req *r, const json_t *body, struct share_options *opt)
{
  memset(opt, 0, sizeof(*opt));
  int g = jsonx_get_int(body, "expires_in_seconds", &opt->expires_in_s);
  if(g < 0) {
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT,
                     "Field 'expires_in_seconds' must be an integer or null");
    return -1;
  }
  opt->expires = g == 0;
  g = jsonx_get_str(body, "password", &opt->password);
  if(g == -2) {
    http_reply_error(r, HTTP_BAD_REQUEST, "password must not contain NUL characters");
    return -1;
  }
  if(g < 0) {
    http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT,
                     "Field 'password' must be a string or null");
    return -1;
  }
  if(g > 0)
    opt->password = NULL;
  const char *why = share_options_check(opt);
  if(why) {
    http_reply_error(r, HTTP_BAD_REQUEST, why);
    return -1;
  }
  return 0;
}

/* Replies for share_generate's result. */
static int share_generate_reply(struct http_req *r, int rc, const struct share *s, bool created,
                                const char *why)
{
  if(rc)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? "File not found" : why);
  return http_reply_json(r, created ? HTTP_CREATED : HTTP_OK, share_render(s));
}

/* A link with a password: its hash (Argon2id) is made on the http_defer
 * pool, off the poll thread. */
struct share_gen_job {
  json_t *body;                 /* opt's strings point into it */
  struct share_options opt;
  char owner_id[32], file_id[ID_LEN + 1];
  struct share s;
  bool created;
  const char *why;
  int rc;
};

static void share_generate_work(void *arg)
{
  struct share_gen_job *j = arg;
  j->rc = share_generate(j->owner_id, j->file_id, &j->opt, &j->s, &j->created, &j->why);
}

static void share_generate_done(struct http_req *r, void *arg)
{
  struct share_gen_job *j = arg;
  if(r)
    share_generate_reply(r, j->rc, &j->s, j->created, j->why);
  json_decref(j->body);
  free(j);
}

/* POST /api/v1/share/generate/{file_id} [{expires_in_seconds, password}] */
static int share_generate_route(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  struct share_options opt;
  struct share s;
  bool created = false;
  const char *why = NULL;
  int rc = -1;
  json_t *body = http_json_body(r, true);
  if(!body)
    return 0;
  if(share_read_options(r, body, &opt) != 0)
    goto out;
  if(opt.password && strlen(http_param(r, "file_id")) > ID_LEN) {
    rc = api_reply_error(r, DRIVE_NOT_FOUND, "File not found"); /* no id is that long */
    goto out;
  }
  if(opt.password) {
    struct share_gen_job *j = calloc(1, sizeof(*j));
    if(!j) {
      rc = api_reply_error(r, DRIVE_INTERNAL, NULL);
      goto out;
    }
    j->body = body; /* the job owns it now */
    j->opt = opt;
    snprintf(j->owner_id, sizeof(j->owner_id), "%s", api_user_id(r));
    snprintf(j->file_id, sizeof(j->file_id), "%s", http_param(r, "file_id"));
    return http_defer(r, share_generate_work, share_generate_done, j);
  }
  rc = share_generate(api_user_id(r), http_param(r, "file_id"), &opt, &s, &created, &why);
  rc = share_generate_reply(r, rc, &s, created, why);
out:
  json_decref(body); /* jsonx strings in opt are borrowed from body: free last */
  return rc;
}

/* Appends one link to the JSON array in `arg`. */
static int share_list_one(const struct share *s, void *arg)
{
  return json_array_append_new((json_t *)arg, share_render(s)) == 0 ? DRIVE_OK : DRIVE_DB;
}

/* GET /api/v1/share: the caller's live links, newest first. */
static int share_list_route(struct http_req *r)
{
  json_t *arr = json_array();
  if(!arr)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  int rc = share_list(api_user_id(r), share_list_one, arr);
  if(rc) {
    json_decref(arr);
    return api_reply_error(r, rc, NULL);
  }
  return http_reply_json(r, HTTP_OK, arr);
}

/* DELETE /api/v1/share/{id} */
static int share_revoke_route(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  int rc = share_revoke(api_user_id(r), http_param(r, "id"));
  if(rc)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? SHARE_GONE : NULL);
  return http_reply_json(r, HTTP_OK, json_pack("{s:s}", "message", "Share link revoked"));
}

/* Answers a public link once its password check gave `rc`. */
static int share_serve(struct http_req *r, struct share *s, struct file_rec *f, int rc,
                       int retry)
{
  if(rc == DRIVE_THROTTLED) {
    char ra[16];
    snprintf(ra, sizeof(ra), "%d", retry);
    http_add_header(r, "Retry-After", ra);
    return api_reply_error(r, rc, "Too many wrong passwords; try again later");
  }
  if(rc != DRIVE_OK)
    return api_reply_error(r, rc, NULL);

  /* A view is a GET whose bytes start at 0: a player's follow-up range
   * requests, HEAD, 304 and 416 answers are not new views. */
  if(download_first_byte(r, f) == 0) {
    rc = share_count_view(s->id);
    if(rc)
      return api_reply_error(r, rc, NULL);
  }
  /* Links in a shared document must not carry the link (or its password)
   * to other sites. */
  http_add_header(r, "Referrer-Policy", "no-referrer");
  return download_respond(r, f, true, NULL);
}

/* A password check (Argon2id) on the http_defer pool, off the poll thread. */
struct share_job {
  struct share s;
  struct file_rec f;
  char client[64];
  char *password;
  int rc, retry;
};

static void share_check_work(void *arg)
{
  struct share_job *j = arg;
  j->rc = share_check_password(&j->s, j->client, j->password, &j->retry);
}

static void share_check_done(struct http_req *r, void *arg)
{
  struct share_job *j = arg;
  if(r)
    share_serve(r, &j->s, &j->f, j->rc, j->retry);
  sodium_memzero(j->password, strlen(j->password));
  free(j->password);
  free(j);
}

/* GET and HEAD /s/{id}: public. */
static int share_public_route(struct http_req *r)
{
  struct share s;
  struct file_rec f;
  char client[64];
  int rc = share_open(http_param(r, "id"), &s, &f);
  if(rc)
    return api_reply_error(r, rc, rc == DRIVE_NOT_FOUND ? SHARE_GONE : NULL);

  /* The header keeps the password out of URLs and logs; ?password= is for
   * links opened in a browser. A NUL in it cannot be right. */
  size_t plen = 0;
  const char *pw = http_header(r, "X-Share-Password");
  if(!pw) {
    pw = http_query_n(r, "password", &plen);
    if(pw && plen != strlen(pw))
      return api_reply_error(r, DRIVE_PASSWORD, NULL);
  }
  int retry = 0;
  http_client_addr(r, client, sizeof(client));
  if(s.password_hash[0] && pw && *pw) {
    /* A password to verify: that is a hash, so it goes to the pool. */
    struct share_job *j = calloc(1, sizeof(*j));
    if(!j || !(j->password = strdup(pw))) {
      free(j);
      return api_reply_error(r, DRIVE_INTERNAL, NULL);
    }
    j->s = s;
    j->f = f;
    snprintf(j->client, sizeof(j->client), "%s", client);
    return http_defer(r, share_check_work, share_check_done, j);
  }
  rc = share_check_password(&s, client, pw, &retry); /* no hash on this path */
  return share_serve(r, &s, &f, rc, retry);
}

const struct http_route api_share_routes[] = {
  {"POST", "/api/v1/share/generate/{file_id}", share_generate_route, HTTP_AUTH, NULL},
  {"GET", "/api/v1/share", share_list_route, HTTP_AUTH, NULL},
  {"DELETE", "/api/v1/share/{id}", share_revoke_route, HTTP_AUTH, NULL},
  {"GET", "/s/{id}", share_public_route, HTTP_LONG, NULL}, /* a download */
  {NULL, NULL, NULL, 0, NULL},
};
