/* errors: the one place a drive/ result becomes an HTTP status. */
#include "api/api.h"
#include "drive/drive.h"
#include "util/log.h"

struct api_error {
  int rc;
  unsigned status;
  const char *detail;  /* the standard message */
  bool challenge;      /* 401 for a token or login: WWW-Authenticate: Bearer */
};

static const struct api_error api_errors[] = {
  {DRIVE_NOT_FOUND, HTTP_NOT_FOUND, "Not found", false},
  {DRIVE_CONFLICT, HTTP_CONFLICT, "Conflict", false},
  {DRIVE_INVALID, HTTP_BAD_REQUEST, "Invalid value", false},
  {DRIVE_MISSING, HTTP_UNPROCESSABLE_CONTENT, "A required value is missing", false},
  {DRIVE_UNAVAILABLE, HTTP_SERVICE_UNAVAILABLE, "Database unavailable", false},
  {DRIVE_USERNAME_TAKEN, HTTP_CONFLICT, "Username already registered", false},
  {DRIVE_EMAIL_TAKEN, HTTP_CONFLICT, "Email already registered", false},
  {DRIVE_BAD_CREDENTIALS, HTTP_UNAUTHORIZED, "Incorrect username or password", true},
  {DRIVE_UNVERIFIED, HTTP_UNAUTHORIZED, "Email not verified. Please check your inbox.", true},
  {DRIVE_THROTTLED, HTTP_TOO_MANY_REQUESTS, "Too many requests. Try again later.", false},
  {DRIVE_BAD_TOKEN, HTTP_UNAUTHORIZED, "Could not validate credentials", true},
  {DRIVE_EXPIRED, HTTP_UNAUTHORIZED, "Could not validate credentials", true},
  {DRIVE_REUSED, HTTP_UNAUTHORIZED, "Could not validate credentials", true},
  {DRIVE_BAD_LINK, HTTP_BAD_REQUEST, "Invalid or expired token", false},
  {DRIVE_PASSWORD, HTTP_UNAUTHORIZED, "Password required", false},
  {DRIVE_TOO_BIG, HTTP_CONTENT_TOO_LARGE, "File exceeds the maximum upload size", false},
  {DRIVE_STORAGE, HTTP_SERVICE_UNAVAILABLE, "Storage unavailable", false},
  {DRIVE_DUPLICATE, HTTP_CONFLICT, "This file already exists in your storage (same content).",
   false},
  {DRIVE_CANCELLED, HTTP_CONFLICT, "Upload cancelled", false},
};

const char *api_error_detail(int rc)
{
  for(size_t i = 0; i < sizeof(api_errors) / sizeof(api_errors[0]); i++)
    if(api_errors[i].rc == rc)
      return api_errors[i].detail;
  return "Internal server error";
}

int api_reply_error(struct http_req *r, int rc, const char *detail)
{
  for(size_t i = 0; i < sizeof(api_errors) / sizeof(api_errors[0]); i++) {
    const struct api_error *e = &api_errors[i];
    if(e->rc != rc)
      continue;
    if(e->challenge)
      http_add_header(r, HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    /* An outage says so, whatever the handler would have said. */
    return http_reply_error(r, e->status,
                            detail && rc != DRIVE_UNAVAILABLE ? detail : e->detail);
  }
  /* DRIVE_DB, DRIVE_INTERNAL and anything unexpected: a real fault. */
  log_error("request %s: %s (%d)", r->request_id, drive_status_name(rc), rc);
  return http_reply_error(r, HTTP_INTERNAL_SERVER_ERROR, "Internal server error");
}
