/* auth: /api/v1/auth (API §3) and the bearer-token check behind every
 * authenticated route. Parsing and status codes live here; the account
 * rules live in drive/users.c and drive/tokens.c. */
#include <stdio.h>
#include <string.h>
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
  http_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, detail);
  return -1;
}

static int auth_reply_pair(struct http_req *r, struct token_pair *p)
{
  /* Tokens must not end up in a shared cache. */
  http_add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  int rc = http_reply_json(r, MHD_HTTP_OK,
                           json_pack("{s:s,s:s,s:s}", "access_token", p->access, "refresh_token",
                                     p->refresh, "token_type", "bearer"));
  token_pair_free(p);
  return rc;
}

static int auth_reply_message(struct http_req *r, unsigned status, const char *msg)
{
  return http_reply_json(r, status, json_pack("{s:s}", "message", msg));
}

/* POST /signup {username, email, password} */
static int auth_signup(struct http_req *r)
{
  const char *username, *email, *password, *bad;
  struct user u;
  int rc = -1;
  json_t *body = http_json_body(r, false);
  if(!body)
    return -1;
  if(auth_field(r, body, "username", &username) || auth_field(r, body, "email", &email) ||
     auth_field(r, body, "password", &password))
    goto out;
  if((bad = validate_username(username)) || (bad = validate_email(email)) ||
     (bad = validate_password(password))) {
    rc = http_reply_error(r, MHD_HTTP_BAD_REQUEST, bad);
    goto out;
  }
  rc = users_signup(username, email, password, &u);
  if(rc != DRIVE_OK)
    rc = api_reply_error(r, rc, NULL);
  else if(u.is_verified)
    rc = auth_reply_message(r, MHD_HTTP_CREATED, "User created successfully");
  else
    rc = auth_reply_message(r, MHD_HTTP_CREATED,
                            "User created successfully. Please check your email to verify "
                            "your account.");
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
  http_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, detail);
  return -1;
}

/* POST /token (OAuth2 password form: username, password) */
static int auth_token(struct http_req *r)
{
  char login[AUTH_FORM_LOGIN_MAX + 1], password[AUTH_FORM_PASSWORD_MAX + 1], addr[64];
  char retry[16];
  struct user u;
  struct token_pair pair;
  int retry_after = 0, rc = -1;
  password[0] = 0;
  if(!http_content_type_is(r, "application/x-www-form-urlencoded")) {
    rc = http_reply_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                          "Content-Type must be application/x-www-form-urlencoded");
    goto out;
  }
  if(auth_form_field(r, "username", login, sizeof(login)) ||
     auth_form_field(r, "password", password, sizeof(password)))
    goto out;
  http_client_addr(r, addr, sizeof(addr));
  rc = users_login(login, password, addr, &u, &retry_after);
  if(rc == DRIVE_OK)
    rc = tokens_issue_pair(u.id, u.username, now_s(), &pair);
  if(rc == DRIVE_OK)
    rc = auth_reply_pair(r, &pair);
  else if(rc == DRIVE_THROTTLED) {
    snprintf(retry, sizeof(retry), "%d", retry_after);
    http_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    rc = api_reply_error(r, rc, "Too many failed login attempts. Try again later.");
  }
  else
    rc = api_reply_error(r, rc, NULL);
out:
  memset(password, 0, sizeof(password));
  return rc;
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
  rc = rc == DRIVE_OK ? auth_reply_message(r, MHD_HTTP_OK, "Logged out")
                      : api_reply_error(r, rc, NULL);
  json_decref(body);
  return rc;
}

/* GET /verify-email?token= */
static int auth_verify_email(struct http_req *r)
{
  const char *token = http_query(r, "token");
  if(!token || !*token)
    return http_reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "Query parameter 'token' is required");
  /* HEAD is safe by definition (and link scanners use it): check, do not spend. */
  if(!strcmp(r->method, "HEAD")) {
    struct token_claims c;
    return token_verify(TOKEN_VERIFY, token, now_s(), &c) == DRIVE_OK
               ? auth_reply_message(r, MHD_HTTP_OK, "Token is valid")
               : api_reply_error(r, DRIVE_BAD_LINK, NULL);
  }
  int rc = users_verify_email(token);
  return rc == DRIVE_OK ? auth_reply_message(r, MHD_HTTP_OK, "Email verified successfully")
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
  rc = rc == DRIVE_OK ? auth_reply_message(r, MHD_HTTP_OK, message) : api_reply_error(r, rc, NULL);
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
  return auth_email_action(r, users_forgot_password,
                           "If that email belongs to an account, a password reset link has "
                           "been sent.");
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
    rc = http_reply_error(r, MHD_HTTP_BAD_REQUEST, bad);
    goto out;
  }
  rc = users_reset_password(token, password);
  rc = rc == DRIVE_OK ? auth_reply_message(r, MHD_HTTP_OK, "Password has been reset successfully")
                      : api_reply_error(r, rc, NULL);
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
