/* auth: /api/v1/auth (API §3) and the bearer-token check behind every
 * authenticated route. Parsing and status codes live here; the account
 * rules live in drive/users.c and drive/tokens.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "api/api.h"
#include "drive/tokens.h"
#include "drive/users.h"
#include "util/jsonx.h"
#include "util/timefmt.h"
#include "util/validate.h"

#define AUTH_FORM_LOGIN_MAX 320    /* a username or an email, with room */
#define AUTH_FORM_PASSWORD_MAX 1100 /* passwords are at most 1024 bytes */

static int64_t now_s(void)
{
  return time_now_ms() / 1000;
}

/* Reads a required string field; on failure replies 422 and returns -1. */
static int auth_field(struct http_req *r, const json_t *body, const char *key, const char **out)
{
  char detail[96];
  int rc = jsonx_get_str(body, key, out);
  if(rc == 0)
    return 0;
  snprintf(detail, sizeof(detail), rc > 0 ? "Field '%s' is required" : "Field '%s' must be a string",
           key);
  http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, detail);
  return -1;
}

static int auth_reply_pair(struct http_req *r, struct token_pair *p)
{
  /* Tokens must not end up in a shared cache. */
  http_add_header(r, HTTP_HEADER_CACHE_CONTROL, "no-store");
  int rc = http_reply_json(r, HTTP_OK,
                           json_pack("{s:s,s:s,s:s}", "access_token", p->access, "refresh_token",
                                     p->refresh, "token_type", "bearer"));
  token_pair_free(p);
  return rc;
}

static int auth_reply_message(struct http_req *r, unsigned status, const char *msg)
{
  return http_reply_json(r, status, json_pack("{s:s}", "message", msg));
}

/* ---- deferred account work ----
 * Signup, login and reset each cost an Argon2id hash (tens of ms, 19 MiB).
 * Their drive/ call runs on the http_defer() pool so that the poll thread
 * goes on serving its other connections; the reply is made back on the
 * request's thread (auth_*_done). */

struct auth_job {
  json_t *body;         /* JSON routes: the strings below point into it */
  const char *username, *email, *password, *token;
  char login[AUTH_FORM_LOGIN_MAX + 1];
  char form_password[AUTH_FORM_PASSWORD_MAX + 1];
  char addr[64];
  struct user u;
  int rc, retry_after;  /* the drive/ call's result */
};

static struct auth_job *auth_job_new(json_t *body)
{
  struct auth_job *j = calloc(1, sizeof(*j));
  if(j)
    j->body = body;
  return j;
}

static void auth_job_free(struct auth_job *j)
{
  sodium_memzero(j->form_password, sizeof(j->form_password));
  json_decref(j->body);
  free(j);
}

/* Hands `j` to the pool; on no memory for it, replies 500. */
static int auth_defer(struct http_req *r, struct auth_job *j, json_t *body, http_work_fn work,
                      http_done_fn done)
{
  if(!j) {
    json_decref(body);
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  }
  return http_defer(r, work, done, j);
}

/* Replies 429 with Retry-After for a DRIVE_THROTTLED result. */
static int auth_reply_throttled(struct http_req *r, int retry_after, const char *detail)
{
  char retry[16];
  snprintf(retry, sizeof(retry), "%d", retry_after);
  http_add_header(r, HTTP_HEADER_RETRY_AFTER, retry);
  return api_reply_error(r, DRIVE_THROTTLED, detail);
}

/* Counts a signup or forgot-password against the caller's address; replies
 * 429 and returns -1 when the address is over its limit. */
static int auth_count_request(struct http_req *r, const char *action)
{
  char addr[64];
  int retry_after = 0;
  http_client_addr(r, addr, sizeof(addr));
  if(users_count_request(action, addr, &retry_after) == DRIVE_OK)
    return 0;
  auth_reply_throttled(r, retry_after, NULL);
  return -1;
}

static void auth_signup_work(void *arg)
{
  struct auth_job *j = arg;
  j->rc = users_signup(j->username, j->email, j->password, &j->u);
}

/* The deferred replies: `r` is NULL when the request went away meanwhile
 * (then only the job is freed). */
static void auth_signup_done(struct http_req *r, void *arg)
{
  struct auth_job *j = arg;
  if(r && j->rc != DRIVE_OK)
    api_reply_error(r, j->rc, NULL);
  else if(r)
    auth_reply_message(r, HTTP_CREATED,
                       j->u.is_verified ? "User created successfully"
                                        : "User created successfully. Please check your email "
                                          "to verify your account.");
  auth_job_free(j);
}

/* POST /signup {username, email, password} */
static int auth_signup(struct http_req *r)
{
  const char *username, *email, *password, *bad;
  int rc = -1;
  if(auth_count_request(r, "signup") != 0)
    return -1;
  json_t *body = http_json_body(r, false);
  if(!body)
    return -1;
  if(auth_field(r, body, "username", &username) || auth_field(r, body, "email", &email) ||
     auth_field(r, body, "password", &password))
    goto out;
  if((bad = validate_username(username)) || (bad = validate_email(email)) ||
     (bad = validate_password(password))) {
    rc = http_reply_error(r, HTTP_BAD_REQUEST, bad);
    goto out;
  }
  struct auth_job *j = auth_job_new(body);
  if(j) {
    j->username = username;
    j->email = email;
    j->password = password;
  }
  return auth_defer(r, j, body, auth_signup_work, auth_signup_done);
out:
  json_decref(body);
  return rc;
}

/* Reads a required form field; on failure replies 422 and returns -1. */
static int auth_form_field(struct http_req *r, const char *key, char *out, size_t outsz)
{
  char detail[96];
  int rc = http_form_get(r, key, out, outsz);
  if(rc == 0 && *out)
    return 0;
  snprintf(detail, sizeof(detail),
           rc < 0 ? "Form field '%s' is too long or malformed" : "Form field '%s' is required", key);
  http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, detail);
  return -1;
}

static void auth_token_work(void *arg)
{
  struct auth_job *j = arg;
  j->rc = users_login(j->login, j->form_password, j->addr, &j->u, &j->retry_after);
}

static void auth_token_done(struct http_req *r, void *arg)
{
  struct auth_job *j = arg;
  struct token_pair pair;
  int rc = j->rc;
  if(r && rc == DRIVE_OK)
    rc = tokens_issue_pair(j->u.id, j->u.username, now_s(), &pair);
  if(r && rc == DRIVE_OK)
    auth_reply_pair(r, &pair);
  else if(r && rc == DRIVE_THROTTLED)
    auth_reply_throttled(r, j->retry_after, "Too many failed login attempts. Try again later.");
  else if(r)
    api_reply_error(r, rc, NULL);
  auth_job_free(j);
}

/* POST /token (OAuth2 password form: username, password) */
static int auth_token(struct http_req *r)
{
  if(!http_content_type_is(r, "application/x-www-form-urlencoded"))
    return http_reply_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                            "Content-Type must be application/x-www-form-urlencoded");
  struct auth_job *j = auth_job_new(NULL);
  if(!j)
    return api_reply_error(r, DRIVE_INTERNAL, NULL);
  if(auth_form_field(r, "username", j->login, sizeof(j->login)) ||
     auth_form_field(r, "password", j->form_password, sizeof(j->form_password))) {
    auth_job_free(j);
    return -1;
  }
  http_client_addr(r, j->addr, sizeof(j->addr));
  return http_defer(r, auth_token_work, auth_token_done, j);
}

/* Parses a JSON body and reads its one required string field `key`. Returns
 * the body (the caller json_decref()s it; *out points into it), or NULL
 * once it has replied 415/422. */
static json_t *auth_body_field(struct http_req *r, const char *key, const char **out)
{
  json_t *body = http_json_body(r, false);
  if(body && auth_field(r, body, key, out) != 0) {
    json_decref(body);
    body = NULL;
  }
  return body;
}

/* POST /refresh_token {refresh_token} */
static int auth_refresh(struct http_req *r)
{
  const char *token;
  struct token_pair pair;
  json_t *body = auth_body_field(r, "refresh_token", &token);
  if(!body)
    return -1;
  int rc = tokens_rotate(token, now_s(), &pair);
  rc = rc == DRIVE_OK ? auth_reply_pair(r, &pair) : api_reply_error(r, rc, NULL);
  json_decref(body);
  return rc;
}

/* POST /logout {refresh_token} */
static int auth_logout(struct http_req *r)
{
  const char *token;
  json_t *body = auth_body_field(r, "refresh_token", &token);
  if(!body)
    return -1;
  int rc = tokens_revoke(token, now_s());
  rc = rc == DRIVE_OK ? auth_reply_message(r, HTTP_OK, "Logged out")
                      : api_reply_error(r, rc, NULL);
  json_decref(body);
  return rc;
}

/* GET /verify-email?token= */
static int auth_verify_email(struct http_req *r)
{
  const char *token = http_query(r, "token");
  if(!token || !*token)
    return http_reply_error(r, HTTP_UNPROCESSABLE_CONTENT, "Query parameter 'token' is required");
  /* HEAD is safe by definition (and link scanners use it): check, do not spend. */
  if(!strcmp(r->method, "HEAD")) {
    struct token_claims c;
    return token_verify(TOKEN_VERIFY, token, now_s(), &c) == DRIVE_OK
               ? auth_reply_message(r, HTTP_OK, "Token is valid")
               : api_reply_error(r, DRIVE_BAD_LINK, NULL);
  }
  int rc = users_verify_email(token);
  return rc == DRIVE_OK ? auth_reply_message(r, HTTP_OK, "Email verified successfully")
                        : api_reply_error(r, rc, NULL);
}

/* POST /resend-verification {email} and POST /forgot-password {email}: the
 * same answer whether or not the address has an account. */
static int auth_email_action(struct http_req *r, int (*action)(const char *),
                             const char *message)
{
  const char *email;
  json_t *body = auth_body_field(r, "email", &email);
  if(!body)
    return -1;
  int rc = action(email);
  rc = rc == DRIVE_OK ? auth_reply_message(r, HTTP_OK, message) : api_reply_error(r, rc, NULL);
  json_decref(body);
  return rc;
}

static int auth_resend_verification(struct http_req *r)
{
  return auth_email_action(r, users_resend_verification,
                           "If that email belongs to an account that still needs verification, "
                           "a new verification link has been sent.");
}

static int auth_forgot_password(struct http_req *r)
{
  if(auth_count_request(r, "forgot") != 0)
    return -1;
  return auth_email_action(r, users_forgot_password,
                           "If that email belongs to an account, a password reset link has "
                           "been sent.");
}

static void auth_reset_work(void *arg)
{
  struct auth_job *j = arg;
  j->rc = users_reset_password(j->token, j->password);
}

static void auth_reset_done(struct http_req *r, void *arg)
{
  struct auth_job *j = arg;
  if(r && j->rc == DRIVE_OK)
    auth_reply_message(r, HTTP_OK, "Password has been reset successfully");
  else if(r)
    api_reply_error(r, j->rc, NULL);
  auth_job_free(j);
}

/* POST /reset-password {token, new_password} */
static int auth_reset_password(struct http_req *r)
{
  const char *token, *password, *bad;
  int rc = -1;
  json_t *body = http_json_body(r, false);
  if(!body)
    return -1;
  if(auth_field(r, body, "token", &token) || auth_field(r, body, "new_password", &password))
    goto out;
  if((bad = validate_password(password))) {
    rc = http_reply_error(r, HTTP_BAD_REQUEST, bad);
    goto out;
  }
  struct auth_job *j = auth_job_new(body);
  if(j) {
    j->token = token;
    j->password = password;
  }
  return auth_defer(r, j, body, auth_reset_work, auth_reset_done);
out:
  json_decref(body);
  return rc;
}

const struct http_route api_auth_routes[] = {
  {"POST", "/api/v1/auth/signup", auth_signup, 0, NULL},
  {"POST", "/api/v1/auth/token", auth_token, 0, NULL},
  {"POST", "/api/v1/auth/refresh_token", auth_refresh, 0, NULL},
  {"POST", "/api/v1/auth/logout", auth_logout, 0, NULL},
  {"GET", "/api/v1/auth/verify-email", auth_verify_email, 0, NULL},
  {"POST", "/api/v1/auth/resend-verification", auth_resend_verification, 0, NULL},
  {"POST", "/api/v1/auth/forgot-password", auth_forgot_password, 0, NULL},
  {"POST", "/api/v1/auth/reset-password", auth_reset_password, 0, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
